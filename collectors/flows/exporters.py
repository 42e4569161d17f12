"""Exporters: who is admitted, what one may cost, and when it is forgotten.

A sender is admitted only after a valid NetFlow/IPFIX header, and only from an allowed address
when an allow-list is in force. It starts as a *candidate*; two datagrams in a row whose records
decode and whose sequence numbers follow on make it an *exporter* (a spoofed sender that repeats
one datagram, or sends one, stays a candidate). The two live in separate LRU tables, so any number of junk
senders (spoofed addresses cost an attacker nothing) only churn the candidate table and never
displace a working exporter. Both tables forget what stays silent past its timeout.

Refusals and evictions are counted by reason, from small fixed sets: a sender's address is
never a label value until its records decode.
"""

from __future__ import annotations

import ipaddress
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from collectors.flows.settings import ExporterPolicy

#: Reasons a datagram is not decoded (``nms_flow_refused_datagrams_total``).
REFUSED_REASONS = ("bad_header", "not_allowed", "cpu_budget", "domain_limit", "queue_full")
#: Reasons an exporter or candidate is forgotten (``nms_flow_exporters_evicted_total``).
EVICTED_REASONS = ("idle", "no_records", "candidates_full", "exporters_full", "templates_full")

_ALLOW_CACHE = 65_536
_BUCKET_SECONDS = 2.0
_SCAN = 64  # candidates looked at for one to evict


@dataclass(eq=False)
class Exporter:
    """One sending address and what it costs. Counters are per (version, domain)."""

    address: str
    last_seen: float
    tokens: float
    stamp: float  # the clock of the last CPU-budget refill
    proven: bool = False
    good: int = 0  # datagrams in a row whose records decoded and whose sequence numbers followed on
    seen_records: int = 0
    charge: float = 0.0  # wall seconds spent in the current batch, not yet taken from ``tokens``
    domains: set[tuple[int, int]] = field(default_factory=set)  # (version, observation domain)
    packets: Counter[tuple[int, int]] = field(default_factory=Counter)
    records: Counter[tuple[int, int]] = field(default_factory=Counter)
    lost_flows: Counter[int] = field(default_factory=Counter)
    lost_packets: Counter[int] = field(default_factory=Counter)
    sequence_resets: Counter[int] = field(default_factory=Counter)


