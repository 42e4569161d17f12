"""Settings of the trap receiver (the ``traps:`` section of nms.yaml)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

SecretName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$")]


class V3User(BaseModel):
    """An SNMPv3 user whose traps are accepted, from the devices whose engine IDs are listed.

    A trap is not acknowledged, so the sender is the authoritative engine: its engine ID must be known
    (``show snmp engineID`` on the device) for its keys to be localised."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user: str = Field(min_length=1, max_length=32)
    auth_protocol: Literal["md5", "sha", "sha224", "sha256", "sha384", "sha512"] = "sha"
    auth_secret: SecretName = Field(description="secret holding the authentication passphrase")
    priv_protocol: Literal["none", "des", "aes", "aes192", "aes256"] = "aes"
    priv_secret: SecretName | None = Field(default=None, description="secret holding the privacy passphrase")
    engine_ids: list[Annotated[str, Field(pattern=r"^(0x)?[0-9a-fA-F]{10,64}$")]] = Field(
        min_length=1, max_length=100_000, description="the senders' snmpEngineID, hex")


class TrapSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    listen: str = Field(default="0.0.0.0:162", pattern=r"^[\w.:\[\]-]+:\d+$",
                        description="host:port of the UDP trap listener (162 needs root or CAP_NET_BIND_SERVICE)")
    communities: list[SecretName] = Field(
        default_factory=lambda: ["district-v2c"], min_length=1, max_length=16,
        description="secrets holding the SNMPv1/v2c communities a trap may carry (nms.secrets)")
    v3_users: list[V3User] = Field(default_factory=list, max_length=16,
                                   description="SNMPv3 users (authNoPriv or authPriv) whose traps are accepted")
    link_state_ttl: float = Field(
        default=900.0, gt=0, le=86400,
        description="seconds a trap's link state is published; after it the polls alone tell (a lost linkUp "
                    "cannot keep a port down forever)")
    max_interfaces: int = Field(default=1024, ge=1, le=100_000, description="link states kept per device")
    max_unknown_oids: int = Field(default=100, ge=1, le=10_000,
                                  description="distinct unknown trap OIDs counted by name; the rest as 'other'")
    receive_buffer: int = Field(default=8 << 20, ge=1 << 16, le=1 << 30,
                                description="socket receive buffer in bytes (SO_RCVBUFFORCE as root): a trap storm "
                                            "waits here while traps are decoded")
    max_datagram: int = Field(default=8192, ge=484, le=65535, description="larger datagrams are dropped")
