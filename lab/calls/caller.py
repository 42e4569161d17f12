"""The lab's caller: places the traffic model's calls over one AMI session and plays the staff's warning key.

The caller numbers look like personal data (010-xxxx-xxxx); they are logged masked only.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import os
import time
from collections import Counter
from pathlib import Path

from ivr.ami_protocol import AmiConnection, AmiError
from ivr.config import IvrConfig
from ivr.events import mask_number
from lab.calls.account import CALLER_USER
from lab.calls.staff import CALLER_CONTEXT, STAFF_CONTEXT
from lab.calls.traffic import CallPlan, TrafficModel
from nms.store import atomic_write_bytes

log = logging.getLogger(__name__)


class Caller:
    """Places the model's calls over one AMI session and plays the staff's warning key."""

    def __init__(self, config: IvrConfig, secret: str, model: TrafficModel, *, user: str = CALLER_USER,
                 status_path: Path | None = None, recordings: Path | None = None,
                 keep_recordings: float = 3 * 3600.0, tick: float = 1.0, poll: float = 1.0):
        host = ipaddress.ip_address(str(config.ami.host))
        if not host.is_loopback:
            raise ValueError(f"the lab caller only calls a loopback Asterisk, not {host}")
        self.config = config
        self.model = model
        self._secret = secret
        self.user = user
        self.status_path = status_path
        self.recordings = recordings
        self.keep_recordings = keep_recordings
        self.tick = tick
        self.poll = poll
        self.counts: Counter[str] = Counter()
        self.active: dict[str, CallPlan] = {}  # caller's channel id -> plan
        self.connected = False
        self.first_abuse_done = False
        self._conn: AmiConnection | None = None
        self._seq = 0
        self._stop = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()
        self._logged_minute = -1

    # -- lifecycle -------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Until :meth:`stop`: keep an AMI session, place calls, report status, prune old recordings."""
        loops = [asyncio.create_task(c) for c in (self._session_loop(), self._traffic_loop(), self._housekeeping())]
        await self._stop.wait()
        if self.active:
            log.info("stopping: hanging up %d calls", len(self.active))
        pending = [*loops, *self._tasks]
        for task in pending:
            task.cancel()  # each call hangs up its own channel on the way out (the session stays open)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*pending, return_exceptions=True), 3.0)
        if self._conn is not None:
            self._conn.close()
        self._write_status()

    def stop(self) -> None:
        self._stop.set()

    async def _session_loop(self) -> None:
        ami = self.config.ami
        backoff = 0.5
        while not self._stop.is_set():
            conn = AmiConnection(str(ami.host), ami.port, self.user, self._secret, ami.action_timeout)
            try:
                await conn.connect(ami.connect_timeout)
            except AmiError as exc:
                log.warning("%s; retrying in %.1f s", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            backoff = 0.5
            self._conn, self.connected = conn, True
            self.counts["logins"] += 1
            log.info("AMI: logged in to %s:%s as %s", ami.host, ami.port, self.user)
            await conn.closed.wait()
            self._conn, self.connected = None, False
            log.warning("AMI: connection lost")

    async def _traffic_loop(self) -> None:
        warmed = False
        while True:
            await asyncio.sleep(self.tick)
            if not self.connected:
                continue
            now = self.model.now()
            if not warmed:
                # Start as if the lab had been running: about the calls that would be on the lines now.
                warmed = True
                for _ in range(min(round(self.model.per_minute(now) * 40 / 60), self.config.lines // 2)):
                    self._start(self.model.plan(), delay=self.model.rng.uniform(0, 5))
            for _ in range(self.model.arrivals(now, self.tick)):
                self._start(self.model.plan())
            if self.model.burst_starts(now, self.tick):
                self._burst()

    def _burst(self) -> None:
        department = self.model.burst_department()
        size = self.model.burst_size(len(self.active))
        spread = self.model.rng.uniform(10, 30)
        log.info("burst: %d calls to %s over %.0f s", size, department.id, spread)
        self.counts["bursts"] += 1
        for _ in range(size):
            self._start(self.model.plan(department), delay=self.model.rng.uniform(0, spread))

    def _start(self, plan: CallPlan, delay: float = 0.0) -> None:
        if len(self._tasks) >= 2 * (self.config.lines + 10):
            self.counts["skipped"] += 1  # never pile up beyond what a burst needs
            return
        task = asyncio.create_task(self._call(plan, delay))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- one call --------------------------------------------------------------------------------------

    async def _call(self, plan: CallPlan, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        conn = self._conn
        if conn is None or len(self.active) >= self.config.lines + 10:
            self.counts["skipped"] += 1
            return
        self._seq += 1
        base = f"nmslab-{int(time.time())}-{os.getpid()}-{self._seq}"
        mine, theirs = f"{base}-c", f"{base}-i"  # the caller's phone (;1) and the IVR side (;2)
        try:
            await conn.ok({"Action": "Originate", "Channel": f"Local/{plan.did}@from-pstn/n",
                           "Context": CALLER_CONTEXT, "Exten": "s", "Priority": "1",
                           "CallerID": f"<{plan.caller}>", "ChannelId": mine, "OtherChannelId": theirs,
                           "Timeout": "15000", "Async": "false"}, timeout=20)
        except AmiError as exc:
            self.counts["failed"] += 1
            log.warning("originate to %s failed: %s", plan.did, exc)
            return
        self.counts["placed"] += 1
        self.active[mine] = plan
        started = time.monotonic()
        hang_up_mine = True  # unless the call is known to be over
        try:
            if plan.menu_digit is not None:
                await asyncio.sleep(self.model.rng.uniform(1.5, 5))
                if await self._press(theirs, plan.menu_digit, receive=True):
                    self.counts["menu_choices"] += 1
            staff = await self._wait_for_staff(theirs, started + plan.patience)
            if staff is None:
                return
            self.counts["answered"] += 1
            if (not plan.abusive and not self.first_abuse_done and plan.department is not None
                    and plan.department.protection and plan.talk < self.config.call_limit.warning_after):
                # The first answered call of a protected department is abusive, so a freshly started
                # lab shows the protection path within a minute or so; later ones are random.
                plan.abusive, plan.warnings = True, self.model.warnings()
            talked = 0.0
            if plan.abusive:
                self.first_abuse_done = True
                gaps = self.model.warning_gaps(plan.warnings)
                plan.talk = max(plan.talk, sum(gaps) + self.model.rng.uniform(5, 15))
                for n, gap in enumerate(gaps, start=1):
                    await asyncio.sleep(gap)
                    talked += gap
                    if not await self._press(staff, self.config.protection.warning_key, receive=True):
                        hang_up_mine = False
                        return  # the call is over
                    self.counts["warning_keys"] += 1
                    log.info("staff %s pressed the warning key (%d) on a call from %s", staff.split("@")[0],
                             n, mask_number(plan.caller))
                if plan.warnings >= self.config.protection.warnings_before_end:
                    self.counts["terminated"] += 1
                    hang_up_mine = False  # the IVR ends it
                    return
            await asyncio.sleep(max(0.0, plan.talk - talked))
            if plan.staff_hangs_up:
                await self._hangup(staff)
                hang_up_mine = False
        except AmiError as exc:
            log.info("call from %s: %s", mask_number(plan.caller), exc)
        finally:
            self.active.pop(mine, None)
            if hang_up_mine:
                await self._hangup(mine)

    async def _wait_for_staff(self, channel: str, give_up: float) -> str | None:
        """The staff leg bridged to ``channel``, once someone answered; None if the call ended first."""
        while time.monotonic() < give_up:
            conn = self._conn
            if conn is None:
                return None
            try:
                resp = await conn.ok({"Action": "Getvar", "Channel": channel, "Variable": "BRIDGEPEER"})
            except AmiError:
                return None  # no such channel: the IVR ended the call (busy, after hours, menu, no answer)
            peer = resp.get("Value") or ""
            if f"@{STAFF_CONTEXT}" in peer:
                return peer
            await asyncio.sleep(self.poll)
        self.counts["gave_up"] += 1
        return None

    async def _press(self, channel: str, keys: str, receive: bool) -> bool:
        """Keys pressed on ``channel``'s phone; False if the channel is gone. ``Async: false`` avoids
        panoramisk's KeyError on "DTMF successfully queued" (LAB-NOTES)."""
        for digit in keys:
            conn = self._conn
            if conn is None:
                return False
            try:
                await conn.ok({"Action": "PlayDTMF", "Channel": channel, "Digit": digit, "Duration": "100",
                               "Receive": "true" if receive else "false", "Async": "false"})
            except AmiError:
                return False
        return True

    async def _hangup(self, channel: str) -> None:
        conn = self._conn
        if conn is None:
            return
        with contextlib.suppress(AmiError):  # already gone is fine
            await conn.ok({"Action": "Hangup", "Channel": channel, "Cause": "16"})

    # -- housekeeping ------------------------------------------------------------------------------------

    async def _housekeeping(self) -> None:
        last_prune = 0.0
        while True:
            self._write_status()
            if self.recordings is not None and time.monotonic() - last_prune > 300:
                last_prune = time.monotonic()
                removed = await asyncio.to_thread(prune_recordings, self.recordings, self.keep_recordings)
                if removed:
                    log.info("removed %d lab recordings older than %.0f h", removed, self.keep_recordings / 3600)
            await asyncio.sleep(10)

    def status(self) -> dict:
        now = self.model.now()
        return {"time": now.isoformat(timespec="seconds"), "hours": self.model.status(now),
                "per_minute": round(self.model.per_minute(now), 3), "connected": self.connected,
                "active": len(self.active), **dict(sorted(self.counts.items()))}

    def _write_status(self) -> None:
        status = self.status()
        if self.status_path is not None:
            atomic_write_bytes(self.status_path, (json.dumps(status) + "\n").encode("utf-8"), mode=0o644)
        minute = int(time.time() // 60)
        if self._logged_minute != minute:
            self._logged_minute = minute
            log.info("status: %s", " ".join(f"{k}={v}" for k, v in status.items()))


def prune_recordings(directory: Path, older_than: float) -> int:
    """Delete the lab's call recordings older than ``older_than`` seconds; return how many."""
    cutoff = time.time() - older_than
    removed = 0
    for path in Path(directory).rglob("*.wav"):
        with contextlib.suppress(OSError):
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
    return removed

