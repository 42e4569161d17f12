"""A small SNMPv2c BER codec for the collector's hot path.

Only what polling needs: GET and GETBULK requests out, Response PDUs in. pysnmp stays the
reference implementation (the tests cross-check against it); this module exists because
pysnmp's per-varbind cost is two orders of magnitude too high for ~490 devices.

Decoding is strict about structure and lenient nowhere it matters for safety: every length is
checked against its enclosing container, containers must be consumed exactly, and any input
raises only :class:`DecodeError`. Varbinds come back as plain tuples ``(oid, tag, value)``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

__all__ = [
    "COUNTER32",
    "COUNTER64",
    "END_OF_MIB_VIEW",
    "GAUGE32",
    "INTEGER",
    "IPADDRESS",
    "NO_SUCH_INSTANCE",
    "NO_SUCH_OBJECT",
    "NULL",
    "OCTET_STRING",
    "OID",
    "OPAQUE",
    "TIMETICKS",
    "DecodeError",
    "Response",
    "decode_response",
    "encode_get",
    "encode_get_bulk",
    "encode_oid",
    "oid_to_str",
    "parse_oid",
    "peek_request_id",
]

# Value type tags (universal and SNMPv2-SMI application / context classes).
INTEGER = 0x02
OCTET_STRING = 0x04
NULL = 0x05
OID = 0x06
IPADDRESS = 0x40
COUNTER32 = 0x41
GAUGE32 = 0x42
TIMETICKS = 0x43
OPAQUE = 0x44
COUNTER64 = 0x46
NO_SUCH_OBJECT = 0x80
NO_SUCH_INSTANCE = 0x81
END_OF_MIB_VIEW = 0x82

_SEQUENCE = 0x30
_GET_REQUEST = 0xA0
_RESPONSE = 0xA2
_GET_BULK = 0xA5

_INT32_MIN = -(2**31)
_INT32_MAX = 2**31 - 1
# One sub-identifier may span at most this many octets (2**70). SMI caps arcs at 2**32 - 1;
# the slack admits a first sub-identifier 80 + y for a large y under arc 2. The cap keeps a
# hostile datagram from making us build a huge integer shift by shift.
_MAX_SUBID_OCTETS = 10

# (x, y) for the first OID content octet when it is < 0x80 (the 40*x + y rule).
_FIRST_ARCS: tuple[tuple[int, int], ...] = tuple(
    (0, b) if b < 40 else (1, b - 40) if b < 80 else (2, b - 80) for b in range(128)
)

# _HIGH_BITS[n]: the continuation bit of each of n octets, as one big-endian integer.
_HIGH_BITS: tuple[int, ...] = tuple(int.from_bytes(b"\x80" * n, "big") for n in range(256))

_UNSIGNED_TAGS = frozenset((COUNTER32, GAUGE32, TIMETICKS, COUNTER64))
_EMPTY_TAGS = frozenset((NULL, NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW))


class DecodeError(ValueError):
    """Malformed or unexpected SNMP message. ``reason`` is a short stable slug for metric labels."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class Response(NamedTuple):
    request_id: int
    error_status: int
    error_index: int
    varbinds: list[tuple[tuple[int, ...], int, object]]


# --------------------------------------------------------------------------- text OIDs

_OID_TEXT = re.compile(r"\.?(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))*", re.ASCII)


def parse_oid(text: str) -> tuple[int, ...]:
    """``"1.3.6.1"`` or ``".1.3.6.1"`` to ``(1, 3, 6, 1)``. Raises ValueError on anything else."""
    if not _OID_TEXT.fullmatch(text):
        raise ValueError(f"not a numeric OID: {text!r}")
    return tuple(map(int, text.lstrip(".").split(".")))


def oid_to_str(oid: tuple[int, ...]) -> str:
    """``(1, 3, 6, 1)`` to ``"1.3.6.1"`` (no leading dot)."""
    return ".".join(map(str, oid))


# --------------------------------------------------------------------------- encoding


def _encode_length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def _tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes((tag, n)) + content
    return bytes((tag,)) + _encode_length(n) + content


def _encode_integer(value: int) -> bytes:
    """INTEGER TLV, minimal two's complement."""
    body = value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True)
    return _tlv(INTEGER, body)


def _encode_subid(value: int) -> bytes:
    if value < 0x80:
        return bytes((value,))
    groups = []
    while value:
        groups.append(value & 0x7F | 0x80)
        value >>= 7
    groups[0] &= 0x7F
    return bytes(reversed(groups))


def encode_oid(oid: str | tuple[int, ...]) -> bytes:
    """The complete OID TLV (tag, length, content) of ``oid``, for caching by callers."""
    arcs = parse_oid(oid) if isinstance(oid, str) else tuple(oid)
    if len(arcs) < 2:
        raise ValueError(f"an OID needs at least two arcs: {arcs!r}")
    x, y = arcs[0], arcs[1]
    if x not in (0, 1, 2) or y < 0 or (x < 2 and y >= 40):
        raise ValueError(f"invalid first arcs {x}.{y}")
    parts = [_encode_subid(40 * x + y)]
    for arc in arcs[2:]:
        if arc < 0:
            raise ValueError(f"negative arc in {arcs!r}")
        parts.append(_encode_subid(arc))
    return _tlv(OID, b"".join(parts))


