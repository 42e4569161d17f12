"""Decode + aggregate, without any I/O: the part the service's decode thread runs."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from collectors.flows.aggregate import Aggregator
from collectors.flows.decoder import Decoder
from collectors.flows.settings import FlowSettings
from collectors.flows.sites import SiteMap


class FlowEngine:
    """Feed it datagrams; read counters from :attr:`aggregator` and the decoder's statistics."""

    def __init__(self, settings: FlowSettings | None = None, sites: SiteMap | None = None):
        self.settings = settings or FlowSettings()
        self.decoder = Decoder(self.settings)
        self.aggregator = Aggregator(self.settings, sites)
        self.lock = threading.Lock()  # decoder state: taken by the decode thread and by scrapes
        self.busy_seconds = 0.0  # thread CPU time spent decoding and aggregating

    def process(self, datagrams: Iterable[tuple[bytes, str]], now: float | None = None) -> None:
        """Decode a batch of (datagram, exporter address) and add the records to the counters."""
        start = time.thread_time()
        now = time.monotonic() if now is None else now
        with self.lock:
            feed = self.decoder.feed
            for data, exporter in datagrams:
                feed(data, exporter, now)
            batches = self.decoder.take()
        for records in batches:
            try:
                self.aggregator.add(records)
            except Exception:
                with self.lock:
                    self.decoder.errors["internal"] += 1
        self.busy_seconds += time.thread_time() - start

    def tick(self, now: float | None = None) -> None:
        """Periodic work: template and pending-data expiry, top-talker windows."""
        now = time.monotonic() if now is None else now
        with self.lock:
            self.decoder.expire(now)
            batches = self.decoder.take()  # pending data decoded by templates that just arrived
        for records in batches:
            self.aggregator.add(records)
        self.aggregator.roll(now)

    def stats(self) -> dict[str, object]:
        """A consistent copy of the decoder's own counters."""
        d = self.decoder
        with self.lock:
            return {
                "errors": dict(d.errors),
                "packets": dict(d.packets),
                "records": dict(d.records),
                "lost_flows": dict(d.lost_flows),
                "lost_packets": dict(d.lost_packets),
                "sequence_resets": dict(d.sequence_resets),
                "templates": d.templates.count_by_exporter(),
                "waiting": d.waiting(),
                "exporters": sorted(d.exporters),
            }
