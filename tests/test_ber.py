"""collectors.snmp.ber against pysnmp's own codec, a real net-snmp agent, and fuzzed input."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder, encoder
from pyasn1.type import univ
from pysnmp.proto import api, rfc1905

from collectors.snmp import ber

V2C = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
V1 = api.PROTOCOL_MODULES[api.SNMP_VERSION_1]

KNOWN_REASONS = {
    "truncated",
    "bad_tag",
    "bad_length",
    "bad_version",
    "bad_pdu",
    "bad_oid",
    "bad_value",
    "trailing_bytes",
}

# --------------------------------------------------------------------------- pysnmp helpers


def pysnmp_response(
    varbinds: list[tuple[tuple[int, ...], object]],
    request_id: int = 1,
    community: bytes = b"public",
    error_status: int = 0,
    error_index: int = 0,
    proto=V2C,
) -> bytes:
    """A Response message built and encoded by pysnmp/pyasn1."""
    pdu = proto.GetResponsePDU()
    proto.apiPDU.set_defaults(pdu)
    proto.apiPDU.set_request_id(pdu, request_id)
    proto.apiPDU.set_error_status(pdu, error_status)
    proto.apiPDU.set_error_index(pdu, error_index)
    proto.apiPDU.set_varbinds(pdu, varbinds)
    msg = proto.Message()
    proto.apiMessage.set_defaults(msg)
    proto.apiMessage.set_community(msg, community)
    proto.apiMessage.set_pdu(msg, pdu)
    return encoder.encode(msg)


def pysnmp_value(value: object) -> tuple[int, object]:
    """(tag, python value) of a pysnmp value, in ber's conventions. The tag comes from its encoding."""
    tag = encoder.encode(value)[0]
    if tag in (ber.INTEGER, ber.COUNTER32, ber.GAUGE32, ber.TIMETICKS, ber.COUNTER64):
        return tag, int(value)
    if tag in (ber.OCTET_STRING, ber.OPAQUE):
        return tag, value.asOctets()
    if tag == ber.IPADDRESS:
        return tag, ".".join(str(b) for b in value.asOctets())
    if tag == ber.OID:
        return tag, tuple(value)
    assert tag in (ber.NULL, ber.NO_SUCH_OBJECT, ber.NO_SUCH_INSTANCE, ber.END_OF_MIB_VIEW)
    return tag, None


def pysnmp_decode(data: bytes, proto=V2C) -> ber.Response:
    """pysnmp's reading of a Response message, in ber's conventions."""
    msg, rest = decoder.decode(data, asn1Spec=proto.Message())
    assert not rest
    pdu = proto.apiMessage.get_pdu(msg)
    return ber.Response(
        int(proto.apiPDU.get_request_id(pdu)),
        int(proto.apiPDU.get_error_status(pdu)),
        int(proto.apiPDU.get_error_index(pdu)),
        [(tuple(oid), *pysnmp_value(value)) for oid, value in proto.apiPDU.get_varbinds(pdu)],
    )


def assert_same_as_pysnmp(data: bytes, proto=V2C) -> ber.Response:
    ours = ber.decode_response(data)
    assert ours == pysnmp_decode(data, proto)
    assert ber.peek_request_id(data) == ours.request_id
    return ours


# --------------------------------------------------------------------------- strategies

small_arcs = st.integers(0, 200)
any_arcs = st.integers(0, 2**32 - 1)
arcs = st.one_of(small_arcs, small_arcs, any_arcs)


@st.composite
def oids(draw: st.DrawFn, max_tail: int = 30) -> tuple[int, ...]:
    first = draw(st.sampled_from([0, 1, 2]))
    second = draw(st.integers(0, 39)) if first < 2 else draw(st.one_of(st.integers(0, 200), any_arcs))
    return (first, second, *draw(st.lists(arcs, max_size=max_tail)))


unsigned32 = st.integers(0, 2**32 - 1)
values = st.one_of(
    st.integers(-(2**31), 2**31 - 1).map(V2C.Integer),
    st.binary(max_size=300).map(V2C.OctetString),
    st.just(V2C.Null("")),
    oids().map(V2C.ObjectIdentifier),
    st.binary(min_size=4, max_size=4).map(V2C.IpAddress),
    unsigned32.map(V2C.Counter32),
    unsigned32.map(V2C.Gauge32),
    unsigned32.map(V2C.TimeTicks),
    st.binary(max_size=50).map(V2C.Opaque),
    st.integers(0, 2**64 - 1).map(V2C.Counter64),
    st.sampled_from([rfc1905.noSuchObject, rfc1905.noSuchInstance, rfc1905.endOfMibView]),
)
varbind_lists = st.lists(st.tuples(oids(), values), max_size=40)
request_ids = st.integers(-(2**31), 2**31 - 1)


