"""The overview's view of the IVR without a running IVR: events through ivr's own EventStore, and problems
(no ivr.yaml, an unreadable event database) logged once per change, not once per page view."""

from __future__ import annotations

import logging
import time

import pytest

from ivr.events import EventStore, ProtectionEvent
from nms.admin.status import StatusReader, read_events
from tests import admin_fixtures

light_admin = admin_fixtures.light_admin
KEY = b"test-caller-key-0123456789abcdef"


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "nms.admin.status" and r.levelno >= logging.WARNING]


def test_events_come_from_the_event_store_newest_first_and_masked(light_admin) -> None:
    store = EventStore(light_admin.base / "events.sqlite3", KEY)
    now = time.time()
    for i, caller in enumerate(("01024681357", "0212345678", "01099990000")):
        store.add(ProtectionEvent(f"e{i}", now - 60 * (3 - i), "warning", 1, "civil", 2, "0226001234", caller, None))
    store.add(ProtectionEvent("old", now - 10 * 86400, "warning", 1, "civil", 2, "0226001234", "01011112222", None))
    store.close()

    events = read_events(light_admin.ws, now - 3600)
    assert [e["event_id"] for e in events] == ["e2", "e1", "e0"]
    assert events[0]["caller_mask"] == "010****0000" and "caller_hash" not in events[0]
    assert len(events[0]["caller_tag"]) == 6
    assert all("01099990000" not in str(e) for e in events)
    assert read_events(light_admin.ws, now - 3600, limit=1) == events[:1]


def test_a_missing_ivr_yaml_and_a_broken_database_are_logged_once_per_change(light_admin, caplog) -> None:
    caplog.set_level(logging.INFO, logger="nms.admin.status")
    ivr_yaml = light_admin.base / "ivr.yaml"
    saved = ivr_yaml.read_bytes()
    ivr_yaml.unlink()
    reader = StatusReader(light_admin.ws)
    for _ in range(3):
        assert read_events(light_admin.ws, 0.0) == []
        overview = reader._make()
        assert overview.lines == 60 and overview.events_today == []
    assert len([m for m in _warnings(caplog) if "ivr.yaml" in m]) == 1, _warnings(caplog)

    ivr_yaml.write_bytes(saved)
    assert read_events(light_admin.ws, 0.0) == []  # no database yet: nothing to show, nothing wrong
    assert any("readable again" in r.getMessage() for r in caplog.records)
    assert not (light_admin.base / "events.sqlite3").exists()  # the overview does not create it

    (light_admin.base / "events.sqlite3").write_bytes(b"this is no SQLite database" * 100)
    caplog.clear()
    for _ in range(3):
        assert read_events(light_admin.ws, 0.0) == []
    assert len([m for m in _warnings(caplog) if "protection events" in m]) == 1, _warnings(caplog)
