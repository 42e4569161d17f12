"""Retention: recordings and protection-event details are deleted once past their retention period.

Run daily by APScheduler inside the service (``IvrService``); every deletion is logged.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from ivr.config import IvrConfig
from ivr.events import EventStore

log = logging.getLogger(__name__)
DAY = 86400.0


@dataclass
class PurgeReport:
    recordings: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)


def purge(config: IvrConfig, store: EventStore, now: float | None = None) -> PurgeReport:
    now = time.time() if now is None else now
    report = PurgeReport()
    rec_dir = config.recordings.local_directory
    rec_cutoff = now - config.recordings.retention_days * DAY
    if rec_dir.is_dir():
        for path in sorted(rec_dir.rglob("*")):
            if not path.is_file() or path.stat().st_mtime >= rec_cutoff:
                continue
            rel = str(path.relative_to(rec_dir))
            try:
                path.unlink()
            except OSError as exc:
                log.error("retention: cannot delete recording %s: %s", path, exc.strerror)
                continue
            store.forget_recording(rel)
            report.recordings.append(rel)
            log.info("retention: deleted recording %s (older than %d days)", rel, config.recordings.retention_days)
    for event_id in store.purge(now - config.events.retention_days * DAY):
        report.events.append(event_id)
        log.info("retention: deleted protection event %s (older than %d days)", event_id,
                 config.events.retention_days)
    return report


def schedule(scheduler, config_getter, store: EventStore, hour: int = 3) -> None:
    """Add the daily purge to an APScheduler scheduler (``config_getter`` returns the live config)."""
    scheduler.add_job(lambda: purge(config_getter(), store), "cron", hour=hour, minute=17,
                      id="ivr-retention", replace_existing=True, coalesce=True, max_instances=1)
