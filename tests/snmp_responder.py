"""A scripted SNMPv2c agent on loopback that misbehaves on purpose, as broken devices do.

It serves a static OID table (built by :func:`device_table`) through the lab's fast agent and
overrides how it answers: short, looping, out-of-order or oversized replies, tooBig, late,
duplicated, truncated or mis-addressed responses. Every behaviour is one a real agent has sent.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable

from collectors.snmp import ber
from collectors.snmp.plan import ENT_PHYSICAL_NAME, ENT_SENSOR, IF_TABLE, IF_X_TABLE, SYSTEM_SCALARS
from lab import fastagent
from lab.fastagent import Endpoint, FastAgent, OidTable

Values = dict[tuple[int, ...], tuple[int, object]]
BEHAVIOURS = ("normal", "short", "loop", "out_of_order", "ignore_max_repetitions", "too_big", "duplicate",
              "late", "wrong_request_id", "truncated")


def device_table(name: str, *, interfaces: int = 3, aliases: Iterable[bytes] = (), sensors: Iterable[tuple] = (),
                 extra: Values | None = None, if_x: bool = True) -> Values:
    """System group, ifTable (and ifXTable) rows and ENTITY-SENSOR rows.

    ``sensors``: (index, type, scale, precision, value, status, name bytes).
    """
    v: Values = {
        SYSTEM_SCALARS["sysDescr"]: (ber.OCTET_STRING, f"{name} test agent".encode()),
        SYSTEM_SCALARS["sysObjectID"]: (ber.OID, (1, 3, 6, 1, 4, 1, 8072, 3, 2, 10)),
        SYSTEM_SCALARS["sysUpTime"]: (ber.TIMETICKS, 123456),
        SYSTEM_SCALARS["sysName"]: (ber.OCTET_STRING, name.encode()),
        SYSTEM_SCALARS["sysLocation"]: (ber.OCTET_STRING, "금천구청".encode()),
    }
    aliases = list(aliases)
    for i in range(1, interfaces + 1):
        v[(*IF_TABLE["ifDescr"], i)] = (ber.OCTET_STRING, f"GigabitEthernet0/{i}".encode())
        v[(*IF_TABLE["ifType"], i)] = (ber.INTEGER, 6)
        v[(*IF_TABLE["ifAdminStatus"], i)] = (ber.INTEGER, 1)
        v[(*IF_TABLE["ifOperStatus"], i)] = (ber.INTEGER, 1 if i != 2 else 2)
        v[(*IF_TABLE["ifLastChange"], i)] = (ber.TIMETICKS, 1000 * i)
        v[(*IF_TABLE["ifInOctets"], i)] = (ber.COUNTER32, 4_000_000_000 + i)
        v[(*IF_TABLE["ifOutOctets"], i)] = (ber.COUNTER32, 3_000_000 + i)
        v[(*IF_TABLE["ifInErrors"], i)] = (ber.COUNTER32, i)
        v[(*IF_TABLE["ifOutErrors"], i)] = (ber.COUNTER32, 0)
        v[(*IF_TABLE["ifInDiscards"], i)] = (ber.COUNTER32, 2 * i)
        v[(*IF_TABLE["ifOutDiscards"], i)] = (ber.COUNTER32, 0)
        if if_x:
            v[(*IF_X_TABLE["ifName"], i)] = (ber.OCTET_STRING, f"Gi0/{i}".encode())
            v[(*IF_X_TABLE["ifHCInOctets"], i)] = (ber.COUNTER64, 2**64 - i)
            v[(*IF_X_TABLE["ifHCOutOctets"], i)] = (ber.COUNTER64, 10**12 + i)
            v[(*IF_X_TABLE["ifHighSpeed"], i)] = (ber.GAUGE32, 1000)
            v[(*IF_X_TABLE["ifAlias"], i)] = (ber.OCTET_STRING, aliases[i - 1] if i <= len(aliases) else b"")
    for index, kind, scale, precision, value, status, label in sensors:
        v[(*ENT_SENSOR["entPhySensorType"], index)] = (ber.INTEGER, kind)
        v[(*ENT_SENSOR["entPhySensorScale"], index)] = (ber.INTEGER, scale)
        v[(*ENT_SENSOR["entPhySensorPrecision"], index)] = (ber.INTEGER, precision)
        v[(*ENT_SENSOR["entPhySensorValue"], index)] = (ber.INTEGER, value)
        v[(*ENT_SENSOR["entPhySensorOperStatus"], index)] = (ber.INTEGER, status)
        v[(*ENT_PHYSICAL_NAME, index)] = (ber.OCTET_STRING, label)
    # something after every polled table, so no walk meets the end of the MIB view by accident
    v[(1, 3, 6, 1, 6, 3, 10, 2, 1, 4, 0)] = (ber.INTEGER, 1500)
    v.update(extra or {})
    return v


class Responder(FastAgent):
    """Serves ``tables`` (address -> values) on free ports; ``behaviour`` per address."""

    def __init__(self, tables: dict[str, Values], behaviours: dict[str, str], community: bytes,
                 delay: float = 1.5, too_big_over: int = 20):
        endpoints = {addr: Endpoint(OidTable.from_values(values), i) for i, (addr, values) in enumerate(tables.items())}
        super().__init__(endpoints, 0, community)
        self.behaviours = behaviours
        self.delay = delay
        self.too_big_over = too_big_over
        self.requests: dict[str, int] = dict.fromkeys(tables, 0)
        self.bind()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def shutdown(self) -> None:
        """Stop serving, wait for the thread, then close the sockets (never under a running select)."""
        self.stop()
        self.thread.join(5)
        self.close()

    def port_of(self, address: str) -> int:
        return self.bound[address]

    def respond(self, sock, data: bytes, addr, endpoint: Endpoint) -> None:
        address = sock.getsockname()[0]
        self.requests[address] += 1
        behaviour = self.behaviours.get(address, "normal")
        try:
            req = fastagent._Request(data)
        except (ValueError, IndexError):
            return
        reply = self._reply(req, endpoint, behaviour)
        if behaviour == "wrong_request_id":
            rid = ber.decode_response(reply).request_id
            reply = reply.replace(req.rid, _int_tlv(rid + 1), 1)
        elif behaviour == "truncated":
            reply = reply[: len(reply) // 2]
        if behaviour == "late":
            threading.Timer(self.delay, self._send, (sock, reply, addr)).start()
            return
        self._send(sock, reply, addr)
        if behaviour == "duplicate":
            self._send(sock, reply, addr)

    def _send(self, sock, reply: bytes, addr) -> None:
        with contextlib.suppress(OSError):
            sock.sendto(reply, addr)

    def _reply(self, req: fastagent._Request, endpoint: Endpoint, behaviour: str) -> bytes:
        table, now = endpoint.table, time.time()
        bulk = req.pdu == fastagent._GETBULK
        if bulk and behaviour == "too_big" and len(req.oids) * req.max_repetitions > self.too_big_over:
            body = b"\x02\x01\x01\x02\x01\x00\x30\x00"  # errorStatus tooBig, no varbinds
            return fastagent._tlv(0x30, req.head + fastagent._tlv(0xA2, req.rid + body))
        if bulk and behaviour == "ignore_max_repetitions":
            req.max_repetitions += 3
        cap = 10 if bulk and behaviour == "short" else None
        body = fastagent.reply_body(table, req, now, cap)
        if bulk and behaviour in ("loop", "out_of_order"):
            body = _reorder(body, len(req.oids), behaviour)
        return fastagent._tlv(0x30, req.head + fastagent._tlv(0xA2, req.rid + body))


def _int_tlv(value: int) -> bytes:
    return fastagent._tlv(ber.INTEGER, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


def _reorder(body: bytes, width: int, behaviour: str) -> bytes:
    """A GETBULK reply body with its first two rows swapped (out of order) or its first row repeated
    (a loop)."""
    msg = fastagent._tlv(0x30, b"\x02\x01\x01\x04\x00" + fastagent._tlv(0xA2, b"\x02\x01\x00" + body))
    varbinds = ber.decode_response(msg).varbinds
    rows = [varbinds[i:i + width] for i in range(0, len(varbinds), width)]
    if behaviour == "out_of_order" and len(rows) > 1:
        rows[0], rows[1] = rows[1], rows[0]
    elif behaviour == "loop":
        rows = [rows[0]] * len(rows)
    encoded = []
    for row in rows:
        for oid, tag, value in row:
            encoded.append(fastagent._tlv(0x30, ber.encode_oid(oid) + _value_tlv(tag, value)))
    return b"\x02\x01\x00\x02\x01\x00" + fastagent._tlv(0x30, b"".join(encoded))


def _value_tlv(tag: int, value: object) -> bytes:
    if value is None:
        return bytes((tag, 0))
    if tag == ber.IPADDRESS:
        return fastagent._tlv(tag, bytes(int(x) for x in str(value).split(".")))
    return fastagent.encode_value(tag, value)  # type: ignore[arg-type]
