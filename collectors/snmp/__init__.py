"""SNMP collection: a lean v2c GETBULK path, pysnmp for v3, Prometheus exposition."""
