"""Every form of the admin page with good and bad input (Flask test client), against the running
service: good input is stored, applied live and audited; bad input is refused with a message in the
user's language, the form keeping what was typed; a stale form is told, not allowed to overwrite; a
failed apply restores the previous version."""

from __future__ import annotations

import asyncio
import re
import subprocess
import time

import pytest

from nms.configfile import load_text
from tests import admin_fixtures
from tests.admin_fixtures import AdminStack, csrf_of, version_of_page

admin_stack = admin_fixtures.admin_stack


def _ivr(stack: AdminStack) -> dict:
    return load_text(stack.ivr_path.read_text(encoding="utf-8"))  # as the service reads it


def _form(client, url: str) -> tuple[str, str]:
    page = client.get(url)
    assert page.status_code == 200, url
    return csrf_of(page.text), version_of_page(page.text)


def _flash(resp) -> list[str]:
    return re.findall(r'class="flash (\w+)"', resp.text)


def _last_audit(stack: AdminStack):
    return stack.admin.workspace.audit.entries(limit=1)[0]


@pytest.fixture(scope="module")
def op(admin_stack):
    return admin_stack.login("operator")


@pytest.fixture(scope="module")
def adm(admin_stack):
    return admin_stack.login("admin")


def test_announcement_good_bad_and_stale(admin_stack, op) -> None:
    stack = admin_stack
    token, version = _form(op, "/phone/")
    before = stack.prompt_path("busy").read_bytes()
    resp = op.post("/phone/announcements/busy", data={"csrf_token": token, "version": version,
                                                      "text": "지금은 모든 회선이 통화 중입니다."},
                   follow_redirects=True)
    assert _flash(resp) == ["ok"]
    assert _ivr(stack)["announcements"]["busy"] == "지금은 모든 회선이 통화 중입니다."
    assert stack.ivr.controller.config.announcements["busy"] == "지금은 모든 회선이 통화 중입니다."
    assert stack.prompt_path("busy").read_bytes() != before  # new audio deployed
    entry = _last_audit(stack)
    assert (entry.user, entry.result, entry.applied) == ("operator", "applied", True)
    assert "+  busy: 지금은 모든 회선이 통화 중입니다." in entry.diff or "지금은 모든 회선이" in entry.diff

    # The same (now stale) form again, on the same announcement: told, not overwritten.
    resp = op.post("/phone/announcements/busy", data={"csrf_token": token, "version": version, "text": "늦은 수정"})
    assert resp.status_code == 409
    assert "다른 사람이 그사이에" in resp.text and "늦은 수정" in resp.text  # the form keeps the input
    assert _ivr(stack)["announcements"]["busy"] == "지금은 모든 회선이 통화 중입니다."
    # The stale form on another announcement merges: nobody else changed that one.
    resp = op.post("/phone/announcements/lunch", data={"csrf_token": token, "version": version,
                                                       "text": "점심시간입니다."}, follow_redirects=True)
    assert _flash(resp) == ["ok"]
    assert _ivr(stack)["announcements"]["busy"] == "지금은 모든 회선이 통화 중입니다."

    # Empty text: refused in Korean, or in English after switching.
    token, version = _form(op, "/phone/")
    resp = op.post("/phone/announcements/lunch", data={"csrf_token": token, "version": version, "text": "  "})
    assert resp.status_code == 422 and "안내 문구를 비워 둘 수 없습니다" in resp.text
    op.get("/language/en")
    resp = op.post("/phone/announcements/lunch", data={"csrf_token": token, "version": version, "text": " "})
    assert resp.status_code == 422 and "An announcement cannot be empty" in resp.text
    op.get("/language/ko")
    assert _ivr(stack)["announcements"]["lunch"] == "점심시간입니다."


