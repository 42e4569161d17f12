"""IVR metrics: protection counters exist at 0 before the first event, so increase() sees it; exact day counts."""

from __future__ import annotations

import datetime as dt
import time
import zoneinfo

from prometheus_client.parser import text_string_to_metric_families

from ivr.config import DEFAULT_CONFIG, load_config
from ivr.events import EventStore, ProtectionEvent
from ivr.metrics import PROTECTION_KINDS, IvrCollector, IvrStats, IvrTodayCollector, day_start
from ivr.service import protected_departments
from nms.exposition import generate_text


def test_protected_departments_start_at_zero_and_count_up():
    config = load_config(DEFAULT_CONFIG)
    protected = protected_departments(config)
    assert protected and all(d.protection for d in config.departments if d.id in protected)
    stats = IvrStats(lines=config.lines)
    stats.expect_departments(protected)
    text = generate_text(IvrCollector(stats)).decode()
    for department in protected:
        for kind in PROTECTION_KINDS:
            assert f'nms_ivr_protection_events_total{{department="{department}",kind="{kind}"}} 0' in text
    stats.protection_event(protected[0], "warning")
    stats.expect_departments(protected)  # a reload keeps what was counted
    text = generate_text(IvrCollector(stats)).decode()
    assert f'nms_ivr_protection_events_total{{department="{protected[0]}",kind="warning"}} 1' in text


def test_unprotected_departments_get_no_series():
    config = load_config(DEFAULT_CONFIG)
    unprotected = [d.id for d in config.departments if not d.protection]
    stats = IvrStats()
    stats.expect_departments(protected_departments(config))
    text = generate_text(IvrCollector(stats)).decode()
    for department in unprotected:
        assert f'department="{department}"' not in text


def _samples(collector) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_text(collector).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for f in text_string_to_metric_families(text) for s in f.samples}


def _event(store: EventStore, when: float, department: str, kind: str, n: int) -> None:
    store.add(ProtectionEvent(f"ev-{when}-{n}", when, kind, 1, department, 1, "0226272301", "01012345678", None))


def test_today_counts_are_exact_and_follow_the_districts_midnight(tmp_path):
    """Seoul's day: an event just before 00:00 KST does not count, events after it do, whatever the host's zone."""
    config = load_config(DEFAULT_CONFIG)
    store = EventStore(tmp_path / "events.sqlite3", b"key")
    midnight = day_start("Asia/Seoul")
    assert dt.datetime.fromtimestamp(midnight, zoneinfo.ZoneInfo("Asia/Seoul")).time() == dt.time(0, 0)
    assert 0 <= time.time() - midnight < 86400
    civil = config.departments[0].id
    _event(store, midnight - 1, civil, "warning", 0)
    for n in range(3):
        _event(store, midnight + 1 + n, civil, "warning", n)
    _event(store, midnight + 10, civil, "time-limit-end", 9)
    store.add_call(midnight - 5, "connected", civil)
    for outcome in ("connected", "connected", "busy"):
        store.add_call(midnight + 20, outcome, civil)
    collector = IvrTodayCollector(store, lambda: config.hours.timezone,
                                  lambda: [(d.id, d.name, d.protection) for d in config.departments])
    samples = _samples(collector)
    assert samples[("nms_ivr_protection_events_today", (("department", civil), ("kind", "warning")))] == 3
    assert samples[("nms_ivr_protection_events_today", (("department", civil), ("kind", "time-limit-end")))] == 1
    assert samples[("nms_ivr_protection_events_today", (("department", civil), ("kind", "termination")))] == 0
    assert samples[("nms_ivr_calls_today", (("outcome", "connected"),))] == 2
    assert samples[("nms_ivr_calls_today", (("outcome", "busy"),))] == 1
    assert samples[("nms_ivr_calls_today", (("outcome", "after-hours"),))] == 0
    assert sum(v for (name, _), v in samples.items() if name == "nms_ivr_protection_events_today") \
        == len(store.events(since=midnight))
    names = {dict(labels)["department"]: dict(labels)["name"] for (name, labels) in samples
             if name == "nms_ivr_department_info"}
    assert names == {d.id: d.name for d in config.departments} and names[civil] == "민원여권과"
    store.purge(midnight)  # the retention purge drops old calls too
    assert store.calls_since(0) == {"connected": 2, "busy": 1}


def test_day_start_is_local_midnight():
    # 2026-11-30 00:30 KST = 2026-11-29 15:30 UTC
    now = dt.datetime(2026, 11, 29, 15, 30, tzinfo=dt.UTC).timestamp()
    assert day_start("Asia/Seoul", now) == dt.datetime(2026, 11, 29, 15, 0, tzinfo=dt.UTC).timestamp()