# --------------------------------------------------------------------------- cross-checks


def test_every_value_type_matches_pysnmp() -> None:
    varbinds = [
        ((1, 3, 6, 1, 2, 1, 2, 2, 1, 8, 1), V2C.Integer(1)),
        ((1, 3, 6, 1, 2, 1, 2, 2, 1, 8, 2), V2C.Integer(-1)),
        ((1, 3, 6, 1, 4, 1, 1, 1), V2C.Integer(-(2**31))),
        ((1, 3, 6, 1, 4, 1, 1, 2), V2C.Integer(2**31 - 1)),
        ((1, 3, 6, 1, 4, 1, 1, 3), V2C.Integer(-128)),
        ((1, 3, 6, 1, 4, 1, 1, 4), V2C.Integer(128)),
        ((1, 3, 6, 1, 2, 1, 1, 5, 0), V2C.OctetString("금천구청 L3".encode())),
        ((1, 3, 6, 1, 2, 1, 1, 4, 0), V2C.OctetString(b"")),
        ((1, 3, 6, 1, 4, 1, 1, 5), V2C.Null("")),
        ((1, 3, 6, 1, 2, 1, 1, 2, 0), V2C.ObjectIdentifier((1, 3, 6, 1, 4, 1, 8072, 3, 2, 10))),
        ((1, 3, 6, 1, 4, 1, 1, 6), V2C.ObjectIdentifier((2, 999, 2**32 - 1))),
        ((1, 3, 6, 1, 2, 1, 4, 20, 1, 1, 127, 0, 0, 1), V2C.IpAddress("127.0.0.1")),
        ((1, 3, 6, 1, 2, 1, 2, 2, 1, 14, 3), V2C.Counter32(2**32 - 1)),
        ((1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 15, 3), V2C.Gauge32(10000)),
        ((1, 3, 6, 1, 2, 1, 1, 3, 0), V2C.TimeTicks(123456789)),
        ((1, 3, 6, 1, 4, 1, 1, 7), V2C.Opaque(b"\x9f\x78\x04\x3f\x80\x00\x00")),
        ((1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, 10101), V2C.Counter64(2**64 - 1)),
        ((1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, 10102), V2C.Counter64(0)),
        ((1, 3, 6, 1, 2, 1, 99), rfc1905.noSuchObject),
        ((1, 3, 6, 1, 2, 1, 1, 1, 7), rfc1905.noSuchInstance),
        ((1, 3, 6, 1, 9, 9), rfc1905.endOfMibView),
    ]
    data = pysnmp_response(varbinds, request_id=2**31 - 1, error_status=0, error_index=0)
    ours = assert_same_as_pysnmp(data)
    assert [tag for _, tag, _ in ours.varbinds] == [
        ber.INTEGER, ber.INTEGER, ber.INTEGER, ber.INTEGER, ber.INTEGER, ber.INTEGER,
        ber.OCTET_STRING, ber.OCTET_STRING, ber.NULL, ber.OID, ber.OID, ber.IPADDRESS,
        ber.COUNTER32, ber.GAUGE32, ber.TIMETICKS, ber.OPAQUE, ber.COUNTER64, ber.COUNTER64,
        ber.NO_SUCH_OBJECT, ber.NO_SUCH_INSTANCE, ber.END_OF_MIB_VIEW,
    ]  # fmt: skip
    by_oid = {oid: value for oid, _, value in ours.varbinds}
    assert by_oid[(1, 3, 6, 1, 4, 1, 1, 1)] == -(2**31)
    assert by_oid[(1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, 10101)] == 2**64 - 1
    assert by_oid[(1, 3, 6, 1, 2, 1, 4, 20, 1, 1, 127, 0, 0, 1)] == "127.0.0.1"
    assert by_oid[(1, 3, 6, 1, 4, 1, 1, 6)] == (2, 999, 2**32 - 1)
    assert by_oid[(1, 3, 6, 1, 2, 1, 1, 5, 0)].decode() == "금천구청 L3"


def test_error_status_and_negative_request_id() -> None:
    data = pysnmp_response([((1, 3, 6, 1, 2, 1, 1, 1, 0), V2C.Null(""))], -(2**31), b"c", 5, 1)
    ours = assert_same_as_pysnmp(data)
    assert (ours.request_id, ours.error_status, ours.error_index) == (-(2**31), 5, 1)