def test_regenerate_and_upload(admin_stack, op, tmp_path) -> None:
    stack = admin_stack
    token, version = _form(op, "/phone/")
    before = stack.prompt_path("menu").read_bytes()
    resp = op.post("/phone/announcements/menu/regenerate", data={"csrf_token": token, "version": version},
                   follow_redirects=True)
    assert _flash(resp) == ["ok"]
    assert stack.prompt_path("menu").read_bytes() != before
    # A recording at 44.1 kHz stereo is converted by sox to what Asterisk plays.
    tone = tmp_path / "tone.wav"
    subprocess.run(["sox", "-n", "-r", "44100", "-c", "2", str(tone), "synth", "1.5", "sine", "440"], check=True)
    with tone.open("rb") as f:
        resp = op.post("/phone/announcements/holiday/upload", data={"csrf_token": token, "version": version,
                                                                    "audio": (f, "인사말.wav")},
                       content_type="multipart/form-data", follow_redirects=True)
    assert _flash(resp) == ["ok"]
    info = subprocess.run(["soxi", str(stack.prompt_path("holiday"))], capture_output=True, text=True).stdout
    assert "8000" in info and "Channels       : 1" in info
    # Not audio: refused with sox's reason; the prompt is unchanged.
    current = stack.prompt_path("holiday").read_bytes()
    fake = tmp_path / "notes.wav"
    fake.write_text("this is not audio")
    with fake.open("rb") as f:
        resp = op.post("/phone/announcements/holiday/upload", data={"csrf_token": token, "version": version,
                                                                    "audio": (f, "notes.wav")},
                       content_type="multipart/form-data", follow_redirects=True)
    assert "음성 파일을 만들지 못했습니다" in resp.text and "WAV, MP3 or Ogg" in resp.text, resp.text[-3000:]
    assert stack.prompt_path("holiday").read_bytes() == current
    # The page plays the current audio.
    audio = op.get("/phone/audio/holiday.wav")
    assert audio.status_code == 200 and audio.data == current and audio.mimetype == "audio/wav"


def test_hours_and_holidays(admin_stack, op) -> None:
    stack = admin_stack
    token, version = _form(op, "/phone/hours")
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    good = {"csrf_token": token, "version": version, "rows": "2", "hours.business[0].start": "00:00",
            "hours.business[0].end": "24:00", "hours.business[0].days": days, "hours.lunch.enabled": "1",
            "hours.lunch.start": "12:00", "hours.lunch.end": "13:00", "hours.routes.after_hours": "hangup",
            "hours.routes.lunch": "civil", "hours.routes.holiday": "hangup"}
    resp = op.post("/phone/hours", data=good, follow_redirects=True)
    assert _flash(resp) == ["ok"], resp.text
    data = _ivr(stack)
    assert data["hours"]["lunch"] == {"start": "12:00", "end": "13:00"}
    assert data["hours"]["routes"]["lunch"] == "civil"
    assert stack.ivr.controller.config.hours.routes.lunch == "civil"
    token, version = _form(op, "/phone/hours")
    bad = dict(good, csrf_token=token, version=version, **{"hours.business[0].start": "18:00",
                                                            "hours.business[0].end": "09:00"})
    resp = op.post("/phone/hours", data=bad)
    assert resp.status_code == 422
    assert "시작(18:00)이 끝(09:00)보다 앞서야 합니다" in resp.text and 'value="18:00"' in resp.text
    bad = dict(good, csrf_token=token, version=version, **{"hours.business[0].start": "9시"})
    resp = op.post("/phone/hours", data=bad)
    assert resp.status_code == 422 and "형식이 맞지 않습니다" in resp.text and 'value="9시"' in resp.text

    resp = op.post("/phone/holidays/add", data={"csrf_token": token, "date": "2026-12-31", "name": "종무식"},
                   follow_redirects=True)
    assert _flash(resp) == ["ok"]
    added = {"date": "2026-12-31", "name": "종무식", "local": True}  # a local closure; YAML 1.2: a date is a string
    assert added in _ivr(stack)["hours"]["holidays"]
    resp = op.post("/phone/holidays/add", data={"csrf_token": token, "date": "2026-12-31", "name": "또"})
    assert resp.status_code == 422 and "공휴일 2026-12-31가 이미 있습니다" in resp.text
    resp = op.post("/phone/holidays/add", data={"csrf_token": token, "date": "2026-13-01", "name": "없는 날"})
    assert resp.status_code == 422 and "YYYY-MM-DD" in resp.text and "없는 날" in resp.text
    resp = op.post("/phone/holidays/delete", data={"csrf_token": token, "date": "2026-12-31"},
                   follow_redirects=True)
    assert _flash(resp) == ["ok"]
    assert all(str(h["date"]) != "2026-12-31" for h in _ivr(stack)["hours"]["holidays"] or [])


