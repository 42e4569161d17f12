"""A plain-data copy of everything the collector exposes, and the merge of several.

With ``flows.workers`` > 1 each receive process sends its snapshot to the service, which sums
them into one /metrics. Every exporter is decoded by exactly one process, so the sum counts
each record once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from collectors.flows.engine import FlowEngine
from collectors.flows.receiver import Receiver
from collectors.flows.talkers import TalkerTable, top_of

Cells = dict  # key tuple -> [bytes, packets, flows]


@dataclass
class FlowSnapshot:
    interfaces: Cells = field(default_factory=dict)
    services: Cells = field(default_factory=dict)
    protocols: Cells = field(default_factory=dict)
    sites: Cells = field(default_factory=dict)
    observed: Cells = field(default_factory=dict)
    talker_tables: list[list[TalkerTable]] = field(default_factory=list)  # per process: last complete windows
    top_n: int = 10
    window: float = 60.0
    errors: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)
    evicted: dict[str, int] = field(default_factory=dict)
    packets: dict[tuple[str, int, int], int] = field(default_factory=dict)
    records: dict[tuple[str, int, int], int] = field(default_factory=dict)
    lost_flows: dict[tuple[str, int], int] = field(default_factory=dict)
    lost_packets: dict[tuple[str, int], int] = field(default_factory=dict)
    sequence_resets: dict[tuple[str, int], int] = field(default_factory=dict)
    templates: dict[tuple[str, int, str], int] = field(default_factory=dict)
    exporters: list[str] = field(default_factory=list)
    candidates: int = 0
    waiting_sets: int = 0
    waiting_bytes: int = 0
    busy_seconds: float = 0.0
    received: int | None = None  # None: no socket (an engine fed directly)
    queue_length: int = 0
    queue_bytes: int = 0
    receive_buffer: int = 0
    kernel_drops: int | None = None
    workers: int = 1

    def talkers(self) -> list[tuple[str, int]]:
        """Top talkers of the last window that every process has completed."""
        if not self.talker_tables:
            return []
        latest = [tables[-1].index if tables else None for tables in self.talker_tables]
        if any(i is None for i in latest):
            return []  # some process has not completed a window yet
        index = min(i for i in latest if i is not None)
        chosen = [t for tables in self.talker_tables for t in tables if t.index == index]
        return top_of(chosen, self.top_n)


def take_snapshot(engine: FlowEngine, receiver: Receiver | None = None) -> FlowSnapshot:
    stats = engine.stats()
    agg = engine.aggregator.snapshot(set(stats["exporters"]))  # a candidate's address is no label
    with engine.aggregator.lock:
        tables = list(engine.aggregator.talkers.tables)
    snap = FlowSnapshot(
        interfaces=agg["interfaces"], services=agg["services"], protocols=agg["protocols"], sites=agg["sites"],
        observed=agg["observed"], talker_tables=[tables], top_n=engine.settings.top_n, window=agg["window"],
        errors=stats["errors"], refused=stats["refused"], evicted=stats["evicted"], packets=stats["packets"],
        records=stats["records"], lost_flows=stats["lost_flows"], lost_packets=stats["lost_packets"],
        sequence_resets=stats["sequence_resets"], templates=stats["templates"], exporters=stats["exporters"],
        candidates=stats["candidates"], waiting_sets=stats["waiting"][0], waiting_bytes=stats["waiting"][1],
        busy_seconds=engine.busy_seconds)
    if receiver is not None:
        snap.received = receiver.received
        snap.queue_length, snap.queue_bytes = receiver.waiting()
        snap.receive_buffer = receiver.buffer_size
        snap.kernel_drops = receiver.kernel_drops()
        if receiver.queue_dropped:
            snap.refused["queue_full"] = snap.refused.get("queue_full", 0) + receiver.queue_dropped
    return snap


def _add_counts(target: dict, source: dict) -> None:
    for key, value in source.items():
        target[key] = target.get(key, 0) + value


def _add_cells(target: Cells, source: Cells) -> None:
    for key, (b, p, f) in source.items():
        cell = target.get(key)
        if cell is None:
            target[key] = [b, p, f]
        else:
            cell[0] += b
            cell[1] += p
            cell[2] += f


def merge(snapshots: Iterable[FlowSnapshot]) -> FlowSnapshot:
    """The sum of the processes' snapshots."""
    out = FlowSnapshot(workers=0)
    for snap in snapshots:
        out.workers += 1
        for name in ("interfaces", "services", "protocols", "sites", "observed"):
            _add_cells(getattr(out, name), getattr(snap, name))
        for name in ("errors", "refused", "evicted", "packets", "records", "lost_flows", "lost_packets",
                     "sequence_resets", "templates"):
            _add_counts(getattr(out, name), getattr(snap, name))
        out.talker_tables += snap.talker_tables
        out.top_n, out.window = snap.top_n, snap.window
        out.exporters = sorted(set(out.exporters) | set(snap.exporters))
        out.candidates += snap.candidates
        out.waiting_sets += snap.waiting_sets
        out.waiting_bytes += snap.waiting_bytes
        out.busy_seconds += snap.busy_seconds
        if snap.received is not None:
            out.received = (out.received or 0) + snap.received
            out.queue_length += snap.queue_length
            out.queue_bytes += snap.queue_bytes
            out.receive_buffer += snap.receive_buffer
        if snap.kernel_drops is not None:
            out.kernel_drops = (out.kernel_drops or 0) + snap.kernel_drops
    return out
