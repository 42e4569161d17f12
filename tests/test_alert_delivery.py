"""Issue 14's done-when: an access switch outage reaches people as exactly one Korean e-mail.

Everything is real and on loopback: snmpsim agents (one process per device), the service's SNMP
collector and inventory series, Debian's Prometheus with the shipped rules, Debian's Alertmanager
with the shipped routing, inhibit rules and Korean templates, and an aiosmtpd SMTP server. Only
the intervals are short: polls and evaluation every second, the rules' ``for:`` divided by 30
(access switch 4 s, APs and sites 10 s), group_wait 2 s. The switches are polled less often (their
agents are slow to answer hundreds of varbinds on a shared machine).

"Taking the switch down" stops (SIGSTOP) the agents of the switch and of every AP behind it: a
dead access switch makes its APs unreachable too, and the inhibit rules must hold their alerts back.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import signal
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import pytest
import yaml
from aiosmtpd.controller import Controller

from collectors.snmp.service import SnmpCollector
from lab import AgentSet, LabOptions, start_agents
from lab.alertmanager import Intervals, ensure_token, start_alertmanager
from lab.prometheus import start_prometheus
from nms.alerting.service import AlertRelayService
from nms.app.district import load_district
from nms.inventory.metrics import InventoryService
from nms.secrets import SecretResolver
from tests import service_runner
from tests.alerting_fixtures import Messenger
from tests.district_builder import device, write_district
from tests.lab_fixtures import free_tcp_port, free_udp_port
from tests.service_runner import RunningService

REPO = Path(__file__).resolve().parent.parent
ALERTS = REPO / "configs" / "prometheus" / "alerts.yml"
SCALE = 30  # the rules' for: divided by this
EVALUATION = 1.0  # seconds: Prometheus scrape and evaluation interval, and the poll interval
GROUP_WAIT = 2.0
T = TypeVar("T")

SITES = [
    {"id": "government-001", "name": "금천구청", "name_en": "Geumcheon-gu Office", "category": "government"},
    {"id": "park-001", "name": "금천체육공원", "name_en": "Geumcheon Sports Park", "category": "park",
     "upstream": "acc-sw-01"},
    {"id": "market-001", "name": "남문시장", "name_en": "Nammun Market", "category": "market",
     "upstream": "acc-sw-01"},
    {"id": "park-002", "name": "금천폭포공원", "name_en": "Geumcheon Waterfall Park", "category": "park",
     "upstream": "core-sw-01"},
]
BEHIND_SWITCH = ["acc-sw-01", "ap-gov-01", "ap-park-01", "ap-park-02", "ap-market-01"]


def _seconds(duration: str) -> float:
    value, unit = float(duration[:-1]), duration[-1]
    return value * {"s": 1, "m": 60, "h": 3600}[unit]


def scaled_rules(directory: Path) -> Path:
    """alerts.yml with every ``for:`` divided by SCALE (at least one evaluation)."""
    doc = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    for group in doc["groups"]:
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = f"{max(EVALUATION, _seconds(rule['for']) / SCALE):g}s"
    path = directory / "alerts-short.yml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@dataclass
class Mail:
    received: float
    subject: str
    text: str
    recipients: list[str]


class Inbox:
    """aiosmtpd handler: every message, parsed, with the time it arrived."""

    def __init__(self) -> None:
        self.mails: list[Mail] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        with self.lock:
            self.mails.append(Mail(time.time(), str(msg["Subject"]), body.get_content() if body else "",
                                   list(envelope.rcpt_tos)))
        return "250 OK"

    def snapshot(self) -> list[Mail]:
        with self.lock:
            return list(self.mails)


def wait_for(check: Callable[[], T | None], timeout: float, what: str) -> T:
    value = service_runner.wait_for(check, timeout)
    assert value, f"timed out after {timeout:.0f} s waiting for {what}"
    return value


def get_json(url: str) -> dict | list:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


@dataclass
class Stack:
    agents: AgentSet
    prometheus: str
    alertmanager: str
    inbox: Inbox
    messenger: Messenger

    def query(self, expr: str) -> list[dict]:
        url = f"{self.prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        return get_json(url)["data"]["result"]

    def prom_alerts(self) -> list[dict]:
        return get_json(f"{self.prometheus}/api/v1/alerts")["data"]["alerts"]

    def am_alerts(self) -> list[dict]:
        return get_json(f"{self.alertmanager}/api/v2/alerts")

    def signal(self, devices: list[str], sig: signal.Signals) -> None:
        for name in devices:
            os.kill(self.agents.process_of(name).pid, sig)


@pytest.fixture
def stack(lab_run_dir: Path) -> Iterator[Stack]:
    agent_port = free_udp_port(["127.0.0.1"])
    hosts = iter(f"127.0.{n // 250}.{n % 250 + 1}" for n in range(3000 + os.getpid() % 1000 * 7, 10**6))
    devices = [
        device("core-sw-01", "backbone", next(hosts), agent_port, credentials="district-v2c"),
        device("acc-sw-01", "access", next(hosts), agent_port),
        device("ap-gov-01", "ap", next(hosts), agent_port),
        device("ap-park-01", "ap", next(hosts), agent_port, site="park-001"),
        device("ap-park-02", "ap", next(hosts), agent_port, site="park-001"),
        device("ap-market-01", "ap", next(hosts), agent_port, site="market-001"),
        device("ap-park2-01", "ap", next(hosts), agent_port, site="park-002"),
    ]
    config = write_district(lab_run_dir / "district", devices, interval=EVALUATION, timeout=0.4, retries=0,
                            listen=f"127.0.0.1:{free_tcp_port()}", sites=SITES)
    relay_listen = f"127.0.0.1:{free_tcp_port()}"
    messenger = Messenger()
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    # The switches' agents answer hundreds of varbinds (snmpsim: ~1 ms of CPU each) on a shared
    # machine: poll them less often and wait longer, so that only the outage makes anything fire.
    settings["polling"]["classes"]["backbone"] = {"interval": 30, "timeout": 5.0, "retries": 1}
    settings["polling"]["classes"]["access"] = {"interval": 2 * EVALUATION, "timeout": 1.5, "retries": 0}
    settings["alerting"] = {"enabled": True, "listen": relay_listen, "log": "deliveries.jsonl",
                            "forward": {"url": messenger.url, "backoff": 0.2}}
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    district = load_district(config)
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_tcp_port())
    smtp.start()
    started = []
    agents = start_agents(district, lab_run_dir, process_per_device=True,
                          options=LabOptions(down=[], reboot=[], wrap=[]))
    started.append(agents)
    try:
        token = ensure_token(agents.secrets_dir / "alert-relay-token")
        resolver = SecretResolver(agents.secrets_dir, environ={})
        service = RunningService(config, services=[InventoryService(district), SnmpCollector(district, resolver),
                                                   AlertRelayService(district, resolver)])
        service.__enter__()
        started.append(service)
        am_listen = f"127.0.0.1:{free_tcp_port()}"
        am = start_alertmanager(lab_run_dir, am_listen, f"127.0.0.1:{smtp.port}",
                                f"http://{relay_listen}/api/alerts/relay", token,
                                Intervals(group_wait=f"{GROUP_WAIT:g}s", group_interval="6s", repeat_interval="1h"))
        started.append(am)
        prom_listen = f"127.0.0.1:{free_tcp_port()}"
        prom = start_prometheus(lab_run_dir, district.settings.http.listen.replace(":0", f":{service.port}"),
                                prom_listen, [scaled_rules(lab_run_dir)], alertmanager=am_listen,
                                interval=f"{EVALUATION:g}s")
        started.append(prom)
        yield Stack(agents, f"http://{prom_listen}", f"http://{am_listen}", inbox, messenger)
    finally:
        for part in reversed(started):
            if isinstance(part, RunningService):
                part.__exit__(None, None, None)
            else:
                part.stop()
        smtp.stop()
        messenger.server.shutdown()


def test_access_switch_outage_is_one_korean_mail_naming_its_sites(stack: Stack) -> None:
    wait_for(lambda: len(stack.query("nms_device_up == 1")) == 7 and stack.query("nms_site_info"), 60,
             "Prometheus to see all 7 devices up and the inventory series")
    assert not stack.inbox.snapshot()

    stack.signal(BEHIND_SWITCH, signal.SIGSTOP)
    try:
        firing = wait_for(lambda: [a for a in stack.prom_alerts()
                                   if a["labels"]["alertname"] == "NmsAccessSwitchDown" and a["state"] == "firing"],
                          60, "NmsAccessSwitchDown to fire in Prometheus")
        # It fired at the first evaluation at least `for:` after it became pending (activeAt).
        fired_at = datetime.fromisoformat(firing[0]["activeAt"].replace("Z", "+00:00")).timestamp() + \
            _seconds("2m") / SCALE
        first = wait_for(stack.inbox.snapshot, 30, "the outage e-mail")
        # Let the APs' and sites' alerts fire too (10 s) and reach Alertmanager, held back there.
        held = wait_for(lambda: (lambda alerts: alerts if {a["labels"]["alertname"] for a in alerts}
                                 >= {"NmsApDown", "NmsSiteAllApsDown"} else None)(
            [a for a in stack.am_alerts() if a["labels"]["alertname"] != "NmsAccessSwitchDown"]),
            60, "the AP and site alerts to reach Alertmanager")
        time.sleep(GROUP_WAIT + 6 + 2 * EVALUATION)  # one more group_interval: anything leaking would be sent
        mails = stack.inbox.snapshot()
    finally:
        stack.signal(BEHIND_SWITCH, signal.SIGCONT)

    assert len(mails) == 1, [m.subject for m in mails]
    mail = mails[0]
    assert mail.subject.startswith("[장애][긴급]"), mail.subject
    assert "acc-sw-01" in mail.subject
    for name in ("금천구청", "금천체육공원", "남문시장"):
        assert name in mail.subject and name in mail.text, name
    assert "금천폭포공원" not in mail.text  # hangs off the backbone, not behind acc-sw-01
    assert mail.recipients == ["network-team@geumcheon.example"]
    assert "조치 안내:" in mail.text and "docs/runbooks/NmsAccessSwitchDown.md" in mail.text
    # the APs' and the dark sites' alerts are there, suppressed by the switch's alert
    aps = {a["labels"].get("device") or a["labels"]["site"]: a["status"] for a in held}
    assert {"ap-gov-01", "ap-park-01", "ap-park-02", "ap-market-01", "park-001"} <= set(aps), aps
    assert all(s["state"] == "suppressed" and s["inhibitedBy"] for s in aps.values()), aps
    assert "ap-park2-01" not in aps
    # within group_wait plus one evaluation interval of the alert firing (1 s slack for the polling here)
    latency = first[0].received - fired_at
    print(f"outage e-mail {latency:.2f} s after the alert fired (group_wait {GROUP_WAIT:g} s)")
    assert latency <= GROUP_WAIT + EVALUATION + 1.0, f"e-mail {latency:.1f} s after the alert fired"

    resolved = wait_for(lambda: (lambda m: m if len(m) >= 2 else None)(stack.inbox.snapshot()), 60,
                        "the resolved e-mail")
    time.sleep(6 + 2 * EVALUATION)  # a further group_interval: no second resolved message, no AP message
    mails = stack.inbox.snapshot()
    assert len(mails) == 2, [m.subject for m in mails]
    assert resolved[1].subject.startswith("[복구]"), resolved[1].subject
    assert "acc-sw-01" in resolved[1].subject and re.search("복구 1건", resolved[1].text)
    # the critical route also went through the service's relay to the messenger: once firing, once resolved
    texts = [body["text"] for body, _ in stack.messenger.received]
    assert len(texts) == 2 and texts[0].startswith("[장애][긴급] 액세스 스위치 acc-sw-01") \
        and texts[1].startswith("[복구][긴급]"), texts
    assert "금천체육공원" in texts[0]