def test_departments(admin_stack, op) -> None:
    stack = admin_stack
    token, version = _form(op, "/phone/departments")
    dept = _ivr(stack)["departments"][1]
    form = {"csrf_token": token, "version": version, "name": dept["name"], "dids": ", ".join(dept["dids"]),
            "target": dept["target"], "protection": "1", "recording": "", "menu": "1",
            "menu_digit": dept["menu_digit"], "ring_timeout": "45"}
    resp = op.post(f"/phone/departments/{dept['id']}", data=form, follow_redirects=True)
    assert _flash(resp) == ["ok"]
    changed = _ivr(stack)["departments"][1]
    assert changed["ring_timeout"] == 45 and changed["recording"] is False
    token, version = _form(op, "/phone/departments")
    other = _ivr(stack)["departments"][0]["dids"][0]
    resp = op.post(f"/phone/departments/{dept['id']}", data=dict(form, csrf_token=token, version=version,
                                                                 dids=other))
    assert resp.status_code == 422 and f"번호 {other}" in resp.text
    resp = op.post("/phone/departments/new", data={"csrf_token": token, "id": "civil2", "name": "민원2과",
                                                    "dids": "0226272399", "target": "Local/2399@nms-lab-staff/n",
                                                    "protection": "1", "menu": "1", "menu_digit": "8",
                                                    "ring_timeout": "abc"})
    assert resp.status_code == 422 and "정수를 입력해 주십시오" in resp.text and "민원2과" in resp.text
    resp = op.post("/phone/departments/new", data={"csrf_token": token, "id": "civil2", "name": "민원2과",
                                                    "dids": "0226272399", "target": "Local/2399@nms-lab-staff/n",
                                                    "protection": "1", "menu": "1", "menu_digit": "8",
                                                    "ring_timeout": "20"}, follow_redirects=True)
    assert _flash(resp) == ["ok"]
    assert stack.ivr.controller.config.department("civil2").ring_timeout == 20
    token, version = _form(op, "/phone/departments")
    resp = op.post("/phone/departments/civil2/delete", data={"csrf_token": token, "version": version},
                   follow_redirects=True)
    assert _flash(resp) == ["ok"]
    assert "civil2" not in {d["id"] for d in _ivr(stack)["departments"]}


def test_call_policy(admin_stack, op) -> None:
    stack = admin_stack
    token, version = _form(op, "/phone/policy")
    good = {"csrf_token": token, "version": version, "call_limit.warning_after": "600",
            "call_limit.end_after": "900", "protection.warning_key": "*2", "protection.warnings_before_end": "4"}
    resp = op.post("/phone/policy", data=good, follow_redirects=True)
    assert _flash(resp) == ["ok"]
    data = _ivr(stack)
    assert data["call_limit"] == {"warning_after": 600, "end_after": 900}
    assert "warning-3" in data["announcements"]  # a fourth warning level needs a third warning text
    assert stack.ivr.controller.config.protection.warning_key == "*2"
    assert stack.prompt_path("warning-3").is_file()  # ...and its audio
    token, version = _form(op, "/phone/policy")
    resp = op.post("/phone/policy", data=dict(good, csrf_token=token, version=version,
                                              **{"call_limit.warning_after": "1000"}))
    assert resp.status_code == 422 and "종료 예고 시점은 통화 종료 시점보다 빨라야 합니다" in resp.text
    assert 'value="1000"' in resp.text
    resp = op.post("/phone/policy", data=dict(good, csrf_token=token, version=version,
                                              **{"protection.warning_key": "abc"}))
    assert resp.status_code == 422 and "형식이 맞지 않습니다" in resp.text


