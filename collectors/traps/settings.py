"""Settings of the trap receiver (the ``traps:`` section of nms.yaml)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

SecretName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$")]


class TrapSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    listen: str = Field(default="0.0.0.0:162", pattern=r"^[\w.:\[\]-]+:\d+$",
                        description="host:port of the UDP trap listener (162 needs root or CAP_NET_BIND_SERVICE)")
    communities: list[SecretName] = Field(
        default_factory=lambda: ["district-v2c"], min_length=1, max_length=16,
        description="secrets holding the SNMPv1/v2c communities a trap may carry (nms.secrets)")
    link_state_ttl: float = Field(
        default=900.0, gt=0, le=86400,
        description="seconds a trap's link state is published; after it the polls alone tell (a lost linkUp "
                    "cannot keep a port down forever)")
    max_interfaces: int = Field(default=1024, ge=1, le=100_000, description="link states kept per device")
    max_unknown_oids: int = Field(default=100, ge=1, le=10_000,
                                  description="distinct unknown trap OIDs counted by name; the rest as 'other'")
    max_datagram: int = Field(default=8192, ge=484, le=65535, description="larger datagrams are dropped")