def test_snmpv1_get_response() -> None:
    data = pysnmp_response([((1, 3, 6, 1, 2, 1, 1, 1, 0), V1.OctetString(b"v1 agent"))], 77, proto=V1)
    assert data[2:5] == b"\x02\x01\x00"  # version 0
    assert assert_same_as_pysnmp(data, V1).varbinds == [((1, 3, 6, 1, 2, 1, 1, 1, 0), ber.OCTET_STRING, b"v1 agent")]


def test_long_oids_and_first_arc_rules() -> None:
    long_oid = (1, 3, 6, 1, 4, 1, 2**32 - 1, *range(120), 2**31, 128, 16383, 16384)
    varbinds = [
        (long_oid, V2C.ObjectIdentifier(long_oid)),
        ((0, 0), V2C.ObjectIdentifier((0, 39))),
        ((1, 39, 0), V2C.ObjectIdentifier((2, 0))),
        ((2, 47), V2C.ObjectIdentifier((2, 48))),  # first octet 127: last single-octet first arc
        ((2, 48, 1), V2C.ObjectIdentifier((2, 2**32 - 1, 5))),
        ((2, 2**40), V2C.ObjectIdentifier((2, 175, 0))),
    ]
    ours = assert_same_as_pysnmp(pysnmp_response(varbinds))
    assert ours.varbinds[0][0] == long_oid
    assert ours.varbinds[5][0] == (2, 2**40)


@pytest.mark.parametrize("size", [100, 200, 1000, 60_000])
def test_long_form_lengths(size: int) -> None:
    """Messages past 127 and 65535 octets use 1-, 2- and 3-octet long-form lengths."""
    community = b"k" * 300
    varbinds = [
        ((1, 3, 6, 1, 2, 1, 1, 1, 0), V2C.OctetString(b"x" * size)),
        ((1, 3, 6, 1, 2, 1, 2, 2, 1, 2, 1), V2C.OctetString(bytes(range(256)) * 2)),
        ((1, 3, 6, 1, 2, 1, 1, 3, 0), V2C.TimeTicks(42)),
        ((1, 3, 6, 1, 2, 1, 1, 4, 0), V2C.OctetString(b"y" * size)),
    ]
    data = pysnmp_response(varbinds, 9, community)
    assert len(data) > 2 * size
    ours = assert_same_as_pysnmp(data)
    assert len(ours.varbinds[0][2]) == len(ours.varbinds[3][2]) == size
    if size > 65535 // 2:
        assert data[1] == 0x83  # the message length takes three octets


def test_many_varbinds() -> None:
    varbinds = [((1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, i), V2C.Counter64(i * 2**40)) for i in range(3000)]
    data = pysnmp_response(varbinds)
    assert len(data) > 65535
    assert len(assert_same_as_pysnmp(data).varbinds) == 3000


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(varbind_lists, request_ids, st.binary(max_size=200))
def test_random_responses_match_pysnmp(varbinds, request_id: int, community: bytes) -> None:
    assert_same_as_pysnmp(pysnmp_response(varbinds, request_id, community))


@settings(max_examples=300, deadline=None)
@given(oids(max_tail=60))
def test_encode_oid_matches_pyasn1(oid: tuple[int, ...]) -> None:
    assert ber.encode_oid(oid) == encoder.encode(univ.ObjectIdentifier(oid))
    assert ber.encode_oid(ber.oid_to_str(oid)) == ber.encode_oid(oid)


def _decode_request(data: bytes):
    msg, rest = decoder.decode(data, asn1Spec=V2C.Message())
    assert not rest
    assert int(V2C.apiMessage.get_version(msg)) == 1
    return msg, V2C.apiMessage.get_pdu(msg)


@settings(max_examples=200, deadline=None)
@given(
    request_ids,
    st.binary(max_size=300),
    st.lists(oids(), min_size=0, max_size=30),
    st.integers(0, 2**31 - 1),
    st.integers(0, 2**31 - 1),
)
def test_get_bulk_read_by_pysnmp(request_id, community, oid_list, non_repeaters, max_repetitions) -> None:
    data = ber.encode_get_bulk(
        request_id, community, [ber.encode_oid(o) for o in oid_list], non_repeaters, max_repetitions
    )
    msg, pdu = _decode_request(data)
    assert bytes(V2C.apiMessage.get_community(msg)) == community
    assert pdu.isSameTypeWith(V2C.GetBulkRequestPDU())
    assert int(V2C.apiBulkPDU.get_request_id(pdu)) == request_id
    assert int(V2C.apiBulkPDU.get_non_repeaters(pdu)) == non_repeaters
    assert int(V2C.apiBulkPDU.get_max_repetitions(pdu)) == max_repetitions
    got = V2C.apiBulkPDU.get_varbinds(pdu)
    assert [tuple(o) for o, _ in got] == oid_list
    assert all(encoder.encode(v) == b"\x05\x00" for _, v in got)


