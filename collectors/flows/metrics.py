"""Prometheus exposition: a custom collector that builds the families at scrape time.

Series that leave the top N are gone at the next scrape because nothing is kept between
scrapes except the counters themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from collectors.flows.engine import FlowEngine
from collectors.flows.exporters import EVICTED_REASONS, REFUSED_REASONS
from collectors.flows.receiver import Receiver
from collectors.flows.sites import SiteMap
from collectors.flows.snapshot import FlowSnapshot, take_snapshot

_VERSIONS = {5: "5", 9: "9", 10: "ipfix"}


def _triple(prefix: str, what: str, labels: list[str], cells: dict) -> Iterator[Metric]:
    families = [CounterMetricFamily(f"{prefix}_{unit}", f"{unit.capitalize()} of flows {what}.", labels=labels)
                for unit in ("bytes", "packets", "flows")]
    for key, totals in sorted(cells.items()):
        for family, value in zip(families, totals, strict=True):
            family.add_metric(list(key), value)
    yield from families


class FlowCollector(Collector):
    """Builds the families from a :class:`FlowSnapshot` (one engine's, or the merge of the workers')."""

    def __init__(self, source: Callable[[], FlowSnapshot], sites: Callable[[], SiteMap]):
        self.source = source
        self.sites = sites

    @classmethod
    def for_engine(cls, engine: FlowEngine, receiver: Callable[[], Receiver | None] = lambda: None
                   ) -> FlowCollector:
        return cls(lambda: take_snapshot(engine, receiver()), lambda: engine.aggregator.sites)

    def describe(self) -> list[Metric]:
        return []  # families are built at scrape time; nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        snap = self.source()
        yield from _triple("nms_flow", "by exporter, observation domain (v9: source ID), interface and direction "
                           "(in: input interface, out: output interface)",
                           ["exporter", "domain", "interface", "direction"],
                           {(e, str(d), i, r): v for (e, d, i, r), v in snap.interfaces.items()})
        yield from _triple("nms_flow_protocol", "by IP protocol", ["protocol"],
                           {(k,): v for k, v in snap.protocols.items()})
        yield from _triple("nms_flow_observed", "by exporter, observation domain and flowDirection (IE 61) where "
                           "the exporter sends it (ingress, egress)", ["exporter", "domain", "observed"],
                           {(e, str(d), o): v for (e, d, o), v in snap.observed.items()})
        yield from _triple("nms_flow_service", "by protocol and well-known port (other: any other port)",
                           ["protocol", "port"], snap.services)
        yield from _triple("nms_flow_site", "by site and category (out: sent by the site, in: received)",
                           ["site", "category", "direction"], snap.sites)

        top = GaugeMetricFamily("nms_flow_top_talker_bytes",
                                "Bytes sent by the top talkers in the last complete window.",
                                labels=["address", "site", "rank"])
        sites = self.sites()
        for rank, (address, nbytes) in enumerate(snap.talkers(), start=1):
            top.add_metric([address, sites.site_of(address)[0], str(rank)], nbytes)
        yield top
        yield GaugeMetricFamily("nms_flow_top_talker_window_seconds", "Length of a top-talker window.",
                                value=snap.window)

        for name, key, text in (("nms_flow_export_packets", "packets", "Export datagrams decoded, by exporter."),
                                ("nms_flow_records", "records", "Flow records received, by exporter.")):
            family = CounterMetricFamily(name, text, labels=["exporter", "domain", "version"])
            for (exporter, version, domain), value in sorted(getattr(snap, key).items()):
                family.add_metric([exporter, str(domain), _VERSIONS.get(version, str(version))], value)
            yield family
        errors = CounterMetricFamily("nms_flow_decode_errors", "Datagrams or sets that could not be decoded.",
                                     labels=["reason"])
        for reason, value in sorted(snap.errors.items()):
            errors.add_metric([reason], value)
        yield errors
        refused = CounterMetricFamily("nms_flow_refused_datagrams",
                                      "Datagrams not decoded, by reason (bad_header: not NetFlow/IPFIX, detailed in "
                                      "nms_flow_decode_errors; not_allowed: sender not on the allow-list; cpu_budget: "
                                      "the sender used its decode CPU; domain_limit: too many observation domains; "
                                      "queue_full: the decode queue was full).", labels=["reason"])
        for reason in REFUSED_REASONS:
            refused.add_metric([reason], snap.refused.get(reason, 0))
        yield refused
        evicted = CounterMetricFamily("nms_flow_exporters_evicted",
                                      "Exporters and candidates forgotten with their state, by reason "
                                      "(idle: silent past the idle timeout; "
                                      "no_records: a candidate whose records never decoded; "
                                      "candidates_full, exporters_full, templates_full: room made for a newer sender).",
                                      labels=["reason"])
        for reason in EVICTED_REASONS:
            evicted.add_metric([reason], snap.evicted.get(reason, 0))
        yield evicted
        yield GaugeMetricFamily("nms_flow_exporters", "Exporters whose records decode.", value=len(snap.exporters))
        yield GaugeMetricFamily("nms_flow_exporter_candidates",
                                "Senders with a valid header whose records have not decoded yet.",
                                value=snap.candidates)
        templates = GaugeMetricFamily("nms_flow_templates", "Templates known.", labels=["exporter", "domain", "kind"])
        for (exporter, domain, kind), value in sorted(snap.templates.items()):
            templates.add_metric([exporter, str(domain), kind], value)
        yield templates
        yield GaugeMetricFamily("nms_flow_waiting_sets", "Data sets waiting for their template.",
                                value=snap.waiting_sets)
        yield GaugeMetricFamily("nms_flow_waiting_bytes", "Bytes of data waiting for their template.",
                                value=snap.waiting_bytes)
        for name, key, text in (
            ("nms_flow_sequence_lost_flows", "lost_flows",
             "Flows lost according to sequence numbers (NetFlow v9: estimated from lost packets)."),
            ("nms_flow_sequence_lost_packets", "lost_packets", "NetFlow v9 export packets lost (sequence gaps)."),
            ("nms_flow_sequence_resets", "sequence_resets", "Sequence numbers that went backwards or jumped."),
        ):
            family = CounterMetricFamily(name, text, labels=["exporter", "domain"])
            for (exporter, domain), value in sorted(getattr(snap, key).items()):
                family.add_metric([exporter, str(domain)], value)
            yield family
        yield CounterMetricFamily("nms_flow_decode_cpu_seconds", "Thread CPU time spent decoding and aggregating.",
                                  value=snap.busy_seconds)
        yield GaugeMetricFamily("nms_flow_receive_workers", "Receive processes (flows.workers).", value=snap.workers)
        if snap.received is not None:
            yield CounterMetricFamily("nms_flow_datagrams_received", "UDP datagrams received.", value=snap.received)
            yield CounterMetricFamily("nms_flow_queue_dropped",
                                      "Datagrams dropped because the decode queue was full.",
                                      value=snap.refused.get("queue_full", 0))
            yield GaugeMetricFamily("nms_flow_queue_length", "Datagrams waiting to be decoded.",
                                    value=snap.queue_length)
            yield GaugeMetricFamily("nms_flow_queue_bytes", "Bytes of datagrams waiting to be decoded.",
                                    value=snap.queue_bytes)
            yield GaugeMetricFamily("nms_flow_receive_buffer_bytes", "The sockets' receive buffers.",
                                    value=snap.receive_buffer)
        if snap.kernel_drops is not None:
            yield CounterMetricFamily("nms_flow_kernel_receive_drops",
                                      "Datagrams the kernel dropped for the sockets (/proc/net/udp).",
                                      value=snap.kernel_drops)
