"""Asterisk restarts during calls: the controller reconnects, resynchronises, and loses or doubles no event."""

from __future__ import annotations

import asyncio
import time

from tests import ivr_fixtures
from tests.ivr_fixtures import run

asterisk_rootfs = ivr_fixtures.asterisk_rootfs
ivr_lab_factory = ivr_fixtures.ivr_lab_factory


def _staff(client) -> list[str]:
    return [e.get("DestChannel") for e in client.events if e.get("Event") == "DialEnd"
            and e.get("DialStatus") == "ANSWER" and "@nms-lab-staff" in (e.get("DestChannel") or "")]


async def _restart(lab, service, *, crash: bool) -> float:
    """Restart Asterisk (a crash or a clean stop); return seconds from its boot to the controller's resync."""
    await asyncio.to_thread(lab.instance.kill if crash else lab.instance.stop)
    await asyncio.sleep(0.5)
    await asyncio.to_thread(lab.instance.start)
    booted = time.monotonic()
    await asyncio.wait_for(_wait_ready(service), 15)
    return time.monotonic() - booted


async def _wait_ready(service) -> None:
    while not (service.controller.ready.is_set() and service.stats.connected):
        await asyncio.sleep(0.02)


def test_restart_during_calls(ivr_lab_factory) -> None:
    lab = ivr_lab_factory()
    service = lab.service()
    dids = [d.dids[0] for d in lab.config.departments if d.protection]
    key = lab.config.protection.warning_key

    async def scenario() -> None:
        await service.start()
        await service.controller.ready.wait()
        async with lab.client() as client:
            for did in dids:
                await client.call(did)
            await client.wait_until(lambda: len(_staff(client)) == len(dids), 30, "calls answered")
            await client.press(_staff(client)[0], key)
            await client.wait_until(lambda: service.store.count() == 1, 10, "first warning stored live")
            first = service.store.events()[0]["event_id"]
            # The stored event is acknowledged: removed from Asterisk's outbox.
            await client.wait_until(lambda: True, 1)
        assert service.stats.lines_in_use == len(dids)

        # 1. Crash (SIGKILL) during the calls: the controller must come back and see no call.
        assert await _restart(lab, service, crash=True) < 5
        assert service.stats.lines_in_use == 0 and service.controller.live_calls() == []
        connects = service.stats.connects

        # 2. The crash windows, put into Asterisk's durable outbox: an event whose acknowledgement was
        #    lost (already stored) and one whose UserEvent never reached the controller.
        async with lab.client() as client:
            fields = "|".join(["warning", "1", "civil", "1", "01011112222", "", f"{time.time():.3f}", dids[0]])
            lost = "9999999999.1-warning-1"
            await client.conn.ok({"Action": "DBPut", "Family": "nmsevents", "Key": first, "Val": fields})
            await client.conn.ok({"Action": "DBPut", "Family": "nmsevents", "Key": lost, "Val": fields})
        assert await _restart(lab, service, crash=False) < 5
        assert service.stats.connects == connects + 1

        # 3. Events of a call while the controller itself is down reach it after it returns.
        await service.stop()
        async with lab.client() as client:
            await client.call(dids[1])
            await client.wait_until(lambda: _staff(client), 30, "call answered")
            await client.press(_staff(client)[0], key)
            await client.wait_until(lambda: client.user_events("NmsProtection"), 10, "warning raised")
            offline = client.user_events("NmsProtection")[0].get("EventId")
        service2 = lab.service()
        service2.store = service.store
        service2.controller.store = service.store
        await service2.start()
        await asyncio.wait_for(service2.controller.ready.wait(), 10)
        await service2.stop()
        return first, lost, offline

    first, lost, offline = run(scenario(), timeout=150)
    ids = [e["event_id"] for e in service.store.events()]
    assert sorted(ids) == sorted({first, lost, offline})
    assert len(ids) == len(set(ids)) == 3
    # Counted once each: the replayed, already stored event was not counted again.
    assert sum(service.stats.protection.values()) == 2  # first (live) + lost (outbox)
