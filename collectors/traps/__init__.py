"""SNMP trap receiver: devices tell us about link changes, reboots and refused requests at once.

Traps arrive on UDP (``traps.listen``, 162 by default). Only devices of the inventory are trusted
(by source address); everything else is counted and dropped. Decoding uses pysnmp's message
codec (not the polling collector's BER code: subsystems never import each other).
"""
