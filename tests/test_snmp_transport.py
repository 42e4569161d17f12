"""Timeouts count from the send and never blame a device for the collector's own queue.

asyncio reads one datagram per readiness event of a socket, while every expired timer fires in the
same loop iteration. When the loop falls behind (a loaded machine, a burst of replies to decode),
answers that arrived in time wait in the socket buffer while their timers expire. The transport
reads the socket once more before it declares a request lost.
"""

from __future__ import annotations

import asyncio
import secrets as pysecrets
import time
from pathlib import Path

from collectors.snmp.service import SnmpCollector
from nms.app.district import load_district
from nms.secrets import SecretResolver
from tests.district_builder import device, write_district
from tests.snmp_responder import Responder, device_table

ADDRESSES = [f"127.0.0.{i}" for i in range(120, 160)]


def test_answers_queued_while_the_loop_stalled_are_not_timeouts(tmp_path):
    community = pysecrets.token_hex(6)
    responder = Responder({a: device_table(f"sw-{i}") for i, a in enumerate(ADDRESSES)}, {}, community.encode())
    try:
        config = write_district(tmp_path / "cfg", [device(f"sw-{i}", "access", a, responder.port_of(a))
                                                   for i, a in enumerate(ADDRESSES)], timeout=0.3, retries=0)
        collector = SnmpCollector(load_district(config), SecretResolver(
            Path("/nonexistent"), environ={"NMS_SECRET_DISTRICT_V2C": community}))

        async def run():
            await collector.poller.open()
            try:
                loop = asyncio.get_running_loop()
                # every request is sent, then the loop stalls for longer than the timeout while
                # the answers arrive (as on a machine whose CPU is taken by something else)
                loop.call_later(0.05, time.sleep, 1.0)
                return await asyncio.gather(*(collector.poll_device(d) for d in collector.devices()))
            finally:
                collector.poller.close()

        samples = asyncio.run(run())
    finally:
        responder.shutdown()
    lost = [s.device for s in samples if not s.ok]
    assert not lost, f"{len(lost)} of {len(samples)} devices lost to the collector's own queue"
