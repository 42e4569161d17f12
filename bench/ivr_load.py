"""IVR load benchmark: 60 concurrent calls on a real Asterisk 22, the staff warning key pressed on every call.

Layout, as in production: Asterisk (the lab's chroot), the controller as its own process (``nms ivr``,
the production entry point, with its own ``/metrics``), and this script as the callers, the staff and
the observer. The observer's AMI account gets only the events it needs (an Asterisk-side event
filter), so that watching the system costs it as little as possible.

What is measured (JSON to stdout and ``bench/results/ivr_load.json``):

* **event lag**: from the event's Asterisk timestamp (``timestampevents = yes``) to the end of its
  handling in the controller (stored, counted). Read from the controller's own histogram on
  ``/metrics`` (``nms_ivr_event_lag_seconds``), over the load window: quantiles are interpolated
  inside the buckets as Prometheus' ``histogram_quantile`` does, and ``share_within_goal`` (events
  handled within 50 ms, a bucket bound) is exact. Cross-check without the controller's word: for
  every protection event, the time the dialplan raised it (ms) to the time SQLite stored it.
* **key to warning**: the staff key ``*1`` is pressed on every staff phone at once. Each staff
  phone is the ``;2`` half of its ``Local/`` staff channel, redirected to a ``SendDTMF``, so the
  digits reach Asterisk's staff leg (``;1``) as begin/end pairs, as RFC 4733 digits from a SIP
  phone do. The feature fires when the last digit ends: measured from that ``DTMFEnd`` on the staff
  leg to the start of the warning's ``Playback`` on the caller's channel (both Asterisk
  timestamps). Also reported, from the first digit going down: that adds the simulated staff's own
  keying (100 ms key, 100 ms pause, 100 ms key). The next round is pressed only once every caller
  has heard the previous warning to its end: a key pressed during a warning queues the next one
  behind it, by design, and would measure the length of the announcement.
* **controller CPU**: ``process_cpu_seconds_total`` of the controller process over the load window,
  and per handled event. Asterisk's CPU and this script's are reported for context.

Goal: p99 event lag < 50 ms, p99 key to warning < 300 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchlib import cpu_seconds, percentile  # noqa: E402

from ivr.ami_protocol import AmiConnection  # noqa: E402
from ivr.amipolicy import AmiUser  # noqa: E402
from ivr.config import IvrConfig, load_config  # noqa: E402
from lab import asterisk as lab  # noqa: E402
from tests.ivr_fixtures import STAFF_SIM, LabClient, config_data, instance_name, write_config  # noqa: E402

CALLS = 60
ROUNDS = 2  # warnings per call: warning-1, warning-2 (the third would end the call)
KEY_MS = 100  # how long the simulated staff holds each key down
KEY_GAP_MS = 100  # and the pause between the two keys
GOAL_LAG_MS = 50
GOAL_KEY_MS = 300
BENCH_USER = "nms-bench"
#: The observer's events, filtered by Asterisk: only Newexten of the warning context (its Playback
#: start and the Return after it), not the ~170 Newexten of every call's set-up.
BENCH_EVENTS = (
    "eventfilter(action(include),name(OriginateResponse)) =",
    "eventfilter(action(include),name(DialEnd)) =",
    "eventfilter(action(include),name(BridgeEnter)) =",
    "eventfilter(action(include),name(DTMFBegin)) =",
    "eventfilter(action(include),name(DTMFEnd)) =",
    "eventfilter(action(include),name(Newexten),header(Context),method(exact)) = nms-warn",
    "eventfilter(action(include),name(UserEvent),header(UserEvent),method(exact)) = NmsProtection",
)


def _ms(v: float | None) -> float | None:
    return None if v is None else round(v * 1000, 2)


def _summary(values: list[float]) -> dict[str, Any]:
    return {"p50": _ms(percentile(values, 50)), "p99": _ms(percentile(values, 99)),
            "max": _ms(max(values, default=None)), "samples": len(values)}


# --- the controller's /metrics -------------------------------------------------------------------


def scrape(url: str) -> dict[str, Any]:
    """Per event kind, the lag histogram (cumulative buckets, count, sum); the process CPU; lines in use."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(url, timeout=5) as resp:
        text = resp.read().decode()
    out: dict[str, Any] = {"lag": {}, "cpu": 0.0, "lines_in_use": None, "connected": None}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name.startswith("nms_ivr_event_lag_seconds"):
                lag = out["lag"].setdefault(s.labels.get("event", ""), {"buckets": {}, "count": 0.0, "sum": 0.0})
                if s.name.endswith("_bucket"):
                    lag["buckets"][float(s.labels["le"])] = s.value
                elif s.name.endswith("_count"):
                    lag["count"] = s.value
                elif s.name.endswith("_sum"):
                    lag["sum"] = s.value
            elif s.name == "process_cpu_seconds_total":
                out["cpu"] = s.value
            elif s.name == "nms_ivr_lines_in_use":
                out["lines_in_use"] = s.value
            elif s.name == "nms_ivr_ami_connected":
                out["connected"] = s.value
    return out


