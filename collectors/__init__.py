"""Collectors: SNMP polling and (later) flow collection, exposed to Prometheus."""
