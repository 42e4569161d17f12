"""SIP end to end: a second Asterisk (the carrier) calls the IVR over a PJSIP trunk on loopback."""

from __future__ import annotations

import secrets

import pytest

from ivr.ami_protocol import AmiConnection
from ivr.render import asterisk_conf, modules_conf
from nms.lab import asterisk as lab_mod
from tests import ivr_fixtures
from tests.ivr_fixtures import LabClient, config_data, instance_name, run

asterisk_rootfs = ivr_fixtures.asterisk_rootfs
ivr_lab_factory = ivr_fixtures.ivr_lab_factory


@pytest.fixture
def carrier(asterisk_rootfs):
    """The carrier's Asterisk: one PJSIP endpoint towards the IVR, and an AMI account for the test."""
    made = []

    def start(ivr_sip_port: int, sip_port: int, ami_port: int) -> tuple[lab_mod.AsteriskInstance, str]:
        inst = lab_mod.AsteriskInstance(instance_name("carrier"), asterisk_rootfs)
        inst.make_dirs()
        secret = secrets.token_urlsafe(16)
        etc = inst.etc_dir
        (etc / "asterisk.conf").write_text(asterisk_conf(inst.directories()))
        (etc / "modules.conf").write_text(modules_conf())
        (etc / "logger.conf").write_text("[logfiles]\nmessages.log => notice,warning,error\n")
        (etc / "rtp.conf").write_text("[general]\nrtpstart = 30000\nrtpend = 30999\n")
        (etc / "manager.conf").write_text(
            f"[general]\nenabled = yes\nbindaddr = 127.0.0.1\nport = {ami_port}\ntimestampevents = yes\n\n"
            f"[carrier]\nsecret = {secret}\nread = all\nwrite = all\n")
        (etc / "pjsip.conf").write_text(f"""
[transport-udp]
type = transport
protocol = udp
bind = 127.0.0.1:{sip_port}

[ivr]
type = endpoint
context = carrier-in
disallow = all
allow = alaw,ulaw
direct_media = no
dtmf_mode = rfc4733
rtp_symmetric = yes
media_address = 127.0.0.1
bind_rtp_to_media_address = yes
transport = transport-udp
aors = ivr

[ivr]
type = aor
contact = sip:127.0.0.1:{ivr_sip_port}

[ivr-identify]
type = identify
endpoint = ivr
match = 127.0.0.1
""")
        (etc / "extensions.conf").write_text(
            "[carrier-in]\nexten => _X.,1,Hangup(21)\n\n[carrier-caller]\nexten => s,1,Wait(3600)\n")
        inst.start()
        made.append(inst)
        return inst, secret

    yield start
    for inst in made:
        inst.remove()


def test_sip_call_through_a_pjsip_trunk(ivr_lab_factory, carrier) -> None:
    ami_port, sip_port, carrier_sip, carrier_ami = lab_mod.free_ports(4)
    data = config_data(ports=(ami_port, sip_port))
    data["sip"]["trunk"] = {"name": "pstn", "host": "127.0.0.1", "port": carrier_sip}
    lab = ivr_lab_factory(data)
    _carrier, carrier_secret = carrier(sip_port, carrier_sip, carrier_ami)
    service = lab.service()
    did = lab.config.departments[0].dids[0]
    number = "01024681357"

    async def scenario() -> str:
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
            staff = await ivr.wait_until(lambda: [e.get("DestChannel") for e in ivr.events
                                                  if e.get("Event") == "DialEnd" and e.get("DialStatus") == "ANSWER"
                                                  and "@nms-lab-staff" in (e.get("DestChannel") or "")], 30)
            await ivr.press(staff[0], lab.config.protection.warning_key)
            await ivr.wait_until(lambda: ivr.playbacks("nms/warning-1"), 10, "warning to the SIP caller")
            await ivr.wait_until(lambda: service.store.count() == 1, 10)
            # RTP really crossed: the carrier's channel received the IVR's audio.
            chans = await pstn.channels()
            out = next(c.get("Channel") for c in chans if c.get("Channel", "").startswith("PJSIP/ivr-"))
            stats = await pstn.conn.ok({"Action": "Getvar", "Channel": out, "Variable": "CHANNEL(rtcp,all)"})
            ivr_stats = await ivr.conn.ok({"Action": "Getvar", "Channel": sip_channel, "Variable": "CHANNEL(rtcp,all)"})
            await pstn.conn.ok({"Action": "Hangup", "Channel": out})
            await ivr.wait_until(lambda: service.stats.calls["connected"] == 1, 10, "connected call counted")
        await service.stop()
        return stats.get("Value", ""), ivr_stats.get("Value", "")

    carrier_rtp, ivr_rtp = (dict(kv.split("=", 1) for kv in v.split(";") if "=" in kv) for v in run(scenario()))
    # RTP crossed both ways: the IVR received the carrier's stream, the carrier received the IVR's.
    assert int(ivr_rtp["rxcount"]) > 50, ivr_rtp
    assert int(carrier_rtp["rxcount"]) > 0 and carrier_rtp["themssrc"] == ivr_rtp["ssrc"], carrier_rtp
    event = service.store.events()[0]
    assert event["kind"] == "warning" and event["caller_mask"] == "010****1357" and event["did"] == did
