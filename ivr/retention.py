"""Retention: recordings and protection-event details are deleted once past their retention period.

Run daily by APScheduler inside the service (``IvrService``); every deletion is logged.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from ivr.config import IvrConfig
from ivr.events import EventStore, LegalHold

log = logging.getLogger(__name__)
DAY = 86400.0


@dataclass
class PurgeReport:
    recordings: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    held: list[LegalHold] = field(default_factory=list)  # holds that kept something past retention


def purge(config: IvrConfig, store: EventStore, now: float | None = None) -> PurgeReport:
    """Delete what is past retention, except what a legal hold keeps (skipped, logged and listed)."""
    now = time.time() if now is None else now
    report = PurgeReport()
    holds = store.holds(now)
    held_recordings = {h.recording: h for h in holds if h.recording}
    kept: dict[str, LegalHold] = {}
    rec_dir = config.recordings.local_directory
    rec_cutoff = now - config.recordings.retention_days * DAY
    if rec_dir.is_dir():
        for path in sorted(rec_dir.rglob("*")):
            if not path.is_file() or path.stat().st_mtime >= rec_cutoff:
                continue
            rel = str(path.relative_to(rec_dir))
            hold = held_recordings.get(rel)
            if hold is not None:
                kept[hold.event_id] = hold
                log.info("retention: kept recording %s past retention: legal hold on event %s until %s",
                         rel, hold.event_id, _day(hold.expires))
                continue
            try:
                path.unlink()
            except OSError as exc:
                log.error("retention: cannot delete recording %s: %s", path, exc.strerror)
                continue
            store.forget_recording(rel)
            report.recordings.append(rel)
            log.info("retention: deleted recording %s (older than %d days)", rel, config.recordings.retention_days)
    event_cutoff = now - config.events.retention_days * DAY
    old_held = {e["event_id"] for e in store.events_by_id([h.event_id for h in holds]) if e["time"] < event_cutoff}
    for hold in holds:
        if hold.event_id in old_held:
            kept[hold.event_id] = hold
            log.info("retention: kept protection event %s past retention: legal hold until %s",
                     hold.event_id, _day(hold.expires))
    for event_id in store.purge(event_cutoff, now):
        report.events.append(event_id)
        log.info("retention: deleted protection event %s (older than %d days)", event_id,
                 config.events.retention_days)
    report.held = sorted(kept.values(), key=lambda h: (h.expires, h.event_id))
    if report.held:
        log.info("retention: %d legal holds kept items past retention: %s", len(report.held),
                 ", ".join(f"{h.event_id} (until {_day(h.expires)})" for h in report.held))
    return report


def _day(ts: float) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(ts))


def schedule(scheduler, config_getter, store: EventStore, hour: int = 3) -> None:
    """Add the daily purge to an APScheduler scheduler (``config_getter`` returns the live config)."""
    scheduler.add_job(lambda: purge(config_getter(), store), "cron", hour=hour, minute=17,
                      id="ivr-retention", replace_existing=True, coalesce=True, max_instances=1)
