"""Decoding NetFlow v5, NetFlow v9 and IPFIX datagrams into columns of flow records.

The hot path is split in two. :meth:`Decoder.feed` walks the headers and sets of one datagram in
Python (a few microseconds) and only *slices* the data sets, grouping them by template.
:meth:`Decoder.take` then joins each group and decodes it with one ``np.frombuffer`` over a
structured dtype built per template, so the per-record work is done by numpy.

Nothing raised while decoding escapes: every malformed datagram is counted under a reason.
"""

from __future__ import annotations

import struct
from collections import Counter
from dataclasses import dataclass

import numpy as np

from collectors.flows.sequence import Loss, SequenceTracker
from collectors.flows.settings import FlowSettings
from collectors.flows.templates import (
    IE_SAMPLER_ID,
    IE_SAMPLER_RANDOM,
    IE_SAMPLING_INTERVAL,
    IE_SAMPLING_PKT_INTERVAL,
    IE_SAMPLING_PKT_SPACE,
    IE_SELECTOR_ID,
    VARIABLE,
    DomainKey,
    PendingData,
    Template,
    TemplateKey,
    TemplateStore,
)

MAX_FIELDS = 512  # fields per template; real templates have a few dozen
_U16 = struct.Struct("!H")
_U32 = struct.Struct("!I")
_SET = struct.Struct("!HH")
_OPT9 = struct.Struct("!HHH")
_V5_HEADER = struct.Struct("!HHIIIIBBH")
_V9_HEADER = struct.Struct("!HHIIII")
_IPFIX_HEADER = struct.Struct("!HHIII")
_V5_RECORD = 48
# The fixed NetFlow v5 record, described as a template of information elements.
_V5_FIELDS = ((8, 4, 0), (12, 4, 0), (15, 4, 0), (10, 2, 0), (14, 2, 0), (2, 4, 0), (1, 4, 0), (22, 4, 0),
              (21, 4, 0), (7, 2, 0), (11, 2, 0), (210, 1, 0), (6, 1, 0), (4, 1, 0), (5, 1, 0), (16, 2, 0),
              (17, 2, 0), (9, 1, 0), (13, 1, 0), (210, 2, 0))


