"""A plain, record-at-a-time decoder: the yardstick the fast path is tested against.

Deliberately simple and separate from :mod:`collectors.flows.decoder` (no numpy, no batching,
no limits). It returns each data record as ``{information element: value}``, with the byte and
packet counts already multiplied by the sampling rate.
"""

from __future__ import annotations

import struct

Record = dict[int, int | bytes]


class ReferenceDecoder:
    def __init__(self) -> None:
        self.templates: dict[tuple, tuple[list[tuple[int, int, int]], int]] = {}
        self.rates: dict[tuple, float] = {}
        self.waiting: dict[tuple, list[bytes]] = {}

    def feed(self, data: bytes, exporter: str) -> list[Record]:
        version = struct.unpack_from("!H", data)[0]
        if version == 5:
            return self._v5(data)
        if version == 9:
            domain = struct.unpack_from("!I", data, 16)[0]
            return self._sets(data[20:], (exporter, 9, domain), 0, 1)
        if version == 10:
            length, domain = struct.unpack_from("!H", data, 2)[0], struct.unpack_from("!I", data, 12)[0]
            return self._sets(data[16:length], (exporter, 10, domain), 2, 3)
        raise ValueError(f"version {version}")

    @staticmethod
    def _v5(data: bytes) -> list[Record]:
        count = struct.unpack_from("!H", data, 2)[0]
        rate = (struct.unpack_from("!H", data, 22)[0] & 0x3FFF) or 1
        out = []
        for i in range(count):
            (src, dst, _, inif, outif, pkts, octets, _, _, sport, dport, _, _, proto, _, _, _, _, _, _
             ) = struct.unpack_from("!4s4s4sHHIIIIHHBBBBHHBBH", data, 24 + 48 * i)
            out.append({8: src, 12: dst, 10: inif, 14: outif, 2: pkts * rate, 1: octets * rate, 7: sport,
                        11: dport, 4: proto})
        return out

    def _sets(self, body: bytes, domain: tuple, tset: int, oset: int) -> list[Record]:
        out: list[Record] = []
        pos = 0
        while pos + 4 <= len(body):
            set_id, length = struct.unpack_from("!HH", body, pos)
            content = body[pos + 4:pos + length]
            pos += length
            if set_id == tset:
                self._templates(content, domain, options=False)
            elif set_id == oset:
                self._templates(content, domain, options=True)
            elif set_id >= 256:
                key = (*domain, set_id)
                if key in self.templates:
                    out += self._data(content, key)
                else:
                    self.waiting.setdefault(key, []).append(content)
        return out

    def _templates(self, content: bytes, domain: tuple, options: bool) -> None:
        pos = 0
        ipfix = domain[1] == 10
        while len(content) - pos >= (6 if options else 4):
            if options and not ipfix:
                tid, scope_len, opt_len = struct.unpack_from("!HHH", content, pos)
                count, scope = (scope_len + opt_len) // 4, scope_len // 4
                pos += 6
            elif options:
                tid, count, scope = struct.unpack_from("!HHH", content, pos)
                pos += 6
            else:
                tid, count = struct.unpack_from("!HH", content, pos)
                scope = 0
                pos += 4
            fields = []
            for _ in range(count):
                ie, length = struct.unpack_from("!HH", content, pos)
                pos += 4
                enterprise = 0
                if ipfix and ie & 0x8000:
                    enterprise = struct.unpack_from("!I", content, pos)[0]
                    ie &= 0x7FFF
                    pos += 4
                fields.append((ie, length, enterprise))
            key = (*domain, tid)
            if count == 0:
                self.templates.pop(key, None)
                continue
            self.templates[key] = (fields, scope)

    def _data(self, content: bytes, key: tuple) -> list[Record]:
        fields, scope = self.templates[key]
        fixed = all(length != 0xFFFF for _, length, _ in fields)
        minimum = sum(length if length != 0xFFFF else 1 for _, length, _ in fields)
        out = []
        pos = 0
        while len(content) - pos >= minimum and (fixed or len(content) - pos > 0):
            record: Record = {}
            for ie, length, enterprise in fields:
                if length == 0xFFFF:
                    length = content[pos]
                    pos += 1
                    if length == 255:
                        length = struct.unpack_from("!H", content, pos)[0]
                        pos += 2
                raw = content[pos:pos + length]
                pos += length
                if enterprise or ie in record:
                    continue
                record[ie] = raw if ie in (8, 12, 27, 28) else int.from_bytes(raw, "big")
            if scope:
                rate = 0.0
                if record.get(305):
                    rate = (record[305] + record.get(306, 0)) / record[305]
                elif record.get(34) or record.get(50):
                    rate = float(record.get(34) or record[50])
                if rate:
                    self.rates[key[:3]] = rate
                continue
            rate = record.get(34) or self.rates.get(key[:3], 1.0)
            for ie_count, ie_alt in ((1, 85), (2, 86)):
                if ie_count not in record and ie_alt in record:
                    record[ie_count] = record[ie_alt]
                if ie_count in record:
                    record[ie_count] = round(record[ie_count] * rate)
            out.append(record)
        return out
