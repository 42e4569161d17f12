"""Loading the whole configuration as one consistent unit.

Everything is read and cross-checked before anything is used: the service never starts
(or reloads) on half a config. A failed reload keeps the last good :class:`District`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from collectors.snmp.config import SnmpConfig, load_snmp_config
from nms.app.settings import Settings
from nms.configfile import ConfigError, Problem, read_yaml, validate
from nms.inventory.models import Inventory
from nms.inventory.plugins import load_configured_inventory
from nms.inventory.sources import SourceError
from nms.secrets import SecretError

DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "nms.yaml"


@dataclass(frozen=True)
class District:
    """The validated configuration: service settings, inventory and SNMP profiles."""

    config_path: Path
    settings: Settings
    inventory: Inventory
    snmp: SnmpConfig

    @property
    def http_listen(self) -> str:
        return self.settings.http.listen

    @property
    def http_reload_token_secret(self) -> str:
        return self.settings.http.reload_token_secret

    @property
    def http_web_config(self) -> Path | None:
        path = self.settings.http.web_config
        return None if path is None else _resolve(self.config_path, path)

    def reloaded(self) -> District:
        """The configuration as the files say now (raises :class:`ConfigError`, keeping this one usable)."""
        return load_district(self.config_path)


def _resolve(base: Path, path: Path) -> Path:
    return path if path.is_absolute() else (base.parent / path)


def load_district(config_path: Path = DEFAULT_CONFIG) -> District:
    config_path = Path(config_path)
    doc = read_yaml(config_path)
    settings = validate(doc, Settings)
    snmp = load_snmp_config(_resolve(config_path, settings.snmp))
    try:
        inventory = load_configured_inventory(settings.inventory, config_path.parent, snmp)
    except (SourceError, SecretError) as exc:  # the source is unusable: like a bad file, keep the last good one
        raise ConfigError([Problem(doc.file, doc.line_of(("inventory",)), "inventory",
                                   f"{settings.inventory.plugin} inventory: {exc}")]) from exc
    return District(config_path=config_path, settings=settings, inventory=inventory, snmp=snmp)
