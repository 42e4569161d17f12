"""One report: collect the figures, write ``report-<period>.pdf`` and ``.xlsx`` into a directory."""

from __future__ import annotations

from pathlib import Path

from nms.inventory.models import Inventory
from nms.reports.figures import Collector, Figures
from nms.reports.pdf import write_pdf
from nms.reports.period import Period
from nms.reports.promapi import PrometheusClient
from nms.reports.xlsx import write_xlsx


def file_stem(period: Period) -> str:
    return f"report-{period.kind}-{period.label}"


def generate(period: Period, inventory: Inventory, prometheus_url: str, events_db: Path | None, out: Path,
             now: float | None = None) -> tuple[Figures, list[Path]]:
    figures = Collector(PrometheusClient(prometheus_url), events_db).collect(period, inventory, now)
    stem = file_stem(period)
    return figures, [write_pdf(figures, out / f"{stem}.pdf"), write_xlsx(figures, out / f"{stem}.xlsx")]
