"""Prometheus metrics of the IVR, exposed by a custom collector over the controller's live state.

A custom collector (rather than module-level metrics) lets the shared registry of the service
register it once and lets tests create as many controllers as they need.
"""

from __future__ import annotations

import bisect
import threading
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

#: Fine around the 50 ms goal, so that a quantile read from the histogram is close to the truth
#: and "share of events under 50 ms" is exact.
LAG_BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05,
               0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0)
OUTCOMES = ("connected", "busy", "after-hours", "abandoned", "unanswered")


PROTECTION_KINDS = ("warning", "termination", "time-limit-end")


@dataclass(frozen=True)
class TrunkHealth:
    """One trunk as Asterisk last reported it; None where it has not said (no sample is exported)."""

    registered: bool | None  # None also for a trunk that does not register
    reachable: bool | None
    rtt: float | None  # seconds, OPTIONS round trip


class IvrStats:
    """Counters and gauges the controller updates; read by :class:`IvrCollector`."""

    def __init__(self, lines: int = 60, keep_samples: int = 10000):
        self._lock = threading.Lock()
        self.lines = lines
        self.lines_in_use = 0
        self.connected = False
        self.connects = 0
        self.calls: Counter[str] = Counter({o: 0 for o in OUTCOMES})
        self.protection: Counter[tuple[str, str]] = Counter()
        self._lag: dict[str, tuple[list[int], list[float]]] = {}  # event -> (bucket counts, [sum])
        self.lag_samples: deque[float] = deque(maxlen=keep_samples)
        self.trunks: dict[str, TrunkHealth] = {}
        self.holidays_last_date: float | None = None  # Unix seconds of the last date the holiday list covers

    def call_ended(self, outcome: str) -> None:
        with self._lock:
            self.calls[outcome] += 1

    def expect_departments(self, departments: Iterable[str]) -> None:
        """Publish 0 for every protected department and event kind before its first event.

        A counter that appears at 1 hides its first increase from ``increase()`` and ``rate()``,
        so "protection events today" and the surge alert would miss each department's first event.
        """
        with self._lock:
            for department in departments:
                for kind in PROTECTION_KINDS:
                    self.protection.setdefault((department, kind), 0)

    def protection_event(self, department: str, kind: str) -> None:
        with self._lock:
            self.protection[(department, kind)] += 1

    def observe_lag(self, seconds: float, event: str = "other") -> None:
        """One handled AMI event (``event``: call-start, protection, call-end, ...) and its lag."""
        seconds = max(seconds, 0.0)
        with self._lock:
            counts, total = self._lag.get(event) or self._lag.setdefault(event, ([0] * (len(LAG_BUCKETS) + 1), [0.0]))
            counts[bisect.bisect_left(LAG_BUCKETS, seconds)] += 1
            total[0] += seconds
            self.lag_samples.append(seconds)

    def snapshot_lag(self) -> dict[str, tuple[list[tuple[str, float]], float]]:
        """Per event: cumulative buckets ``[(le, count), ...]`` and the sum."""
        out = {}
        with self._lock:
            for event, (counts, total) in sorted(self._lag.items()):
                cumulative, seen = [], 0
                for bound, n in zip((*LAG_BUCKETS, float("inf")), counts, strict=True):
                    seen += n
                    cumulative.append(("+Inf" if bound == float("inf") else repr(bound), float(seen)))
                out[event] = (cumulative, total[0])
        return out


class IvrCollector:
    def __init__(self, stats: IvrStats):
        self.stats = stats

    def describe(self):
        return []

    def collect(self):
        s = self.stats
        g = GaugeMetricFamily("nms_ivr_lines_in_use", "Inbound calls holding one of the licensed lines")
        g.add_metric([], s.lines_in_use)
        yield g
        g = GaugeMetricFamily("nms_ivr_lines", "Licensed lines")
        g.add_metric([], s.lines)
        yield g
        c = CounterMetricFamily("nms_ivr_calls", "Ended inbound calls by outcome", labels=["outcome"])
        for outcome, n in sorted(s.calls.items()):
            c.add_metric([outcome], n)
        yield c
        c = CounterMetricFamily("nms_ivr_protection_events", "Stored staff-protection events",
                                labels=["department", "kind"])
        for (dept, kind), n in sorted(s.protection.items()):
            c.add_metric([dept, kind], n)
        yield c
        g = GaugeMetricFamily("nms_ivr_ami_connected", "1 while the controller is logged in to AMI")
        g.add_metric([], 1 if s.connected else 0)
        yield g
        c = CounterMetricFamily("nms_ivr_ami_connects", "Successful AMI logins (reconnects included)")
        c.add_metric([], s.connects)
        yield c
        yield from _trunk_metrics(dict(s.trunks))
        if s.holidays_last_date is not None:
            g = GaugeMetricFamily("nms_ivr_holidays_last_date",
                                  "The last date the holiday list covers (Unix seconds, midnight local time)")
            g.add_metric([], s.holidays_last_date)
            yield g
        h = HistogramMetricFamily("nms_ivr_event_lag_seconds",
                                  "From the AMI event's timestamp to the end of its handling", labels=["event"])
        for event, (buckets, total) in s.snapshot_lag().items():
            h.add_metric([event], buckets, total)
        yield h


def _trunk_metrics(trunks: dict[str, TrunkHealth]):
    registered = GaugeMetricFamily("nms_ivr_trunk_registered",
                                   "1 while the carrier accepts the trunk's outbound registration", labels=["trunk"])
    reachable = GaugeMetricFamily("nms_ivr_trunk_reachable", "1 while the carrier answers OPTIONS (qualify)",
                                  labels=["trunk"])
    rtt = GaugeMetricFamily("nms_ivr_trunk_rtt_seconds", "Round trip of the last OPTIONS to the carrier",
                            labels=["trunk"])
    for name, health in sorted(trunks.items()):
        if health.registered is not None:
            registered.add_metric([name], 1 if health.registered else 0)
        if health.reachable is not None:
            reachable.add_metric([name], 1 if health.reachable else 0)
        if health.rtt is not None:
            rtt.add_metric([name], health.rtt)
    yield registered
    yield reachable
    yield rtt
