"""The SNMP collector as a service: per-class polling cycles scheduled with APScheduler.

Each device class (backbone, access, ips, ap, host) is one interval job. A cycle polls every
active device of the class at once, bounded by a semaphore, each device within its own budget,
so a dead device never holds up the others. ``max_instances=1`` means no device is ever polled
twice at the same time. Runs are not coalesced, so that every cycle that could not start (the
last one still runs, or the loop was stalled past the grace time) is reported and counted as a
misfire instead of silently folded into the next one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from collectors.snmp.metrics import CollectorHealth, SnmpMetrics
from collectors.snmp.poller import DevicePoller, DeviceSample
from collectors.snmp.settings import SnmpDistrict
from collectors.snmp.state import DeviceState
from nms.inventory.models import Device, DeviceRole
from nms.secrets import SecretResolver

log = logging.getLogger(__name__)

JOB_PREFIX = "snmp-"


@dataclass
class CycleResult:
    """What one cycle did, without holding on to its samples."""

    devices: int = 0
    ok: int = 0
    varbinds: int = 0
    errors: Counter[str] = field(default_factory=Counter)

    def add(self, sample: DeviceSample) -> None:
        self.devices += 1
        self.ok += sample.ok
        self.varbinds += sample.varbinds
        if not sample.ok:
            self.errors[sample.error or "unknown"] += 1

    def merge(self, other: CycleResult) -> None:
        self.devices += other.devices
        self.ok += other.ok
        self.varbinds += other.varbinds
        self.errors.update(other.errors)


class SnmpCollector:
    """Polls the district's active devices and keeps their state for :class:`SnmpMetrics`."""

    name = "snmp"

    def __init__(self, district: SnmpDistrict, secrets: SecretResolver | None = None,
                 shard: tuple[int, int] | None = None):
        self.district = district
        self.secrets = secrets or SecretResolver()
        self.shard = shard
        self.poller = DevicePoller(district.snmp, self.secrets)
        self.states: dict[str, DeviceState] = {}
        self.health = CollectorHealth()
        self.metrics = SnmpMetrics(self.states, self.health, self.poller.transport)
        self.scheduler: AsyncIOScheduler | None = None
        self._semaphore = asyncio.Semaphore(district.settings.polling.concurrency)
        self._sync_states()

    # -- inventory -----------------------------------------------------------------------------
    def devices(self, role: DeviceRole | None = None) -> list[Device]:
        from nms.inventory.shard import in_shard

        return [d for d in self.district.inventory.active_devices()
                if (role is None or d.role is role) and (self.shard is None or in_shard(d.name, *self.shard))]

    def _sync_states(self) -> None:
        """Match device states to the inventory: new devices get a state, removed ones lose it."""
        sites = self.district.inventory.site_by_id()
        wanted = {d.name: d for d in self.devices()}
        for name in list(self.states):
            if name not in wanted:
                del self.states[name]
        for name, device in wanted.items():
            site = sites[device.site]
            state = self.states.get(name)
            if state is None:
                self.states[name] = DeviceState(device, site.id, site.category.value)
            else:
                state.device, state.site, state.category = device, site.id, site.category.value
        self.poller.keep_only(set(wanted))

    # -- polling -------------------------------------------------------------------------------
    async def poll_device(self, device: Device) -> DeviceSample:
        polling = self.district.settings.polling.classes[device.role]
        timeout = device.timeout or polling.timeout
        retries = polling.retries if device.retries is None else device.retries
        # The device's own budget: every request may use all its attempts, within most of an interval.
        deadline = min(polling.interval * 0.9, max(timeout * (retries + 1) * 4, 5.0))
        async with self._semaphore:
            sample = await self.poller.poll(device, polling, deadline)
        self.record(sample)
        return sample

    def record(self, sample: DeviceSample) -> None:
        """Keep a poll's result: update the state, render its block, then drop what it shows."""
        state = self.states.get(sample.device)
        if state is None:  # removed from the inventory while it was being polled
            return
        state.record(sample)
        self.health.varbinds += sample.varbinds
        if sample.error and sample.error.startswith("decode_"):
            self.health.decode_errors[sample.error.removeprefix("decode_")] += 1
        self.metrics.refresh(state)
        if sample.ok and state.last is sample:
            # the caller keeps the full sample it was given; the state keeps a slim copy
            state.last = state.last_ok = replace(sample)
            state.slim()

    async def _poll_counted(self, device: Device, result: CycleResult) -> None:
        sample = await self.poll_device(device)
        result.add(sample)

    async def poll_class(self, role: DeviceRole) -> CycleResult:
        """One cycle of a class. Samples are not collected: each is rendered and slimmed as it comes."""
        started = time.perf_counter()
        result = CycleResult()
        members = self.devices(role)
        devices = iter(members)

        async def worker() -> None:  # a few workers share the list: no task per device is kept
            for device in devices:
                await self._poll_counted(device, result)

        workers = min(self.district.settings.polling.concurrency, len(members))
        try:
            await asyncio.gather(*(worker() for _ in range(workers)))
        except asyncio.CancelledError:  # the service is stopping: an unfinished cycle is not an error
            log.debug("SNMP cycle for %s cancelled at shutdown", role.value)
            return result
        self.health.cycles[role.value] += 1
        self.health.cycle_seconds[role.value] = time.perf_counter() - started
        self.health.last_cycle_end[role.value] = time.time()
        return result

    async def poll_all(self) -> CycleResult:
        """One cycle of every class at once (used by the benchmarks)."""
        total = CycleResult()
        for result in await asyncio.gather(*(self.poll_class(role) for role in DeviceRole)):
            total.merge(result)
        return total

    # -- service lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        await self.poller.open()
        self.scheduler = AsyncIOScheduler()
        self.scheduler.add_listener(self._on_misfire, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
        self._schedule()
        self.scheduler.start()

    def _schedule(self) -> None:
        assert self.scheduler is not None
        polling = self.district.settings.polling
        for role in DeviceRole:
            job_id = JOB_PREFIX + role.value
            cls = polling.classes.get(role)
            if cls is None or not self.devices(role):
                if self.scheduler.get_job(job_id):
                    self.scheduler.remove_job(job_id)
                continue
            trigger = IntervalTrigger(seconds=cls.interval, jitter=cls.interval * polling.jitter)
            self.scheduler.add_job(self.poll_class, trigger, args=[role], id=job_id, name=f"poll {role.value}",
                                   replace_existing=True, max_instances=1, coalesce=False,
                                   misfire_grace_time=max(1, int(cls.interval / 2)),
                                   next_run_time=_first_run(cls.interval, polling.jitter))

    def _on_misfire(self, event: JobEvent) -> None:
        role = event.job_id.removeprefix(JOB_PREFIX)
        self.health.misfires[role] += 1
        log.warning("SNMP cycle for %s skipped: the previous cycle is still running or started late", role)

    async def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
        self.poller.close()

    def reload(self, district: SnmpDistrict) -> None:
        """Apply a new validated configuration without a restart."""
        self.district = district
        self.poller.update_config(district.snmp)
        self._semaphore = asyncio.Semaphore(district.settings.polling.concurrency)
        self._sync_states()
        if self.scheduler is not None:
            self._schedule()

    def collectors(self) -> Iterable[SnmpMetrics]:
        return [self.metrics]


def _first_run(interval: float, jitter: float):
    """Start soon after launch, spread a little, rather than a whole interval later."""
    import datetime as dt
    import random

    return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1 + random.random() * min(interval * jitter, 3))
