"""Caller numbers: every notation of the same caller is one canonical number, one mask, one key."""

from __future__ import annotations

import pytest

from ivr.events import EventStore, ProtectionEvent
from ivr.numbers import caller_key, mask, normalise

KEY = b"k" * 32


@pytest.mark.parametrize("raw", [
    "01012345678",              # national, with the trunk prefix
    "1012345678",               # without the leading 0
    "010-1234-5678",            # dashes
    "010 1234 5678",            # blanks
    " 010.1234.5678 ",          # dots, surrounding blanks
    "+821012345678",            # E.164
    "+82 10-1234-5678",         # E.164 with separators
    "+82 (0)10 1234 5678",      # international with the national 0 in brackets
    "+82010-1234-5678",         # international with the national 0 kept
    "00821012345678",           # the 00 international prefix
    "0082 10 1234 5678",
    "821012345678",             # country code without a prefix
])
def test_one_mobile_caller_in_every_notation(raw: str) -> None:
    assert normalise(raw) == "01012345678"
    assert mask(normalise(raw)) == "010****5678"
    assert caller_key(KEY, normalise(raw)) == caller_key(KEY, "01012345678")


@pytest.mark.parametrize(("raw", "canonical"), [
    ("02-123-4567", "021234567"),          # Seoul, 3-digit exchange
    ("0226123456", "0226123456"),           # Seoul, 4-digit exchange
    ("226123456", "0226123456"),            # Seoul without the 0 (9 digits)
    ("+82 2 2612 3456", "0226123456"),
    ("031-123-4567", "0311234567"),         # Gyeonggi
    ("311234567", "0311234567"),
    ("+82 31 1234 5678", "03112345678"),
    ("070-1234-5678", "07012345678"),       # internet phone
    ("7012345678", "07012345678"),
    ("1588-1234", "15881234"),              # representative number: never a leading 0
    ("+82 1588 1234", "15881234"),
    ("2612-3456", "26123456"),              # a local number (no area code) stays as it is
    ("114", "114"),                         # service number
    ("+1 212 555 0123", "+12125550123"),    # foreign numbers stay E.164
    ("00 1 212 555 0123", "+12125550123"),
])
def test_other_korean_and_foreign_forms(raw: str, canonical: str) -> None:
    assert normalise(raw) == canonical


@pytest.mark.parametrize("raw", ["", "   ", None, "anonymous", "Anonymous", "unknown", "UNAVAILABLE", "private",
                                 "restricted", "withheld", "P", "O", "+", "00", "+82", "abc", "010-12ab-5678",
                                 "1" * 16, "０１０１２３４５６７８"])
def test_withheld_and_garbage_have_no_number_and_no_key(raw: str | None) -> None:
    assert normalise(raw) is None
    assert mask(normalise(raw)) == ""
    assert caller_key(KEY, normalise(raw)) == ""


def test_the_event_store_keys_one_caller_once_and_never_groups_withheld_callers(tmp_path) -> None:
    store = EventStore(tmp_path / "e.sqlite3", KEY)
    for i, raw in enumerate(["010-1234-5678", "+82 10 1234 5678", "1012345678", "anonymous", ""]):
        store.add(ProtectionEvent(f"e{i}", 1000.0 + i, "warning", 1, "civil", 1, "0226001234", raw, None))
    rows = store.events()
    assert len({r["caller_hash"] for r in rows[:3]}) == 1 and rows[0]["caller_mask"] == "010****5678"
    assert [r["caller_hash"] for r in rows[3:]] == ["", ""] and [r["caller_mask"] for r in rows[3:]] == ["", ""]
    assert all("12345678" not in str(r) for r in rows)
