"""The scale benchmark's fast simulated agent answers exactly what the lab's data says, as net-snmp reads it."""

from __future__ import annotations

import secrets as pysecrets
import threading
import time

from collectors.snmp import ber
from lab.fastagent import FastAgent, tables_for
from nms.app.district import DEFAULT_CONFIG, load_district
from tests.snmp_agents import bulkwalk


def _as_text(tlv: bytes) -> str:
    """A value TLV as snmpbulkwalk -Oe -Oq -Ot -OU prints it."""
    msg_vb = b"\x30" + bytes([len(tlv) + 3]) + b"\x06\x01\x00" + tlv
    vbl = b"\x30" + bytes([len(msg_vb)]) + msg_vb if len(msg_vb) < 128 else None
    assert vbl is not None
    pdu = b"\xa2" + bytes([len(vbl) + 9]) + b"\x02\x01\x00\x02\x01\x00\x02\x01\x00" + vbl
    msg = b"\x02\x01\x01\x04\x00" + pdu
    (_oid, tag, value), = ber.decode_response(b"\x30" + bytes([len(msg)]) + msg).varbinds
    if tag == ber.OCTET_STRING:
        return value.decode("utf-8") if value.isascii() else value.hex()
    if tag == ber.OID:
        return "." + ber.oid_to_str(value)
    return str(value)


def test_fast_agent_matches_snmpbulkwalk():
    district = load_district(DEFAULT_CONFIG)
    active = list(district.inventory.active_devices())
    picked = [next(d for d in active if d.profile == p) for p in sorted({d.profile for d in active})]
    endpoints = tables_for(district, picked, time.time())
    community = pysecrets.token_hex(6)
    agent = FastAgent(endpoints, 0, community.encode())
    agent.bind()
    thread = threading.Thread(target=agent.serve, daemon=True)
    thread.start()
    try:
        for device in picked:
            address = str(device.address)
            table = endpoints[address].table
            target = f"{address}:{agent.bound[address]}"
            t0 = time.time()
            walked = bulkwalk(["-v2c", "-c", community], target, "1.3.6.1.2") | \
                bulkwalk(["-v2c", "-c", community], target, "1.3.6.1.4")
            seconds = range(int(t0), int(time.time()) + 1)
            # two subtrees that end before the end of the MIB view (whose endOfMibView line net-snmp
            # prints under the last OID's name)
            walked = {k: v for k, v in walked.items() if not v.startswith(("No Such", "No more variables"))}
            served = {".".join(map(str, o)): {_as_text(f(t)) for t in seconds}
                      for o, f in zip(table.oids, table.values, strict=True)}
            assert walked.keys() == {o for o in served if o.startswith(("1.3.6.1.2.", "1.3.6.1.4."))}, device.name
            for oid, text in walked.items():
                # what the agent served at one of the seconds of the walk; net-snmp prints
                # non-printable strings as hex octets, 16 to a line (the helper keeps the first line)
                hex_text = text.replace(" ", "").lower()
                assert text in served[oid] or hex_text in served[oid] or (
                    len(hex_text) == 32 and any(v.startswith(hex_text) for v in served[oid])), (device.name, oid, text)
    finally:
        agent.stop()
        thread.join(5)
        agent.close()
