"""Settings of the flow collector (the ``flows:`` section of nms.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, Self

from pydantic import BaseModel, ConfigDict, Field

from nms.inventory.models import Inventory

#: Well-known services counted by port; every other port is summed as ``other``.
DEFAULT_PORTS = (20, 21, 22, 23, 25, 53, 67, 69, 80, 110, 123, 143, 161, 162, 389, 443, 445, 514,
                 587, 993, 995, 1194, 1812, 3306, 3389, 5060, 5061, 8080, 8443)


class FlowSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    listen: str = Field(default="127.0.0.1:2055", pattern=r"^[\w.:\[\]-]+:\d+$",
                        description="host:port of the UDP listener for NetFlow v5/v9 and IPFIX")
    receive_buffer: int = Field(default=32 << 20, ge=1 << 16, le=1 << 30,
                                description="socket receive buffer in bytes (SO_RCVBUFFORCE as root)")
    queue_limit: int = Field(default=200_000, ge=100, le=10_000_000,
                             description="datagrams held between the receiver and the decoder")
    ports: list[int] = Field(default_factory=lambda: list(DEFAULT_PORTS), max_length=256,
                             description="service ports counted by name; the rest is 'other'")
    top_n: int = Field(default=10, ge=0, le=1000, description="top talkers published per window")
    top_window: float = Field(default=60.0, gt=0, le=3600, description="seconds per top-talker window")
    top_tracked: int = Field(default=1_000_000, ge=1000, le=50_000_000,
                             description="hosts tracked per window before the smallest are dropped")
    template_timeout: float = Field(default=1800.0, gt=0, le=86400,
                                    description="seconds a template lives without being refreshed")
    pending_hold: float = Field(default=10.0, ge=0, le=600,
                                description="seconds data is held waiting for its template")
    pending_limit: int = Field(default=10_000, ge=0, le=1_000_000,
                               description="data sets held waiting for templates, in all")
    max_exporters: int = Field(default=1000, ge=1, le=100_000)
    max_templates: int = Field(default=10_000, ge=1, le=1_000_000, description="templates kept, in all")
    max_interfaces: int = Field(default=4096, ge=1, le=1_000_000,
                                description="interfaces per exporter with their own series")


class FlowServiceSettings(Protocol):
    """The part of nms.yaml the flow collector reads."""

    @property
    def flows(self) -> FlowSettings: ...


class FlowDistrict(Protocol):
    """What the flow collector is given on start and on reload (the application's ``District``)."""

    @property
    def config_path(self) -> Path: ...

    @property
    def settings(self) -> FlowServiceSettings: ...

    @property
    def inventory(self) -> Inventory: ...

    def reloaded(self) -> Self: ...
