"""A fast SNMPv2c responder for scale work: one process answering thousands of loopback addresses.

snmpsim spends about a millisecond of CPU per varbind, so it cannot serve 10,000 devices on two
cores. This responder serves every device of a profile from one OID table (built from the lab's
own data generator, :mod:`lab.agentdata`, for a representative device), computes values at
request time (counters move, sysUpTime advances), and caches each encoded reply body for one
second per (table, request): a reply to the next device asking the same thing is that body with
the request's own request-id put in front.

Per device it can also misbehave as real agents do (``cap``: at most that many varbinds per reply,
the legal short replies of RFC 3416 §4.2.3). It only ever binds and answers loopback addresses.

Run: ``python -m lab.fastagent --config DIR/nms.yaml --port P [--community C]``; it prints
``ready <devices>`` on stdout once every socket is bound.
"""

from __future__ import annotations

import argparse
import ipaddress
import resource
import selectors
import socket
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from collectors.snmp import ber
from lab import agentdata, dynamics
from lab.faults import Faults
from nms.app.district import District, load_district
from nms.inventory.models import Device

_GET, _GETNEXT, _GETBULK = 0xA0, 0xA1, 0xA5
_TAGS = {agentdata.INTEGER: ber.INTEGER, agentdata.OCTETS: ber.OCTET_STRING, agentdata.OID: ber.OID,
         agentdata.COUNTER32: ber.COUNTER32, agentdata.GAUGE32: ber.GAUGE32, agentdata.TIMETICKS: ber.TIMETICKS,
         agentdata.COUNTER64: ber.COUNTER64}
MAX_REPLY_VARBINDS = 2000


def _tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes((tag, n)) + content
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(body))) + body + content


def _int_content(value: int, unsigned: bool) -> bytes:
    if unsigned:
        return value.to_bytes(value.bit_length() // 8 + 1, "big")
    return value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True)


def encode_value(tag: int, value: int | bytes | tuple[int, ...]) -> bytes:
    if tag == ber.OCTET_STRING:
        return _tlv(tag, value)  # type: ignore[arg-type]
    if tag == ber.OID:
        return ber.encode_oid(value)  # type: ignore[arg-type]
    return _tlv(tag, _int_content(value, tag != ber.INTEGER))  # type: ignore[arg-type]


@dataclass
class OidTable:
    """One profile's OIDs, sorted, with a function giving each value's TLV at a time."""

    oids: list[tuple[int, ...]]
    names: list[bytes]  # OID TLVs
    values: list[Callable[[float], bytes]]

    @classmethod
    def from_values(cls, values: dict[tuple[int, ...], tuple[int, int | bytes | tuple[int, ...]]]) -> OidTable:
        """A static table: ``{oid: (BER tag, value)}``."""
        oids = sorted(values)
        encoded = [encode_value(*values[oid]) for oid in oids]
        return cls(oids, [ber.encode_oid(o) for o in oids], [lambda _t, e=e: e for e in encoded])

    @classmethod
    def from_records(cls, records: agentdata.Records) -> OidTable:
        oids, names, values = [], [], []
        for oid in sorted(records.items):
            tag_text, text = records.items[oid]
            oids.append(oid)
            names.append(ber.encode_oid(oid))
            values.append(_value_function(tag_text, text))
        return cls(oids, names, values)

    def next_index(self, oid: tuple[int, ...]) -> int:
        """Index of the first OID greater than ``oid`` (binary search)."""
        lo, hi = 0, len(self.oids)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.oids[mid] <= oid:
                lo = mid + 1
            else:
                hi = mid
        return lo


def _value_function(tag_text: str, text: str) -> Callable[[float], bytes]:
    base, _, variation = tag_text.partition(":")
    if base == agentdata.OCTETS + "x":
        static = encode_value(ber.OCTET_STRING, bytes.fromhex(text))
        return lambda _t: static
    tag = _TAGS[base]
    if variation:
        spec = dynamics.parse_spec(text)
        return lambda t: encode_value(tag, dynamics.value_at(spec, t))
    if tag == ber.OCTET_STRING:
        static = encode_value(tag, text.encode("utf-8"))
    elif tag == ber.OID:
        static = encode_value(tag, ber.parse_oid(text))
    else:
        static = encode_value(tag, int(text))
    return lambda _t: static


