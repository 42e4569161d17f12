"""snmp.yaml: credential sets (no secrets) and device profiles (what to poll)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from collectors.snmp import oids
from nms.configfile import read_yaml, validate

Oid = Annotated[str, Field(pattern=r"^1(\.\d+)+$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Credential(_Strict):
    """How to authenticate. Secret values are looked up by name (see nms.secrets):

    * v2c: the community is the secret ``<set name>``;
    * v3: the keys are the secrets ``<set name>-auth`` and ``<set name>-priv``.
    """

    version: Literal["2c", "3"]
    username: str | None = None
    auth_protocol: Literal["SHA", "SHA256", "SHA512"] | None = None
    priv_protocol: Literal["AES", "AES256"] | None = None

    @model_validator(mode="after")
    def _v3_needs_user(self) -> Credential:
        if self.version == "3":
            if not self.username:
                raise ValueError("SNMPv3 credentials need 'username'")
            if not self.auth_protocol or not self.priv_protocol:
                raise ValueError("SNMPv3 credentials need 'auth_protocol' and 'priv_protocol' (authPriv only)")
        elif self.username or self.auth_protocol or self.priv_protocol:
            raise ValueError("username/auth_protocol/priv_protocol apply to version 3 only")
        return self


class ProfileKind(StrEnum):
    SWITCH = "switch"
    AP = "ap"
    IPS = "ips"
    HOST = "host"


class IpsOids(_Strict):
    sessions: Oid = oids.IPS_DEFAULT_OIDS["sessions"]
    events_detected: Oid = oids.IPS_DEFAULT_OIDS["events_detected"]
    events_blocked: Oid = oids.IPS_DEFAULT_OIDS["events_blocked"]


class ResourceMib(StrEnum):
    """Where a device's CPU and memory come from (see oids.py and configs/snmp.yaml)."""

    HOST_RESOURCES = "host-resources"  # hrProcessorLoad, hrStorage (servers, switches)
    UCD = "ucd"  # UCD-SNMP-MIB ssCpuIdle, memTotalReal/memAvailReal (net-snmp based appliances)
    CISCO_PROCESS = "cisco-process"  # CISCO-PROCESS-MIB cpmCPUTotal5minRev, cpmCPUMemoryUsed/Free
    NONE = "none"


_DEFAULT_RESOURCES = {"switch": ResourceMib.HOST_RESOURCES, "host": ResourceMib.HOST_RESOURCES,
                      "ips": ResourceMib.UCD, "ap:cisco": ResourceMib.CISCO_PROCESS, "ap:ubiquiti": ResourceMib.UCD}


class Profile(_Strict):
    kind: ProfileKind
    description: str | None = None
    ap_vendor: str | None = Field(default=None, description="key of oids.AP_CLIENT_OIDS")
    ap_clients_oid: Oid | None = Field(default=None, description="overrides the vendor's client-count column")
    ips: IpsOids | None = None
    max_repetitions: int = Field(default=25, ge=1, le=100)
    resources: ResourceMib | None = Field(default=None, description="CPU/memory MIB; default by kind and vendor")

    @model_validator(mode="after")
    def _kind_options(self) -> Profile:
        if self.kind is ProfileKind.AP:
            if self.ap_clients_oid is None:
                if self.ap_vendor is None:
                    raise ValueError("an AP profile needs 'ap_vendor' or 'ap_clients_oid'")
                if self.ap_vendor not in oids.AP_CLIENT_OIDS:
                    raise ValueError(f"unknown ap_vendor {self.ap_vendor!r} "
                                     f"(known: {', '.join(sorted(oids.AP_CLIENT_OIDS))})")
        elif self.ap_vendor or self.ap_clients_oid:
            raise ValueError("ap_vendor/ap_clients_oid apply to AP profiles only")
        if self.ips is not None and self.kind is not ProfileKind.IPS:
            raise ValueError("'ips' applies to IPS profiles only")
        return self

    @property
    def clients_oid(self) -> str | None:
        if self.kind is not ProfileKind.AP:
            return None
        return self.ap_clients_oid or oids.AP_CLIENT_OIDS[self.ap_vendor or ""]

    @property
    def resource_mib(self) -> ResourceMib:
        if self.resources is not None:
            return self.resources
        key = f"ap:{self.ap_vendor}" if self.kind is ProfileKind.AP else self.kind.value
        return _DEFAULT_RESOURCES.get(key, ResourceMib.NONE)

    @property
    def ips_oids(self) -> IpsOids:
        return self.ips or IpsOids()


class SnmpConfig(_Strict):
    credentials: dict[str, Credential]
    profiles: dict[str, Profile]


def load_snmp_config(path: Path) -> SnmpConfig:
    """snmp.yaml, validated (a :class:`~nms.configfile.ConfigError` names the file, line and key)."""
    return validate(read_yaml(path), SnmpConfig)
