"""The monthly job: on the 1st at 06:00 (Asia/Seoul) write the previous month's report into the state directory."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from nms.inventory.models import Inventory
from nms.reports.generate import generate
from nms.reports.period import SEOUL, Period, previous_month
from nms.reports.promapi import PrometheusError

log = logging.getLogger("nms.reports")
D = TypeVar("D")


@dataclass(frozen=True)
class ReportSources:
    inventory: Inventory
    prometheus: str
    events_db: Path | None
    directory: Path


class ReportService(Generic[D]):
    """A :class:`nms.service.Service`: the APScheduler job, and its last run as metrics."""

    name = "reports"

    def __init__(self, district: D, sources_of: Callable[[D], ReportSources]):
        self.sources_of = sources_of
        self.sources = sources_of(district)
        self.scheduler: AsyncIOScheduler | None = None
        self.last_success = 0.0
        self.failures = 0

    async def start(self) -> None:
        self.scheduler = AsyncIOScheduler(timezone=SEOUL)
        # a host that was down at 06:00 on the 1st still writes the report when it comes back that day
        self.scheduler.add_job(self.run_previous_month, CronTrigger(day=1, hour=6, minute=0, timezone=SEOUL),
                               id="monthly-report", coalesce=True, max_instances=1, misfire_grace_time=18 * 3600)
        self.scheduler.start()

    async def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None

    def reload(self, district: D) -> None:
        self.sources = self.sources_of(district)

    async def run_previous_month(self, now: float | None = None) -> list[Path]:
        period = previous_month_of(time.time() if now is None else now)
        return await asyncio.to_thread(self.write, period)

    def write(self, period: Period) -> list[Path]:
        s = self.sources
        try:
            figures, paths = generate(period, s.inventory, s.prometheus, s.events_db, s.directory)
        except (PrometheusError, OSError) as exc:
            self.failures += 1
            log.error("monthly report %s failed: %s", period.label, exc)
            return []
        self.last_success = time.time()
        log.info("monthly report %s written to %s%s", period.label, s.directory,
                 "" if figures.has_data else " (no data for the month)")
        return paths

    def collectors(self) -> list[ReportService[D]]:
        return [self]

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        g = GaugeMetricFamily("nms_report_last_success_timestamp_seconds", "When the last scheduled report was written")
        g.add_metric([], self.last_success)
        yield g
        c = CounterMetricFamily("nms_report_failures", "Scheduled reports that failed since the service started")
        c.add_metric([], self.failures)
        yield c


def previous_month_of(now: float) -> Period:
    from datetime import datetime

    return previous_month(datetime.fromtimestamp(now, SEOUL))
