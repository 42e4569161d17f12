"""nms.yaml: the service's own settings. Paths in it are relative to the file."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from collectors.flows.settings import FlowSettings
from collectors.traps.settings import TrapSettings
from nms.admin.settings import AdminSettings
from nms.alerting.settings import AlertingSettings
from nms.inventory.models import Role


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HttpSettings(_Strict):
    listen: str = Field(default="127.0.0.1:9700", pattern=r"^[\w.:\[\]-]+:\d+$",
                        description="host:port for /metrics, /-/reload and /-/healthy")


class ClassPolling(_Strict):
    """Polling of one device class (role)."""

    interval: float = Field(gt=0, le=3600, description="seconds between polls")
    timeout: float = Field(default=2.0, gt=0, le=60, description="seconds per request attempt")
    retries: int = Field(default=1, ge=0, le=10)


def _default_classes() -> dict[Role, ClassPolling]:
    return {
        Role.BACKBONE: ClassPolling(interval=15),
        Role.ACCESS: ClassPolling(interval=30),
        Role.IPS: ClassPolling(interval=15),
        Role.AP: ClassPolling(interval=60),
        Role.HOST: ClassPolling(interval=60),
    }


class PollingSettings(_Strict):
    classes: dict[Role, ClassPolling] = Field(default_factory=_default_classes)
    jitter: float = Field(default=0.1, ge=0, le=0.5, description="start offset, as a fraction of the interval")
    concurrency: int = Field(default=128, ge=1, le=4096, description="devices polled at once")


class IvrSettings(_Strict):
    enabled: bool = True
    config: Path = Field(default=Path("ivr.yaml"), description="the IVR configuration, relative to nms.yaml")
    asterisk_etc: Path | None = Field(default=Path("/etc/asterisk"),
                                      description="where rendered Asterisk configuration is written on reload")


class Settings(_Strict):
    inventory: Path = Path("inventory.yaml")
    snmp: Path = Path("snmp.yaml")
    http: HttpSettings = HttpSettings()
    polling: PollingSettings = PollingSettings()
    flows: FlowSettings = FlowSettings()
    ivr: IvrSettings = IvrSettings()
    admin: AdminSettings = AdminSettings()
    alerting: AlertingSettings = AlertingSettings()
    traps: TrapSettings = TrapSettings()