@settings(max_examples=100, deadline=None)
@given(request_ids, st.binary(max_size=300), st.lists(oids(), min_size=1, max_size=30))
def test_get_read_by_pysnmp(request_id, community, oid_list) -> None:
    data = ber.encode_get(request_id, community, [ber.encode_oid(o) for o in oid_list])
    msg, pdu = _decode_request(data)
    assert bytes(V2C.apiMessage.get_community(msg)) == community
    assert pdu.isSameTypeWith(V2C.GetRequestPDU())
    assert int(V2C.apiPDU.get_request_id(pdu)) == request_id
    assert int(V2C.apiPDU.get_error_status(pdu)) == 0
    assert int(V2C.apiPDU.get_error_index(pdu)) == 0
    assert [tuple(o) for o, _ in V2C.apiPDU.get_varbinds(pdu)] == oid_list


def test_encoder_rejects_bad_input() -> None:
    for bad in ["", "1", "3.1", "1.40", "1.3.-1", "1..3", "1.3.", "a.b", "1.03"]:
        with pytest.raises(ValueError):
            ber.encode_oid(bad)
    with pytest.raises(ValueError):
        ber.encode_oid((1, 3, -6))
    with pytest.raises(ValueError):
        ber.encode_get_bulk(2**31, b"c", [])
    with pytest.raises(ValueError):
        ber.encode_get_bulk(1, b"c", [], max_repetitions=-1)


def test_oid_text() -> None:
    assert ber.parse_oid("1.3.6.1") == (1, 3, 6, 1)
    assert ber.parse_oid(".1.3.6.1.2.1.1.1.0") == (1, 3, 6, 1, 2, 1, 1, 1, 0)
    assert ber.parse_oid("2.999.4294967295") == (2, 999, 2**32 - 1)
    assert ber.oid_to_str((1, 3, 6, 1, 4, 1, 8072)) == "1.3.6.1.4.1.8072"
    for bad in ["", ".", "1.3.", " 1.3", "1.+3", "1_0.3", "1.٣", "..1"]:
        with pytest.raises(ValueError):
            ber.parse_oid(bad)


# --------------------------------------------------------------------------- malformed input


def reason_of(data: bytes) -> str:
    with pytest.raises(ber.DecodeError) as info:
        ber.decode_response(data)
    assert info.value.reason in KNOWN_REASONS
    assert isinstance(info.value, ValueError)
    return info.value.reason


SAMPLE = pysnmp_response(
    [
        ((1, 3, 6, 1, 2, 1, 1, 1, 0), V2C.OctetString(b"sample agent " * 12)),
        ((1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, 10101), V2C.Counter64(2**63 + 5)),
        ((1, 3, 6, 1, 2, 1, 1, 2, 0), V2C.ObjectIdentifier((1, 3, 6, 1, 4, 1, 8072, 3, 2, 10))),
        ((1, 3, 6, 1, 2, 1, 4, 20, 1, 1, 127, 0, 0, 1), V2C.IpAddress("127.0.0.1")),
        ((1, 3, 6, 1, 2, 1, 1, 9, 1, 2, 1), rfc1905.endOfMibView),
    ],
    request_id=4242,
    community=b"s" * 130,
)


def test_every_truncation_is_truncated() -> None:
    assert ber.decode_response(SAMPLE).request_id == 4242
    for cut in range(len(SAMPLE)):
        assert reason_of(SAMPLE[:cut]) == "truncated", cut
        with pytest.raises(ber.DecodeError):
            ber.peek_request_id(SAMPLE[:cut])


