"""The SNMP collector's own settings (``polling:`` in nms.yaml) and what it reads of the application's config.

The application composes nms.yaml from each subsystem's section; the collector only declares, as
:class:`SnmpDistrict`, the parts it reads, so it never imports the application.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from collectors.snmp.config import SnmpConfig
from nms.inventory.models import DeviceRole, Inventory


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClassPolling(_Strict):
    """Polling of one device class (role)."""

    interval: float = Field(gt=0, le=3600, description="seconds between polls")
    timeout: float = Field(default=2.0, gt=0, le=60, description="seconds per request attempt")
    retries: int = Field(default=1, ge=0, le=10)


def _default_classes() -> dict[DeviceRole, ClassPolling]:
    return {
        DeviceRole.BACKBONE: ClassPolling(interval=15),
        DeviceRole.ACCESS: ClassPolling(interval=30),
        DeviceRole.IPS: ClassPolling(interval=15),
        DeviceRole.AP: ClassPolling(interval=60),
        DeviceRole.HOST: ClassPolling(interval=60),
    }


class PollingSettings(_Strict):
    classes: dict[DeviceRole, ClassPolling] = Field(default_factory=_default_classes)
    jitter: float = Field(default=0.1, ge=0, le=0.5, description="start offset, as a fraction of the interval")
    concurrency: int = Field(default=128, ge=1, le=4096, description="devices polled at once")


class SnmpServiceSettings(Protocol):
    """The part of nms.yaml the collector reads."""

    @property
    def polling(self) -> PollingSettings: ...


class SnmpDistrict(Protocol):
    """What the collector is given on start and on every reload (the application's ``District``)."""

    @property
    def settings(self) -> SnmpServiceSettings: ...

    @property
    def inventory(self) -> Inventory: ...

    @property
    def snmp(self) -> SnmpConfig: ...
