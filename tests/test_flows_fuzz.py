"""Fuzzing the decoder: malformed datagrams are counted as decode errors, never raised."""

from __future__ import annotations

import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectors.flows.engine import FlowEngine
from tests.flows_fixtures import V9_FIELDS, flow_settings, v9_record

TEMPLATE = struct.pack("!HH", 256, len(V9_FIELDS)) + b"".join(struct.pack("!HH", t, n) for t, n in V9_FIELDS)
RECORD = v9_record("10.20.1.5", "203.0.113.9", 1000, 10, 6, 40000, 443)


def ipfix_message(*sets: bytes, length: int | None = None) -> bytes:
    body = b"".join(sets)
    return struct.pack("!HHIII", 10, 16 + len(body) if length is None else length, 0, 0, 0) + body


def ipfix_set(set_id: int, content: bytes, length: int | None = None) -> bytes:
    return struct.pack("!HH", set_id, 4 + len(content) if length is None else length) + content


VALID = ipfix_message(ipfix_set(2, TEMPLATE), ipfix_set(256, RECORD * 3))
V9_VALID = struct.pack("!HHIIII", 9, 2, 0, 0, 1, 0) + ipfix_set(0, TEMPLATE) + ipfix_set(256, RECORD)


def errors(e: FlowEngine) -> int:
    return sum(e.stats()["errors"].values())


def test_valid_message_decodes_without_errors() -> None:
    e = FlowEngine(flow_settings())
    e.process([(VALID, "127.0.0.1"), (V9_VALID, "127.0.0.2")], now=1.0)
    assert errors(e) == 0
    assert sum(sum(sender.records.values()) for sender in e.decoder.table.senders()) == 4


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.integers(min_value=0, max_value=len(VALID) - 1), which=st.sampled_from(["ipfix", "v9"]))
def test_truncated_packets_count_as_errors(cut: int, which: str) -> None:
    source = VALID if which == "ipfix" else V9_VALID
    e = FlowEngine(flow_settings())
    e.process([(source[:cut], "127.0.0.1")], now=1.0)
    # v9 has no message length: a message that ends on a set boundary is valid.
    valid = cut >= len(source) or (which == "v9" and cut in (20, 20 + 4 + len(TEMPLATE)))
    assert errors(e) == (0 if valid else 1)


@settings(max_examples=300, deadline=None)
@given(length=st.integers(min_value=0, max_value=65535))
def test_wrong_message_length(length: int) -> None:
    e = FlowEngine(flow_settings())
    e.process([(ipfix_message(ipfix_set(2, TEMPLATE), length=length), "127.0.0.1")], now=1.0)
    assert errors(e) == (0 if length == 16 + 4 + len(TEMPLATE) else 1)


@settings(max_examples=200, deadline=None)
@given(set_length=st.integers(min_value=0, max_value=65535))
def test_wrong_and_zero_set_lengths(set_length: int) -> None:
    e = FlowEngine(flow_settings())
    message = ipfix_message(ipfix_set(2, TEMPLATE), ipfix_set(256, RECORD, length=set_length))
    e.process([(message, "127.0.0.1")], now=1.0)
    if set_length == 4 + len(RECORD):
        assert errors(e) == 0
    else:
        assert errors(e) >= 1


@settings(max_examples=100, deadline=None)
@given(count=st.integers(min_value=513, max_value=65535), present=st.integers(min_value=0, max_value=600))
def test_huge_template_field_counts(count: int, present: int) -> None:
    fields = struct.pack("!HH", 1, 4) * present
    e = FlowEngine(flow_settings())
    e.process([(ipfix_message(ipfix_set(2, struct.pack("!HH", 300, count) + fields)), "127.0.0.1")], now=1.0)
    assert errors(e) == 1
    assert e.stats()["templates"] == {}


@settings(max_examples=500, deadline=None)
@given(data=st.binary(max_size=1500), version=st.sampled_from([5, 9, 10]))
def test_random_bytes_never_raise(data: bytes, version: int) -> None:
    e = FlowEngine(flow_settings())
    datagram = struct.pack("!H", version) + data
    e.process([(VALID, "127.0.0.1"), (datagram, "127.0.0.1"), (V9_VALID, "127.0.0.1")], now=1.0)
    assert "internal" not in e.stats()["errors"]


def test_memory_stays_bounded_under_garbage() -> None:
    """Endless templates and unmatched data: the stores stop at their limits."""
    e = FlowEngine(flow_settings(max_templates=100, pending_limit=50))
    batch = []
    for i in range(5000):
        tid = 256 + i % 60000
        batch.append((ipfix_message(ipfix_set(2, struct.pack("!HH", tid, 1) + struct.pack("!HH", 1, 4 + i % 7)),
                                    ipfix_set(300 + i, b"x" * 100)), f"127.0.{i % 4}.1"))
    e.process(batch, now=1.0)
    assert len(e.decoder.templates.templates) <= 100
    assert e.decoder.pending.count <= 50
    stats = e.stats()["errors"]
    assert stats["template_limit"] > 0 and stats["template_missing"] > 0
