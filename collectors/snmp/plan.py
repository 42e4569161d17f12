"""What to poll for each profile kind: scalar GETs and table columns to walk."""

from __future__ import annotations

from dataclasses import dataclass

from collectors.snmp import oids
from collectors.snmp.config import Profile, ProfileKind, ResourceMib

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
ENT_PHYSICAL_NAME = _oid(oids.ENT_PHYSICAL_NAME)
HR_PROCESSOR_LOAD = _oid(oids.HR_PROCESSOR_LOAD)
SYS_UPTIME = _oid(oids.SYS_UPTIME)
SYS_NAME = _oid(oids.SYS_NAME)
SYSTEM_SCALARS = {"sysDescr": _oid(oids.SYS_DESCR), "sysObjectID": _oid(oids.SYS_OBJECT_ID),
                  "sysUpTime": SYS_UPTIME, "sysName": SYS_NAME, "sysLocation": _oid(oids.SYS_LOCATION)}
UCD_SCALARS = {"ucdCpuIdle": _oid(oids.UCD_CPU_IDLE), "ucdMemTotalReal": _oid(oids.UCD_MEM_TOTAL_REAL),
               "ucdMemAvailReal": _oid(oids.UCD_MEM_AVAIL_REAL)}
CPM_COLUMNS = {"cpmCPUTotal5minRev": _oid(oids.CPM_CPU_TOTAL_5MIN_REV),
               "cpmCPUMemoryUsed": _oid(oids.CPM_CPU_MEMORY_USED),
               "cpmCPUMemoryFree": _oid(oids.CPM_CPU_MEMORY_FREE)}
HR_SYSTEM_UPTIME = _oid(oids.HR_SYSTEM_UPTIME)


@dataclass(frozen=True)
class PollPlan:
    scalars: dict[str, Oid]  # metric-facing name -> instance OID
    columns: dict[str, Oid]  # MIB column name -> column OID

    @property
    def varbinds_per_row(self) -> int:
        return len(self.columns)


def plan_for(profile: Profile) -> PollPlan:
    scalars: dict[str, Oid] = dict(SYSTEM_SCALARS)
    columns: dict[str, Oid] = dict(IF_TABLE) | IF_X_TABLE  # every class, APs included
    kind = profile.kind
    resources = profile.resource_mib
    if resources is ResourceMib.HOST_RESOURCES:
        columns["hrProcessorLoad"] = HR_PROCESSOR_LOAD
        columns |= HR_STORAGE
    elif resources is ResourceMib.UCD:
        scalars |= UCD_SCALARS
    elif resources is ResourceMib.CISCO_PROCESS:
        columns |= CPM_COLUMNS
    if kind is ProfileKind.SWITCH:
        columns |= ENT_SENSOR
        columns["entPhysicalName"] = ENT_PHYSICAL_NAME
    if kind is ProfileKind.HOST:
        scalars["hrSystemUptime"] = HR_SYSTEM_UPTIME
    if kind is ProfileKind.AP:
        columns["apClients"] = _oid(profile.clients_oid or "")
    if kind is ProfileKind.IPS:
        ips = profile.ips_oids
        scalars |= {"ipsSessions": _oid(ips.sessions), "ipsEventsDetected": _oid(ips.events_detected),
                    "ipsEventsBlocked": _oid(ips.events_blocked)}
    return PollPlan(scalars=scalars, columns=columns)