def test_live_call_hangup(admin_stack, op) -> None:
    stack = admin_stack
    did = next(d.dids[0] for d in stack.config().departments if d.dids)

    async def place() -> None:
        async with stack.ami() as client:
            await client.call(did, caller="01098765432")
            await client.wait_until(lambda: client.playbacks("nms/staff-protection")
                                    or client.playbacks("nms/recording-notice"), 20, "the call is answered")

    asyncio.run(asyncio.wait_for(place(), 30))
    deadline = time.monotonic() + 10
    while not stack.ivr.controller.calls and time.monotonic() < deadline:
        time.sleep(0.05)
    page = op.get("/phone/calls")
    assert "01098765432" not in page.text  # no caller number on the page
    uid = next(iter(stack.ivr.controller.calls))
    resp = op.post("/phone/calls/hangup", data={"csrf_token": csrf_of(page.text), "call": uid},
                   follow_redirects=True)
    assert _flash(resp) == ["ok"]
    deadline = time.monotonic() + 10
    while uid in stack.ivr.controller.calls and time.monotonic() < deadline:
        time.sleep(0.05)
    assert uid not in stack.ivr.controller.calls
    resp = op.post("/phone/calls/hangup", data={"csrf_token": csrf_of(page.text), "call": uid},
                   follow_redirects=True)
    assert _flash(resp) == ["error"]
    assert op.get("/phone/events").status_code == 200


def test_inventory_forms_reach_the_collector_without_restart(admin_stack, adm) -> None:
    stack = admin_stack
    scheduler = stack.snmp.scheduler
    token, version = _form(adm, "/network/planned")
    assert "ap-plan-1" in adm.get("/network/planned").text
    resp = adm.post("/network/planned", data={"csrf_token": token, "version": version}, follow_redirects=True)
    assert _flash(resp) == ["error"]  # nothing selected
    resp = adm.post("/network/planned", data={"csrf_token": token, "version": version, "device": "ap-plan-1"},
                    follow_redirects=True)
    assert _flash(resp) == ["ok"], resp.text
    assert "ap-plan-1" in stack.snmp.states  # polled from now on
    assert "ap-plan-2" not in stack.snmp.states
    assert stack.snmp.scheduler is scheduler  # the same collector, not restarted

    token, version = _form(adm, "/network/device/core-1")
    resp = adm.post("/network/device/core-1", data={"csrf_token": token, "version": version,
                                                    "profile": "no-such-profile", "status": "active"})
    assert resp.status_code == 422 and "없는 SNMP 프로파일" in resp.text
    resp = adm.post("/network/device/core-1", data={"csrf_token": token, "version": version, "profile": "host",
                                                    "status": "active"}, follow_redirects=True)
    assert _flash(resp) == ["ok"]
    assert stack.snmp.states["core-1"].device.profile == "host"
    token, version = _form(adm, "/network/polling")
    inv_version = re.findall(r'name="version" value="([0-9a-f]{64})"', adm.get("/network/polling").text)[1]
    resp = adm.post("/network/profiles", data={"csrf_token": token, "version": inv_version, "role": "backbone",
                                               "category": "", "current": "", "profile": "switch"},
                    follow_redirects=True)
    assert _flash(resp) == ["ok"]
    assert stack.snmp.states["core-1"].device.profile == "switch"

    form = {"csrf_token": token, "version": version, "polling.jitter": "0", "polling.concurrency": "16"}
    for role in ("backbone", "access", "ips", "ap", "host"):
        form |= {f"polling.classes.{role}.interval": "30", f"polling.classes.{role}.timeout": "0.5",
                 f"polling.classes.{role}.retries": "0"}
    resp = adm.post("/network/polling", data=dict(form, **{"polling.classes.ap.interval": "-1"}))
    assert resp.status_code == 422 and "0.0보다 커야 합니다" in resp.text and 'value="-1"' in resp.text
    resp = adm.post("/network/polling", data=dict(form, **{"polling.classes.ap.interval": "12"}),
                    follow_redirects=True)
    assert _flash(resp) == ["ok"]
    assert stack.snmp.scheduler.get_job("snmp-ap").trigger.interval.total_seconds() == 12
    assert stack.snmp.scheduler is scheduler
    # The page shows what the collector knows about a device.
    assert "정상" in adm.get("/network/device/core-1").text
    listing = adm.get("/network/?role=ap&status=active&q=plan")
    assert "ap-plan-1" in listing.text and "ap-park-1" not in listing.text