def _check_int32(name: str, value: int, low: int = _INT32_MIN) -> None:
    if not low <= value <= _INT32_MAX:
        raise ValueError(f"{name} {value} out of range [{low}, {_INT32_MAX}]")


def _message(pdu_tag: int, community: bytes, header: bytes, oids: Sequence[bytes]) -> bytes:
    null_vb = b"\x05\x00"
    vbl = _tlv(_SEQUENCE, b"".join([_tlv(_SEQUENCE, o + null_vb) for o in oids]))
    pdu = _tlv(pdu_tag, header + vbl)
    return _tlv(_SEQUENCE, b"\x02\x01\x01" + _tlv(OCTET_STRING, bytes(community)) + pdu)


def encode_get_bulk(
    request_id: int,
    community: bytes,
    oids: Sequence[bytes],
    non_repeaters: int = 0,
    max_repetitions: int = 25,
) -> bytes:
    """A v2c GetBulkRequest. ``oids`` are OID TLVs from :func:`encode_oid`."""
    _check_int32("request_id", request_id)
    _check_int32("non_repeaters", non_repeaters, 0)
    _check_int32("max_repetitions", max_repetitions, 0)
    header = _encode_integer(request_id) + _encode_integer(non_repeaters) + _encode_integer(max_repetitions)
    return _message(_GET_BULK, community, header, oids)


def encode_get(request_id: int, community: bytes, oids: Sequence[bytes]) -> bytes:
    """A v2c GetRequest. ``oids`` are OID TLVs from :func:`encode_oid`."""
    _check_int32("request_id", request_id)
    return _message(_GET_REQUEST, community, _encode_integer(request_id) + b"\x02\x01\x00\x02\x01\x00", oids)


# --------------------------------------------------------------------------- decoding
#
# Position bookkeeping: every header read is followed by ``end = start + length`` and a check of
# ``end`` against the enclosing container's end. A header that itself runs past the container
# always yields an ``end`` beyond it, so that single check covers the header bytes too. The outer
# message is checked against the buffer first, so an index past the buffer's end (IndexError) can
# only come from an inner header overrunning it; the public functions report it as "bad_length".


def _long_length(data: bytes, pos: int, first: int) -> tuple[int, int]:
    """Long-form length whose first octet ``first`` sits at ``pos``; returns (content start, length)."""
    n = first & 0x7F
    if n == 0 or first == 0xFF:
        raise DecodeError("bad_length", "indefinite or reserved length form")
    start = pos + 1 + n
    # If the length octets run past the buffer the slice is short, but then start > len(data)
    # and the caller's end check fails, so no separate check is needed.
    return start, int.from_bytes(data[pos + 1 : start], "big")


def _header(data: bytes, pos: int, limit: int, tag: int) -> tuple[int, int]:
    """Expect ``tag`` at ``pos``; returns (content start, content end) within ``limit``."""
    if pos >= limit:
        raise DecodeError("bad_length", f"container ends before element at {pos}")
    if data[pos] != tag:
        raise DecodeError("bad_pdu" if tag == _RESPONSE else "bad_tag", f"0x{data[pos]:02x} at {pos}")
    length = data[pos + 1]
    start = pos + 2
    if length & 0x80:
        start, length = _long_length(data, pos + 1, length)
    end = start + length
    if end > limit:
        # Only the outer message (at 0) can be cut short by the network; inside it, an overrun
        # is a length that disagrees with its container.
        raise DecodeError("truncated" if pos == 0 else "bad_length", f"element at {pos}")
    return start, end


def _int_field(data: bytes, pos: int, limit: int) -> tuple[int, int]:
    start, end = _header(data, pos, limit, INTEGER)
    return int.from_bytes(data[start:end], "big", signed=True), end