def histogram_quantile(q: float, buckets: dict[float, float]) -> float | None:
    """Prometheus' estimate: linear interpolation inside the bucket holding the q-th observation."""
    bounds = sorted(buckets)
    total = buckets[bounds[-1]]
    if total <= 0:
        return None
    rank = q * total
    lower, below = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if bound == float("inf"):
                return lower
            return lower + (bound - lower) * ((rank - below) / (count - below) if count > below else 1.0)
        lower, below = bound, count
    return lower


def lag_report(before: dict[str, Any], after: dict[str, Any], events: list[str] | None = None) -> dict[str, Any]:
    """Lag over the window between two scrapes, for the given event kinds (default: all, summed by ``le``)."""
    buckets: dict[float, float] = {}
    n = total = 0.0
    for event, lag in after["lag"].items():
        if events is not None and event not in events:
            continue
        prior = before["lag"].get(event, {"buckets": {}, "count": 0.0, "sum": 0.0})
        for bound, count in lag["buckets"].items():
            buckets[bound] = buckets.get(bound, 0.0) + count - prior["buckets"].get(bound, 0.0)
        n += lag["count"] - prior["count"]
        total += lag["sum"] - prior["sum"]
    if not n:
        return {"p50": None, "p99": None, "mean": None, "max_at_most": None, "share_within_goal": None, "samples": 0}
    goal = GOAL_LAG_MS / 1000
    worst = min((b for b, c in buckets.items() if c >= n), default=float("inf"))
    return {
        "p50": _ms(histogram_quantile(0.50, buckets)),
        "p99": _ms(histogram_quantile(0.99, buckets)),
        "mean": _ms(total / n),
        "max_at_most": None if worst == float("inf") else _ms(worst),
        "share_within_goal": round(buckets.get(goal, 0.0) / n, 4),
        "samples": int(n),
    }


def _brief(report: dict[str, Any]) -> dict[str, Any]:
    return {k: report[k] for k in ("p50", "p99", "share_within_goal", "samples") if k in report}


# --- processes -----------------------------------------------------------------------------------


def start_controller(config_path: Path, secrets_dir: Path, metrics: str, log_path: Path) -> subprocess.Popen:
    """``nms ivr`` as production runs it: its own process, its own /metrics."""
    exe = Path(sys.executable).with_name("nms")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c", "import sys; from nms.cli import main; "
                                                                 "sys.exit(main())"]
    cmd += ["ivr", "--config", str(config_path), "--secrets-dir", str(secrets_dir), "--metrics", metrics]
    with open(log_path, "ab") as log_file:
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                                cwd=str(ROOT), start_new_session=True)


