"""``nms inventory import-netbox``: compare NetBox's inventory with the inventory file, and write it."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from nms import exitcodes
from nms.configfile import ConfigError, parse_yaml_text, validate
from nms.inventory import topology
from nms.inventory.diff import EMPTY_INVENTORY, InventoryDiff, diff_inventories
from nms.inventory.models import Inventory
from nms.inventory.netbox.errors import NetBoxError, safe_url
from nms.inventory.netbox.mapping import NetBoxMapping
from nms.inventory.netbox.source import NetBoxSource
from nms.inventory.sources import DeviceReferences, dump_inventory
from nms.store import ABSENT, ConfigStore, StoreError


def _load_current(store: ConfigStore, out: TextIO) -> tuple[Inventory, str, bool]:
    """The inventory in the target file, its version, and whether the file was usable."""
    try:
        text, version = store.read()
    except FileNotFoundError:
        return EMPTY_INVENTORY, ABSENT, True
    try:
        return validate(parse_yaml_text(text, str(store.path)), Inventory), version, True
    except ConfigError as exc:
        print(f"warning: the current {store.path} is not a valid inventory; comparing with an empty one:\n"
              f"{exc}", file=out)
        return EMPTY_INVENTORY, version, False


def import_netbox(url: str, token: str, target: Path, *, apply: bool, progress: bool = False,
                  out: TextIO | None = None, mapping: NetBoxMapping | None = None,
                  snmp: DeviceReferences | None = None, author: str = "", timeout: float = 10.0) -> InventoryDiff:
    """Compare the inventory in NetBox with ``target``; with ``apply`` write NetBox's version.

    The listing of changes (and of what NetBox had that could not be imported) goes to ``out``.
    The write is atomic and keeps the previous version in the file's history (:mod:`nms.store`);
    it refuses to go ahead if somebody changed the file meanwhile.
    """
    out = out or sys.stdout
    target = Path(target)
    store = ConfigStore(target)
    old, version, usable = _load_current(store, out)
    source = NetBoxSource(url, token, defaults=mapping, progress=progress, snmp=snmp, timeout=timeout)
    new = source.load()
    for line in source.skipped:
        print(f"skipped: {line}", file=out)
    for line in source.warnings:
        print(f"warning: {line}", file=out)
    diff = diff_inventories(old, new)
    print(diff.format(), file=out)
    if not apply:
        print(f"dry run: {target} not changed (use --apply to write it)", file=out)
        return diff
    if diff.is_empty and usable:
        print(f"{target} is already up to date", file=out)
        return diff
    if not new.devices and old.devices:
        raise NetBoxError(f"NetBox at {safe_url(url)} returned no importable devices; refusing to "
                          f"replace the {len(old.devices)} devices in {target} "
                          "(check the token's permissions and the mapping)")
    header = (f"Inventory imported from NetBox {safe_url(url)} (NetBox {source.netbox_version}).\n"
              "Written by `nms inventory import-netbox`: a later import replaces local edits.")
    text = dump_inventory(new, header=header)
    # Never write what the service would refuse to load.
    check = validate(parse_yaml_text(text, str(target)), Inventory)
    if check != new or topology.check(check):
        raise NetBoxError(f"internal error: the YAML generated for {target} does not read back identically")
    new_version = store.write(text, expected_version=version, author=author or _whoami(),
                              message=f"import from NetBox {safe_url(url)}: {diff.summary()}")
    print(f"wrote {target} (version {new_version[:12]}; previous versions in {store.history_dir})", file=out)
    return diff


def _whoami() -> str:
    try:
        return f"{getpass.getuser()} (import-netbox)"
    except (KeyError, OSError):
        return "import-netbox"


def _snmp_beside(target: Path, load_references: Callable[[Path], DeviceReferences] | None) -> DeviceReferences | None:
    """The snmp.yaml next to the inventory file, if any: imported devices must name its profiles.

    ``load_references`` reads and validates it (the SNMP collector's loader, given by the application).
    """
    path = target.parent / "snmp.yaml"
    if load_references is None or not path.exists():
        return None
    return load_references(path)


def run_import_netbox(url: str, token_env: str, target: Path, apply: bool, out: TextIO,
                      load_references: Callable[[Path], DeviceReferences] | None = None) -> int:
    """``nms inventory import-netbox URL --token-env VAR [--apply] [--target PATH]``; returns the exit code."""
    token = os.environ.get(token_env, "").strip()
    if not token:
        print(f"error: environment variable {token_env} is not set or empty: put the NetBox API token in it",
              file=out)
        return exitcodes.SECRET
    target = Path(target)
    try:
        snmp = _snmp_beside(target, load_references)
        import_netbox(url, token, target, apply=apply, progress=sys.stderr.isatty(), out=out, snmp=snmp)
    except (NetBoxError, StoreError, ConfigError) as exc:
        print(f"error: {exc}", file=out)
        return 1
    return 0