def test_specific_reasons() -> None:
    assert reason_of(SAMPLE + b"\x00") == "trailing_bytes"
    assert reason_of(b"\x31" + SAMPLE[1:]) == "bad_tag"
    v3 = pysnmp_response([], request_id=1)
    assert reason_of(v3.replace(b"\x02\x01\x01", b"\x02\x01\x03", 1)) == "bad_version"
    bulk = ber.encode_get_bulk(7, b"public", [ber.encode_oid("1.3.6.1.2.1.1")])
    assert reason_of(bulk) == "bad_pdu"
    with pytest.raises(ber.DecodeError) as info:
        ber.peek_request_id(bulk)
    assert info.value.reason == "bad_pdu"
    assert reason_of(b"\x30\x00") == "bad_length"
    assert reason_of(b"\x30\x80\x02\x01\x01\x00\x00") == "bad_length"  # indefinite length
    assert reason_of(b"\x30\x84\xff\xff\xff\xff\x02\x01\x01") == "truncated"  # 4 GiB claim


def handmade(varbind_content: bytes, vbl_extra: bytes = b"", pdu_extra: bytes = b"", msg_extra: bytes = b"") -> bytes:
    """A v2c Response around one varbind (raw content of its SEQUENCE), extras appended to containers."""

    def tlv(tag: int, content: bytes) -> bytes:
        assert len(content) < 128
        return bytes((tag, len(content))) + content

    vbl = tlv(0x30, tlv(0x30, varbind_content) + vbl_extra)
    pdu = tlv(0xA2, b"\x02\x01\x01\x02\x01\x00\x02\x01\x00" + vbl + pdu_extra)
    return tlv(0x30, b"\x02\x01\x01" + tlv(0x04, b"c") + pdu + msg_extra)


NAME = b"\x06\x03\x2b\x06\x01"  # 1.3.6.1


def test_handmade_values() -> None:
    def value_of(value_tlv: bytes):
        [(oid, tag, value)] = ber.decode_response(handmade(NAME + value_tlv)).varbinds
        assert oid == (1, 3, 6, 1)
        return tag, value

    # zero-length values
    assert value_of(b"\x02\x00") == (ber.INTEGER, 0)
    assert value_of(b"\x41\x00") == (ber.COUNTER32, 0)
    assert value_of(b"\x46\x00") == (ber.COUNTER64, 0)
    assert value_of(b"\x04\x00") == (ber.OCTET_STRING, b"")
    assert value_of(b"\x44\x00") == (ber.OPAQUE, b"")
    assert value_of(b"\x06\x00") == (ber.OID, ())
    # INTEGER wider than 32 bits, negative and positive
    assert value_of(b"\x02\x09\xff" + b"\x00" * 8) == (ber.INTEGER, -(2**64))
    assert value_of(b"\x02\x05\x00\xff\xff\xff\xff") == (ber.INTEGER, 2**32 - 1)
    # agents that drop the leading zero of an unsigned value
    assert value_of(b"\x41\x04\xff\xff\xff\xff") == (ber.COUNTER32, 2**32 - 1)
    assert value_of(b"\x46\x08" + b"\xff" * 8) == (ber.COUNTER64, 2**64 - 1)
    # a long-form length on a short value, as net-snmp writes its sequences
    assert value_of(b"\x04\x82\x00\x02hi") == (ber.OCTET_STRING, b"hi")
    # first arc 2 with a multi-octet first sub-identifier
    assert value_of(b"\x06\x03\x88\x37\x03") == (ber.OID, (2, 999, 3))
    # empty varbind list
    empty = ber.decode_response(pysnmp_response([], 3))
    assert empty == ber.Response(3, 0, 0, [])


@pytest.mark.parametrize(
    ("varbind", "reason"),
    [
        (b"", "bad_length"),  # zero-length varbind SEQUENCE
        (NAME, "bad_length"),  # name without value
        (b"\x06\x00\x05\x00", "bad_oid"),  # empty name
        (b"\x06\x02\x2b\x86\x05\x00", "bad_oid"),  # unterminated sub-identifier
        (b"\x06\x03\x2b\x80\x01\x05\x00", "bad_oid"),  # non-minimal sub-identifier
        (b"\x06\x0c\x2b" + b"\xff" * 10 + b"\x01\x05\x00", "bad_oid"),  # sub-identifier over 2**70
        (NAME + b"\x40\x03\x7f\x00\x01", "bad_value"),  # IpAddress of 3 octets
        (NAME + b"\x05\x01\x00", "bad_value"),  # NULL with content
        (NAME + b"\x82\x01\x00", "bad_value"),
        (NAME + b"\x47\x01\x00", "bad_tag"),  # unknown application type
        (NAME + b"\x30\x00", "bad_tag"),  # constructed value
        (b"\x04\x03\x2b\x06\x01\x05\x00", "bad_tag"),  # name is not an OID
        (NAME + b"\x05\x00\x05\x00", "trailing_bytes"),  # two values
        (NAME + b"\x04\x05ab", "bad_length"),  # value overruns its varbind
    ],
)
def test_bad_varbinds(varbind: bytes, reason: str) -> None:
    assert reason_of(handmade(varbind)) == reason


