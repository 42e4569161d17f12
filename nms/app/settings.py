"""nms.yaml: the service's own settings, composed of each floor's section. Paths in it are relative to the file."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from collectors.flows.settings import FlowSettings
from collectors.snmp.settings import PollingSettings
from collectors.traps.settings import TrapSettings
from ivr.settings import IvrSettings
from nms.admin.settings import AdminSettings
from nms.alerting.settings import AlertingSettings
from nms.inventory.plugins import InventorySettings, inventory_settings
from nms.reports.settings import ReportSettings


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HttpSettings(_Strict):
    listen: str = Field(default="127.0.0.1:9700", pattern=r"^[\w.:\[\]-]+:\d+$",
                        description="host:port for /metrics, /-/reload and /-/healthy")
    reload_token_secret: str = Field(default="http-reload-token", pattern=r"^[A-Za-z0-9._-]+$",
                                     description="the secret a POST /-/reload must carry (Authorization: Bearer); "
                                                 "without it, reload over HTTP is off (SIGHUP still works)")
    web_config: Path | None = Field(default=None, description="exporter-toolkit web config (TLS, basic auth "
                                    "with bcrypt hashes) for /metrics; relative to nms.yaml")


class Settings(_Strict):
    inventory: InventorySettings = Field(default_factory=lambda: inventory_settings("inventory.yaml"),
                                         description="a path to inventory.yaml, or {plugin: yaml|netbox, ...}")
    snmp: Path = Path("snmp.yaml")
    http: HttpSettings = HttpSettings()
    polling: PollingSettings = PollingSettings()
    flows: FlowSettings = FlowSettings()
    ivr: IvrSettings = IvrSettings()
    admin: AdminSettings = AdminSettings()
    alerting: AlertingSettings = AlertingSettings()
    traps: TrapSettings = TrapSettings()
    reports: ReportSettings = ReportSettings()
