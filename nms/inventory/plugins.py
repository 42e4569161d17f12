"""Which inventory source the service uses: nms.yaml's ``inventory:`` and a registry of source plugins.

In the manner of nornir's ``InventoryPlugin``: each plugin is a name, a settings model (the mapping
under ``inventory:``, with ``plugin: <name>``) and a factory that builds an
:class:`~nms.inventory.sources.InventorySource` from it. Two are registered:

* ``yaml`` (the default): ``inventory: {plugin: yaml, path: inventory.yaml}``; the short form
  ``inventory: inventory.yaml`` means the same;
* ``netbox``: ``inventory: {plugin: netbox, url: https://netbox.example.org, token_secret: netbox-token}``;
  the API token is the secret named ``token_secret`` (see :mod:`nms.secrets`), never in the file.

A new plugin adds its settings model to :data:`InventorySettings` and registers its factory with
:func:`register_plugin`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from nms.inventory.models import Inventory
from nms.inventory.sources import DeviceReferences, InventorySource, YamlSource
from nms.secrets import SecretResolver


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class YamlInventorySettings(_Strict):
    plugin: Literal["yaml"] = "yaml"
    path: Path = Field(default=Path("inventory.yaml"), description="inventory.yaml, relative to nms.yaml")

    def file(self, base: Path) -> Path | None:
        """The inventory file that edits go to (``base`` is nms.yaml's directory)."""
        return self.path if self.path.is_absolute() else base / self.path


class NetBoxInventorySettings(_Strict):
    plugin: Literal["netbox"]
    url: str = Field(pattern=r"^https?://", description="NetBox base URL")
    token_secret: str = Field(default="netbox-token", pattern=r"^[A-Za-z0-9_.-]+$",
                              description="name of the secret holding the API token")
    timeout: float = Field(default=10.0, gt=0, le=300, description="seconds per NetBox request")

    def file(self, base: Path) -> Path | None:
        """NetBox is edited in NetBox: there is no local inventory file."""
        return None


def _short_form(value: object) -> object:
    """``inventory: inventory.yaml`` is the YAML plugin with that path."""
    if isinstance(value, str | Path):
        return {"plugin": "yaml", "path": value}
    return value


InventorySettings = Annotated[YamlInventorySettings | NetBoxInventorySettings,
                              Field(discriminator="plugin"), BeforeValidator(_short_form)]


def inventory_settings(path: str | Path) -> YamlInventorySettings:
    return YamlInventorySettings(path=Path(path))


PluginFactory = Callable[[BaseModel, Path, DeviceReferences | None, SecretResolver], InventorySource]
_PLUGINS: dict[str, PluginFactory] = {}


def register_plugin(name: str, factory: PluginFactory) -> None:
    _PLUGINS[name] = factory


def plugin_names() -> list[str]:
    return sorted(_PLUGINS)


def open_source(settings: YamlInventorySettings | NetBoxInventorySettings, base: Path,
                references: DeviceReferences | None = None, secrets: SecretResolver | None = None) -> InventorySource:
    """The source nms.yaml names; ``base`` is nms.yaml's directory, ``references`` the SNMP names to check."""
    try:
        factory = _PLUGINS[settings.plugin]
    except KeyError:  # a settings model without a registered factory is a programming error
        raise LookupError(f"no inventory plugin registered as {settings.plugin!r} "
                          f"(known: {', '.join(plugin_names())})") from None
    return factory(settings, base, references, secrets or SecretResolver())


def load_configured_inventory(settings: YamlInventorySettings | NetBoxInventorySettings, base: Path,
                              references: DeviceReferences | None = None,
                              secrets: SecretResolver | None = None) -> Inventory:
    return open_source(settings, base, references, secrets).load()


def _yaml(settings: BaseModel, base: Path, references: DeviceReferences | None,
          secrets: SecretResolver) -> InventorySource:
    assert isinstance(settings, YamlInventorySettings)
    path = settings.file(base)
    assert path is not None
    return YamlSource(path, references)


def _netbox(settings: BaseModel, base: Path, references: DeviceReferences | None,
            secrets: SecretResolver) -> InventorySource:
    from nms.inventory.netbox import NetBoxSource  # pynetbox is only loaded when NetBox is used

    assert isinstance(settings, NetBoxInventorySettings)
    return NetBoxSource(settings.url, secrets.get(settings.token_secret), snmp=references, timeout=settings.timeout)


register_plugin("yaml", _yaml)
register_plugin("netbox", _netbox)