def test_bad_containers() -> None:
    assert ber.decode_response(handmade(NAME + b"\x05\x00")).varbinds == [((1, 3, 6, 1), ber.NULL, None)]
    assert reason_of(handmade(NAME + b"\x05\x00", vbl_extra=b"\x00")) == "bad_tag"
    assert reason_of(handmade(NAME + b"\x05\x00", vbl_extra=b"\x30")) == "bad_length"
    assert reason_of(handmade(NAME + b"\x05\x00", pdu_extra=b"\x05\x00")) == "trailing_bytes"
    assert reason_of(handmade(NAME + b"\x05\x00", msg_extra=b"\x05\x00")) == "trailing_bytes"
    assert reason_of(b"\x30\x03\x02\x01\x01") == "bad_length"  # no community
    # The last varbind and its value both claim 5 more octets than the message holds: the
    # lengths agree with each other but not with the varbind list around them.
    tail = b"\x30\x09" + NAME + b"\x04\x02hi"
    good = handmade(NAME + b"\x04\x02hi")
    assert good.endswith(tail)
    inflated = good[: -len(tail)] + b"\x30\x0e" + NAME + b"\x04\x07hi"
    assert len(inflated) == len(good)
    assert reason_of(inflated) == "bad_length"


def length_fields(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int]]:
    """(offset, size) of every length field in a well-formed message (test helper)."""
    end = len(data) if end is None else end
    pos = start
    while pos < end:
        tag, first = data[pos], data[pos + 1]
        size = 1 + (first & 0x7F if first & 0x80 else 0)
        length = int.from_bytes(data[pos + 2 : pos + 1 + size], "big") if first & 0x80 else first
        yield pos + 1, size
        content = pos + 1 + size
        if tag & 0x20:
            yield from length_fields(data, content, content + length)
        pos = content + length


LENGTH_REPLACEMENTS = [
    b"\x00",
    b"\x01",
    b"\x7f",
    b"\x80",
    b"\x81\x00",
    b"\x81\xff",
    b"\x82\xff\xff",
    b"\x84\xff\xff\xff\xff",
    b"\x88" + b"\xff" * 8,
    b"\xfe" + b"\xff" * 126,
    b"\xff",
]


def assert_only_decode_errors(data: bytes) -> None:
    for func in (ber.decode_response, ber.peek_request_id):
        try:
            func(data)
        except ber.DecodeError as exc:
            assert exc.reason in KNOWN_REASONS


