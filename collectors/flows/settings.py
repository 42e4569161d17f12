"""Settings of the flow collector (the ``flows:`` section of nms.yaml)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Protocol, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator

from nms.inventory.models import Inventory

#: Well-known services counted by port; every other port is summed as ``other``.
DEFAULT_PORTS = (20, 21, 22, 23, 25, 53, 67, 69, 80, 110, 123, 143, 161, 162, 389, 443, 445, 514,
                 587, 993, 995, 1194, 1812, 3306, 3389, 5060, 5061, 8080, 8443)


class ExporterPolicy(BaseModel):
    """Who may export, and what one exporter may cost (``flows.exporters``).

    A sender becomes an exporter only with a valid NetFlow/IPFIX header. It is a *candidate*
    until one of its data records decodes; candidates live in a small table of their own, so junk
    from many (spoofed) addresses never displaces a working exporter.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    allow: list[str] = Field(default_factory=list, max_length=100_000,
                             description="exporter addresses or networks allowed to send, besides the "
                                         "inventory's devices; empty: any sender with a valid header")
    inventory: bool = Field(default=True, description="with an allow-list, the inventory's device addresses "
                                                      "are allowed too")
    max_exporters: int = Field(default=1000, ge=1, le=100_000,
                               description="exporters kept (ones whose records decode); the least recently "
                                           "heard is evicted beyond this")
    max_candidates: int = Field(default=4096, ge=1, le=100_000,
                                description="senders with a valid header but no decoded record yet")
    idle_timeout: float = Field(default=3600.0, gt=0, le=7 * 86400,
                                description="seconds of silence before an exporter and its state are forgotten")
    candidate_timeout: float = Field(default=120.0, gt=0, le=86400,
                                     description="seconds a candidate is kept without a decoded record")
    max_templates: int = Field(default=512, ge=1, le=65_536, description="templates per exporter")
    max_domains: int = Field(default=64, ge=1, le=65_536,
                             description="observation domains (v9: source IDs) per exporter")
    pending_bytes: int = Field(default=8 << 20, ge=0, le=1 << 30,
                               description="bytes of data held for unknown templates, per exporter")
    cpu_per_second: float = Field(default=0.5, gt=0, le=64,
                                  description="decode CPU seconds per second one exporter may use (averaged "
                                              "over two seconds: a burst may use twice this at once)")

    @field_validator("allow")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(f"flows.exporters.allow: {item!r} is not an address or network") from exc
        return value


class FlowSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    listen: str = Field(default="127.0.0.1:2055", pattern=r"^[\w.:\[\]-]+:\d+$",
                        description="host:port of the UDP listener for NetFlow v5/v9 and IPFIX")
    workers: int = Field(default=1, ge=1, le=64,
                         description="receive processes (SO_REUSEPORT, one exporter always to the same one); "
                                     "1 receives in the service's own process")
    receive_buffer: int = Field(default=32 << 20, ge=1 << 16, le=1 << 30,
                                description="socket receive buffer in bytes (SO_RCVBUFFORCE as root)")
    queue_limit: int = Field(default=200_000, ge=100, le=10_000_000,
                             description="datagrams held between the receiver and the decoder")
    queue_bytes: int = Field(default=64 << 20, ge=1 << 16, le=1 << 32,
                             description="bytes of datagrams held between the receiver and the decoder")
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
    pending_bytes: int = Field(default=64 << 20, ge=0, le=1 << 32,
                               description="bytes of data held waiting for templates, in all")
    max_templates: int = Field(default=10_000, ge=1, le=1_000_000, description="templates kept, in all")
    max_interfaces: int = Field(default=4096, ge=1, le=1_000_000,
                                description="interfaces per exporter with their own series")
    exporters: ExporterPolicy = ExporterPolicy()


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
