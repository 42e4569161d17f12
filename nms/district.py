"""Loading the whole configuration as one consistent unit.

Everything is read and cross-checked before anything is used: the service never starts
(or reloads) on half a config. A failed reload keeps the last good :class:`District`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from collectors.snmp.config import SnmpConfig
from nms.configfile import ConfigError, Problem, format_location, read_yaml, validate
from nms.inventory.models import Inventory
from nms.settings import Settings

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "nms.yaml"


@dataclass(frozen=True)
class District:
    """The validated configuration: service settings, inventory and SNMP profiles."""

    config_path: Path
    settings: Settings
    inventory: Inventory
    snmp: SnmpConfig


def _resolve(base: Path, path: Path) -> Path:
    return path if path.is_absolute() else (base.parent / path)


def load_inventory(path: Path, snmp: SnmpConfig | None = None) -> Inventory:
    doc = read_yaml(path)
    inventory = validate(doc, Inventory)
    problems = inventory.problems(
        profiles=set(snmp.profiles) if snmp else None,
        credentials=set(snmp.credentials) if snmp else None,
    )
    if problems:
        raise ConfigError(Problem(doc.file, doc.line_of(loc), format_location(loc), msg) for loc, msg in problems)
    return inventory


def load_district(config_path: Path = DEFAULT_CONFIG) -> District:
    config_path = Path(config_path)
    settings = validate(read_yaml(config_path), Settings)
    snmp = validate(read_yaml(_resolve(config_path, settings.snmp)), SnmpConfig)
    inventory = load_inventory(_resolve(config_path, settings.inventory), snmp)
    return District(config_path=config_path, settings=settings, inventory=inventory, snmp=snmp)