_END = b"\x82\x00"  # endOfMibView
_NO_SUCH_OBJECT = b"\x80\x00"


class _Request:
    __slots__ = ("head", "max_repetitions", "non_repeaters", "oids", "pdu", "rest", "rid")

    def __init__(self, data: bytes):
        """Parse a v2c request. Raises ValueError (or IndexError) on anything else."""
        if data[0] != 0x30:
            raise ValueError("not a message")
        pos, end = _content(data, 0)
        if end != len(data):
            raise ValueError("trailing bytes")
        _v_start, v_end = _content(data, pos)
        _c_start, c_end = _content(data, v_end)
        self.head = data[pos:c_end]  # version and community, echoed as they came
        self.pdu = data[c_end]
        pdu_start, pdu_end = _content(data, c_end)
        _rid_start, rid_end = _content(data, pdu_start)
        self.rid = data[pdu_start:rid_end]
        self.rest = data[rid_end:pdu_end]
        a_start, a_end = _content(data, rid_end)
        b_start, b_end = _content(data, a_end)
        self.non_repeaters = int.from_bytes(data[a_start:a_end], "big", signed=True)
        self.max_repetitions = int.from_bytes(data[b_start:b_end], "big", signed=True)
        vbl_start, vbl_end = _content(data, b_end)
        self.oids: list[tuple[int, ...]] = []
        pos = vbl_start
        while pos < vbl_end:
            vb_start, vb_end = _content(data, pos)
            name_start, name_end = _content(data, vb_start)
            self.oids.append(_oid_of(data[name_start:name_end]))
            pos = vb_end


def _content(data: bytes, pos: int) -> tuple[int, int]:
    length = data[pos + 1]
    start = pos + 2
    if length & 0x80:
        n = length & 0x7F
        length = int.from_bytes(data[start:start + n], "big")
        start += n
    return start, start + length


def _oid_of(raw: bytes) -> tuple[int, ...]:
    # decode through a one-varbind Response, so the codec under test is not re-implemented here
    name = _tlv(ber.OID, raw)
    vb = _tlv(0x30, name + b"\x05\x00")
    pdu = _tlv(0xA2, b"\x02\x01\x00\x02\x01\x00\x02\x01\x00" + _tlv(0x30, vb))
    msg = _tlv(0x30, b"\x02\x01\x01\x04\x00" + pdu)
    return ber.decode_response(msg).varbinds[0][0]


def reply_body(table: OidTable, req: _Request, t: float, cap: int | None) -> bytes:
    """error-status, error-index and the varbind list for a GET, GETNEXT or GETBULK."""
    out: list[bytes] = []
    oids, names, values = table.oids, table.names, table.values
    if req.pdu == _GET:
        for oid in req.oids:
            i = table.next_index(oid) - 1
            if i >= 0 and oids[i] == oid:
                out.append(_tlv(0x30, names[i] + values[i](t)))
            else:
                out.append(_tlv(0x30, ber.encode_oid(oid) + _NO_SUCH_OBJECT))
    else:
        if req.pdu == _GETNEXT:
            non_rep, reps = len(req.oids), 0
        else:
            non_rep = max(0, min(req.non_repeaters, len(req.oids)))
            reps = max(0, req.max_repetitions)
        cursors = [table.next_index(oid) for oid in req.oids]
        # endOfMibView carries the name of the last binding reached (RFC 3416 §4.2.3)
        last = [ber.encode_oid(oid) for oid in req.oids]
        width = len(req.oids) - non_rep
        for k in range(non_rep):
            out.append(_varbind(table, last[k], cursors[k], t))
        for _ in range(reps):
            if len(out) >= MAX_REPLY_VARBINDS:
                break
            for k in range(non_rep, non_rep + width):
                i = cursors[k]
                out.append(_varbind(table, last[k], i, t))
                if i < len(oids):
                    last[k] = names[i]
                    cursors[k] = i + 1
    if cap is not None:
        out = out[:cap]
    return b"\x02\x01\x00\x02\x01\x00" + _tlv(0x30, b"".join(out))


def _varbind(table: OidTable, last_name: bytes, i: int, t: float) -> bytes:
    if i >= len(table.oids):
        return _tlv(0x30, last_name + _END)
    return _tlv(0x30, table.names[i] + table.values[i](t))


