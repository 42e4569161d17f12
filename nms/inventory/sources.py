"""Inventory sources as plugins: anything with a ``name`` and ``load() -> Inventory``.

The inventory itself is plain typed data (:class:`~nms.inventory.models.Inventory`); where it
comes from is a detail of the source. Two exist: the YAML file (:class:`YamlSource`, the
service's own configuration) and NetBox (:class:`nms.inventory.netbox.NetBoxSource`); nms.yaml
picks one through the registry in :mod:`nms.inventory.plugins`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable

import yaml

from nms.configfile import ConfigError, Problem, named_location, read_yaml, validate
from nms.inventory import topology
from nms.inventory.models import Inventory, reference_problems


class SourceError(Exception):
    """A source that cannot deliver an inventory (unreachable, refused, bad data); the message says why."""


@runtime_checkable
class InventorySource(Protocol):
    name: str

    def load(self) -> Inventory: ...


class DeviceReferences(Protocol):
    """The names devices refer to, defined elsewhere: SNMP profiles and credential sets.

    ``collectors.snmp.config.SnmpConfig`` (snmp.yaml) is one; the inventory only needs the names.
    """

    @property
    def profiles(self) -> Mapping[str, object]: ...

    @property
    def credentials(self) -> Mapping[str, object]: ...


def load_inventory(path: Path, snmp: DeviceReferences | None = None) -> Inventory:
    """inventory.yaml, validated and cross-checked (against ``snmp``'s profile and credential names when given).

    Every problem is reported in one run: the cross-references are checked on the file's data even
    when some field does not validate. A device or site is named by its name, not its position.
    """
    doc = read_yaml(path)
    references = reference_problems(doc.data, set(snmp.profiles) if snmp else None,
                                    set(snmp.credentials) if snmp else None)
    problems = []
    for ref in references:
        what, field = named_location(doc.data, ref.loc)
        message = f"{field}: {ref.message}" if field else ref.message
        problems.append(Problem(doc.file, doc.line_of(ref.loc), what, message, ref.code, ref.params))
    try:
        inventory = validate(doc, Inventory)
    except ConfigError as exc:
        raise ConfigError(sorted(exc.problems + problems, key=lambda p: p.line or 0)) from None
    if not problems:  # names and sites are sound: the topology's checks (upstreams)
        for loc, msg in topology.problems(inventory):
            what, field = named_location(doc.data, loc)
            problems.append(Problem(doc.file, doc.line_of(loc), what, f"{field}: {msg}" if field else msg))
    if problems:
        raise ConfigError(sorted(problems, key=lambda p: p.line or 0))
    return inventory


class YamlSource:
    """The inventory YAML file, validated (and cross-checked against ``snmp`` when given)."""

    name = "yaml"

    def __init__(self, path: Path, snmp: DeviceReferences | None = None):
        self.path = Path(path)
        self.snmp = snmp

    def load(self) -> Inventory:
        return load_inventory(self.path, self.snmp)


class _Dumper(yaml.SafeDumper):
    """Block style, except that short lists of scalars (subnets, tags) stay on one line."""


def _represent_list(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    flow = all(isinstance(v, str | int | float | bool) for v in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _represent_list)


def dump_inventory(inventory: Inventory, header: str = "") -> str:
    """The inventory as YAML text that :func:`load_inventory` reads back unchanged.

    Defaults (port 161, status active, empty lists, unset optionals) are left out to keep the
    file short; ``header`` is put on top as ``#`` comment lines.
    """
    body: dict = {"version": inventory.version}
    body["sites"] = [s.model_dump(mode="json", exclude_defaults=True) for s in inventory.sites]
    body["devices"] = [d.model_dump(mode="json", exclude_defaults=True) for d in inventory.devices]
    text = yaml.dump(body, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False,
                     width=110)
    comments = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    return comments + text
