"""Sequence-number tracking: gaps in an exporter's sequence are lost export data.

* NetFlow v5 and IPFIX number data records: the header carries the count of records sent
  before this message (RFC 7011 §3.1), so a gap is a number of lost flows.
* NetFlow v9 numbers export packets (RFC 3954 §5.1): a gap is a number of lost packets; lost
  flows are estimated from the stream's average records per packet.

softflowd 1.1.0's IPFIX puts the count *including* the current message in the header. Each
stream's convention is therefore learned from its first messages (whichever of the two
predicts the next number), so neither convention shows false losses.
"""

from __future__ import annotations

from dataclasses import dataclass

_HALF = 1 << 31
_MOD = 1 << 32

RFC, INCLUSIVE = "rfc", "inclusive"


@dataclass
class _Stream:
    last: int
    count: int | None  # records in the last message; None: unknown (undecodable data)
    mode: str | None = None
    avg_records: float = 0.0


@dataclass
class Loss:
    flows: int = 0
    packets: int = 0
    resets: int = 0


class SequenceTracker:
    """Sequence state per (exporter, version, domain)."""

    def __init__(self, limit: int = 100_000):
        self.limit = limit
        self.streams: dict[tuple[str, int, int], _Stream] = {}

    def packet_counter(self, key: tuple[str, int, int], seq: int, records: int) -> Loss:
        """NetFlow v9: ``seq`` counts export packets."""
        stream = self.streams.get(key)
        loss = Loss()
        if stream is None:
            self._new(key, seq, records)
            return loss
        gap = (seq - stream.last - 1) % _MOD
        if 0 < gap < _HALF:
            loss.packets = gap
            loss.flows = round(gap * stream.avg_records)
        elif gap:
            loss.resets = 1
        stream.last = seq
        if records:
            stream.avg_records = records if not stream.avg_records else 0.9 * stream.avg_records + 0.1 * records
        return loss

    def record_counter(self, key: tuple[str, int, int], seq: int, records: int | None,
                       learn: bool = False) -> Loss:
        """NetFlow v5 and IPFIX: ``seq`` counts data records. ``records`` is None when unknown."""
        stream = self.streams.get(key)
        loss = Loss()
        if stream is None:
            self._new(key, seq, records)
            return loss
        if stream.count is None:  # the previous message could not be counted: resynchronise
            stream.last, stream.count = seq, records
            return loss
        rfc = (stream.last + stream.count) % _MOD
        inclusive = (stream.last + (records or 0)) % _MOD
        if stream.mode is None and learn and records is not None and rfc != inclusive:
            if seq == rfc:
                stream.mode = RFC
            elif seq == inclusive:
                stream.mode = INCLUSIVE
        expected = inclusive if stream.mode == INCLUSIVE else rfc
        if stream.mode is None and learn and seq in (rfc, inclusive):
            expected = seq
        gap = (seq - expected) % _MOD
        if 0 < gap < _HALF:
            loss.flows = gap
        elif gap:
            loss.resets = 1
        stream.last, stream.count = seq, records
        return loss

    def _new(self, key: tuple[str, int, int], seq: int, records: int | None) -> None:
        if len(self.streams) >= self.limit:
            self.streams.pop(next(iter(self.streams)))
        self.streams[key] = _Stream(seq, records, avg_records=float(records or 0))
