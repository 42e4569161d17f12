"""The carrier trunk against a second real Asterisk acting as the carrier.

The carrier requires registration with digest authentication. It is stopped and restarted, and it
refuses a wrong password. The controller's metrics and logs must say which case happened, once per
change of case.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time

import pytest

from ivr.ami_protocol import AmiConnection
from ivr.amipolicy import AmiUser
from ivr.metrics import IvrCollector, IvrStats
from ivr.trunk import TrunkCase, TrunkMonitor
from lab import asterisk as lab_mod
from nms.exposition import generate_text
from tests import ivr_fixtures
from tests.ivr_fixtures import LabClient, config_data, run, write_carrier_config

asterisk_rootfs = ivr_fixtures.asterisk_rootfs
ivr_lab_factory = ivr_fixtures.ivr_lab_factory
carrier = ivr_fixtures.carrier

USER = "geumcheon-ivr"
PASSWORD = "Tr0nk-pass-7e1"


def trunk_metrics(stats) -> dict[str, float]:
    """The trunk's samples as exported: {metric name: value}."""
    out = {}
    for line in generate_text(IvrCollector(stats)).decode().splitlines():
        if line.startswith("nms_ivr_trunk_") and 'trunk="pstn"' in line:
            out[line.split("{", 1)[0]] = float(line.rsplit(" ", 1)[1])
    return out


async def until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.2)


