"""The lab's telephone traffic: simulated citizens who call the district and staff who answer (lab only).

Two halves:

* **Staff.** The lab Asterisk runs its own copy of ivr.yaml (:func:`lab_ivr_config`) in which each
  department's phone (``PJSIP/2301``) becomes ``Local/2301@nms-lab-staff/n``, a dialplan staff member
  (:data:`STAFF_DIALPLAN`) who rings for a few seconds and answers. The shipped ivr.yaml and its
  production rendering are not touched.
* **Callers.** A detached process (``python -m lab.calls``, started by :func:`start_caller`)
  originates calls over AMI into ``from-pstn`` with the configured DIDs and made-up caller numbers.
  The rate follows the Seoul clock and the configured hours (:class:`TrafficModel`): a few calls at
  once in office hours, a trickle at night, and now and then a burst towards the line limit, so the
  busy prompt is heard. Now and then a caller is abusive and the staff press the warning key
  (AMI ``PlayDTMF`` with ``Receive`` on the staff leg), which raises warnings and sometimes a
  termination. The caller's AMI account may originate and act on calls, and reads no events.

The caller numbers look like personal data (010-xxxx-xxxx); the IVR controller hashes and masks them,
and this module logs them masked only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import ipaddress
import json
import logging
import math
import os
import random
import re
import secrets
import signal
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo

from ivr.ami_protocol import AmiConnection, AmiError
from ivr.config import WEEKDAY_ORDER, Department, IvrConfig, load_config, minutes
from ivr.events import mask_number
from ivr.render import AmiUser
from lab import processes
from nms.store import atomic_write_bytes

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
STAFF_CONTEXT = "nms-lab-staff"
CALLER_CONTEXT = "nms-lab-caller"
CALLER_USER = "nms-lab-caller"
CALLER_SECRET = "lab-caller-ami"  # file name in the lab's secrets directory
PROCESS_NAME = "calls"

#: Simulated staff phones and the callers' own end of each call. Staff ring 1-6 s and answer;
#: 3 calls in 100 find nobody at the desk (the IVR's ring timeout ends them as unanswered).
STAFF_DIALPLAN = f"""\
; Lab only: simulated staff phones and callers (lab/calls.py). Not part of production.
[{STAFF_CONTEXT}]
exten => _X.,1,Ringing()
 same => n,GotoIf($[${{RAND(1,100)}} <= 3]?away)
 same => n,Wait(${{RAND(1,6)}})
 same => n,Answer()
 same => n,Wait(3600)
 same => n,Hangup()
 same => n(away),Wait(600)
 same => n,Hangup()

[{CALLER_CONTEXT}]
exten => s,1,Wait(3600)
 same => n,Hangup()
"""

#: The caller's AMI rights: ``originate`` for Originate; ``call`` for Getvar, PlayDTMF and Hangup.
#: No read class: it needs no events (sync Originate, polled BRIDGEPEER).
CALLER_READ: tuple[str, ...] = ()
CALLER_WRITE = ("originate", "call")


# --- the lab's copy of the configuration -------------------------------------------------------------


def staff_target(department: Department, index: int) -> str:
    """The department's phone as a lab staff simulator: ``PJSIP/2301`` -> ``Local/2301@nms-lab-staff/n``."""
    m = re.match(r"[A-Za-z0-9]+/([0-9]+)(?:[@/]|$)", department.target or "")
    extension = m.group(1) if m else str(9000 + index)
    return f"Local/{extension}@{STAFF_CONTEXT}/n"


def recordings_directory(instance_name: str) -> PurePosixPath:
    """Where the lab Asterisk records (as Asterisk sees it): inside its own instance directory."""
    return PurePosixPath("/nms") / instance_name / "recordings"


