"""``nms config check``: every file the service loads, in one run, with every problem listed.

Loading stops at the first invalid file (the service must not start on half a configuration); a
check must not. Each file is validated on its own, and a file that names another (nms.yaml names
inventory.yaml, snmp.yaml and ivr.yaml) still leads to it when it is itself invalid, as far as
its raw text says where.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ivr.config import IvrConfig, load_config
from nms.app.district import District, load_district
from nms.app.settings import Settings
from nms.configfile import ConfigError, Problem, read_yaml, validate


@dataclass
class CheckReport:
    """What was checked, and every problem found."""

    files: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    district: District | None = None
    ivr: IvrConfig | None = None

    def attempt(self, path: Path, load):  # -> the loaded value, or None with its problems recorded
        if path not in self.files:
            self.files.append(path)
        try:
            return load()
        except ConfigError as exc:
            self.problems.extend(p for p in exc.problems if p not in self.problems)
            return None


def _named(doc_data: object, key: str, default: str) -> Path:
    """A file name from nms.yaml's raw data, when the file does not validate."""
    value = doc_data.get(key, default) if isinstance(doc_data, dict) else default
    if isinstance(value, dict):
        value = value.get("config", value.get("path", default))
    return Path(value) if isinstance(value, str) else Path(default)


@dataclass(frozen=True)
class _Names:
    """The profile and credential names of an snmp.yaml that does not validate, from its raw text:
    the inventory is still checked against them (a typo there is reported next to snmp.yaml's)."""

    profiles: dict[str, object]
    credentials: dict[str, object]


def _raw_references(path: Path) -> _Names | None:
    try:
        data = read_yaml(path).data
    except ConfigError:
        return None
    if not isinstance(data, dict):
        return None
    def names(key: str) -> dict[str, object]:
        value = data.get(key)
        return dict(value) if isinstance(value, dict) else {}
    return _Names(profiles=names("profiles"), credentials=names("credentials"))


def secret_names(district: District) -> list[str]:
    """Every secret the SNMP collector needs for the active devices (v2c: the set; v3: -auth, -priv)."""
    names: list[str] = []
    for device in district.inventory.active_devices():
        credential = district.snmp.credentials.get(device.credentials)
        wanted = [device.credentials] if credential is None or credential.version == "2c" else \
            [f"{device.credentials}-auth", f"{device.credentials}-priv"]
        names += [n for n in wanted if n not in names]
    return names


def check_configuration(config: Path) -> CheckReport:
    config = Path(config)
    report = CheckReport()
    base = config.parent
    doc = report.attempt(config, lambda: read_yaml(config))
    settings = report.attempt(config, lambda: validate(doc, Settings)) if doc is not None else None
    raw = doc.data if doc is not None else {}

    def resolve(path: Path) -> Path:
        return path if path.is_absolute() else base / path

    # nms.yaml, then snmp.yaml and the inventory together (the inventory's references need the SNMP
    # profiles: load_district reads both), then ivr.yaml and the admin page's copy of it.
    snmp = resolve(settings.snmp if settings else _named(raw, "snmp", "snmp.yaml"))
    if settings is not None:
        report.district = report.attempt(config, lambda: load_district(config))
    if report.district is not None:
        inventory = settings.inventory.file(base)
        report.files += [p for p in (snmp, inventory) if p is not None and p not in report.files]
    else:
        from collectors.snmp.config import load_snmp_config

        snmp_config = report.attempt(snmp, lambda: load_snmp_config(snmp)) or _raw_references(snmp)
        inventory = (settings.inventory.file(base) if settings else resolve(_named(raw, "inventory",
                                                                                   "inventory.yaml")))
        if inventory is not None:
            from nms.inventory.plugins import inventory_settings, load_configured_inventory

            report.attempt(inventory, lambda: load_configured_inventory(inventory_settings(inventory), base,
                                                                        snmp_config))
    ivr_settings = settings.ivr if settings else None
    if ivr_settings is None or ivr_settings.enabled:
        ivr_path = resolve(ivr_settings.config if ivr_settings else _named(raw, "ivr", "ivr.yaml"))
        if ivr_path.exists() or ivr_settings is not None:
            report.ivr = report.attempt(ivr_path, lambda: load_config(ivr_path))
    if settings is not None and settings.admin.enabled:
        admin_ivr = resolve(settings.admin.ivr_config)
        if admin_ivr.exists() and admin_ivr not in report.files:
            report.attempt(admin_ivr, lambda: load_config(admin_ivr))
    return report
