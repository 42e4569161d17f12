"""Decode + aggregate, without any I/O: the part the service's decode thread runs."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from collectors.flows.aggregate import Aggregator
from collectors.flows.decoder import Decoder
from collectors.flows.settings import ExporterPolicy, FlowSettings
from collectors.flows.sites import SiteMap


class FlowEngine:
    """Feed it datagrams; read counters from :attr:`aggregator` and the decoder's statistics.

    ``allowed`` adds exporter addresses to the allow-list of the settings (the application passes
    the inventory's devices).
    """

    def __init__(self, settings: FlowSettings | None = None, sites: SiteMap | None = None,
                 allowed: Iterable[str] = ()):
        self.settings = settings or FlowSettings()
        self.decoder = Decoder(self.settings, allowed)
        self.aggregator = Aggregator(self.settings, sites)
        self.lock = threading.Lock()  # decoder state: taken by the decode thread and by scrapes
        self.busy_seconds = 0.0  # thread CPU time spent decoding and aggregating

    def process(self, datagrams: Iterable[tuple[bytes, str]], now: float | None = None) -> None:
        """Decode a batch of (datagram, exporter address) and add the records to the counters."""
        start = time.thread_time()
        wall = time.perf_counter()
        now = time.monotonic() if now is None else now
        with self.lock:
            feed = self.decoder.feed
            for data, exporter in datagrams:
                feed(data, exporter, now)
            self.decoder.settle(time.thread_time() - start, time.perf_counter() - wall)
            batches = self.decoder.take()
        self._aggregate(batches)
        self.busy_seconds += time.thread_time() - start

    def _aggregate(self, batches: list) -> None:
        for records in batches:
            try:
                self.aggregator.add(records)
            except Exception:
                with self.lock:
                    self.decoder.errors["internal"] += 1

    def tick(self, now: float | None = None) -> None:
        """Periodic work: exporter, template and pending-data expiry, top-talker windows."""
        now = time.monotonic() if now is None else now
        with self.lock:
            self.decoder.expire(now)
            batches = self.decoder.take()  # pending data decoded by templates that just arrived
            forgotten, self.decoder.forgotten = self.decoder.forgotten, []
        self._aggregate(batches)
        for address in forgotten:
            self.aggregator.forget(address)
        self.aggregator.roll(now)

    def set_policy(self, policy: ExporterPolicy, allowed: Iterable[str]) -> None:
        """A new ``flows.exporters`` policy and the addresses allowed besides its list."""
        with self.lock:
            self.decoder.table.policy = policy
            self.decoder.table.set_allowed(allowed)

    def stats(self) -> dict[str, object]:
        """A consistent copy of the decoder's own counters.

        Per-exporter counters are keyed by (address, version, domain) or (address, domain), and
        list only exporters whose records decode: a junk sender's address never shows.
        """
        d = self.decoder
        with self.lock:
            packets: dict[tuple[str, int, int], int] = {}
            records: dict[tuple[str, int, int], int] = {}
            lost_flows: dict[tuple[str, int], int] = {}
            lost_packets: dict[tuple[str, int], int] = {}
            resets: dict[tuple[str, int], int] = {}
            exporters = d.exporters()
            for e in exporters:
                for (version, domain), n in e.packets.items():
                    packets[e.address, version, domain] = n
                for (version, domain), n in e.records.items():
                    records[e.address, version, domain] = n
                for target, source in ((lost_flows, e.lost_flows), (lost_packets, e.lost_packets),
                                       (resets, e.sequence_resets)):
                    for domain, n in source.items():
                        target[e.address, domain] = n
            proven = {e.address for e in exporters}
            return {
                "errors": dict(d.errors),
                "packets": packets,
                "records": records,
                "lost_flows": lost_flows,
                "lost_packets": lost_packets,
                "sequence_resets": resets,
                "templates": {k: v for k, v in d.templates.count_by_exporter().items() if k[0] in proven},
                "waiting": d.waiting(),
                "exporters": sorted(proven),
                "candidates": len(d.table.candidates),
                "refused": dict(d.table.refused),
                "evicted": dict(d.table.evicted),
            }
