"""IVR metrics: protection counters exist at 0 before the first event, so increase() sees it."""

from __future__ import annotations

from ivr.config import DEFAULT_CONFIG, load_config
from ivr.metrics import PROTECTION_KINDS, IvrCollector, IvrStats
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