class DecodeError(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Records:
    """Decoded flow records from one exporter, as columns."""

    exporter: str
    version: int
    v6: bool
    bytes: np.ndarray  # uint64 (float64 when scaled by a non-integer sampling rate)
    packets: np.ndarray
    proto: np.ndarray
    sport: np.ndarray
    dport: np.ndarray
    inif: np.ndarray
    outif: np.ndarray
    src: np.ndarray  # uint32, or V16 when v6
    dst: np.ndarray

    def __len__(self) -> int:
        return len(self.bytes)


def _int_column(arr: np.ndarray, name: str, n: int) -> np.ndarray:
    if name not in (arr.dtype.names or ()):
        return np.zeros(n, dtype=np.uint64)
    col = arr[name]
    if col.ndim == 2:  # odd-width unsigned (reduced-size encoding), big-endian bytes
        out = np.zeros(n, dtype=np.uint64)
        for i in range(col.shape[1]):
            out = (out << np.uint64(8)) | col[:, i].astype(np.uint64)
        return out
    return col


class Decoder:
    """Template state, sequence tracking and the datagram parser for all exporters."""

    def __init__(self, settings: FlowSettings | None = None):
        s = settings or FlowSettings()
        self.settings = s
        self.templates = TemplateStore(s.max_templates, s.template_timeout)
        self.pending = PendingData(s.pending_limit, s.pending_hold)
        self.sequences = SequenceTracker()
        self.errors: Counter[str] = Counter()
        self.packets: Counter[tuple[str, int]] = Counter()
        self.records: Counter[tuple[str, int]] = Counter()
        self.lost_flows: Counter[str] = Counter()
        self.lost_packets: Counter[str] = Counter()
        self.sequence_resets: Counter[str] = Counter()
        self.sampling: dict[DomainKey, float] = {}
        self.sampler_rates: dict[tuple[DomainKey, int], float] = {}
        self.exporters: set[str] = set()
        self._buckets: dict[tuple[Template, float], list] = {}
        self._v5: dict[tuple[str, int], Template] = {}
        self._shadows: dict[Template, Template] = {}

    # -- datagrams -------------------------------------------------------------------------------

    def feed(self, data: bytes, exporter: str, now: float) -> None:
        """Parse one datagram. Malformed input is counted in :attr:`errors`, never raised."""
        try:
            if exporter not in self.exporters:
                if len(self.exporters) >= self.settings.max_exporters:
                    raise DecodeError("exporter_limit")
                self.exporters.add(exporter)
            if len(data) < 4:
                raise DecodeError("truncated_header")
            version = _U16.unpack_from(data, 0)[0]
            if version == 9:
                self._v9(data, exporter, now)
            elif version == 10:
                self._ipfix(data, exporter, now)
            elif version == 5:
                self._v5_packet(data, exporter)
            else:
                raise DecodeError("unknown_version")
        except DecodeError as exc:
            self.errors[exc.reason] += 1
        except Exception:  # a bug must not stop the collector; count it
            self.errors["internal"] += 1

    def _count_loss(self, exporter: str, loss: Loss) -> None:
        if loss.flows:
            self.lost_flows[exporter] += loss.flows
        if loss.packets:
            self.lost_packets[exporter] += loss.packets
        if loss.resets:
            self.sequence_resets[exporter] += 1

    def _v5_packet(self, data: bytes, exporter: str) -> None:
        if len(data) < 24:
            raise DecodeError("truncated_header")
        _, count, _, _, _, seq, _, engine_id, sampling = _V5_HEADER.unpack_from(data, 0)
        if not 1 <= count <= 30:
            raise DecodeError("bad_record_count")
        if len(data) != 24 + count * _V5_RECORD:
            raise DecodeError("length_mismatch")
        template = self._v5.get((exporter, engine_id))
        if template is None:
            template = Template((exporter, 5, engine_id, 0), _V5_FIELDS)
            self._v5[exporter, engine_id] = template
        rate = float((sampling & 0x3FFF) or 1)
        self._add(template, rate, memoryview(data)[24:24 + count * _V5_RECORD])
        self.packets[exporter, 5] += 1
        self.records[exporter, 5] += count
        self._count_loss(exporter, self.sequences.record_counter((exporter, 5, engine_id), seq, count))

    def _v9(self, data: bytes, exporter: str, now: float) -> None:
        if len(data) < 20:
            raise DecodeError("truncated_header")
        _, _, _, _, seq, domain = _V9_HEADER.unpack_from(data, 0)
        records = self._sets(data, 20, len(data), exporter, 9, domain, now)
        self.packets[exporter, 9] += 1
        self._count_loss(exporter, self.sequences.packet_counter((exporter, 9, domain), seq, records or 0))

    def _ipfix(self, data: bytes, exporter: str, now: float) -> None:
        if len(data) < 16:
            raise DecodeError("truncated_header")
        _, length, _, seq, domain = _IPFIX_HEADER.unpack_from(data, 0)
        if length != len(data):
            raise DecodeError("length_mismatch")
        records = self._sets(data, 16, length, exporter, 10, domain, now)
        self.packets[exporter, 10] += 1
        self._count_loss(exporter, self.sequences.record_counter((exporter, 10, domain), seq, records,
                                                                 learn=True))

    def _sets(self, data: bytes, off: int, end: int, exporter: str, version: int, domain: int,
              now: float) -> int | None:
        """Walk the sets of a v9/IPFIX message. Returns its data records (None: some unknown)."""
        view = memoryview(data)
        records = 0
        unknown = False
        template_set, options_set = (0, 1) if version == 9 else (2, 3)
        error: str | None = None
        while off < end:
            if end - off < 4:
                error = "truncated_set"
                break
            set_id, set_len = _SET.unpack_from(data, off)
            if set_len < 4 or off + set_len > end:
                error = "bad_set_length"
                break
            body, set_end = off + 4, off + set_len
            if set_id >= 256:
                n = self._data_set((exporter, version, domain, set_id), view, body, set_end, now)
                if n is None:
                    unknown = True
                else:
                    records += n
            elif set_id == template_set:
                error = self._template_set(data, body, set_end, exporter, version, domain, now) or error
            elif set_id == options_set:
                error = self._options_set(data, body, set_end, exporter, version, domain, now) or error
            else:
                error = "unknown_set_id"
            off = set_end
        if error:
            self.errors[error] += 1
        if records:
            self.records[exporter, version] += records
        return None if unknown else records

    # -- templates ---------------------------------------------------------------------------------

    def _fields(self, data: bytes, pos: int, end: int, count: int, enterprise_bit: bool
                ) -> tuple[tuple[tuple[int, int, int], ...], int]:
        fields = []
        for _ in range(count):
            if pos + 4 > end:
                raise DecodeError("truncated_template")
            ie, length = _SET.unpack_from(data, pos)
            pos += 4
            enterprise = 0
            if enterprise_bit and ie & 0x8000:
                if pos + 4 > end:
                    raise DecodeError("truncated_template")
                enterprise = _U32.unpack_from(data, pos)[0]
                ie &= 0x7FFF
                pos += 4
            if length == VARIABLE and not enterprise_bit:
                raise DecodeError("bad_template")  # v9 has no variable-length fields
            fields.append((ie, length, enterprise))
        return tuple(fields), pos

    def _refresh(self, key: TemplateKey, fields: tuple, scope: int, now: float) -> bool:
        """True when the template is already known as is (the common periodic resend)."""
        old = self.templates.templates.get(key)
        if old is not None and old.fields == fields and old.scope_count == scope:
            old.refreshed = now
            return True
        return False

    def _store(self, template: Template) -> str | None:
        if not template.fields or (template.record_length is not None and template.record_length == 0):
            return "bad_template"
        if not self.templates.add(template):
            return "template_limit"
        for held in self.pending.take(template.key):
            n = self._data_set(template.key, memoryview(held), 0, len(held), None)
            if n:
                self.records[template.key[0], template.key[1]] += n
        return None

    def _template_set(self, data: bytes, pos: int, end: int, exporter: str, version: int, domain: int,
                      now: float) -> str | None:
        error = None
        while end - pos >= 4:
            tid, count = _SET.unpack_from(data, pos)
            pos += 4
            if version == 10 and count == 0:  # withdrawal (RFC 7011 §8.1)
                if tid == 2:
                    self.templates.withdraw_all((exporter, version, domain), options=False)
                else:
                    self.templates.withdraw((exporter, version, domain, tid))
                continue
            if tid < 256:
                return "bad_template_id"
            if count > MAX_FIELDS:
                return "template_too_many_fields"
            try:
                fields, pos = self._fields(data, pos, end, count, version == 10)
            except DecodeError as exc:
                return exc.reason
            key = (exporter, version, domain, tid)
            if not self._refresh(key, fields, 0, now):
                error = self._store(Template(key, fields, refreshed=now)) or error
        return error

    def _options_set(self, data: bytes, pos: int, end: int, exporter: str, version: int, domain: int,
                     now: float) -> str | None:
        error = None
        while end - pos >= 6:
            if version == 9:
                tid, scope_len, option_len = _OPT9.unpack_from(data, pos)
                pos += 6
                if scope_len % 4 or option_len % 4:
                    return "bad_options_template"
                scope, count = scope_len // 4, (scope_len + option_len) // 4
            else:
                tid, count, scope = _OPT9.unpack_from(data, pos)
                pos += 6
                if count == 0:
                    if tid == 3:
                        self.templates.withdraw_all((exporter, version, domain), options=True)
                    else:
                        self.templates.withdraw((exporter, version, domain, tid))
                    continue
            if tid < 256:
                return "bad_template_id"
            if count > MAX_FIELDS:
                return "template_too_many_fields"
            if scope == 0 or scope > count:
                return "bad_options_template"
            try:
                fields, pos = self._fields(data, pos, end, count, version == 10)
            except DecodeError as exc:
                return exc.reason
            key = (exporter, version, domain, tid)
            if not self._refresh(key, fields, scope, now):
                error = self._store(Template(key, fields, scope_count=scope, refreshed=now)) or error
        return error

    # -- data ------------------------------------------------------------------------------------

    def _add(self, template: Template, rate: float, chunk: memoryview | bytes) -> None:
        bucket = self._buckets.get((template, rate))
        if bucket is None:
            self._buckets[template, rate] = bucket = []
        bucket.append(chunk)

    def _data_set(self, key: TemplateKey, view: memoryview, body: int, end: int, now: float | None
                  ) -> int | None:
        """Queue one data set for decoding. Returns its record count (None: template unknown)."""
        template = self.templates.templates.get(key)
        if template is None:
            if now is not None and self.pending.add(key, bytes(view[body:end]), now):
                return None
            self.errors["template_missing"] += 1
            return None
        if template.is_options:
            self._options_data(template, view, body, end)
            return 0
        length = template.record_length
        if length:
            n = (end - body) // length
            if n:
                self._add(template, self.sampling.get(key[:3], 1.0), view[body:body + n * length])
            return n
        return self._variable_data(template, view, body, end)

    def _split(self, template: Template, view: memoryview, pos: int, end: int) -> list[list[bytes]]:
        """Records of a template with variable-length fields, as lists of field values."""
        fixed = sum(ln for _, ln, _ in template.fields if ln != VARIABLE)
        minimum = fixed + sum(1 for _, ln, _ in template.fields if ln == VARIABLE)
        out = []
        while end - pos >= max(minimum, 1):
            values = []
            for _, length, _ in template.fields:
                if length == VARIABLE:
                    length = view[pos]
                    pos += 1
                    if length == 255:
                        if pos + 2 > end:
                            raise DecodeError("truncated_record")
                        length = _U16.unpack_from(view, pos)[0]
                        pos += 2
                if pos + length > end:
                    raise DecodeError("truncated_record")
                values.append(bytes(view[pos:pos + length]))
                pos += length
            out.append(values)
        return out

    def _variable_data(self, template: Template, view: memoryview, body: int, end: int) -> int:
        """Rebuild records of interesting fields at fixed offsets for the fast path (a shadow template)."""
        shadow = self._shadows.get(template)
        if shadow is None:
            slots = sorted(template.slots.values())
            shadow = Template(template.key, tuple(template.fields[i] for i in slots))
            self._shadows[template] = shadow
        slots = sorted(template.slots.values())
        try:
            rows = self._split(template, view, body, end)
        except DecodeError as exc:
            self.errors[exc.reason] += 1
            return 0
        if rows and slots:
            self._add(shadow, self.sampling.get(template.key[:3], 1.0),
                      b"".join(b"".join(row[i] for i in slots) for row in rows))
        return len(rows)

    def _options_data(self, template: Template, view: memoryview, body: int, end: int) -> None:
        """Options data: learn sampling rates (per domain, or per sampler/selector ID)."""
        try:
            rows = self._split(template, view, body, end)
        except DecodeError as exc:
            self.errors[exc.reason] += 1
            return
        domain = template.key[:3]
        for row in rows:
            values = {ie: int.from_bytes(v, "big") for (ie, ln, ent), v in zip(template.fields, row, strict=True)
                      if ent == 0 and 1 <= len(v) <= 8}
            rate = 0.0
            interval = values.get(IE_SAMPLING_PKT_INTERVAL, 0)
            if interval:
                rate = (interval + values.get(IE_SAMPLING_PKT_SPACE, 0)) / interval
            elif values.get(IE_SAMPLING_INTERVAL):
                rate = float(values[IE_SAMPLING_INTERVAL])
            elif values.get(IE_SAMPLER_RANDOM):
                rate = float(values[IE_SAMPLER_RANDOM])
            if not rate:
                continue
            sampler = values.get(IE_SAMPLER_ID, values.get(IE_SELECTOR_ID))
            if sampler is None:
                self.sampling[domain] = rate
            else:
                self.sampler_rates[domain, sampler] = rate

    # -- maintenance and output -------------------------------------------------------------------

    def expire(self, now: float) -> None:
        self.templates.expire(now)
        dropped = self.pending.expire(now)
        if dropped:
            self.errors["template_missing"] += dropped
        if len(self._shadows) > 2 * len(self.templates.templates) + 100:
            live = set(self.templates.templates.values())
            self._shadows = {t: s for t, s in self._shadows.items() if t in live}

    def take(self) -> list[Records]:
        """Decode everything fed since the last call into column batches."""
        buckets, self._buckets = self._buckets, {}
        out = []
        for (template, rate), chunks in buckets.items():
            try:
                out.append(self._columns(template, rate, chunks))
            except Exception:
                self.errors["internal"] += 1
        return out

    def _columns(self, template: Template, rate: float, chunks: list) -> Records:
        buf = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        assert template.dtype is not None and template.record_length
        n = len(buf) // template.record_length
        arr = np.frombuffer(buf, dtype=template.dtype, count=n)
        names = template.offsets
        exporter, version, _, _ = template.key
        v6 = "src6" in names or "dst6" in names
        nbytes = _int_column(arr, "bytes", n)
        npackets = _int_column(arr, "packets", n)
        rates = self._rates(template, arr, rate, n)
        if rates is not None:
            nbytes = np.rint(nbytes * rates)
            npackets = np.rint(npackets * rates)
        elif rate != 1.0:
            nbytes = nbytes.astype(np.uint64) * np.uint64(rate) if rate.is_integer() else np.rint(nbytes * rate)
            npackets = (npackets.astype(np.uint64) * np.uint64(rate) if rate.is_integer()
                        else np.rint(npackets * rate))
        if v6:
            zero = np.zeros(n, dtype="V16")
            src = arr["src6"] if "src6" in names else zero
            dst = arr["dst6"] if "dst6" in names else zero
        else:
            src = _int_column(arr, "src4", n)
            dst = _int_column(arr, "dst4", n)
        return Records(exporter, version, v6, nbytes, npackets, _int_column(arr, "proto", n),
                       _int_column(arr, "sport", n), _int_column(arr, "dport", n),
                       _int_column(arr, "inif", n), _int_column(arr, "outif", n), src, dst)

    def _rates(self, template: Template, arr: np.ndarray, rate: float, n: int) -> np.ndarray | None:
        """Per-record sampling rates when the records carry their own (or a sampler ID)."""
        names = template.offsets
        if "rate" not in names and "sampler" not in names:
            return None
        rates = np.full(n, rate, dtype=np.float64)
        if "sampler" in names:
            domain = template.key[:3]
            ids = _int_column(arr, "sampler", n)
            for sampler in np.unique(ids):
                known = self.sampler_rates.get((domain, int(sampler)))
                if known:
                    rates[ids == sampler] = known
        if "rate" in names:
            own = _int_column(arr, "rate", n).astype(np.float64)
            rates = np.where(own > 0, own, rates)
        return rates

    def waiting(self) -> tuple[int, int]:
        """Data sets and bytes waiting for their template."""
        return self.pending.count, self.pending.nbytes