def lab_ivr_config(config: IvrConfig, instance_name: str) -> IvrConfig:
    """The configuration the lab Asterisk runs: staff simulators instead of phones, recordings kept
    in the lab instance's directory. Everything else (DIDs, hours, texts, limits) is the operator's."""
    departments = [d.model_copy(update={"target": staff_target(d, i)}) for i, d in enumerate(config.departments)]
    recordings = config.recordings.model_copy(update={"directory": Path(recordings_directory(instance_name))})
    return config.model_copy(update={"departments": departments, "recordings": recordings})


def ensure_caller_secret(secrets_dir: Path) -> str:
    """The caller's AMI secret, generated once in the lab's secrets directory (mode 0600)."""
    path = Path(secrets_dir) / CALLER_SECRET
    with contextlib.suppress(FileNotFoundError):
        value = path.read_text(encoding="utf-8").strip()
        if value:
            return value
    Path(secrets_dir).mkdir(parents=True, exist_ok=True, mode=0o700)
    value = secrets.token_urlsafe(24)
    atomic_write_bytes(path, (value + "\n").encode(), 0o600)
    return value


def caller_ami_user(secrets_dir: Path) -> AmiUser:
    """The caller's least-privilege AMI account, for ``start_lab_asterisk(extra_ami_users=...)``."""
    return AmiUser(CALLER_USER, ensure_caller_secret(secrets_dir), CALLER_READ, CALLER_WRITE)


def start_caller(config_path: Path, run_dir: Path, secrets_dir: Path, *, rate: float = 1.0,
                 recordings: Path | None = None) -> processes.ManagedProcess:
    """Start the caller process for the lab in ``run_dir`` (its log and status go to ``run_dir/calls``).

    ``config_path`` is the ivr.yaml whose DIDs are called and whose AMI address is used (loopback only);
    ``recordings`` (a host path) is pruned of old lab recordings so a long-running lab does not fill the disk.
    """
    workdir = Path(run_dir).resolve() / "calls"
    ensure_caller_secret(secrets_dir)
    cmd = [sys.executable, "-m", "lab.calls", "--config", str(config_path), "--run-dir", str(workdir),
           "--secret-file", str(Path(secrets_dir) / CALLER_SECRET), "--rate", repr(float(rate))]
    if recordings is not None:
        cmd += ["--recordings", str(recordings)]
    log_path = workdir / "caller.log"
    proc = processes.spawn(cmd, log_path, cwd=REPO)
    return processes.ManagedProcess(name=PROCESS_NAME, pid=proc.pid, log=log_path, marker=str(workdir), popen=proc)


# --- the traffic model -------------------------------------------------------------------------------

PEAK_PER_MINUTE = 6.0  # at rate 1.0, the busiest office hour; with ~45 s per call, a few calls at once
BURSTS_PER_OPEN_HOUR = 2.5
ABUSIVE_SHARE = 0.08  # of calls reaching a protected department's staff
IMPATIENT_SHARE = 0.03  # hang up during the announcements
LONG_CALL_SHARE = 0.005  # talk past the call time limit (the IVR ends them)
STAFF_HANGS_UP = 0.4  # the staff, not the caller, end the call
MENU_PRESS = 0.9  # main-number callers who choose a department (the rest let the menu time out)


@dataclasses.dataclass
class CallPlan:
    """What one simulated caller will do."""

    did: str
    caller: str
    department: Department | None  # where the call is meant to go (None: nowhere, the menu times out)
    menu_digit: str | None  # pressed at the main number's menu
    talk: float  # seconds on the line once the staff answered
    patience: float  # the caller gives up if nobody answered by then (seconds after dialling)
    abusive: bool
    warnings: int  # warning keys the staff press (warnings_before_end of them end the call)
    staff_hangs_up: bool
    burst: bool = False


