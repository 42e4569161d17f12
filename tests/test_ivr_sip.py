"""SIP end to end: a second Asterisk (the carrier) calls the IVR over a PJSIP trunk on loopback.

RTP is checked in both directions, by count and by content.

* Counts. Asterisk gives a channel's outgoing stream a new SSRC whenever the channel's media source
  changes (the IVR's SIP channel entering the bridge with staff is such a change), and the receiver's
  ``CHANNEL(rtcp,all)`` statistics (``rxcount``) start again with each new SSRC. A count read just
  after a change therefore says "4 packets" although none was lost, while the sender's ``txcount``
  covers the whole call. So both sides are read twice within one SSRC, and the packets one side
  sent in between must be the packets the other side received.
* Content. The carrier sends a 440 Hz tone and records what it receives. The IVR's own call
  recording must hold the caller's tone; the carrier's recording must hold the IVR's announcements.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from ivr.ami_protocol import AmiConnection
from lab import asterisk as lab_mod
from tests import ivr_fixtures
from tests.ivr_fixtures import LabClient, config_data, run

asterisk_rootfs = ivr_fixtures.asterisk_rootfs
ivr_lab_factory = ivr_fixtures.ivr_lab_factory
carrier = ivr_fixtures.carrier

WINDOW = 100  # packets (2 s at 20 ms) compared in each direction
SKEW = 5  # packets: the two sides are read one AMI round trip apart
TONE_HZ = ivr_fixtures.CARRIER_TONE_HZ


def _rtp(value: str) -> dict[str, str]:
    """``CHANNEL(rtcp,all)``: ``ssrc=..;themssrc=..;lp=..;rxcount=..;txcount=..;...``."""
    return dict(kv.split("=", 1) for kv in value.split(";") if "=" in kv)


async def _rtp_stats(client: LabClient, channel: str) -> dict[str, str]:
    resp = await client.conn.ok({"Action": "Getvar", "Channel": channel, "Variable": "CHANNEL(rtcp,all)"})
    stats = _rtp(resp.get("Value", ""))
    assert "rxcount" in stats and "txcount" in stats, f"no RTP statistics on {channel}: {resp}"
    return stats


def _sox_stat(path: Path, *effects: str) -> dict[str, float]:
    """sox's ``stat`` of an audio file (RMS amplitude, rough frequency, ...)."""
    proc = subprocess.run(["sox", str(path), "-n", *effects, "stat"], capture_output=True, text=True, check=True)
    out = {}
    for line in proc.stderr.splitlines():
        m = re.match(r"^([A-Za-z ()]+?)\s*:\s*(-?[0-9.]+)\s*$", line)
        if m:
            out[" ".join(m.group(1).split())] = float(m.group(2))
    return out


