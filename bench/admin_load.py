"""Admin page benchmark, against the whole service (waitress, SNMP collector, IVR on a real Asterisk 22).

Reports (JSON to stdout and bench/results/admin_load.json):
  * 20 concurrent users browsing the overview and the inventory (each logged in, with a short think
    time between pages): request latency p50/p99 per page and overall. Goal: p99 < 100 ms.
    The same without think time (every user requesting back to back) is reported as saturation.
  * time from saving an announcement (HTTP POST, text changed) to Asterisk playing the new audio on a
    call placed right after the save returns. Goal: < 2 s.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchlib import percentile, publish  # noqa: E402

from tests.admin_fixtures import PASSWORDS, AdminStack, csrf_of, start_stack, version_of_page  # noqa: E402

USERS = 20
DURATION = 20.0
SATURATION_DURATION = 10.0
SAVES = 5
PAGES = ["/", "/network/", "/network/?category=park&page=2", "/network/?q=ap&state=down",
         "/network/device/ap-park-001-01"]


def pct(values: list[float], q: float) -> float | None:
    """A percentile of durations in seconds, in milliseconds."""
    value = percentile(values, q)
    return None if value is None else round(value * 1000, 2)


def login(url: str, user: str) -> requests.Session:
    s = requests.Session()
    page = s.get(url + "/login", timeout=10)
    resp = s.post(url + "/login", data={"username": user, "password": PASSWORDS[user],
                                        "csrf_token": csrf_of(page.text)}, timeout=10, allow_redirects=False)
    assert resp.status_code == 302, resp.text
    return s


def browse(stack: AdminStack, duration: float, think: tuple[float, float]) -> dict:
    sessions = [login(stack.url, "viewer") for _ in range(USERS)]
    samples: dict[str, list[float]] = {p: [] for p in PAGES}
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + duration

    def user(s: requests.Session, seed: int) -> None:
        rnd = random.Random(seed)
        while time.monotonic() < stop:
            page = rnd.choice(PAGES)
            t0 = time.perf_counter()
            resp = s.get(stack.url + page, timeout=10)
            dt = time.perf_counter() - t0
            with lock:
                if resp.status_code != 200:
                    errors[0] += 1
                samples[page].append(dt)
            if think[1]:
                time.sleep(rnd.uniform(*think))

    threads = [threading.Thread(target=user, args=(s, i)) for i, s in enumerate(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [v for vs in samples.values() for v in vs]
    return {"users": USERS, "seconds": duration, "think_time_s": list(think), "requests": len(everything),
            "errors": errors[0], "requests_per_s": round(len(everything) / duration, 1),
            "p50_ms": pct(everything, 50), "p99_ms": pct(everything, 99), "max_ms": pct(everything, 100),
            "pages": {p: {"n": len(v), "p50_ms": pct(v, 50), "p99_ms": pct(v, 99)} for p, v in samples.items()}}


def save_to_play(stack: AdminStack) -> dict:
    s = login(stack.url, "operator")
    did = next(d.dids[0] for d in stack.config().departments if d.protection and d.dids)
    prompt = stack.prompt_path("staff-protection")
    totals, saves = [], []

    async def call_and_wait(t_save: float, expected: str) -> float:
        async with stack.ami() as client:
            await client.call(did)
            played = await client.wait_until(lambda: client.playbacks("nms/staff-protection"), 20, "playback")
            t_play = time.time()
            assert hashlib.sha256(prompt.read_bytes()).hexdigest() == expected
            stamp = float(played[0].get("Timestamp") or t_play)
            for ch in await client.channels():
                await client.conn.action({"Action": "Hangup", "Channel": ch.get("Channel")})
            return stamp - t_save

    for i in range(SAVES):
        page = s.get(stack.url + "/phone/", timeout=10)
        t0 = time.time()
        resp = s.post(stack.url + "/phone/announcements/staff-protection", timeout=30, allow_redirects=False,
                      data={"csrf_token": csrf_of(page.text), "version": version_of_page(page.text),
                            "text": f"직원 보호 안내 시험 {i} 번째 문구입니다."})
        saves.append(time.time() - t0)
        assert resp.status_code == 303, resp.text
        expected = hashlib.sha256(prompt.read_bytes()).hexdigest()
        totals.append(asyncio.run(call_and_wait(t0, expected)))
    return {"saves": SAVES, "save_request_p50_ms": pct(saves, 50), "save_request_max_ms": pct(saves, 100),
            "save_to_play_p50_ms": pct(totals, 50), "save_to_play_max_ms": pct(totals, 100),
            "goal_ms": 2000, "met": max(totals) < 2.0}


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="nms-admin-bench-") as tmp:
        # The district's real inventory (every device at 266 sites), polled by the collector meanwhile.
        stack = start_stack(Path(tmp) / "stack", inventory=ROOT / "configs" / "inventory.yaml")
        try:
            time.sleep(1.5)  # let the collector's first cycle finish
            devices = len(stack.admin.workspace.district.inventory.devices)
            browsing = browse(stack, DURATION, (0.2, 1.0))
            saturation = browse(stack, SATURATION_DURATION, (0.0, 0.0))
            latency = save_to_play(stack)
        finally:
            stack.stop()
    result = {"benchmark": "admin_load", "inventory_devices": devices, "browsing": browsing | {"goal_p99_ms": 100,
                                                                 "met": (browsing["p99_ms"] or 1e9) < 100},
              "saturation_no_think_time": saturation, "announcement": latency}
    publish("admin_load", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
