"""FlowService: the collector as a part of the NMS service.

``flows.workers`` 1: a receive thread and a decode thread in the service's process.
More: that many receive processes on the same port (see :mod:`collectors.flows.workers`).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable

from collectors.flows.engine import FlowEngine
from collectors.flows.metrics import FlowCollector
from collectors.flows.receiver import Receiver
from collectors.flows.settings import FlowDistrict, FlowSettings
from collectors.flows.sites import SiteMap
from collectors.flows.snapshot import FlowSnapshot, take_snapshot
from collectors.flows.workers import WorkerPool, run_decoder
from nms.inventory.models import Inventory


def inventory_exporters(inventory: Inventory) -> list[str]:
    """The inventory's device addresses: allowed to export flows by default (``flows.exporters.inventory``)."""
    return sorted({str(d.address) for d in inventory.devices if getattr(d, "address", None)})


class FlowService:
    """``FlowService(district)``, or ``FlowService(settings=..., sites=..., allowed=...)`` standalone.

    ``allowed`` are exporter addresses allowed on top of ``flows.exporters.allow``; from a district
    they are its inventory's devices (unless ``flows.exporters.inventory`` is false).
    """

    name = "flows"

    def __init__(self, district: FlowDistrict | None = None, settings: FlowSettings | None = None,
                 sites: SiteMap | None = None, allowed: Iterable[str] | None = None):
        if settings is None:
            settings = getattr(getattr(district, "settings", None), "flows", None) or FlowSettings()
        self.settings = settings
        if sites is None and district is not None:
            sites = SiteMap.from_inventory(district.inventory)
        if allowed is None:
            allowed = self._inventory_allowed(district)
        self.allowed = list(allowed)
        self.engine = FlowEngine(settings, sites, self.allowed)
        self.receiver: Receiver | None = None
        self.pool: WorkerPool | None = None
        self._collector = FlowCollector(self.snapshot, lambda: self.engine.aggregator.sites)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _inventory_allowed(self, district: FlowDistrict | None) -> list[str]:
        inventory = getattr(district, "inventory", None)
        if inventory is None or not self.settings.exporters.inventory:
            return []
        return inventory_exporters(inventory)

    def start_threads(self) -> None:
        """Bind and start receiving (synchronous form of :meth:`start`)."""
        s = self.settings
        if s.workers > 1:
            self.pool = WorkerPool(s, self.engine.aggregator.sites, self.allowed)
            try:
                self.pool.start()
            except BaseException:
                self.pool.stop()
                raise
            return
        self.receiver = Receiver(s.listen, s.receive_buffer, s.queue_limit, s.queue_bytes)
        self._stop.clear()
        self.receiver.start()
        self._thread = threading.Thread(target=run_decoder, args=(self.receiver, self.engine, self._stop),
                                        name="flows-decode", daemon=True)
        self._thread.start()

    async def start(self) -> None:
        await asyncio.to_thread(self.start_threads)  # receive processes take a moment to start

    def stop_threads(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self.receiver is not None:
            self.receiver.stop()
        if self.pool is not None:
            self.pool.stop()

    async def stop(self) -> None:
        await asyncio.to_thread(self.stop_threads)

    def reload(self, district: FlowDistrict) -> None:
        """A new inventory and ``flows.exporters`` policy (allow-list, timeouts, CPU budget), swapped
        in without a restart. Other flow settings (the listener, workers, store sizes) need one."""
        sites = SiteMap.from_inventory(district.inventory)
        new = getattr(getattr(district, "settings", None), "flows", None)
        policy = new.exporters if new is not None else self.settings.exporters
        self.settings = self.settings.model_copy(update={"exporters": policy})
        self.allowed = self._inventory_allowed(district)
        self.engine.aggregator.set_sites(sites)
        self.engine.set_policy(policy, self.allowed)
        if self.pool is not None:
            self.pool.broadcast("sites", sites)
            self.pool.broadcast("policy", (policy, self.allowed))

    @property
    def receiving(self) -> bool:
        """Whether the listener and the decoder run (in this process, or in every receive process)."""
        return self.is_receiving()

    def collectors(self) -> list[FlowCollector]:
        return [self._collector]

    def snapshot(self) -> FlowSnapshot:
        """Everything exposed on /metrics, as data (summed over the workers)."""
        if self.pool is not None:
            return self.pool.snapshot()
        return take_snapshot(self.engine, self.receiver)

    @property
    def port(self) -> int:
        if self.pool is not None:
            return self.pool.port
        assert self.receiver is not None
        return self.receiver.port

    def is_receiving(self) -> bool:
        """True while datagrams are received and decoded (for health pages)."""
        if self.pool is not None:
            return self.pool.running()
        return (self.receiver is not None and self._thread is not None and self._thread.is_alive()
                and self.receiver.running())

    def drained(self) -> bool:
        """True when every received datagram has been decoded (used by tests and the benchmark)."""
        if self.pool is not None:
            return self.pool.drained()
        return self.receiver is not None and not self.receiver.queue and not self.engine.lock.locked()