def test_registration_auth_outage_and_wrong_password(ivr_lab_factory, carrier, caplog) -> None:
    ami_port, sip_port, carrier_sip, carrier_ami = lab_mod.free_ports(4)
    carrier_ast, carrier_secret = carrier(sip_port, carrier_sip, carrier_ami, account=(USER, PASSWORD))
    data = config_data(ports=(ami_port, sip_port))
    data["sip"]["trunk"] = {
        "name": "pstn", "host": "127.0.0.1", "port": carrier_sip, "qualify_frequency": 2, "qualify_timeout": 1.0,
        "registration": {"expiration": 60, "retry_interval": 5, "forbidden_retry_interval": 5},
    }
    # The credentials are secrets: ivr.yaml names them, the secrets directory holds them.
    least = AmiUser("least", "least-privilege-secret", ("system",), ("reporting",))
    lab = ivr_lab_factory(data, secrets={"sip-trunk-username": USER, "sip-trunk-password": PASSWORD},
                          extra_ami_users=(least,))
    pjsip = (lab.instance.etc_dir / "pjsip.conf").read_text()
    assert "type = registration" in pjsip and f"client_uri = sip:{USER}@127.0.0.1" in pjsip
    assert PASSWORD not in (lab.run_dir / "ivr.yaml").read_text()
    did = lab.config.departments[0].dids[0]
    caplog.set_level(logging.INFO, logger="ivr.trunk")
    reduced_logs: list[logging.LogRecord] = []  # the second monitor's, on the least-privilege account

    async def scenario() -> None:
        async with lab.client() as ivr, LabClient(
                AmiConnection("127.0.0.1", carrier_ami, "carrier", carrier_secret, 10.0)) as pstn:
            # Registered before the controller runs: its first state comes from reading Asterisk back.
            await ivr.wait_until(lambda: [e for e in ivr.events if e.get("Event") == "Registry"
                                          and e.get("Status") == "Registered"], 30, "IVR registers at the carrier")
            service = lab.service()
            await service.start()
            try:
                await service.controller.ready.wait()
                stats = service.stats
                m = await until(lambda: (lambda m: m if m.get("nms_ivr_trunk_rtt_seconds") else None)(
                    trunk_metrics(stats)), 15, "trunk metrics after resync")
                assert m["nms_ivr_trunk_registered"] == 1 and m["nms_ivr_trunk_reachable"] == 1, m
                assert 0 < m["nms_ivr_trunk_rtt_seconds"] < 1, m
                assert service.controller.trunk.case is TrunkCase.REGISTERED

                # An account with write class 'reporting' only reads registration and reachability back.
                reduced = IvrStats()
                before = len(caplog.records)
                async with LabClient(AmiConnection("127.0.0.1", ami_port, least.name, least.secret, 10.0)) as ro:
                    monitor = TrunkMonitor(lab.config.sip.trunk, reduced)
                    await monitor.refresh(ro.conn)
                    assert monitor.case is TrunkCase.REGISTERED
                    m = trunk_metrics(reduced)
                    assert m["nms_ivr_trunk_registered"] == 1 and m["nms_ivr_trunk_reachable"] == 1, m
                reduced_logs.extend(caplog.records[before:])

                # A call from the carrier reaches the IVR through the registered contact.
                await pstn.conn.ok({"Action": "Originate", "Channel": f"PJSIP/{did}@{USER}",
                                    "Context": "carrier-caller", "Exten": "s", "Priority": "1",
                                    "CallerID": '"민원인" <01024681357>', "Async": "true"}, timeout=10)
                await ivr.wait_until(lambda: ivr.playbacks("nms/staff-protection"), 20, "IVR answers the carrier")
                await pstn.conn.ok({"Action": "Hangup", "Channel": "/^PJSIP/"})

                # The carrier stops: OPTIONS go unanswered, and a re-registration fails.
                carrier_ast.stop()
                await until(lambda: trunk_metrics(stats).get("nms_ivr_trunk_reachable") == 0, 20, "unreachable")
                await ivr.conn.ok({"Action": "PJSIPRegister", "Registration": "pstn-reg"})
                # An unanswered REGISTER fails after SIP timer F (32 s).
                await until(lambda: trunk_metrics(stats).get("nms_ivr_trunk_registered") == 0, 50,
                            "registration lost while the carrier is down")
                assert "nms_ivr_trunk_rtt_seconds" not in trunk_metrics(stats)
                assert service.controller.trunk.case is TrunkCase.UNREACHABLE

                # The carrier is back: reachable and registered again, without any action.
                carrier_ast.start()
                await until(lambda: trunk_metrics(stats).get("nms_ivr_trunk_registered") == 1
                            and trunk_metrics(stats).get("nms_ivr_trunk_reachable") == 1, 40, "registered again")

                # The carrier now expects another password: our registration is refused.
                write_carrier_config(carrier_ast, sip_port, carrier_sip, carrier_ami, carrier_secret,
                                     (USER, "changed-by-the-carrier"))
                carrier_ast.cli("module reload res_pjsip.so")
                await ivr.conn.ok({"Action": "PJSIPRegister", "Registration": "pstn-reg"})
                await until(lambda: service.controller.trunk.case is TrunkCase.AUTH_REJECTED, 30, "auth rejected")
                m = trunk_metrics(stats)
                assert m["nms_ivr_trunk_registered"] == 0 and m["nms_ivr_trunk_reachable"] == 1, m

                # The account is fixed at the carrier: the next retry registers.
                write_carrier_config(carrier_ast, sip_port, carrier_sip, carrier_ami, carrier_secret,
                                     (USER, PASSWORD))
                carrier_ast.cli("module reload res_pjsip.so")
                await until(lambda: service.controller.trunk.case is TrunkCase.REGISTERED, 30, "registered after fix")
            finally:
                await service.stop()

    run(scenario(), timeout=240)

    assert sum("may not read PJSIPShowEndpoint" in r.getMessage() for r in reduced_logs) == 1
    messages = [r.getMessage() for r in caplog.records if r.name == "ivr.trunk" and r not in reduced_logs]
    text = "\n".join(messages)
    assert "registered with the carrier" in text, text
    assert "is unreachable" in text, text
    assert "rejected our registration: wrong user name or password" in text, text
    assert PASSWORD not in text and "changed-by-the-carrier" not in text
    # Once per change of case: never the same message twice in a row.
    kinds = [_kind(msg) for msg in messages if _kind(msg)]
    assert all(a != b for a, b in itertools.pairwise(kinds)), messages
    assert kinds.index("unreachable") < kinds.index("auth-rejected") < len(kinds) - 1 and kinds[-1] == "registered"


def _kind(message: str) -> str:
    for needle, kind in (("registered with the carrier", "registered"), ("is unreachable", "unreachable"),
                         ("rejected our registration", "auth-rejected"), ("answers OPTIONS", "reachable"),
                         ("registration not accepted yet", "registering")):
        if needle in message:
            return kind
    return ""


