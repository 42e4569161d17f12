"""The report's figures, read from Prometheus (the recording rules of configs/prometheus/recording.yml)
and from the IVR event store. Nothing comes from the running service's memory.

Conventions:
- a period figure of a gauge rule is ``avg_over_time`` / ``max_over_time`` of its 15-minute samples
  over the period, asked at the period's end (or now, for the current period);
- a daily figure is the same over one day, from ``query_range`` with a one-day step at Asia/Seoul
  midnights;
- a count (calls, traffic) is summed from consecutive samples of a recorded counter sum, without
  extrapolation; a drop means the service restarted, and the new value is the increase;
- a figure without samples is None, never 0: the report prints "데이터 없음".
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from ivr.events import count_events
from nms.inventory.models import Category, DeviceRole, DeviceStatus, Inventory, Site
from nms.inventory.summary import summarize
from nms.reports.period import SEOUL, Period
from nms.reports.promapi import PrometheusClient, Series

DAY = 86400.0
#: Samples before the period's start looked at for a counter's baseline (rules record every 15 minutes).
COUNTER_LOOKBACK = 3600.0
OUTCOMES = ("connected", "busy", "after-hours", "abandoned", "unanswered")
KINDS = ("warning", "termination", "time-limit-end")

Daily = dict[date, float | None]


@dataclass
class Figures:
    period: Period
    start: float  # unix seconds
    end: float  # the period's end, or now if earlier
    generated: float
    inventory: dict[str, dict[str, dict[str, int]]]  # by_category / by_year -> label -> sites, aps, planned_aps
    sites: list[Site] = field(default_factory=list)  # for the map
    availability: float | None = None
    availability_previous: float | None = None
    availability_by_category: dict[str, float | None] = field(default_factory=dict)
    availability_by_group: dict[str, float | None] = field(default_factory=dict)
    worst_sites: list[tuple[str, str, str, float]] = field(default_factory=list)  # id, name, category, ratio
    site_availability: dict[str, float] = field(default_factory=dict)
    availability_daily: dict[str, Daily] = field(default_factory=dict)  # category -> day -> ratio
    clients_mean: dict[str, float | None] = field(default_factory=dict)
    clients_peak: dict[str, float | None] = field(default_factory=dict)
    clients_mean_daily: dict[str, Daily] = field(default_factory=dict)
    clients_peak_daily: dict[str, Daily] = field(default_factory=dict)
    traffic_in: dict[str, float | None] = field(default_factory=dict)  # bytes
    traffic_out: dict[str, float | None] = field(default_factory=dict)
    traffic_daily: dict[str, Daily] = field(default_factory=dict)  # in + out bytes per day
    lines_peak: float | None = None
    lines_mean: float | None = None
    lines_licensed: float | None = None
    calls: dict[str, int] | None = None
    protection: dict[tuple[str, str], int] | None = None

    @property
    def has_data(self) -> bool:
        return self.availability is not None or self.calls is not None or bool(self.protection)


def inventory_tables(inventory: Inventory, period: Period) -> dict[str, dict[str, dict[str, int]]]:
    """The seed's two tables as of the period's end: installed APs (and their sites), and planned APs.

    An AP whose install year is after the period counts as planned for that period.
    """
    last_year = period.end.year if period.end.month > 1 or period.end.day > 1 else period.end.year - 1
    sites = inventory.site_by_id()

    def year_of(d) -> int | None:
        return d.installed if d.installed is not None else sites[d.site].installed if d.site in sites else None

    def future(d) -> bool:
        y = year_of(d)
        return d.status is DeviceStatus.PLANNED or (y is not None and y > last_year)

    installed = inventory.model_copy(update={"devices": [d for d in inventory.devices if not future(d)]})
    planned_aps = [d for d in inventory.devices if future(d) and d.role is DeviceRole.AP]
    planned = inventory.model_copy(update={"devices": [d.model_copy(update={"status": DeviceStatus.ACTIVE})
                                                       for d in planned_aps]})
    now, plan = summarize(installed), summarize(planned)
    out: dict[str, dict[str, dict[str, int]]] = {}
    for table in ("by_category", "by_year"):
        out[table] = {}
        for label in [*now[table], *(k for k in plan[table] if k not in now[table])]:
            row = now[table].get(label, {"sites": 0, "aps": 0})
            out[table][label] = {"sites": row["sites"], "aps": row["aps"],
                                 "planned_aps": plan[table].get(label, {"aps": 0})["aps"]}
    return out


def _value(series: list[Series]) -> float | None:
    if not series:
        return None
    v = series[0].samples[-1][1]
    return None if math.isnan(v) else v


def _by(series: list[Series], label: str) -> dict[str, float]:
    return {s.labels.get(label, ""): s.samples[-1][1] for s in series if not math.isnan(s.samples[-1][1])}


def _day_of(t: float) -> date:
    """The day a sample summarises: a sample at 00:00 covers the 15 minutes before midnight."""
    return (datetime.fromtimestamp(t - 1e-3, SEOUL)).date()


class Collector:
    """Asks Prometheus and the event store for one period's figures."""

    def __init__(self, client: PrometheusClient, events_db: Path | None):
        self.client = client
        self.events_db = events_db

    def _range(self, start: float, end: float) -> str:
        return f"{max(1, round(end - start))}s"

    def _period_query(self, expr: str, start: float, end: float) -> list[Series]:
        return self.client.query(expr.replace("$R", self._range(start, end)), end)

    def _daily(self, expr: str, period: Period, label: str) -> dict[str, Daily]:
        """``expr`` with ``[1d]`` windows, at every Asia/Seoul midnight that ends a day of the period."""
        days = period.days()
        first_end = period.start.timestamp() + DAY
        out: dict[str, Daily] = defaultdict(dict)
        # one query_range point per day: the day ending at that midnight (days are 24 h in Asia/Seoul)
        for s in self.client.query_range(expr, first_end, period.end.timestamp(), DAY):
            key = s.labels.get(label, "")
            for t, v in s.samples:
                index = round((t - first_end) / DAY)
                if 0 <= index < len(days) and not math.isnan(v):
                    out[key][days[index]] = v
        return dict(out)

    def _counts(self, expr: str, start: float, end: float, label: str) -> tuple[dict[str, float], dict[str, Daily]]:
        """Exact increases of a recorded counter sum within (start, end], in total and per day."""
        found = self.client.query(f"{expr}[{self._range(start - COUNTER_LOOKBACK, end)}]", end)
        totals: dict[str, float] = {}
        daily: dict[str, Daily] = {}
        for s in found:
            key = s.labels.get(label, "")
            before = [v for t, v in s.samples if t <= start]
            previous = before[-1] if before else 0.0  # a series born in the period started from 0
            total, per_day = 0.0, defaultdict(float)
            for t, v in s.samples:
                if t <= start:
                    continue
                step = v - previous if v >= previous else v
                previous = v
                total += step
                per_day[_day_of(t)] += step
            totals[key] = total
            daily[key] = dict(per_day)
        return totals, daily

    def collect(self, period: Period, inventory: Inventory, now: float | None = None) -> Figures:
        now = time.time() if now is None else now
        start, end = period.start.timestamp(), min(period.end.timestamp(), now)
        fig = Figures(period, start, end, now, inventory_tables(inventory, period), list(inventory.sites))
        if end <= start:  # a period in the future
            return fig
        q = self._period_query
        fig.availability = _value(q("avg_over_time(district:nms_ap_up:avg15m[$R])", start, end))
        prev = period.previous()
        fig.availability_previous = _value(q("avg_over_time(district:nms_ap_up:avg15m[$R])",
                                             prev.start.timestamp(), prev.end.timestamp()))
        by_cat = _by(q("avg_over_time(category:nms_ap_up:avg15m[$R])", start, end), "category")
        fig.availability_by_category = {c.value: by_cat.get(c.value) for c in Category}
        fig.availability_by_group = dict(sorted(
            _by(q("avg_over_time(installed_group:nms_ap_up:avg15m[$R])", start, end), "installed_group").items()))
        fig.site_availability = _by(q("avg_over_time(site:nms_ap_up:avg15m[$R])", start, end), "site")
        sites = inventory.site_by_id()
        ranked = sorted(fig.site_availability.items(), key=lambda kv: (kv[1], kv[0]))[:10]
        fig.worst_sites = [(sid, sites[sid].name if sid in sites else sid,
                            sites[sid].category.value if sid in sites else "", v) for sid, v in ranked]
        fig.availability_daily = self._daily("avg_over_time(category:nms_ap_up:avg15m[1d])", period, "category")

        mean = _by(q("avg_over_time(category:nms_ap_clients:avg15m[$R])", start, end), "category")
        peak = _by(q("max_over_time(category:nms_ap_clients:max15m[$R])", start, end), "category")
        fig.clients_mean = {c.value: mean.get(c.value) for c in Category}
        fig.clients_peak = {c.value: peak.get(c.value) for c in Category}
        fig.clients_mean_daily = self._daily("avg_over_time(category:nms_ap_clients:avg15m[1d])", period, "category")
        fig.clients_peak_daily = self._daily("max_over_time(category:nms_ap_clients:max15m[1d])", period, "category")

        t_in, d_in = self._counts("category:nms_site_in_octets:sum", start, end, "category")
        t_out, d_out = self._counts("category:nms_site_out_octets:sum", start, end, "category")
        fig.traffic_in = {c.value: t_in.get(c.value) for c in Category}
        fig.traffic_out = {c.value: t_out.get(c.value) for c in Category}
        for c in {*d_in, *d_out}:
            days = {*d_in.get(c, {}), *d_out.get(c, {})}
            fig.traffic_daily[c] = {d: d_in.get(c, {}).get(d, 0.0) + d_out.get(c, {}).get(d, 0.0) for d in sorted(days)}

        fig.lines_peak = _value(q("max_over_time(nms_ivr_lines_in_use:max15m[$R])", start, end))
        fig.lines_mean = _value(q("avg_over_time(nms_ivr_lines_in_use:avg15m[$R])", start, end))
        fig.lines_licensed = _value(q("max_over_time(nms_ivr_lines:max15m[$R])", start, end))
        calls, _ = self._counts("outcome:nms_ivr_calls:sum", start, end, "outcome")
        if calls:
            fig.calls = {o: round(calls.get(o, 0.0)) for o in (*OUTCOMES, *sorted(set(calls) - set(OUTCOMES)))}
        if self.events_db is not None:
            protection = count_events(self.events_db, start, end)
            # no event is a real 0 only if the IVR was seen running in the period
            fig.protection = protection if protection or fig.calls is not None else None
        return fig



def recent_site_availability(client: PrometheusClient, window: str = "1d") -> dict[str, float]:
    """Each site's availability over the last ``window`` (the admin page's map)."""
    return _by(client.query(f"avg_over_time(site:nms_ap_up:avg15m[{window}])", time.time()), "site")