class ExporterTable:
    """Candidates and exporters by address, with the policy's limits.

    ``on_evict`` is called with each forgotten exporter, so that its templates, pending data and
    sequence state go with it.
    """

    def __init__(self, policy: ExporterPolicy, allowed: Iterable[str] = (),
                 on_evict: Callable[[Exporter], None] | None = None):
        self.policy = policy
        self.on_evict = on_evict
        self.exporters: dict[str, Exporter] = {}  # the decoder looks them up itself, on every datagram
        self.candidates: OrderedDict[str, Exporter] = OrderedDict()  # least recently heard first
        self.refused: Counter[str] = Counter()
        self.evicted: Counter[str] = Counter()
        self._hosts: set[str] = set()
        self._networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self._verdicts: dict[str, bool] = {}
        self.set_allowed(allowed)

    def set_allowed(self, extra: Iterable[str] = ()) -> None:
        """The allow-list: the policy's own entries plus ``extra`` (e.g. the inventory's devices).
        It is in force only when the policy lists some: an empty ``flows.exporters.allow`` admits
        any sender with a valid header (each still within its budgets)."""
        hosts: set[str] = set()
        networks = []
        for item in [*self.policy.allow, *extra] if self.policy.allow else []:
            net = ipaddress.ip_network(item, strict=False)
            if net.num_addresses == 1:
                hosts.add(str(net.network_address))
            else:
                networks.append(net)
        self._hosts, self._networks, self._verdicts = hosts, networks, {}

    @property
    def open(self) -> bool:
        """True when any sender with a valid header is admitted (no allow-list in force)."""
        return not self._hosts and not self._networks

    def allowed(self, address: str) -> bool:
        if self.open or address in self._hosts:
            return True
        verdict = self._verdicts.get(address)
        if verdict is None:
            try:
                ip = ipaddress.ip_address(address.split("%", 1)[0])
            except ValueError:
                return False
            mapped = getattr(ip, "ipv4_mapped", None)
            verdict = any(ip in net or (mapped is not None and mapped in net) for net in self._networks) or (
                mapped is not None and str(mapped) in self._hosts)
            if len(self._verdicts) >= _ALLOW_CACHE:
                self._verdicts.clear()
            self._verdicts[address] = verdict
        return verdict

    def admit(self, address: str, now: float, clock: float) -> Exporter | None:
        """The exporter or candidate for a datagram with a valid header (None: refused)."""
        exporter = self.exporters.get(address)
        if exporter is None:
            exporter = self.candidates.get(address)
            if exporter is not None:
                self.candidates.move_to_end(address)
            elif not self.allowed(address):
                self.refused["not_allowed"] += 1
                return None
            else:
                if len(self.candidates) >= self.policy.max_candidates:
                    self._evict(self.candidates, self._least_promising(), "candidates_full")
                exporter = Exporter(address, now, self.policy.cpu_per_second, clock)
                self.candidates[address] = exporter
        exporter.last_seen = now
        return exporter

    def _least_promising(self) -> str:
        """The candidate to make room with: the least recently heard one that has not yet sent
        records in sequence (among the oldest few), else the least recently heard."""
        for i, (address, candidate) in enumerate(self.candidates.items()):
            if not candidate.good:
                return address
            if i >= _SCAN:
                break
        return next(iter(self.candidates))

    def has_budget(self, exporter: Exporter, clock: float, ratio: float = 1.0) -> bool:
        """Refill the exporter's CPU budget (a token bucket of two seconds' worth) and check it.
        ``ratio`` turns the batch's wall time so far into CPU time (see :meth:`Decoder.settle`)."""
        rate = self.policy.cpu_per_second
        exporter.tokens = min(_BUCKET_SECONDS * rate, exporter.tokens + (clock - exporter.stamp) * rate)
        exporter.stamp = clock
        if exporter.tokens - exporter.charge * ratio > 0:
            return True
        self.refused["cpu_budget"] += 1
        return False

    def add_domain(self, exporter: Exporter, version: int, domain: int) -> bool:
        key = (version, domain)
        if key in exporter.domains:
            return True
        if len(exporter.domains) >= self.policy.max_domains:
            self.refused["domain_limit"] += 1
            return False
        exporter.domains.add(key)
        return True

    def promote(self, exporter: Exporter) -> None:
        """This candidate is an exporter now."""
        if exporter.proven:
            return
        self.candidates.pop(exporter.address, None)
        if len(self.exporters) >= self.policy.max_exporters:
            oldest = min(self.exporters.values(), key=lambda e: e.last_seen)
            self._evict(self.exporters, oldest.address, "exporters_full")
        exporter.proven = True
        self.exporters[exporter.address] = exporter

    def expire(self, now: float) -> None:
        idle = [a for a, e in self.exporters.items() if now - e.last_seen > self.policy.idle_timeout]
        for address in idle:
            self._evict(self.exporters, address, "idle")
        while self.candidates:
            address, candidate = next(iter(self.candidates.items()))
            if now - candidate.last_seen <= self.policy.candidate_timeout:
                break
            self._evict(self.candidates, address, "no_records")

    def evict_candidate(self, address: str, reason: str) -> None:
        self._evict(self.candidates, address, reason)

    def _evict(self, table: dict[str, Exporter], address: str, reason: str) -> None:
        exporter = table.pop(address)
        self.evicted[reason] += 1
        if self.on_evict is not None:
            self.on_evict(exporter)

    def senders(self) -> list[Exporter]:
        """Exporters and candidates."""
        return [*self.exporters.values(), *self.candidates.values()]

    def get(self, address: str) -> Exporter | None:
        return self.exporters.get(address) or self.candidates.get(address)

    def __len__(self) -> int:
        return len(self.exporters) + len(self.candidates)
