"""What to poll for each profile kind: scalar GETs and table columns to walk."""

from __future__ import annotations

from dataclasses import dataclass

from collectors.snmp import oids
from collectors.snmp.config import Profile, ProfileKind

Oid = tuple[int, ...]


def _oid(text: str) -> Oid:
    return tuple(int(x) for x in text.strip(".").split("."))


def _columns(entry: str, columns: dict[str, int]) -> dict[str, Oid]:
    base = _oid(entry)
    return {name: (*base, number) for name, number in columns.items()}


IF_TABLE = _columns(oids.IF_ENTRY, oids.IF_TABLE_COLUMNS)
IF_X_TABLE = _columns(oids.IF_X_ENTRY, oids.IF_X_TABLE_COLUMNS)
HR_STORAGE = _columns(oids.HR_STORAGE_ENTRY, oids.HR_STORAGE_COLUMNS)
ENT_SENSOR = _columns(oids.ENT_SENSOR_ENTRY, oids.ENT_SENSOR_COLUMNS)
HR_PROCESSOR_LOAD = _oid(oids.HR_PROCESSOR_LOAD)
SYS_UPTIME = _oid(oids.SYS_UPTIME)
SYS_NAME = _oid(oids.SYS_NAME)
HR_SYSTEM_UPTIME = _oid(oids.HR_SYSTEM_UPTIME)


@dataclass(frozen=True)
class PollPlan:
    scalars: dict[str, Oid]  # metric-facing name -> instance OID
    columns: dict[str, Oid]  # MIB column name -> column OID

    @property
    def varbinds_per_row(self) -> int:
        return len(self.columns)


def plan_for(profile: Profile) -> PollPlan:
    scalars: dict[str, Oid] = {"sysUpTime": SYS_UPTIME, "sysName": SYS_NAME}
    columns: dict[str, Oid] = {}
    kind = profile.kind
    if kind in (ProfileKind.SWITCH, ProfileKind.IPS, ProfileKind.HOST):
        columns |= IF_TABLE
    columns |= IF_X_TABLE
    if kind in (ProfileKind.SWITCH, ProfileKind.HOST):
        columns["hrProcessorLoad"] = HR_PROCESSOR_LOAD
        columns |= HR_STORAGE
    if kind is ProfileKind.SWITCH:
        columns |= ENT_SENSOR
    if kind is ProfileKind.HOST:
        scalars["hrSystemUptime"] = HR_SYSTEM_UPTIME
    if kind is ProfileKind.AP:
        columns["apClients"] = _oid(profile.clients_oid or "")
    if kind is ProfileKind.IPS:
        ips = profile.ips_oids
        scalars |= {"ipsSessions": _oid(ips.sessions), "ipsEventsDetected": _oid(ips.events_detected),
                    "ipsEventsBlocked": _oid(ips.events_blocked)}
    return PollPlan(scalars=scalars, columns=columns)