def stop_controller(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


async def wait_for(predicate, timeout: float, what: str, poll: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = await asyncio.to_thread(predicate)
        if result:
            return result
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(poll)


# --- the load --------------------------------------------------------------------------------------


def staff_simulator(key: str) -> str:
    """The lab's staff phones, plus a key pad: a phone redirected to ``nms-bench-keys`` presses ``key``.

    The phone is the ``;2`` half of a ``Local/`` staff channel: what it sends reaches Asterisk's staff
    leg (``;1``) as DTMF begin/end pairs, as RFC 4733 digits from a SIP phone do. One AMI ``Redirect``
    per phone starts its key presses at once. ``PlayDTMF`` holds a manager session for the whole key
    press, and 60 extra sessions (even logged in with ``Events: off``) made Asterisk use six times
    the CPU of the calls themselves: it wakes every session's thread for every event.
    """
    return STAFF_SIM + f"""
[nms-bench-keys]
exten => s,1,SendDTMF({key},{KEY_GAP_MS},{KEY_MS})
 same => n,Wait(3600)
"""


async def drive(config: IvrConfig, bench_secret: str, metrics_url: str, asterisk_pid: int) -> dict[str, Any]:
    dids = [d.dids[0] for d in config.departments if d.protection]
    key = config.protection.warning_key
    ami = config.ami
    observer = LabClient(AmiConnection(str(ami.host), ami.port, BENCH_USER, bench_secret, 10.0))
    async with observer as obs:
        m0 = await asyncio.to_thread(scrape, metrics_url)
        cpu0, ast0, me0 = m0["cpu"], cpu_seconds(asterisk_pid), time.process_time()
        t0 = time.monotonic()
        for i in range(CALLS):
            await obs.call(dids[i % len(dids)], caller=f"0107000{i:04d}")

        def answered() -> dict[str, str]:  # staff leg (;1) -> caller channel
            return {e.get("DestChannel"): e.get("Channel") for e in obs.events if e.get("Event") == "DialEnd"
                    and e.get("DialStatus") == "ANSWER" and "@nms-lab-staff" in (e.get("DestChannel") or "")}

        await obs.wait_until(lambda: len(answered()) == CALLS, 120, f"{CALLS} calls answered by staff")
        peer = answered()
        await obs.wait_until(lambda: {e.get("Channel") for e in obs.events if e.get("Event") == "BridgeEnter"}
                             >= set(peer.values()), 30, "every caller bridged with its staff")
        await wait_for(lambda: scrape(metrics_url)["lines_in_use"] == CALLS, 30, "controller sees every line")
        setup_s = time.monotonic() - t0
        m_setup = await asyncio.to_thread(scrape, metrics_url)
        legs = sorted(peer)

        def heard_to_end(n: int) -> bool:
            ends = [e for e in obs.events if e.get("Event") == "Newexten" and e.get("Context") == "nms-warn"
                    and e.get("Application") == "Return"]
            return len(ends) >= n * CALLS

        for rnd in range(1, ROUNDS + 1):
            await asyncio.gather(*(obs.conn.ok({"Action": "Redirect", "Channel": leg[:-1] + "2",
                                                "Context": "nms-bench-keys", "Exten": "s", "Priority": "1"})
                                   for leg in legs))
            await obs.wait_until(lambda r=rnd: len(obs.playbacks(f"nms/warning-{r}")) == CALLS, 30, f"round {rnd}")
            await obs.wait_until(lambda r=rnd: heard_to_end(r), 30, f"warning-{rnd} played to its end")

        m_warned = await asyncio.to_thread(scrape, metrics_url)
        for leg in legs:
            await obs.conn.action({"Action": "Hangup", "Channel": leg})
        await wait_for(lambda: scrape(metrics_url)["lines_in_use"] == 0, 30, "every call ended")
        await asyncio.sleep(0.5)  # the last Hangup events
        m1 = await asyncio.to_thread(scrape, metrics_url)
        cpu1, ast1, me1 = m1["cpu"], cpu_seconds(asterisk_pid), time.process_time()
        window = time.monotonic() - t0

        last, first = key[-1], key[0]
        releases: dict[str, list[float]] = {}
        downs: dict[str, list[float]] = {}
        for e in obs.events:
            if e.get("Channel") in peer and e.get("Direction") == "Received":
                if e.get("Event") == "DTMFEnd" and e.get("Digit") == last:
                    releases.setdefault(peer[e.get("Channel")], []).append(float(e.get("Timestamp")))
                elif e.get("Event") == "DTMFBegin" and e.get("Digit") == first:
                    downs.setdefault(peer[e.get("Channel")], []).append(float(e.get("Timestamp")))
        gosubs: dict[str, list[float]] = {}  # the warning Gosub's first step on the caller's channel
        for e in obs.events:
            if e.get("Event") == "Newexten" and e.get("Context") == "nms-warn" and e.get("Priority") == "1":
                gosubs.setdefault(e.get("Channel"), []).append(float(e.get("Timestamp")))
        key_to_play, down_to_play, key_to_gosub, gosub_to_play = [], [], [], []
        for n in range(1, ROUNDS + 1):
            for p in obs.playbacks(f"nms/warning-{n}"):
                chan, start = p.get("Channel"), float(p.get("Timestamp"))
                if len(releases.get(chan, [])) >= n:
                    key_to_play.append(start - releases[chan][n - 1])
                    if len(gosubs.get(chan, [])) >= n:
                        key_to_gosub.append(gosubs[chan][n - 1] - releases[chan][n - 1])
                        gosub_to_play.append(start - gosubs[chan][n - 1])
                if len(downs.get(chan, [])) >= n:
                    down_to_play.append(start - downs[chan][n - 1])
        raised = len(obs.user_events("NmsProtection"))

    events = lag_report(m0, m1)["samples"]
    return {
        "calls": CALLS,
        "warnings_per_call": ROUNDS,
        "layout": "Asterisk 22 (chroot) | controller: `nms ivr` process | this script: callers, staff, observer",
        "setup_seconds": round(setup_s, 3),
        "window_seconds": round(window, 3),
        "protection_events_raised": raised,
        "event_lag_ms": {
            **lag_report(m0, m1),
            "source": "controller /metrics, nms_ivr_event_lag_seconds (bucket-interpolated quantiles)",
            "by_event": {event: _brief(lag_report(m0, m1, [event])) for event in sorted(m1["lag"])},
            "by_phase": {"calls_set_up": _brief(lag_report(m0, m_setup)),
                         "warnings": _brief(lag_report(m_setup, m_warned)),
                         "calls_ended": _brief(lag_report(m_warned, m1))}},
        "key_to_warning_ms": {**_summary(key_to_play),
                              "from": "DTMFEnd of the key's last digit on the staff leg (the feature fires)",
                              "to": "Newexten Playback(nms/warning-N) on the caller's channel",
                              "parts": {"key_to_warning_gosub": _brief(_summary(key_to_gosub)),
                                        "gosub_to_playback": _brief(_summary(gosub_to_play))}},
        "first_digit_down_to_warning_ms": {**_summary(down_to_play),
                                           "note": f"adds the staff's keying: two {KEY_MS} ms keys, {KEY_GAP_MS} ms "
                                                   "apart"},
        "controller_cpu_seconds": round(cpu1 - cpu0, 3),
        "controller_events_handled": events,
        "controller_cpu_ms_per_event": round((cpu1 - cpu0) * 1000 / max(events, 1), 4),
        "asterisk_cpu_seconds": round(ast1 - ast0, 2),
        "bench_process_cpu_seconds": round(me1 - me0, 2),
        "goals": {"event_lag_p99_ms": GOAL_LAG_MS, "key_to_warning_p99_ms": GOAL_KEY_MS},
    }


def stored_after(db_path: Path) -> list[float]:
    """Per protection event: seconds from the dialplan raising it to the controller's SQLite commit."""
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        return [stored - raised for raised, stored in db.execute("SELECT time, stored FROM protection_events")]


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="nms-ivr-bench-") as tmp:
        run_dir = Path(tmp)
        name = instance_name("bench")
        ami_port, sip_port, metrics_port = lab.free_ports(3)
        root = lab.build_rootfs(quiet=True)
        data = config_data(ports=(ami_port, sip_port))
        data["recordings"]["directory"] = f"/nms/{name}/recordings"
        data["recordings"]["host_directory"] = str(root / "nms" / name / "recordings")
        config_path = write_config(run_dir, data)
        config = load_config(config_path)
        bench_secret = secrets.token_urlsafe(16)
        handle = lab.start_lab_asterisk(
            config, run_dir, name=name, secrets_dir=run_dir / "secrets",
            lab_extensions=staff_simulator(config.protection.warning_key),
            extra_ami_users=(AmiUser(BENCH_USER, bench_secret, ("all",), ("all",), BENCH_EVENTS),))
        controller = None
        try:
            metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
            controller = start_controller(config_path, run_dir / "secrets", f"127.0.0.1:{metrics_port}",
                                          run_dir / "controller.log")

            def ready() -> bool:
                if controller.poll() is not None:
                    raise RuntimeError("the controller exited:\n"
                                       + (run_dir / "controller.log").read_text(errors="replace")[-2000:])
                with contextlib.suppress(OSError):
                    return scrape(metrics_url).get("connected") == 1
                return False

            asyncio.run(wait_for(ready, 30, "the controller connected to AMI"))
            result = asyncio.run(drive(config, bench_secret, metrics_url, handle.instance.proc.pid))
            stop_controller(controller)
            result["event_to_stored_ms"] = {
                **_summary(stored_after(config.events.database)),
                "from": "the dialplan raising the protection event (Asterisk clock, ms)",
                "to": "the controller's SQLite commit (host clock)",
            }
            result["events_stored"] = result["event_to_stored_ms"]["samples"]
        finally:
            if controller is not None:
                stop_controller(controller)
            handle.instance.remove()
    lag_p99 = result["event_lag_ms"]["p99"]
    key_p99 = result["key_to_warning_ms"]["p99"]
    result["ok"] = (lag_p99 is not None and lag_p99 < GOAL_LAG_MS and key_p99 is not None and key_p99 < GOAL_KEY_MS
                    and result["events_stored"] == CALLS * ROUNDS)
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    out = ROOT / "bench" / "results" / "ivr_load.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
