"""The OIDs the collector polls, by MIB. One place, shared by the collector, the lab and the tests.

Standard MIBs are used wherever they exist. Vendor-specific values (AP client counts,
IPS sessions and events) are set per profile in ``snmp.yaml``; see ``docs`` in README.
"""

# SNMPv2-MIB system group
SYSTEM = "1.3.6.1.2.1.1"
SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"
SYS_LOCATION = "1.3.6.1.2.1.1.6.0"

# IF-MIB ifTable columns (ifEntry = 1.3.6.1.2.1.2.2.1)
IF_ENTRY = "1.3.6.1.2.1.2.2.1"
IF_TABLE_COLUMNS = {
    "ifDescr": 2,
    "ifType": 3,
    "ifAdminStatus": 7,
    "ifOperStatus": 8,
    "ifLastChange": 9,
    "ifInOctets": 10,
    "ifInDiscards": 13,
    "ifInErrors": 14,
    "ifOutOctets": 16,
    "ifOutDiscards": 19,
    "ifOutErrors": 20,
}
# IF-MIB ifXTable columns (ifXEntry = 1.3.6.1.2.1.31.1.1.1)
IF_X_ENTRY = "1.3.6.1.2.1.31.1.1.1"
IF_X_TABLE_COLUMNS = {
    "ifName": 1,
    "ifHCInOctets": 6,
    "ifHCInUcastPkts": 7,
    "ifHCOutOctets": 10,
    "ifHCOutUcastPkts": 11,
    "ifHighSpeed": 15,
    "ifAlias": 18,
}

# HOST-RESOURCES-MIB
HR_SYSTEM_UPTIME = "1.3.6.1.2.1.25.1.1.0"
HR_PROCESSOR_LOAD = "1.3.6.1.2.1.25.3.3.1.2"  # column, indexed by hrDeviceIndex
HR_STORAGE_ENTRY = "1.3.6.1.2.1.25.2.3.1"
HR_STORAGE_COLUMNS = {"hrStorageDescr": 3, "hrStorageAllocationUnits": 4, "hrStorageSize": 5, "hrStorageUsed": 6}

# ENTITY-SENSOR-MIB entPhySensorTable (temperature sensors have entPhySensorType 8 = celsius)
ENT_SENSOR_ENTRY = "1.3.6.1.2.1.99.1.1.1"
ENT_SENSOR_COLUMNS = {"entPhySensorType": 1, "entPhySensorScale": 2, "entPhySensorPrecision": 3,
                      "entPhySensorValue": 4, "entPhySensorOperStatus": 5}
ENT_SENSOR_TYPE_CELSIUS = 8
# ENTITY-MIB entPhysicalName, the sensors' names (same index as entPhySensorTable)
ENT_PHYSICAL_NAME = "1.3.6.1.2.1.47.1.1.1.1.7"
# SensorDataType names (ENTITY-SENSOR-MIB), for the sensor_type label
ENT_SENSOR_TYPES = {1: "other", 2: "unknown", 3: "voltsAC", 4: "voltsDC", 5: "amperes", 6: "watts",
                    7: "hertz", 8: "celsius", 9: "percentRH", 10: "rpm", 11: "cmm", 12: "truthvalue",
                    13: "specialEnum", 14: "dBm"}

# CPU and memory outside HOST-RESOURCES-MIB, by the MIB an agent offers (profile 'resources').
# UCD-SNMP-MIB (net-snmp based appliances: UniFi APs, most Linux-based IPS): scalars, kB.
UCD_CPU_IDLE = "1.3.6.1.4.1.2021.11.11.0"  # ssCpuIdle, percent
UCD_MEM_TOTAL_REAL = "1.3.6.1.4.1.2021.4.5.0"  # memTotalReal, kB
UCD_MEM_AVAIL_REAL = "1.3.6.1.4.1.2021.4.6.0"  # memAvailReal, kB
# CISCO-PROCESS-MIB cpmCPUTotalTable (Cisco APs and IOS devices): columns per CPU, kB.
CPM_CPU_TOTAL_5MIN_REV = "1.3.6.1.4.1.9.9.109.1.1.1.1.8"  # percent
CPM_CPU_MEMORY_USED = "1.3.6.1.4.1.9.9.109.1.1.1.1.12"  # kB
CPM_CPU_MEMORY_FREE = "1.3.6.1.4.1.9.9.109.1.1.1.1.13"  # kB

# Associated Wi-Fi clients, by AP vendor. Each is a column summed over its rows.
AP_CLIENT_OIDS = {
    # CISCO-DOT11-ASSOCIATION-MIB cDot11ActiveWirelessClients (per radio interface)
    "cisco": "1.3.6.1.4.1.9.9.273.1.1.2.1.1",
    # UBNT-UniFi-MIB unifiVapNumStations (per VAP)
    "ubiquiti": "1.3.6.1.4.1.41112.1.6.1.2.1.8",
}

# Vendor-neutral IPS profile: NET-SNMP's playpen arc (netSnmpPlaypen) holds the lab's IPS,
# and snmp.yaml maps the same three values to a real vendor's OIDs.
IPS_DEFAULT_OIDS = {
    "sessions": "1.3.6.1.4.1.8072.9999.1.1.0",  # gauge: current sessions
    "events_detected": "1.3.6.1.4.1.8072.9999.1.2.0",  # counter: attacks detected
    "events_blocked": "1.3.6.1.4.1.8072.9999.1.3.0",  # counter: attacks blocked
}