class TrafficModel:
    """Who calls when: the time-of-day rate, the numbers dialled and each caller's behaviour.

    The rate follows the configured hours in their time zone (Asia/Seoul): full in office hours
    with a morning and an afternoon peak, low at lunch, a trickle after hours and on holidays.
    """

    def __init__(self, config: IvrConfig, rate: float = 1.0, rng: random.Random | None = None):
        self.config = config
        self.rate = max(0.0, rate)
        self.rng = rng or random.Random()
        self.tz = ZoneInfo(config.hours.timezone)
        self.holidays = {h.date for h in config.hours.holidays}
        # A few repeat callers: an abusive caller often calls again (the controller's hash shows it).
        self.regulars = [self.number() for _ in range(4)]

    def now(self) -> dt.datetime:
        return dt.datetime.now(self.tz)

    # -- when ------------------------------------------------------------------------------------------

    def status(self, when: dt.datetime) -> str:
        """``open``, ``lunch``, ``closed`` (a working day outside its hours) or ``holiday`` (no hours at all)."""
        when = when.astimezone(self.tz)
        day = WEEKDAY_ORDER[when.weekday()]
        periods = [p for p in self.config.hours.business if day in p.days]
        if when.date() in self.holidays or not periods:
            return "holiday"
        now = when.hour * 60 + when.minute
        lunch = self.config.hours.lunch
        if lunch is not None and minutes(lunch.start) <= now < minutes(lunch.end):
            return "lunch"
        if any(minutes(p.start) <= now < minutes(p.end) for p in periods):
            return "open"
        return "closed"

    def per_minute(self, when: dt.datetime) -> float:
        """Expected new calls per minute at ``when`` (already multiplied by the rate knob)."""
        when = when.astimezone(self.tz)
        status = self.status(when)
        clock = when.hour + when.minute / 60
        if status == "open":
            peak = 10.0 <= clock < 11.5 or 14.0 <= clock < 16.5
            base = PEAK_PER_MINUTE * (1.0 if peak else 0.75)
        elif status == "lunch":
            base = PEAK_PER_MINUTE * 0.35
        elif status == "closed":
            day = WEEKDAY_ORDER[when.weekday()]
            opens = min(minutes(p.start) for p in self.config.hours.business if day in p.days)
            now = when.hour * 60 + when.minute
            waiting = 0 <= opens - now <= 30  # callers waiting for the offices to open
            base = 0.8 if waiting else 0.25 if 7 <= clock < 22 else 0.04
        else:
            base = 0.3 if 8 <= clock < 20 else 0.04
        return base * self.rate

    def arrivals(self, when: dt.datetime, seconds: float = 1.0) -> int:
        """New calls in the next ``seconds`` (Poisson)."""
        return _poisson(self.rng, self.per_minute(when) * seconds / 60.0)

    def burst_starts(self, when: dt.datetime, seconds: float = 1.0) -> bool:
        """A sudden rush (a tax notice went out, a news item): only in office hours."""
        if self.status(when) != "open" or self.rate <= 0:
            return False
        chance = BURSTS_PER_OPEN_HOUR * min(1.0, self.rate) * seconds / 3600.0
        return self.rng.random() < chance

    def burst_size(self, active: int) -> int:
        """Calls in a burst: enough to bring the lines to 95-130 % of the licences (busy for some)."""
        lines = self.config.lines
        return max(0, round(self.rng.uniform(0.95, 1.3) * lines) - active)

    # -- who and how ---------------------------------------------------------------------------------

    def number(self) -> str:
        """A made-up Korean caller number, digits only as the carrier sends it."""
        r = self.rng.random()
        if r < 0.7:
            return f"010{self.rng.randint(2000, 9999)}{self.rng.randint(0, 9999):04d}"
        if r < 0.92:
            return f"02{self.rng.randint(2000, 9999)}{self.rng.randint(0, 9999):04d}"
        area = self.rng.choice(("031", "032", "070"))
        return f"{area}{self.rng.randint(200, 9999)}{self.rng.randint(0, 9999):04d}"

    def plan(self, burst_department: Department | None = None) -> CallPlan:
        """One caller: the number dialled, the department reached, how long they talk, whether abusive."""
        cfg = self.config
        rng = self.rng
        menu_digit = None
        if burst_department is not None:
            department = burst_department
            did = department.dids[0] if department.dids else cfg.main_number.did
            if not department.dids:
                menu_digit = department.menu_digit
        elif rng.random() < 0.35 or not any(d.dids for d in cfg.departments):
            did = cfg.main_number.did
            choices = cfg.menu_departments()
            department = rng.choice(choices) if choices and rng.random() < MENU_PRESS else None
            menu_digit = department.menu_digit if department else None
        else:
            department = rng.choice([d for d in cfg.departments if d.dids])
            did = rng.choice(department.dids)
        abusive = department is not None and department.protection and rng.random() < ABUSIVE_SHARE
        caller = rng.choice(self.regulars) if abusive and rng.random() < 0.5 else self.number()
        if burst_department is not None:
            talk = rng.uniform(30, 120)
        elif rng.random() < LONG_CALL_SHARE:
            talk = cfg.call_limit.end_after + 60.0
        else:
            talk = _clamp(rng.lognormvariate(math.log(30), 0.55), 10, 90)
        patience = rng.uniform(2, 8) if rng.random() < IMPATIENT_SHARE else 600.0
        return CallPlan(did=did, caller=caller, department=department, menu_digit=menu_digit, talk=talk,
                        patience=patience, abusive=abusive, warnings=self.warnings() if abusive else 0,
                        staff_hangs_up=rng.random() < STAFF_HANGS_UP, burst=burst_department is not None)

    def warnings(self) -> int:
        """How many times the staff warn an abusive caller; the last possible one ends the call."""
        last = self.config.protection.warnings_before_end
        r = self.rng.random()
        return 1 if r < 0.55 or last == 1 else 2 if r < 0.8 or last == 2 else last

    def burst_department(self) -> Department:
        """Rushes hit one department (tax notices most often)."""
        weights = {"tax": 4, "civil": 3, "welfare": 2}
        deps = [d for d in self.config.departments if d.dids or d.menu_digit]
        return self.rng.choices(deps, [weights.get(d.id, 1) for d in deps])[0]

    def warning_gaps(self, count: int) -> list[float]:
        """Seconds of talk before each warning key press."""
        return [self.rng.uniform(3, 10) if i == 0 else self.rng.uniform(8, 15) for i in range(count)]


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