@pytest.mark.parametrize("message", [SAMPLE, pysnmp_response([], 1), handmade(NAME + b"\x05\x00")])
def test_mutated_lengths(message: bytes) -> None:
    fields = list(length_fields(message))
    assert len(fields) > 5
    for offset, size in fields:
        original = int.from_bytes(message[offset + 1 : offset + size], "big") if size > 1 else message[offset]
        replacements = [*LENGTH_REPLACEMENTS]
        for delta in (-2, -1, 1, 2, 300, 70_000):
            if original + delta >= 0:
                n = original + delta
                body = n.to_bytes(max(1, (n.bit_length() + 7) // 8), "big")
                replacements += [bytes((0x80 | len(body),)) + body, bytes([n]) if n < 128 else b""]
        for new in replacements:
            if new:
                mutated = message[:offset] + new + message[offset + size :]
                assert_only_decode_errors(mutated)


@settings(max_examples=2000, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    assert_only_decode_errors(data)


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_after_valid_header(tail: bytes) -> None:
    """Random content behind a correct outer header reaches the deeper parsing code."""
    for prefix in (b"\x02\x01\x01\x04\x01c\xa2", b"\x02\x01\x01\x04\x01c\xa2\x82\x00"):
        content = prefix + tail
        assert_only_decode_errors(b"\x30\x82" + len(content).to_bytes(2, "big") + content)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(varbind_lists, st.data())
def test_mutated_valid_messages(varbinds, data) -> None:
    message = bytearray(pysnmp_response(varbinds, 5))
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(message) - 1))
        action = data.draw(st.sampled_from(["set", "insert", "delete"]))
        if action == "set":
            message[pos] = data.draw(st.integers(0, 255))
        elif action == "insert":
            message[pos:pos] = data.draw(st.binary(min_size=1, max_size=9))
        else:
            del message[pos : pos + data.draw(st.integers(1, 4))]
        if not message:
            break
    assert_only_decode_errors(bytes(message))


def test_non_bytes_argument_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        ber.decode_response(10**12)  # type: ignore[arg-type]
    assert ber.decode_response(bytearray(SAMPLE)) == ber.decode_response(memoryview(SAMPLE))


# --------------------------------------------------------------------------- a real agent


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Agent:
    def __init__(self, port: int, community: bytes) -> None:
        self.port = port
        self.community = community
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.connect(("127.0.0.1", port))
        self.next_id = 1000

    def ask(self, message_for_id, timeout: float = 2.0) -> tuple[bytes, ber.Response]:
        """Send the message that ``message_for_id(request_id)`` builds; return the raw and decoded answer."""
        request_id = self.next_id
        self.next_id += 1
        self.sock.settimeout(timeout)
        self.sock.send(message_for_id(request_id))
        while True:
            data = self.sock.recv(65535)
            if ber.peek_request_id(data) == request_id:
                return data, ber.decode_response(data)


@pytest.fixture(scope="module")
def snmpd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    binary = shutil.which("snmpd") or "/usr/sbin/snmpd"
    if not os.path.exists(binary):
        pytest.fail("net-snmp's snmpd is missing: run `make setup` (or `apt-get install snmpd snmp`)")
    tmp = tmp_path_factory.mktemp("snmpd")
    port = _free_udp_port()
    community = secrets.token_hex(8).encode()
    conf = tmp / "snmpd.conf"
    conf.write_text(
        f"agentAddress udp:127.0.0.1:{port}\n"
        f"rocommunity {community.decode()} 127.0.0.1\n"
        "sysLocation 서울특별시 금천구 시흥대로73길 70\n"
        "sysContact noc@geumcheon.invalid\n"
        "sysName ber-test-agent\n",
        encoding="utf-8",
    )
    env = {**os.environ, "SNMP_PERSISTENT_DIR": str(tmp / "persist"), "MIBS": ""}
    log = open(tmp / "snmpd.log", "w")  # noqa: SIM115 - closed in teardown
    proc = subprocess.Popen(
        [binary, "-f", "-Lo", "-C", "-c", str(conf), "-p", str(tmp / "snmpd.pid")],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    agent = Agent(port, community)
    try:
        probe = [ber.encode_oid("1.3.6.1.2.1.1.5.0")]
        deadline = time.monotonic() + 15
        while True:
            if proc.poll() is not None:
                pytest.fail(f"snmpd exited with {proc.returncode}: {(tmp / 'snmpd.log').read_text()}")
            try:
                agent.ask(lambda rid: ber.encode_get(rid, community, probe), timeout=0.3)
                break
            except (TimeoutError, ConnectionRefusedError):
                if time.monotonic() > deadline:
                    pytest.fail(f"snmpd did not answer on 127.0.0.1:{port}: {(tmp / 'snmpd.log').read_text()}")
        yield agent
    finally:
        agent.sock.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


NETSNMP_TYPES = {
    "STRING": ber.OCTET_STRING,
    "Hex-STRING": ber.OCTET_STRING,
    "OID": ber.OID,
    "Timeticks": ber.TIMETICKS,
    "INTEGER": ber.INTEGER,
    "Gauge32": ber.GAUGE32,
    "Counter32": ber.COUNTER32,
    "Counter64": ber.COUNTER64,
    "IpAddress": ber.IPADDRESS,
}


def snmpbulkwalk(agent: Agent, root: str) -> list[tuple[tuple[int, ...], int, object]]:
    """What net-snmp's snmpbulkwalk prints, parsed into ber's conventions (strings as hex, -Ox)."""
    tool = shutil.which("snmpbulkwalk")
    if tool is None:
        pytest.fail("net-snmp's snmpbulkwalk is missing: run `make setup` (or `apt-get install snmp`)")
    out = subprocess.run(
        [tool, "-v2c", "-c", agent.community.decode(), "-On", "-Oe", "-Ox", f"127.0.0.1:{agent.port}", root],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
        env={**os.environ, "MIBS": ""},
    ).stdout
    # Hex strings wrap onto continuation lines; every varbind line starts with a dot.
    entries: list[list[str]] = []
    for line in out.splitlines():
        if line.startswith("."):
            entries.append([line])
        elif line.strip():
            entries[-1].append(line)
    result = []
    for lines in entries:
        name, _, rest = lines[0].partition(" = ")
        oid = ber.parse_oid(name)
        text = " ".join([rest, *lines[1:]]).strip()
        if text == '""':
            result.append((oid, ber.OCTET_STRING, b""))
            continue
        kind, _, value = text.partition(": ")
        tag = NETSNMP_TYPES[kind]
        if tag == ber.OCTET_STRING:
            parsed: object = bytes.fromhex(value) if kind == "Hex-STRING" else value.strip('"').encode()
        elif tag == ber.OID:
            parsed = ber.parse_oid(value)
        elif tag == ber.TIMETICKS:
            parsed = int(re.fullmatch(r"\((\d+)\).*", value).group(1))
        elif tag == ber.IPADDRESS:
            parsed = value
        else:
            parsed = int(value)
        result.append((oid, tag, parsed))
    return result


def walk_with_ber(agent: Agent, root: str, max_repetitions: int) -> list[tuple[tuple[int, ...], int, object]]:
    prefix = ber.parse_oid(root)
    result = []
    cursor = ber.encode_oid(root)
    while True:
        _, response = agent.ask(
            lambda rid, c=cursor: ber.encode_get_bulk(rid, agent.community, [c], 0, max_repetitions)
        )
        assert response.error_status == 0, response
        assert response.varbinds
        for oid, tag, value in response.varbinds:
            if tag == ber.END_OF_MIB_VIEW or oid[: len(prefix)] != prefix:
                return result
            result.append((oid, tag, value))
        cursor = ber.encode_oid(result[-1][0])


@pytest.mark.parametrize("max_repetitions", [5, 50])
def test_system_group_walk_matches_snmpbulkwalk(snmpd: Agent, max_repetitions: int) -> None:
    ours = walk_with_ber(snmpd, "1.3.6.1.2.1.1", max_repetitions)
    theirs = snmpbulkwalk(snmpd, "1.3.6.1.2.1.1")
    assert len(ours) >= 10
    assert [oid for oid, _, _ in ours] == [oid for oid, _, _ in theirs]
    sys_uptime = (1, 3, 6, 1, 2, 1, 1, 3, 0)
    for (oid, tag, value), (_, their_tag, their_value) in zip(ours, theirs, strict=True):
        assert tag == their_tag, oid
        if oid == sys_uptime:  # the agent's clock moves between the two walks
            assert 0 <= their_value - value < 60_00
        else:
            assert value == their_value, oid
    by_oid = {oid: value for oid, _, value in ours}
    assert by_oid[(1, 3, 6, 1, 2, 1, 1, 6, 0)].decode() == "서울특별시 금천구 시흥대로73길 70"
    assert by_oid[(1, 3, 6, 1, 2, 1, 1, 5, 0)] == b"ber-test-agent"


def test_get_and_exceptions_from_snmpd(snmpd: Agent) -> None:
    names = ["1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.1.2.0", "1.3.6.1.2.1.1.1.99", "1.3.6.1.2.1.1.99.0"]
    raw, response = snmpd.ask(lambda rid: ber.encode_get(rid, snmpd.community, [ber.encode_oid(n) for n in names]))
    assert response.error_status == 0
    assert [oid for oid, _, _ in response.varbinds] == [ber.parse_oid(n) for n in names]
    assert response.varbinds[0][1:] == (ber.OCTET_STRING, b"ber-test-agent")
    assert response.varbinds[1][1] == ber.OID and response.varbinds[1][2][:7] == (1, 3, 6, 1, 4, 1, 8072)
    assert response.varbinds[2][1:] == (ber.NO_SUCH_INSTANCE, None)
    assert response.varbinds[3][1:] == (ber.NO_SUCH_OBJECT, None)
    assert ber.decode_response(raw) == pysnmp_decode(raw)

    # past the last object: endOfMibView, via GETBULK with non-repeaters
    last = [ber.encode_oid("1.3.6.1.2.1.1.5.0"), ber.encode_oid("2.25.1")]
    raw, response = snmpd.ask(lambda rid: ber.encode_get_bulk(rid, snmpd.community, last, 1, 3))
    assert response.varbinds[0][0] == (1, 3, 6, 1, 2, 1, 1, 6, 0)
    assert all(tag == ber.END_OF_MIB_VIEW for _, tag, _ in response.varbinds[1:])
    assert ber.decode_response(raw) == pysnmp_decode(raw)
