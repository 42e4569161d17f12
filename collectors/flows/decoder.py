"""Decoding NetFlow v5, NetFlow v9 and IPFIX datagrams into columns of flow records.

The hot path is split in two. :meth:`Decoder.feed` walks the headers and sets of one datagram in
Python (a few microseconds) and only *slices* the data sets, grouping them by template.
:meth:`Decoder.take` then joins each group and decodes it with one ``np.frombuffer`` over a
structured dtype built per template, so the per-record work is done by numpy.

Before any of that, a datagram must have a valid header, and its sender is admitted (and charged)
as an exporter by :class:`~collectors.flows.exporters.ExporterTable`. Template parsing is linear in
the datagram's bytes and stops at the first malformed record; at most ``MAX_TEMPLATE_RECORDS``
template records are looked at per datagram.

Nothing raised while decoding escapes: every malformed datagram is counted under a reason.
"""

from __future__ import annotations

import struct
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from collectors.flows.exporters import Exporter, ExporterTable
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
_MAX_COST, _MAX_COST_PER_BYTE = 200e-6, 2e-6  # seconds charged at most for one datagram
_VARIABLE_REPLAY = 65_536  # bytes of held variable-length data decoded when their template arrives
_PADDING = 16  # zero bytes at the end of a template set shorter than this are padding
PROMOTE_AFTER = 2  # datagrams in a row with records, in sequence, that make a candidate an exporter
MAX_SAMPLERS = 1024  # sampler IDs per observation domain
MAX_TEMPLATE_RECORDS = 256  # template records (and withdrawals) per datagram; real exporters send a few
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


def header_problem(data: bytes) -> str | None:
    """Why a datagram is not a NetFlow v5/v9 or IPFIX message (None: its header is valid).

    Checked before the sender is admitted as an exporter: the version, the lengths the header
    announces, and the first set's length.
    """
    size = len(data)
    if size < 4:
        return "truncated_header"
    version = _U16.unpack_from(data, 0)[0]
    if version == 5:
        if size < 24:
            return "truncated_header"
        count = _U16.unpack_from(data, 2)[0]
        if not 1 <= count <= 30:
            return "bad_record_count"
        return None if size == 24 + count * _V5_RECORD else "length_mismatch"
    if version == 9:
        first = 20
    elif version == 10:
        if size < 16:
            return "truncated_header"
        if _U16.unpack_from(data, 2)[0] != size:
            return "length_mismatch"
        first = 16
    else:
        return "unknown_version"
    if size < first:
        return "truncated_header"
    if size == first:
        return None  # a message without sets
    if size - first < 4:
        return "truncated_set"
    set_len = _U16.unpack_from(data, first + 2)[0]
    if set_len < 4 or first + set_len > size:
        return "bad_set_length"
    return None  # an unknown set ID is skipped (and counted) like nfdump does, with the sets after it


