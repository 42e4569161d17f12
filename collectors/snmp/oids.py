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

# IF-MIB ifTable columns (ifEntry = 1.3.6.1.2.1.2.2.1)
IF_ENTRY = "1.3.6.1.2.1.2.2.1"
IF_TABLE_COLUMNS = {
    "ifDescr": 2,
    "ifType": 3,
    "ifAdminStatus": 7,
    "ifOperStatus": 8,
    "ifInDiscards": 13,
    "ifInErrors": 14,
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
ENT_SENSOR_COLUMNS = {"entPhySensorType": 1, "entPhySensorScale": 2, "entPhySensorValue": 4}
ENT_SENSOR_TYPE_CELSIUS = 8

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