def _decode_oid(raw: bytes) -> tuple[int, ...]:
    if raw.isascii():  # every octet < 0x80: one octet per sub-identifier
        return _FIRST_ARCS[raw[0]] + tuple(raw[1:]) if raw else ()
    # Typical OIDs are an all-small prefix followed by a few multi-octet index arcs. Find the
    # first octet with the continuation bit without a Python loop, take the prefix as is and
    # only walk the tail octet by octet.
    n = len(raw)
    mask = _HIGH_BITS[n] if n < len(_HIGH_BITS) else int.from_bytes(b"\x80" * n, "big")
    cut = n - 1 - ((int.from_bytes(raw, "big") & mask).bit_length() - 1) // 8
    subids = list(raw[:cut])
    append = subids.append
    value = 0
    run = 0
    for octet in raw[cut:]:
        if octet & 0x80:
            if run == 0 and octet == 0x80:
                raise DecodeError("bad_oid", "non-minimal sub-identifier")
            run += 1
            if run >= _MAX_SUBID_OCTETS:
                raise DecodeError("bad_oid", "sub-identifier too long")
            value = (value << 7) | (octet & 0x7F)
        else:
            append((value << 7) | octet)
            value = 0
            run = 0
    if run:
        raise DecodeError("bad_oid", "unterminated sub-identifier")
    first = subids[0]
    if first < 80:
        return (first // 40, first % 40, *subids[1:])
    return (2, first - 80, *subids[1:])


def _envelope(data: bytes) -> tuple[int, int]:
    """Message header, version, community and PDU tag; returns (PDU content start, PDU end)."""
    if len(data) < 2:
        raise DecodeError("truncated", "no message header")
    start, end = _header(data, 0, len(data), _SEQUENCE)
    if end != len(data):
        raise DecodeError("trailing_bytes", "after the message")
    version, pos = _int_field(data, start, end)
    if version != 1 and version != 0:
        raise DecodeError("bad_version", str(version))
    _, pos = _header(data, pos, end, OCTET_STRING)
    pdu_start, pdu_end = _header(data, pos, end, _RESPONSE)
    if pdu_end != end:
        raise DecodeError("trailing_bytes", "after the PDU")
    return pdu_start, pdu_end


def _as_bytes(data: bytes | bytearray | memoryview) -> bytes:
    if type(data) is bytes:
        return data
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    raise TypeError(f"expected bytes, got {type(data).__name__}")


def peek_request_id(data: bytes) -> int:
    """The request-id of a Response datagram, checking only the envelope around it."""
    data = _as_bytes(data)
    try:
        pos, end = _envelope(data)
        return _int_field(data, pos, end)[0]
    except IndexError:
        raise DecodeError("bad_length", "element header past the end") from None


def decode_response(data: bytes) -> Response:
    """Decode a v2c (or v1) Response message into plain tuples."""
    data = _as_bytes(data)
    try:
        return _decode_response(data)
    except IndexError:
        raise DecodeError("bad_length", "element header past the end") from None


def _decode_response(data: bytes) -> Response:
    pos, pdu_end = _envelope(data)
    request_id, pos = _int_field(data, pos, pdu_end)
    error_status, pos = _int_field(data, pos, pdu_end)
    error_index, pos = _int_field(data, pos, pdu_end)
    pos, vbl_end = _header(data, pos, pdu_end, _SEQUENCE)
    if vbl_end != pdu_end:
        raise DecodeError("trailing_bytes", "after the varbind list")

    from_bytes = int.from_bytes
    unsigned_tags = _UNSIGNED_TAGS
    empty_tags = _EMPTY_TAGS
    varbinds: list[tuple[tuple[int, ...], int, object]] = []
    append = varbinds.append
    # The loop inlines the header logic of _header() for speed; keep the two in step.
    while pos < vbl_end:
        # VarBind SEQUENCE
        if data[pos] != _SEQUENCE:
            raise DecodeError("bad_tag", f"varbind 0x{data[pos]:02x} at {pos}")
        length = data[pos + 1]
        start = pos + 2
        if length & 0x80:
            start, length = _long_length(data, pos + 1, length)
        vb_end = start + length
        if vb_end > vbl_end:
            raise DecodeError("bad_length", f"varbind at {pos}")

        # name: OBJECT IDENTIFIER
        if data[start] != OID:
            raise DecodeError("bad_tag", f"varbind name 0x{data[start]:02x} at {start}")
        length = data[start + 1]
        pos = start + 2
        if length & 0x80:
            pos, length = _long_length(data, start + 1, length)
        end = pos + length
        if end > vb_end:
            raise DecodeError("bad_length", f"varbind name at {start}")
        raw = data[pos:end]
        if raw.isascii():
            if not raw:
                raise DecodeError("bad_oid", "empty varbind name")
            oid = _FIRST_ARCS[raw[0]] + tuple(raw[1:])
        else:
            oid = _decode_oid(raw)

        # value
        if end >= vb_end:
            raise DecodeError("bad_length", f"varbind without value at {start}")
        tag = data[end]
        length = data[end + 1]
        pos = end + 2
        if length & 0x80:
            pos, length = _long_length(data, end + 1, length)
        end = pos + length
        if end != vb_end:
            raise DecodeError("bad_length" if end > vb_end else "trailing_bytes", f"varbind value at {pos}")

        if tag in unsigned_tags:
            # Unsigned types: read the octets as unsigned, which also accepts agents that omit
            # the leading zero octet before a high bit.
            value: object = from_bytes(data[pos:end], "big")
        elif tag == OCTET_STRING or tag == OPAQUE:  # noqa: SIM109 - no tuple build per varbind
            value = data[pos:end]
        elif tag == INTEGER:
            value = from_bytes(data[pos:end], "big", signed=True)
        elif tag == OID:
            value = _decode_oid(data[pos:end])
        elif tag == IPADDRESS:
            if length != 4:
                raise DecodeError("bad_value", f"IpAddress of {length} octets")
            value = "%d.%d.%d.%d" % tuple(data[pos:end])  # noqa: UP031 - fastest here
        elif tag in empty_tags:
            if length:
                raise DecodeError("bad_value", f"0x{tag:02x} with content")
            value = None
        else:
            raise DecodeError("bad_tag", f"value 0x{tag:02x}")
        append((oid, tag, value))
        pos = end
    return Response(request_id, error_status, error_index, varbinds)