def test_sip_call_through_a_pjsip_trunk(ivr_lab_factory, carrier) -> None:
    if shutil.which("sox") is None:
        pytest.fail("sox is not installed: run `make setup` (Debian package sox)")
    ami_port, sip_port, carrier_sip, carrier_ami = lab_mod.free_ports(4)
    data = config_data(ports=(ami_port, sip_port))
    data["sip"]["trunk"] = {"name": "pstn", "host": "127.0.0.1", "port": carrier_sip, "qualify_frequency": 2}
    lab = ivr_lab_factory(data)
    carrier_ast, carrier_secret = carrier(sip_port, carrier_sip, carrier_ami)
    service = lab.service()
    did = lab.config.departments[0].dids[0]
    number = "01024681357"

    async def scenario() -> dict:
        await service.start()
        await service.controller.ready.wait()
        async with lab.client() as ivr, LabClient(
                AmiConnection("127.0.0.1", carrier_ami, "carrier", carrier_secret, 10.0)) as pstn:
            await pstn.conn.ok({"Action": "Originate", "Channel": f"PJSIP/{did}@ivr", "Context": "carrier-caller",
                                "Exten": "s", "Priority": "1", "CallerID": f'"민원인" <{number}>',
                                "Async": "true"}, timeout=10)
            plays = await ivr.wait_until(lambda: ivr.playbacks("nms/staff-protection"), 20, "IVR answers")
            sip_channel = plays[0].get("Channel")
            assert sip_channel.startswith("PJSIP/pstn-")
            out = next(c.get("Channel") for c in await pstn.channels()
                       if c.get("Channel", "").startswith("PJSIP/ivr-"))
            staff = await ivr.wait_until(lambda: [e.get("DestChannel") for e in ivr.events
                                                  if e.get("Event") == "DialEnd" and e.get("DialStatus") == "ANSWER"
                                                  and "@nms-lab-staff" in (e.get("DestChannel") or "")], 30)
            await ivr.press(staff[0], lab.config.protection.warning_key)
            await ivr.wait_until(lambda: ivr.playbacks("nms/warning-1"), 10, "warning to the SIP caller")
            await ivr.wait_until(lambda: service.store.count() == 1, 10)

            # Counts, both ways, over one window in which neither side changes its SSRC.
            before = (await _rtp_stats(ivr, sip_channel), await _rtp_stats(pstn, out))

            async def advanced() -> tuple[dict, dict]:
                now = (await _rtp_stats(ivr, sip_channel), await _rtp_stats(pstn, out))
                done = all(int(now[i]["txcount"]) >= int(before[i]["txcount"]) + WINDOW for i in (0, 1))
                return now if done else None

            after = await _poll(advanced, 20, f"{WINDOW} RTP packets sent each way")
            # The warning has been heard to its end; then only the caller's tone is in the call.
            await ivr.wait_until(lambda: [e for e in ivr.events if e.get("Event") == "Newexten"
                                          and e.get("Channel") == sip_channel and e.get("Context") == "nms-warn"
                                          and e.get("Application") == "Return"], 10, "warning-1 played")
            tail_from = int((await _rtp_stats(ivr, sip_channel))["txcount"])
            await _poll(lambda: _sent_since(ivr, sip_channel, tail_from, 40), 10, "0.8 s of the caller's tone")

            await pstn.conn.ok({"Action": "Hangup", "Channel": out})
            await ivr.wait_until(lambda: service.stats.calls["connected"] == 1, 10, "connected call counted")
            for client, chan in ((ivr, sip_channel), (pstn, out)):
                await client.wait_until(lambda c=client, ch=chan: [
                    e for e in c.events if e.get("Event") == "Hangup" and e.get("Channel") == ch], 10, "hangup")
            # Asterisk's first OPTIONS goes out at a random moment within qualify_frequency.
            await ivr.wait_until(lambda: service.stats.trunks["pstn"].rtt, 15, "the trunk's first qualify")
            trunk = service.stats.trunks["pstn"]
        await service.stop()
        return {"before": before, "after": after, "trunk": trunk}

    rtp = run(scenario())
    (ivr_before, carrier_before), (ivr_after, carrier_after) = rtp["before"], rtp["after"]
    for ivr_side, carrier_side in ((ivr_before, carrier_before), (ivr_after, carrier_after)):
        assert carrier_side["themssrc"] == ivr_side["ssrc"], (carrier_side, ivr_side)
        assert ivr_side["themssrc"] == carrier_side["ssrc"], (ivr_side, carrier_side)
    assert ivr_before["ssrc"] == ivr_after["ssrc"] and carrier_before["ssrc"] == carrier_after["ssrc"], rtp

    def delta(after: dict, before: dict, key: str) -> int:
        return int(after[key]) - int(before[key])

    ivr_sent, carrier_got = delta(ivr_after, ivr_before, "txcount"), delta(carrier_after, carrier_before, "rxcount")
    carrier_sent, ivr_got = delta(carrier_after, carrier_before, "txcount"), delta(ivr_after, ivr_before, "rxcount")
    assert ivr_sent >= WINDOW and abs(carrier_got - ivr_sent) <= SKEW, (ivr_sent, carrier_got, rtp)
    assert carrier_sent >= WINDOW and abs(ivr_got - carrier_sent) <= SKEW, (carrier_sent, ivr_got, rtp)
    assert int(ivr_after["lp"]) == 0 and int(carrier_after["lp"]) == 0, rtp

    # A trunk without registration: reachable (OPTIONS answered) with a round trip, no registration series.
    trunk = rtp["trunk"]
    assert trunk.reachable is True and trunk.registered is None and trunk.rtt is not None and trunk.rtt > 0
    event = service.store.events()[0]
    assert event["kind"] == "warning" and event["caller_mask"] == "010****1357" and event["did"] == did

    # Content, caller -> IVR: the IVR's call recording ends with the caller's tone alone.
    ivr_rec = lab.config.recordings.local_directory / event["recording"]
    tail = _wait_for_audio(ivr_rec, "trim", "-0.6")
    assert tail["RMS amplitude"] > 0.02 and abs(tail["Rough frequency"] - TONE_HZ) < 40, tail
    # Content, IVR -> caller: the carrier heard the announcements (speech, not silence).
    heard = _wait_for_audio(carrier_ast.host_path(f"{carrier_ast.base}/spool/rx.wav"))
    assert heard["Length (seconds)"] > 3 and heard["RMS amplitude"] > 0.02, heard


async def _poll(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.1)


async def _sent_since(client: LabClient, channel: str, start: int, packets: int) -> bool:
    return int((await _rtp_stats(client, channel))["txcount"]) >= start + packets


def _wait_for_audio(path: Path, *effects: str, timeout: float = 10.0) -> dict[str, float]:
    """The recording's statistics once MixMonitor has finished writing it (its size stops changing)."""
    deadline = time.monotonic() + timeout
    size = -1
    while time.monotonic() < deadline:
        now = path.stat().st_size if path.exists() else -1
        if now > 44 and now == size:
            return _sox_stat(path, *effects)
        size = now
        time.sleep(0.3)
    raise AssertionError(f"no finished recording at {path}")
