"""FlowService: the collector as a part of the NMS service (receive thread + decode thread)."""

from __future__ import annotations

import asyncio
import threading
import time

from collectors.flows.engine import FlowEngine
from collectors.flows.metrics import FlowCollector
from collectors.flows.receiver import Receiver
from collectors.flows.settings import FlowDistrict, FlowSettings
from collectors.flows.sites import SiteMap

_BATCH = 4096  # datagrams decoded per cycle at most


class FlowService:
    """``FlowService(district)``, or ``FlowService(settings=..., sites=...)`` standalone."""

    name = "flows"

    def __init__(self, district: FlowDistrict | None = None, settings: FlowSettings | None = None,
                 sites: SiteMap | None = None):
        if settings is None:
            settings = getattr(getattr(district, "settings", None), "flows", None) or FlowSettings()
        self.settings = settings
        if sites is None and district is not None:
            sites = SiteMap.from_inventory(district.inventory)
        self.engine = FlowEngine(settings, sites)
        self.receiver: Receiver | None = None
        self._collector = FlowCollector(self.engine)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start_threads(self) -> None:
        """Bind and start receiving (synchronous form of :meth:`start`)."""
        self.receiver = Receiver(self.settings.listen, self.settings.receive_buffer, self.settings.queue_limit)
        self._collector.receiver = self.receiver
        self._stop.clear()
        self.receiver.start()
        self._thread = threading.Thread(target=self._decode_loop, name="flows-decode", daemon=True)
        self._thread.start()

    async def start(self) -> None:
        self.start_threads()

    def stop_threads(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self.receiver is not None:
            self.receiver.stop()

    async def stop(self) -> None:
        await asyncio.to_thread(self.stop_threads)

    def reload(self, district: FlowDistrict) -> None:
        """A new inventory: a new site map, swapped in without a restart."""
        self.engine.aggregator.set_sites(SiteMap.from_inventory(district.inventory))

    @property
    def receiving(self) -> bool:
        """Whether the listener and the decoder run."""
        return self.receiver is not None and self._thread is not None and self._thread.is_alive()

    def collectors(self) -> list[FlowCollector]:
        return [self._collector]

    @property
    def port(self) -> int:
        assert self.receiver is not None
        return self.receiver.port

    def _decode_loop(self) -> None:
        assert self.receiver is not None
        queue = self.receiver.queue
        engine = self.engine
        last_tick = time.monotonic()
        while True:
            if queue:
                batch = []
                pop = queue.popleft
                while queue and len(batch) < _BATCH:
                    batch.append(pop())
                engine.process(batch)
            elif self._stop.is_set():
                break
            else:
                time.sleep(0.002)
            now = time.monotonic()
            if now - last_tick >= 0.5:
                engine.tick(now)
                last_tick = now
        engine.tick()

    def drained(self) -> bool:
        """True when every received datagram has been decoded (used by tests and the benchmark)."""
        return self.receiver is not None and not self.receiver.queue and not self.engine.lock.locked()