# --- the caller process --------------------------------------------------------------------------------


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
            tmp = self.status_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(status) + "\n", encoding="utf-8")
            tmp.replace(self.status_path)
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.calls",
                                     description="Lab only: simulated callers for the IVR's Asterisk (AMI).")
    parser.add_argument("--config", type=Path, required=True, help="ivr.yaml: DIDs, hours, AMI address")
    parser.add_argument("--run-dir", type=Path, required=True, help="status.json goes here")
    parser.add_argument("--secret-file", type=Path, required=True, help="the caller's AMI secret")
    parser.add_argument("--user", default=CALLER_USER)
    parser.add_argument("--rate", type=float, default=1.0, help="multiplier of the time-of-day call rate")
    parser.add_argument("--recordings", type=Path, default=None, help="lab recordings to prune (host path)")
    parser.add_argument("--keep-recordings", type=float, default=3.0, help="hours")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    config = load_config(args.config)
    secret = args.secret_file.read_text(encoding="utf-8").strip()
    args.run_dir.mkdir(parents=True, exist_ok=True)
    model = TrafficModel(config, args.rate, random.Random(args.seed))
    caller = Caller(config, secret, model, user=args.user, status_path=args.run_dir / "status.json",
                    recordings=args.recordings, keep_recordings=args.keep_recordings * 3600)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, caller.stop)
        await caller.run()

    log.info("lab caller: %s, rate x%s, AMI %s:%s", args.config, args.rate, config.ami.host, config.ami.port)
    asyncio.run(run())
    log.info("lab caller stopped: %s", caller.status())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
