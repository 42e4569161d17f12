"""The admin page's alerts: firing alerts from a real Alertmanager (API v2) in Korean on the overview,
and silences for planned work that operators create with a reason, recorded in the audit log."""

from __future__ import annotations

import json
import re
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.alertmanager import Intervals, ensure_token, start_alertmanager
from tests.admin_fixtures import LightAdmin, csrf_of, make_light_admin
from tests.lab_fixtures import free_tcp_port

ALERTS = [
    {"labels": {"alertname": "NmsAccessSwitchDown", "severity": "critical", "team": "network",
                "device": "acc-sw-07", "site": "government-004", "access_switch": "acc-sw-07", "backbone": "core-1"},
     "annotations": {"summary_ko": "액세스 스위치 acc-sw-07 장애, 영향 사이트: 가산동 주민센터, 금천체육공원",
                     "summary": "Access switch acc-sw-07 is down"}},
    {"labels": {"alertname": "NmsApDown", "severity": "warning", "team": "network", "device": "ap-park-001-01",
                "site": "park-001"},
     "annotations": {"summary_ko": "금천체육공원 사이트의 공공와이파이 AP ap-park-001-01이(가) 응답하지 않습니다",
                     "summary": "AP down"}},
]


def _json(url: str, body: object | None = None) -> object:
    req = urllib.request.Request(url, None if body is None else json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        text = resp.read()
    return json.loads(text) if text else None


@pytest.fixture(scope="module")
def alertmanager() -> Iterator[str]:
    run_dir = Path(tempfile.mkdtemp(prefix="nms-am-test-"))
    listen = f"127.0.0.1:{free_tcp_port()}"
    proc = start_alertmanager(run_dir, listen, f"127.0.0.1:{free_tcp_port()}", "http://127.0.0.1:9/x",
                              ensure_token(run_dir / "token"), Intervals(group_wait="1h", group_interval="1h"))
    try:
        url = f"http://{listen}"
        _json(f"{url}/api/v2/alerts", ALERTS)  # what Prometheus does
        yield url
    finally:
        proc.stop()


@pytest.fixture
def admin(tmp_path: Path, alertmanager: str) -> Iterator[LightAdmin]:
    la = make_light_admin(tmp_path / "light", alertmanager_url=alertmanager)
    try:
        yield la
    finally:
        la.service.close()


def test_overview_lists_firing_alerts_in_korean(admin: LightAdmin) -> None:
    viewer = admin.login("viewer")
    page = viewer.get("/")
    assert page.status_code == 200
    section = page.text[page.text.index('id="firing-alerts"'):]
    assert "액세스 스위치 acc-sw-07 장애, 영향 사이트: 가산동 주민센터, 금천체육공원" in section
    assert section.index("acc-sw-07") < section.index("ap-park-001-01")  # critical first
    assert "긴급" in section and "주의" in section
    alerts = viewer.get("/alerts/")
    assert alerts.status_code == 200 and "<form" not in alerts.text.split('id="firing-alerts"')[1].split("</table>")[0]
    assert viewer.post("/alerts/silence", data={"csrf_token": csrf_of(alerts.text), "reason": "x",
                                                "hours": "1", "device": "core-1"}).status_code == 403


def test_operator_silences_one_alert_with_a_reason_and_it_is_audited(admin: LightAdmin, alertmanager: str) -> None:
    op = admin.login("operator")
    page = op.get("/alerts/")
    token = csrf_of(page.text)
    fingerprint = re.findall(r'name="fingerprint" value="(\w+)"', page.text)
    refused = op.post("/alerts/silence", data={"csrf_token": token, "fingerprint": fingerprint[1], "reason": " ",
                                               "hours": "2"})
    assert refused.status_code == 422 and "알림 중지 사유를 입력하십시오." in refused.text
    too_long = op.post("/alerts/silence", data={"csrf_token": token, "fingerprint": fingerprint[1],
                                                "reason": "작업", "hours": "500"})
    assert too_long.status_code == 422 and "72시간 이하" in too_long.text
    before = len(_json(f"{alertmanager}/api/v2/silences"))
    done = op.post("/alerts/silence", data={"csrf_token": token, "fingerprint": fingerprint[1],
                                            "reason": "계획 작업: AP 교체", "hours": "2"})
    assert done.status_code == 302
    silences = [s for s in _json(f"{alertmanager}/api/v2/silences") if s["comment"] == "계획 작업: AP 교체"]
    assert len(silences) == 1 and len(_json(f"{alertmanager}/api/v2/silences")) == before + 1
    matchers = {m["name"]: m["value"] for m in silences[0]["matchers"]}
    assert matchers == {"alertname": "NmsApDown", "device": "ap-park-001-01", "site": "park-001"}
    assert silences[0]["createdBy"] == "operator"
    entry = admin.ws.audit.entries(limit=1)[0]
    assert (entry.user, entry.action, entry.result) == ("operator", "alert.silence", "done")
    assert "계획 작업: AP 교체" in entry.summary and "device=ap-park-001-01" in entry.target
    assert silences[0]["id"] in entry.detail
    # the overview no longer lists the silenced alert
    overview = op.get("/").text
    assert "ap-park-001-01" not in overview.split('id="firing-alerts"')[1].split("</section>")[0]


def test_planned_work_on_a_switch_silences_its_branch(admin: LightAdmin, alertmanager: str) -> None:
    op = admin.login("operator")
    token = csrf_of(op.get("/alerts/").text)
    assert op.post("/alerts/silence", data={"csrf_token": token, "device": "nope", "reason": "작업",
                                            "hours": "1"}).status_code == 422
    done = op.post("/alerts/silence", data={"csrf_token": token, "device": "core-1",
                                            "reason": "백본 스위치 펌웨어 업그레이드", "hours": "1.5"})
    assert done.status_code == 302
    found = [s for s in _json(f"{alertmanager}/api/v2/silences") if s["comment"] == "백본 스위치 펌웨어 업그레이드"]
    assert [m["name"] + "=" + m["value"] for m in found[0]["matchers"]] == ["backbone=core-1"]
    assert admin.ws.audit.entries(limit=1)[0].target == "backbone=core-1"


def test_unreachable_alertmanager_is_said_not_fatal(tmp_path: Path) -> None:
    la = make_light_admin(tmp_path / "light", alertmanager_url=f"http://127.0.0.1:{free_tcp_port()}")
    try:
        page = la.login("viewer").get("/")
        assert page.status_code == 200 and "Alertmanager에 연결할 수 없습니다" in page.text
    finally:
        la.service.close()
