"""IVR load benchmark: 60 concurrent calls on a real Asterisk 22, staff warnings on every call.

Reports (JSON to stdout and bench/results/ivr_load.json):
  * controller event lag (AMI event timestamp -> handled), p50/p99;
  * warning key (DTMF end on the staff leg) -> start of the warning playback to the caller, p50/p99;
  * controller CPU seconds (its own thread) and CPU per handled event.
Goal: p99 event lag < 50 ms, p99 key -> warning < 300 ms.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ivr.config import load_config  # noqa: E402
from tests.ivr_fixtures import IvrLab, config_data, instance_name, write_config  # noqa: E402

CALLS = 60
ROUNDS = 2  # warnings per call (warning-1, warning-2)


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


class ControllerThread:
    """The controller on its own event loop and thread, so its CPU time can be measured alone."""

    def __init__(self, service):
        self.service = service
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def call(self, coro, timeout: float = 30):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> None:
        self.thread.start()
        self.call(self.service.start())
        self.call(asyncio.wait_for(self.service.controller.ready.wait(), 15))

    async def _cpu(self) -> float:
        return time.thread_time()

    def cpu(self) -> float:
        return self.call(self._cpu())

    def stop(self) -> None:
        self.call(self.service.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


async def drive(lab: IvrLab, ctl: ControllerThread) -> dict:
    dids = [d.dids[0] for d in lab.config.departments if d.protection]
    key = lab.config.protection.warning_key
    async with lab.client() as client:
        cpu0 = ctl.cpu()
        t0 = time.monotonic()
        for i in range(CALLS):
            await client.call(dids[i % len(dids)], caller=f"0107000{i:04d}")
        staff = lambda: [e.get("DestChannel") for e in client.events if e.get("Event") == "DialEnd"  # noqa: E731
                         and e.get("DialStatus") == "ANSWER" and "@nms-lab-staff" in (e.get("DestChannel") or "")]
        await client.wait_until(lambda: len(staff()) == CALLS, 120, "60 calls connected")
        setup_s = time.monotonic() - t0
        legs = staff()
        for rnd in range(1, ROUNDS + 1):
            await asyncio.gather(*(client.press(leg, key) for leg in legs))
            await client.wait_until(lambda r=rnd: ctl.service.store.count() >= r * CALLS, 60, f"round {rnd}")
        await client.wait_until(lambda: len(client.playbacks(f"nms/warning-{ROUNDS}")) == CALLS, 30)
        cpu1 = ctl.cpu()
        # Key -> playback: the DTMF end of the key's last digit on a staff leg, to the Playback start on
        # the caller's channel that the same key caused (both Asterisk timestamps).
        bridge_peer = {}
        for e in client.events:
            if e.get("Event") == "DialEnd" and e.get("DialStatus") == "ANSWER" and e.get("DestChannel") in legs:
                bridge_peer[e.get("DestChannel")] = e.get("Channel")
        last = key[-1]
        key_times: dict[str, list[float]] = {}
        for e in client.events:
            if (e.get("Event") == "DTMFEnd" and e.get("Digit") == last and e.get("Channel") in bridge_peer
                    and e.get("Direction") == "Received"):
                key_times.setdefault(bridge_peer[e.get("Channel")], []).append(float(e.get("Timestamp")))
        key_to_play = []
        for n in range(1, ROUNDS + 1):
            for p in client.playbacks(f"nms/warning-{n}"):
                times = key_times.get(p.get("Channel"), [])
                if len(times) >= n:
                    key_to_play.append(float(p.get("Timestamp")) - times[n - 1])
        lags = list(ctl.service.stats.lag_samples)
        for leg in legs:
            await client.conn.action({"Action": "Hangup", "Channel": leg})
        events_handled = len(lags)
    return {
        "calls": CALLS,
        "warnings_per_call": ROUNDS,
        "setup_seconds": round(setup_s, 3),
        "events_stored": ctl.service.store.count(),
        "event_lag_ms": {"p50": _ms(pct(lags, 50)), "p99": _ms(pct(lags, 99)), "max": _ms(max(lags, default=None)),
                         "samples": len(lags)},
        "key_to_warning_ms": {"p50": _ms(pct(key_to_play, 50)), "p99": _ms(pct(key_to_play, 99)),
                              "samples": len(key_to_play)},
        "controller_cpu_seconds": round(cpu1 - cpu0, 4),
        "controller_cpu_ms_per_event": round((cpu1 - cpu0) * 1000 / max(events_handled, 1), 4),
        "goals": {"event_lag_p99_ms": 50, "key_to_warning_p99_ms": 300},
    }


def _ms(v: float | None) -> float | None:
    return None if v is None else round(v * 1000, 2)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="nms-ivr-bench-") as tmp:
        run_dir = Path(tmp)
        name = instance_name("bench")
        lab = IvrLab(load_config(write_config(run_dir, config_data())), run_dir, name)
        try:
            ctl = ControllerThread(lab.service())
            ctl.start()
            try:
                result = asyncio.run(drive(lab, ctl))
            finally:
                ctl.stop()
        finally:
            lab.close()
    result["ok"] = (result["event_lag_ms"]["p99"] or 1e9) < 50 and (result["key_to_warning_ms"]["p99"] or 1e9) < 300
    text = json.dumps(result, indent=2)
    print(text)
    out = ROOT / "bench" / "results" / "ivr_load.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