def test_users_and_account(admin_stack, adm) -> None:
    token = csrf_of(adm.get("/users/").text)
    resp = adm.post("/users/", data={"csrf_token": token, "name": "lee", "role": "operator", "password": "short",
                                     "confirm": "short"})
    assert resp.status_code == 422 and "10자 이상" in resp.text and 'value="lee"' in resp.text
    resp = adm.post("/users/", data={"csrf_token": token, "name": "lee", "role": "operator",
                                     "password": "lee-password-99", "confirm": "lee-password-99"},
                    follow_redirects=True)
    assert _flash(resp) == ["ok"]
    resp = adm.post("/users/lee", data={"csrf_token": token, "role": "viewer"}, follow_redirects=True)
    assert _flash(resp) == ["ok"]
    assert admin_stack.admin.workspace.users.get("lee").role.label == "viewer"
    resp = adm.post("/users/admin", data={"csrf_token": token, "role": "viewer"})
    assert resp.status_code == 422 and "마지막 관리자" in resp.text
    resp = adm.post("/users/lee", data={"csrf_token": token, "disabled": "1"}, follow_redirects=True)
    assert admin_stack.admin.workspace.users.verify("lee", "lee-password-99") is None
    token = csrf_of(adm.get("/account").text)
    resp = adm.post("/account", data={"csrf_token": token, "current": "wrong", "new": "x" * 12, "confirm": "x" * 12})
    assert resp.status_code == 422 and "현재 비밀번호가 맞지 않습니다" in resp.text
    assert any(e.action == "user.create" and e.target == "lee" for e in admin_stack.admin.workspace.audit.entries())


def test_history_shows_diffs(admin_stack, adm) -> None:
    page = adm.get("/history/ivr")
    assert page.status_code == 200
    versions = re.findall(r'data-version="([0-9a-f]{64})"', page.text)
    assert len(versions) >= 5
    diff = adm.get(f"/history/ivr/{versions[-2][:12]}")
    assert diff.status_code == 200 and 'class="add"' in diff.text and 'class="del"' in diff.text
    assert adm.get("/history/").status_code == 200 and adm.get("/history/audit").status_code == 200


def test_failed_apply_restores_the_previous_version(admin_stack, op) -> None:
    """Last in this module: it kills the lab Asterisk."""
    stack = admin_stack
    before = stack.ivr_path.read_text(encoding="utf-8")
    stack.instance.kill()
    deadline = time.monotonic() + 10
    while stack.ivr.stats.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    token, version = _form(op, "/phone/")
    resp = op.post("/phone/announcements/after-hours", data={"csrf_token": token, "version": version,
                                                             "text": "적용되지 못할 문구"}, follow_redirects=True)
    assert _flash(resp) == ["error"]
    assert "이전 설정으로 되돌렸습니다" in resp.text and "not connected to Asterisk" in resp.text
    assert stack.ivr_path.read_text(encoding="utf-8") == before
    entry = _last_audit(stack)
    assert (entry.result, entry.applied) == ("restored", False) and "적용되지 못할 문구" in entry.diff
    history = stack.admin.workspace.file("ivr").store.history()
    assert history[-1].author == "nms-admin" and "restored after a failed apply" in history[-1].message