@pytest.mark.parametrize("bad", ["pass;word", "pass\nword", " padded", "back\\slash"])
def test_a_password_pjsip_conf_cannot_hold_is_refused(bad: str) -> None:
    from ivr.config import IvrConfig
    from ivr.render import RenderOptions, TrunkCredentials, render_files

    data = config_data(ports=(5038, 5070))
    data["sip"]["trunk"] = {"name": "pstn", "host": "127.0.0.1", "port": 5080, "registration": {}}
    config = IvrConfig.model_validate(data)
    with pytest.raises(ValueError, match="trunk password"):
        render_files(config, RenderOptions(ami_secret="a", trunk_credentials=TrunkCredentials(USER, bad)))
    with pytest.raises(ValueError, match="no credentials"):
        render_files(config, RenderOptions(ami_secret="a"))
    with pytest.raises(ValueError, match="not a valid SIP user name"):
        render_files(config, RenderOptions(ami_secret="a", trunk_credentials=TrunkCredentials("a b@c", "pw")))


def test_rendered_trunk_sections_and_no_secret_in_the_config_id() -> None:
    from ivr.config import IvrConfig
    from ivr.render import RenderOptions, TrunkCredentials, config_id, render_files

    data = config_data(ports=(5038, 5070))
    data["sip"]["trunk"] = {"name": "pstn", "host": "127.0.0.1", "port": 5080, "qualify_frequency": 20,
                            "registration": {"domain": "ims.carrier.example", "expiration": 600}}
    config = IvrConfig.model_validate(data)
    pjsip = render_files(config, RenderOptions(ami_secret="a", trunk_credentials=TrunkCredentials(USER, PASSWORD)))[
        "pjsip.conf"]
    for line in ("[pstn-auth]", f"username = {USER}", f"password = {PASSWORD}", "[pstn-reg]", "type = registration",
                 "server_uri = sip:ims.carrier.example:5080", f"client_uri = sip:{USER}@ims.carrier.example",
                 "outbound_proxy = sip:127.0.0.1:5080\\;lr", "expiration = 600", "qualify_frequency = 20",
                 "outbound_auth = pstn-auth", "match = 127.0.0.1", "auth_rejection_permanent = no"):
        assert line in pjsip.splitlines(), line
    assert PASSWORD not in config_id(config) and PASSWORD not in config.model_dump_json()


def test_events_of_other_trunks_and_endpoints_change_nothing() -> None:
    from ivr.config import Trunk, TrunkRegistration

    stats = IvrStats()
    monitor = TrunkMonitor(Trunk(name="pstn", host="127.0.0.1", port=5080, registration=TrunkRegistration()), stats)
    for msg in (
        {"Event": "Registry", "ChannelType": "PJSIP", "Domain": "sip:10.0.0.9:5080", "Status": "Registered"},
        {"Event": "Registry", "ChannelType": "IAX2", "Domain": "sip:127.0.0.1:5080", "Status": "Registered"},
        {"Event": "ContactStatus", "EndpointName": "2301", "AOR": "2301", "ContactStatus": "Unreachable"},
        {"Event": "PeerStatus", "Peer": "PJSIP/2301", "PeerStatus": "Unreachable"},
        {"Event": "ContactStatus", "EndpointName": "pstn", "AOR": "pstn", "ContactStatus": "Bogus",
         "RoundtripUsec": "x"},
    ):
        monitor.on_event(msg)
    assert monitor.case is TrunkCase.UNKNOWN and trunk_metrics(stats) == {}
    monitor.on_event({"Event": "ContactStatus", "EndpointName": "pstn", "AOR": "pstn", "ContactStatus": "Reachable",
                      "RoundtripUsec": "not-a-number"})
    assert trunk_metrics(stats) == {"nms_ivr_trunk_reachable": 1.0}
    monitor.on_event({"Event": "Registry", "ChannelType": "PJSIP", "Domain": "sip:127.0.0.1:5080",
                      "Status": "Registered"})
    assert monitor.case is TrunkCase.REGISTERED