class DecodeError(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Records:
    """Decoded flow records from one exporter, as columns."""

    exporter: str
    version: int
    domain: int
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
    rbytes: np.ndarray | None = None  # RFC 5103 reverse direction (biflows), else None
    rpackets: np.ndarray | None = None
    observed: np.ndarray | None = None  # flowDirection (IE 61): 0 ingress, 1 egress; None: not sent
    flows: np.ndarray | None = None  # flows aggregated into each record (IE 3; 0 counts as 1); None: one each

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


def _scaled(counts: np.ndarray, rate: float, rates: np.ndarray | None) -> np.ndarray:
    """Byte or packet counts times the sampling rate (per record when ``rates`` is given)."""
    if rates is not None:
        return np.rint(counts * rates)
    if rate == 1.0:
        return counts
    return counts.astype(np.uint64) * np.uint64(rate) if rate.is_integer() else np.rint(counts * rate)


class Decoder:
    """Exporters, template state, sequence tracking and the datagram parser."""

    def __init__(self, settings: FlowSettings | None = None, allowed: Iterable[str] = ()):
        s = settings or FlowSettings()
        self.settings = s
        policy = s.exporters
        self.table = ExporterTable(policy, allowed, on_evict=self._forget)
        self.templates = TemplateStore(s.max_templates, s.template_timeout, policy.max_templates)
        self.pending = PendingData(s.pending_limit, s.pending_hold, s.pending_bytes, policy.pending_bytes)
        self.sequences = SequenceTracker()
        self.errors: Counter[str] = Counter()
        self.sampling: dict[DomainKey, float] = {}
        self.sampler_rates: dict[DomainKey, dict[int, float]] = {}
        self.forgotten: list[str] = []  # evicted senders whose aggregates are still to be dropped
        self._buckets: dict[tuple[Template, float], list] = {}
        self._v5: dict[tuple[str, int], Template] = {}
        self._shadows: dict[Template, Template] = {}
        # Under pressure (the decoder is behind), candidates share one CPU budget: many junk senders
        # together then cost no more than one exporter, and exporters whose records decode go first.
        self.pressure = False
        self._in_sequence = True  # the datagram being decoded did not reset its sequence
        self._ratio = 1.0  # CPU time per wall time of the last batch
        self._charged: list[Exporter] = []  # exporters (and the candidates' budget) charged in this batch
        self._shared = Exporter("candidates", 0.0, policy.cpu_per_second, time.perf_counter())

    # -- datagrams -------------------------------------------------------------------------------

    def feed(self, data: bytes, address: str, now: float) -> None:
        """Parse one datagram. Malformed input is counted in :attr:`errors`, never raised."""
        problem = header_problem(data)
        if problem is not None:
            self.errors[problem] += 1
            self.table.refused["bad_header"] += 1
            return
        table = self.table
        exporter = table.exporters.get(address)  # the common case, inline: a known exporter
        if exporter is not None:
            exporter.last_seen = now
        else:
            exporter = table.admit(address, now, 0.0)
            if exporter is None:
                return
        clock = time.perf_counter()
        ratio = self._ratio
        if not table.has_budget(exporter, clock, ratio) or (
                self.pressure and not exporter.proven and not table.has_budget(self._shared, clock, ratio)):
            return
        self._in_sequence = True
        try:
            version = data[1]
            if version == 9:
                self._v9(data, exporter, now)
            elif version == 10:
                self._ipfix(data, exporter, now)
            else:
                self._v5_packet(data, exporter)
        except DecodeError as exc:
            self.errors[exc.reason] += 1
        except Exception:  # a bug must not stop the collector; count it
            self.errors["internal"] += 1
        # Wall time (capped by what the datagram's size can cost), made CPU time at the batch's end.
        spent = min(time.perf_counter() - clock, _MAX_COST + len(data) * _MAX_COST_PER_BYTE)
        if not exporter.charge:
            self._charged.append(exporter)
        exporter.charge += spent
        if not exporter.proven:
            if self.pressure:
                if not self._shared.charge:
                    self._charged.append(self._shared)
                self._shared.charge += spent
            self._vet(exporter)

    def _vet(self, exporter: Exporter) -> None:
        """After a candidate's datagram: promote it once ``PROMOTE_AFTER`` datagrams in a row decoded
        records with sequence numbers that follow on."""
        total = sum(exporter.records.values())
        if not self._in_sequence:
            exporter.good = 0
        elif total > exporter.seen_records:
            exporter.good += 1
        exporter.seen_records = total
        if exporter.good >= PROMOTE_AFTER:
            self.table.promote(exporter)

    def settle(self, cpu: float, wall: float) -> None:
        """End of a batch: take its cost from the budgets, as CPU time. Each datagram's wall time
        is scaled by the batch's CPU/wall ratio, so time the thread spent descheduled (a busy
        machine) is not charged, at the price of two clock reads per batch instead of per datagram."""
        self._ratio = min(1.0, cpu / wall) if wall > 0 else 1.0
        for exporter in self._charged:
            exporter.tokens -= exporter.charge * self._ratio
            exporter.charge = 0.0
        self._charged = []

    def _forget(self, exporter: Exporter) -> None:
        """An exporter was evicted: its templates, held data and sequence state go with it."""
        address = exporter.address
        self.templates.forget(address)
        dropped = self.pending.forget(address)
        if dropped:
            self.errors["template_missing"] += dropped
        for version, domain in exporter.domains:
            self.sequences.streams.pop((address, version, domain), None)
            self.sampling.pop((address, version, domain), None)
            self.sampler_rates.pop((address, version, domain), None)
            self._v5.pop((address, domain), None)
        self.forgotten.append(address)  # its per-exporter aggregates go too

    def _count_loss(self, exporter: Exporter, domain: int, loss: Loss) -> None:
        if loss.flows:
            exporter.lost_flows[domain] += loss.flows
        if loss.packets:
            exporter.lost_packets[domain] += loss.packets
        if loss.resets:
            exporter.sequence_resets[domain] += 1
            self._in_sequence = False

    def _v5_packet(self, data: bytes, exporter: Exporter) -> None:
        _, count, _, _, _, seq, _, engine_id, sampling = _V5_HEADER.unpack_from(data, 0)
        if not self.table.add_domain(exporter, 5, engine_id):
            return
        address = exporter.address
        template = self._v5.get((address, engine_id))
        if template is None:
            template = Template((address, 5, engine_id, 0), _V5_FIELDS)
            self._v5[address, engine_id] = template
        rate = float((sampling & 0x3FFF) or 1)
        self._add(template, rate, memoryview(data)[24:24 + count * _V5_RECORD])
        exporter.packets[5, engine_id] += 1
        exporter.records[5, engine_id] += count
        self._count_loss(exporter, engine_id,
                         self.sequences.record_counter((address, 5, engine_id), seq, count))

    def _v9(self, data: bytes, exporter: Exporter, now: float) -> None:
        _, _, _, _, seq, domain = _V9_HEADER.unpack_from(data, 0)
        if (9, domain) not in exporter.domains and not self.table.add_domain(exporter, 9, domain):
            return
        records = self._sets(data, 20, len(data), exporter, 9, domain, now)
        exporter.packets[9, domain] += 1
        self._count_loss(exporter, domain,
                         self.sequences.packet_counter((exporter.address, 9, domain), seq, records or 0))

    def _ipfix(self, data: bytes, exporter: Exporter, now: float) -> None:
        _, length, _, seq, domain = _IPFIX_HEADER.unpack_from(data, 0)
        if (10, domain) not in exporter.domains and not self.table.add_domain(exporter, 10, domain):
            return
        records = self._sets(data, 16, length, exporter, 10, domain, now)
        exporter.packets[10, domain] += 1
        self._count_loss(exporter, domain, self.sequences.record_counter((exporter.address, 10, domain), seq,
                                                                         records, learn=True))

    def _sets(self, data: bytes, off: int, end: int, exporter: Exporter, version: int, domain: int,
              now: float) -> int | None:
        """Walk the sets of a v9/IPFIX message. Returns its data records (None: some unknown)."""
        view = memoryview(data)
        records = 0
        unknown = False
        template_set, options_set = (0, 1) if version == 9 else (2, 3)
        error: str | None = None
        budget = [MAX_TEMPLATE_RECORDS]  # template records (and withdrawals) this datagram may carry
        address = exporter.address
        domain_key = (address, version, domain)
        sampling = self.sampling
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
                n = self._data_set((address, version, domain, set_id), view, body, set_end, now,
                                   sampling.get(domain_key, 1.0))
                if n is None:
                    unknown = True
                else:
                    records += n
            elif set_id in (template_set, options_set):
                error = self._template_set(data, body, set_end, exporter, version, domain, now,
                                           set_id == options_set, budget) or error
            else:
                error = "unknown_set_id"
            off = set_end
        if error:
            self.errors[error] += 1
        if records:
            exporter.records[version, domain] += records
        return None if unknown else records

    # -- templates ---------------------------------------------------------------------------------

    @staticmethod
    def _fields(data: bytes, pos: int, end: int, count: int, ipfix: bool
                ) -> tuple[tuple[tuple[int, int, int], ...], int]:
        """``count`` field specifiers from ``pos``: one unpack when there is no enterprise bit."""
        if pos + 4 * count > end:
            raise DecodeError("truncated_template")
        words = struct.unpack_from(f"!{2 * count}H", data, pos)
        ies, lengths = words[0::2], words[1::2]
        if not ipfix or not any(ie & 0x8000 for ie in ies):
            if not ipfix and VARIABLE in lengths:
                raise DecodeError("bad_template")  # v9 has no variable-length fields
            return tuple(zip(ies, lengths, (0,) * count, strict=True)), pos + 4 * count
        fields = []
        for _ in range(count):
            if pos + 4 > end:
                raise DecodeError("truncated_template")
            ie, length = _SET.unpack_from(data, pos)
            pos += 4
            enterprise = 0
            if ie & 0x8000:
                if pos + 4 > end:
                    raise DecodeError("truncated_template")
                enterprise = _U32.unpack_from(data, pos)[0]
                ie &= 0x7FFF
                pos += 4
            fields.append((ie, length, enterprise))
        return tuple(fields), pos

    def _store(self, template: Template, exporter: Exporter) -> str | None:
        if not template.fields or template.record_length == 0:
            return "bad_template"
        problem = self.templates.add(template)
        while problem == "template_limit" and self._evict_candidate_templates(exporter):
            problem = self.templates.add(template)
        if problem:
            return problem
        # Held data is decoded now, in this datagram's time. Fixed-length records are only sliced;
        # variable-length ones are split record by record, so at most a datagram's worth is replayed.
        budget = None if template.record_length else _VARIABLE_REPLAY
        for held in self.pending.take(template.key):
            if budget is not None:
                if budget < len(held):
                    self.errors["template_missing"] += 1
                    continue
                budget -= len(held)
            n = self._data_set(template.key, memoryview(held), 0, len(held), None,
                               self.sampling.get(template.key[:3], 1.0))
            if n:
                exporter.records[template.key[1], template.key[2]] += n
        return None

    def _evict_candidate_templates(self, exporter: Exporter) -> bool:
        """The template store is full: forget the least recently heard candidate that holds templates."""
        for address in self.table.candidates:
            if address != exporter.address and self.templates.owned(address):
                self.table.evict_candidate(address, "templates_full")
                return True
        return False

    def _template_set(self, data: bytes, pos: int, end: int, exporter: Exporter, version: int, domain: int,
                      now: float, options: bool, budget: list[int]) -> str | None:
        """One (options) template set. Stops at the first malformed record: its cost is linear in
        its bytes, and at most ``MAX_TEMPLATE_RECORDS`` records per datagram are looked at."""
        error = None
        header = 6 if options else 4
        address = exporter.address
        while end - pos >= header:
            if budget[0] <= 0:
                return "template_flood"
            budget[0] -= 1
            if options and version == 9:
                tid, scope_len, option_len = _OPT9.unpack_from(data, pos)
                if scope_len % 4 or option_len % 4:
                    return "bad_options_template"
                scope, count = scope_len // 4, (scope_len + option_len) // 4
            elif options:
                tid, count, scope = _OPT9.unpack_from(data, pos)
            else:
                (tid, count), scope = _SET.unpack_from(data, pos), 0
            pos += header
            if tid == 0 and count == 0 and end - pos < _PADDING and not any(data[pos:end]):
                break  # padding to the end of the set
            if version == 10 and count == 0:  # withdrawal (RFC 7011 §8.1)
                if tid in (2, 3):
                    self.templates.withdraw_all((address, version, domain), options=tid == 3)
                else:
                    self.templates.withdraw((address, version, domain, tid))
                continue
            if tid < 256:
                return "bad_template_id"
            if count == 0:
                return "bad_template"
            if count > MAX_FIELDS:
                return "template_too_many_fields"
            if pos + 4 * count > end:
                return "truncated_template"  # impossible for the set's length: nothing is built
            if options and (scope == 0 or scope > count):
                return "bad_options_template"
            try:
                fields, pos = self._fields(data, pos, end, count, version == 10)
            except DecodeError as exc:
                return exc.reason
            key = (address, version, domain, tid)
            old = self.templates.templates.get(key)
            if old is not None and old.fields == fields and old.scope_count == scope:
                old.refreshed = now  # the common periodic resend
                continue
            error = self._store(Template(key, fields, scope_count=scope, refreshed=now), exporter) or error
        return error

    # -- data ------------------------------------------------------------------------------------

    def _add(self, template: Template, rate: float, chunk: memoryview | bytes) -> None:
        bucket = self._buckets.get((template, rate))
        if bucket is None:
            self._buckets[template, rate] = bucket = []
        bucket.append(chunk)

    def _data_set(self, key: TemplateKey, view: memoryview, body: int, end: int, now: float | None,
                  rate: float = 1.0) -> int | None:
        """Queue one data set for decoding. Returns its record count (None: template unknown).
        ``rate`` is the domain's sampling rate (options data may have just set it)."""
        template = self.templates.templates.get(key)
        if template is None:
            if now is not None and self.pending.add(key, bytes(view[body:end]), now):
                return None
            self.errors["template_missing"] += 1
            return None
        length = template.record_length
        if length and not template.scope_count:  # the hot path: fixed-length flow records
            n = (end - body) // length
            if n:
                bucket = self._buckets.get((template, rate))
                if bucket is None:
                    self._buckets[template, rate] = bucket = []
                bucket.append(view[body:body + n * length])
            return n
        if template.scope_count:
            self._options_data(template, view, body, end)
            return 0
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
                rates = self.sampler_rates.setdefault(domain, {})
                if sampler in rates or len(rates) < MAX_SAMPLERS:
                    rates[sampler] = rate

    # -- maintenance and output -------------------------------------------------------------------

    def expire(self, now: float) -> None:
        self.table.expire(now)
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
        exporter, version, domain, _ = template.key
        v6 = "src6" in names or "dst6" in names
        rates = self._rates(template, arr, rate, n)
        nbytes, npackets = (_scaled(_int_column(arr, column, n), rate, rates) for column in ("bytes", "packets"))
        rbytes = rpackets = None
        if "rbytes" in names or "rpackets" in names:
            rbytes, rpackets = (_scaled(_int_column(arr, column, n), rate, rates) for column in ("rbytes", "rpackets"))
        if v6:
            zero = np.zeros(n, dtype="V16")
            src = arr["src6"] if "src6" in names else zero
            dst = arr["dst6"] if "dst6" in names else zero
        else:
            src = _int_column(arr, "src4", n)
            dst = _int_column(arr, "dst4", n)
        return Records(exporter, version, domain, v6, nbytes, npackets, _int_column(arr, "proto", n),
                       _int_column(arr, "sport", n), _int_column(arr, "dport", n),
                       _int_column(arr, "inif", n), _int_column(arr, "outif", n), src, dst, rbytes, rpackets,
                       _int_column(arr, "direction", n) if "direction" in names else None,
                       _int_column(arr, "flows", n) if "flows" in names else None)

    def _rates(self, template: Template, arr: np.ndarray, rate: float, n: int) -> np.ndarray | None:
        """Per-record sampling rates when the records carry their own (or a sampler ID)."""
        names = template.offsets
        if "rate" not in names and "sampler" not in names:
            return None
        rates = np.full(n, rate, dtype=np.float64)
        if "sampler" in names:
            domain = template.key[:3]
            ids = _int_column(arr, "sampler", n)
            known_rates = self.sampler_rates.get(domain, {})
            for sampler in np.unique(ids):
                known = known_rates.get(int(sampler))
                if known:
                    rates[ids == sampler] = known
        if "rate" in names:
            own = _int_column(arr, "rate", n).astype(np.float64)
            rates = np.where(own > 0, own, rates)
        return rates

    def exporters(self) -> list[Exporter]:
        """The exporters whose records decode (candidates are not listed)."""
        return list(self.table.exporters.values())

    def waiting(self) -> tuple[int, int]:
        """Data sets and bytes waiting for their template."""
        return self.pending.count, self.pending.nbytes