@dataclass
class Endpoint:
    table: OidTable
    table_id: int
    cap: int | None = None


class FastAgent:
    """Serves ``endpoints`` (address -> Endpoint) on one port until :meth:`stop`."""

    def __init__(self, endpoints: dict[str, Endpoint], port: int, community: bytes):
        self.endpoints = endpoints
        self.port = port
        self.community = community
        self.selector = selectors.DefaultSelector()
        self.sockets: list[socket.socket] = []
        self._cache: dict[tuple[int, int, bytes, int | None], bytes] = {}
        self._slot = -1
        self.served = 0
        self.running = True
        self.bound: dict[str, int] = {}  # address -> port (the real one when asked for port 0)

    def bind(self) -> None:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = len(self.endpoints) + 64
        if soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, want), hard))
        for address, endpoint in self.endpoints.items():
            if not ipaddress.ip_address(address).is_loopback:
                raise ValueError(f"refusing to serve a non-loopback address: {address}")
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((address, self.port))
            sock.setblocking(False)
            self.bound[address] = sock.getsockname()[1]
            self.sockets.append(sock)
            self.selector.register(sock, selectors.EVENT_READ, endpoint)

    def answer(self, data: bytes, endpoint: Endpoint, now: float) -> bytes | None:
        try:
            req = _Request(data)
        except (ValueError, IndexError, ber.DecodeError):
            return None
        if not req.head.endswith(_tlv(ber.OCTET_STRING, self.community)):
            return None  # wrong community: silence, as a real agent
        slot = int(now)
        if slot != self._slot:
            self._cache.clear()
            self._slot = slot
        key = (endpoint.table_id, req.pdu, req.rest, endpoint.cap)
        body = self._cache.get(key)
        if body is None:
            body = self._cache[key] = reply_body(endpoint.table, req, now, endpoint.cap)
        return _tlv(0x30, req.head + _tlv(0xA2, req.rid + body))

    def serve(self, until: float | None = None) -> None:
        while self.running and (until is None or time.time() < until):
            for key, _mask in self.selector.select(timeout=0.2):
                sock: socket.socket = key.fileobj  # type: ignore[assignment]
                for _ in range(64):
                    try:
                        data, addr = sock.recvfrom(65535)
                    except (BlockingIOError, InterruptedError):
                        break
                    self.respond(sock, data, addr, key.data)

    def respond(self, sock: socket.socket, data: bytes, addr: tuple[str, int], endpoint: Endpoint) -> None:
        """Answer one request (tests override this to misbehave)."""
        reply = self.answer(data, endpoint, time.time())
        if reply is not None:
            try:
                sock.sendto(reply, addr)
                self.served += 1
            except OSError:
                pass

    def stop(self) -> None:
        self.running = False

    def close(self) -> None:
        for sock in self.sockets:
            self.selector.unregister(sock)
            sock.close()
        self.sockets.clear()


def tables_for(district: District, devices: Sequence[Device], epoch: float) -> dict[str, Endpoint]:
    """One OID table per profile, from the lab's data for the first device of that profile."""
    by_profile: dict[str, Endpoint] = {}
    endpoints: dict[str, Endpoint] = {}
    for device in devices:
        endpoint = by_profile.get(device.profile)
        if endpoint is None:
            ctx = agentdata.context_for(device, district.inventory, district.snmp.profiles, Faults(), epoch)
            table = OidTable.from_records(agentdata.device_records(ctx))
            endpoint = by_profile[device.profile] = Endpoint(table, len(by_profile))
        endpoints[str(device.address)] = endpoint
    return endpoints


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="the district's nms.yaml")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--community", default="public")
    parser.add_argument("--cap", type=int, default=None, help="at most this many varbinds per reply, everywhere")
    args = parser.parse_args(argv)
    district = load_district(Path(args.config))
    devices = [d for d in district.inventory.active_devices() if d.port == args.port]
    endpoints = tables_for(district, devices, time.time())
    if args.cap:
        for endpoint in endpoints.values():
            endpoint.cap = args.cap
    agent = FastAgent(endpoints, args.port, args.community.encode())
    agent.bind()
    print(f"ready {len(endpoints)}", flush=True)
    try:
        agent.serve()
    except KeyboardInterrupt:
        pass
    finally:
        agent.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
