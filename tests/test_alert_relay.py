"""The alert relay (nms/alerting): Alertmanager's webhook in, a Korean message out, with a delivery log.

The endpoint it forwards to is a real HTTP server on loopback that records what it gets and can be
told to fail; Alertmanager's side is shown by test_alert_delivery.py.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from nms.alerting.service import AlertRelayService
from nms.alerting.settings import AlertingSettings
from nms.secrets import SecretResolver
from tests.alerting_fixtures import Messenger
from tests.lab_fixtures import free_tcp_port

TOKEN = "relay-token-0123456789abcdef"
MESSENGER_TOKEN = "messenger-secret-abcdef0123456789"


def notification(status: str = "firing", n: int = 1) -> dict:
    alerts = [{"status": status, "labels": {"alertname": "NmsAccessSwitchDown", "severity": "critical",
                                            "device": f"acc-sw-0{i + 1}", "site": "government-001"},
               "annotations": {"summary_ko": f"액세스 스위치 acc-sw-0{i + 1} 장애, 영향 사이트: 금천구청, 남문시장",
                               "summary": "Access switch down"},
               "startsAt": "2026-11-30T05:00:00Z", "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "x"}
              for i in range(n)]
    return {"version": "4", "groupKey": "{}:{alertname=\"NmsAccessSwitchDown\"}", "status": status,
            "receiver": "network-urgent", "groupLabels": {}, "commonLabels": {"severity": "critical",
                                                                           "team": "network"},
            "commonAnnotations": {}, "externalURL": "http://127.0.0.1:9093", "alerts": alerts}


class Relay:
    def __init__(self, tmp: Path, forward: dict | None, **extra) -> None:
        secrets = tmp / "secrets"
        secrets.mkdir(exist_ok=True)
        (secrets / "alert-relay-token").write_text(TOKEN + "\n")
        (secrets / "messenger-token").write_text(MESSENGER_TOKEN + "\n")
        settings = AlertingSettings(enabled=True, listen=f"127.0.0.1:{free_tcp_port()}", forward=forward,
                                    log=tmp / "deliveries.jsonl", **extra)
        self.district = SimpleNamespace(config_path=tmp / "nms.yaml", settings=SimpleNamespace(alerting=settings))
        self.service = AlertRelayService(self.district, SecretResolver(secrets, environ={}))
        asyncio.run(self.service.start())
        self.base = f"http://127.0.0.1:{self.service.port}"

    def post(self, body: bytes | dict, token: str | None = TOKEN, path: str = "/api/alerts/relay") -> int:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        try:
            with urllib.request.urlopen(urllib.request.Request(self.base + path, data, headers), timeout=5) as r:
                return r.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def deliveries(self) -> list[dict]:
        req = urllib.request.Request(self.base + "/api/alerts/deliveries", headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read())

    def wait(self, count: int, timeout: float = 20) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.deliveries()
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"fewer than {count} deliveries logged within {timeout} s: {self.deliveries()}")

    def close(self) -> None:
        asyncio.run(self.service.stop())


@pytest.fixture
def messenger() -> Iterator[Messenger]:
    m = Messenger()
    yield m
    m.server.shutdown()


def test_relays_a_korean_message_with_the_endpoint_token_and_logs_it(tmp_path: Path, messenger: Messenger) -> None:
    relay = Relay(tmp_path, {"url": messenger.url, "token_secret": "messenger-token", "backoff": 0.05})
    try:
        assert relay.post(notification()) == 202
        log = relay.wait(1)
    finally:
        relay.close()
    body, auth = messenger.received[0]
    assert auth == f"Bearer {MESSENGER_TOKEN}"
    assert body["text"] == "[장애][긴급] 액세스 스위치 acc-sw-01 장애, 영향 사이트: 금천구청, 남문시장"
    assert body["alerts"][0]["device"] == "acc-sw-01" and body["team"] == "network"
    assert log[0]["result"] == "delivered" and log[0]["attempts"] == 1 and log[0]["alertnames"] == [
        "NmsAccessSwitchDown"]
    # the log names the endpoint without its query (a key may hide there) and never holds a token
    assert log[0]["endpoint"].endswith("/hooks/nms")
    text = (tmp_path / "deliveries.jsonl").read_text()
    assert "hidden" not in text and TOKEN not in text and MESSENGER_TOKEN not in text
    assert (tmp_path / "deliveries.jsonl").stat().st_mode & 0o007 == 0


def test_retries_5xx_then_logs_failure_after_the_last_attempt(tmp_path: Path, messenger: Messenger) -> None:
    relay = Relay(tmp_path, {"url": messenger.url, "attempts": 3, "backoff": 0.05})
    try:
        messenger.fail = [503, 502]  # two failures, then success
        assert relay.post(notification("resolved", n=3)) == 202
        first = relay.wait(1)[0]
        messenger.fail = [500, 500, 500]
        assert relay.post(notification()) == 202
        second = relay.wait(2)[0]
        messenger.fail = [400]  # a client error is not retried
        assert relay.post(notification()) == 202
        third = relay.wait(3)[0]
        metrics = "".join(f"{s.name}{s.labels} {s.value}\n" for m in relay.service.collectors()
                          for f in m.collect() for s in f.samples)
    finally:
        relay.close()
    assert (first["result"], first["attempts"], first["alerts"]) == ("delivered", 3, 3)
    assert messenger.received[0][0]["text"].startswith("[복구][긴급] 3건\n- ")
    assert (second["result"], second["attempts"], second["http_status"]) == ("failed", 3, 500)
    assert (third["result"], third["attempts"], third["http_status"]) == ("failed", 1, 400)
    assert "nms_alert_relay_deliveries_total{'result': 'failed'} 2\n" in metrics
    assert "nms_alert_relay_attempts_total{} 7\n" in metrics


def test_refuses_wrong_tokens_bad_bodies_and_floods(tmp_path: Path) -> None:
    relay = Relay(tmp_path, None, max_body=4096, queue_limit=1)
    try:
        assert relay.post(notification(), token=None) == 401
        assert relay.post(notification(), token=TOKEN[:-1] + "x") == 401
        assert relay.post(notification(), path="/api/alerts/other") == 404
        assert relay.post(b"{not json") == 400
        assert relay.post({"version": "3", "status": "firing", "alerts": []}) == 400
        assert relay.post({**notification(), "alerts": "x"}) == 400
        assert relay.post(notification(n=40)) == 413  # over max_body
        codes = [relay.post(notification()) for _ in range(30)]
        log = relay.wait(1)
    finally:
        relay.close()
    assert 202 in codes
    assert set(codes) <= {202, 503}  # the queue holds one; Alertmanager retries a 503
    assert all(e["result"] == "logged" and e["endpoint"] == "" for e in log)  # no endpoint configured
    rejected = {s.labels["reason"]: s.value for m in relay.service.collectors() for f in m.collect()
                for s in f.samples if s.name == "nms_alert_relay_rejected_total"}
    assert rejected["unauthorised"] == 2 and rejected["invalid"] == 3 and rejected["too-large"] == 1


def test_delivery_log_is_bounded_and_survives_a_restart(tmp_path: Path) -> None:
    relay = Relay(tmp_path, None, log_entries=10)
    try:
        for _ in range(15):
            assert relay.post(notification()) == 202
            time.sleep(0.02)
        relay.wait(10)
        deadline = time.monotonic() + 10
        while relay.service.counters.deliveries["logged"] < 15 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        relay.close()
    assert len((tmp_path / "deliveries.jsonl").read_text().splitlines()) == 10
    again = Relay(tmp_path, None, log_entries=10)
    try:
        assert len(again.deliveries()) == 10
    finally:
        again.close()


def test_a_short_token_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "alert-relay-token").write_text("short")
    settings = AlertingSettings(enabled=True, listen="127.0.0.1:0")
    district = SimpleNamespace(config_path=tmp_path / "nms.yaml", settings=SimpleNamespace(alerting=settings))
    with pytest.raises(ValueError, match="shorter than 16"):
        AlertRelayService(district, SecretResolver(tmp_path / "secrets", environ={}))
