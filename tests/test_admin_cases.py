"""The protection case file in the admin page: the event page (same caller's history, admin-only
recording player with every listen audited), legal holds, the CSV export read back with its BOM, the
heatmap, the change in words, and the holiday import approved as a diff.

The last test goes through the real Asterisk: a call, the staff's warning key, the event page.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import re
import time
import zoneinfo

import yaml

from ivr.events import EventStore, ProtectionEvent
from ivr.holidays import korean_public_holidays
from nms.admin.describe import describe_ivr_change
from nms.admin.i18n import translate
from tests import admin_fixtures
from tests.admin_fixtures import csrf_of, version_of_page

light_admin = admin_fixtures.light_admin
admin_stack = admin_fixtures.admin_stack
TZ = zoneinfo.ZoneInfo("Asia/Seoul")
KEY = b"test-caller-key-0123456789abcdef"
DAY = 86400


def _ko(msg_id: str, **kw) -> str:
    return translate(msg_id, "ko", **kw)


def _store(light) -> EventStore:
    return EventStore(light.base / "events.sqlite3", KEY)


def _ts(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ).timestamp()


def _add(store: EventStore, event_id: str, when: str, caller: str, dept: str = "civil", kind: str = "warning",
         seq: int = 1, recording: str | None = None) -> None:
    store.add(ProtectionEvent(event_id, _ts(when), kind, seq, dept, 3, "0226001234", caller, recording))


def _dept_ids(light) -> dict[str, str]:
    doc = yaml.safe_load((light.base / "ivr.yaml").read_text(encoding="utf-8"))
    return {d["id"]: d["name"] for d in doc["departments"]}


def test_change_in_words() -> None:
    old = ("announcements: {staff-protection: 폭언은 법으로 금지됩니다.}\n"
           "hours: {lunch: {start: '12:00', end: '13:00'}, holidays: [{date: 2026-05-05, name: 어린이날}]}\n")
    new = ("announcements: {staff-protection: 상담 직원을 존중해 주십시오.}\n"
           "hours: {lunch: {start: '11:30', end: '12:30'}, holidays: [{date: 2026-05-05, name: 어린이날},"
           " {date: 2026-05-25, name: 부처님오신날 대체 휴일}]}\nsip: {port: 5071}\n")
    words = describe_ivr_change(old, new, _ko)
    assert words == [
        "직원 보호 안내 문구 변경: “폭언은 법으로 금지됩니다.” → “상담 직원을 존중해 주십시오.”",
        "점심시간 12:00–13:00 → 11:30–12:30",
        "공휴일 1일 추가: 2026-05-25 부처님오신날 대체 휴일",
        "기타 설정 변경: sip",
    ]
    assert describe_ivr_change(old, old, _ko) == []
    assert describe_ivr_change("a: [", new, _ko) == [_ko("chg_unreadable")]


def test_event_page_history_player_and_hold(light_admin) -> None:
    light = light_admin
    rec_dir = light.base / "recordings"
    (rec_dir / "civil").mkdir(parents=True)
    (rec_dir / "civil" / "call.wav").write_bytes(b"RIFF0000WAVEfmt ")
    doc = yaml.safe_load((light.base / "ivr.yaml").read_text(encoding="utf-8"))
    doc["recordings"] = {"directory": "/var/spool/asterisk/monitor/nms", "host_directory": str(rec_dir)}
    (light.base / "ivr.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    dept = next(iter(_dept_ids(light)))
    store = _store(light)
    now = dt.datetime.now(TZ).replace(microsecond=0)
    at = (now - dt.timedelta(hours=1)).isoformat()
    # The same caller in other notations: 10 days, 100 days and 400 days earlier; and another caller.
    _add(store, "e-10d", (now - dt.timedelta(days=10)).isoformat(), "+82 10-2468-1357", dept)
    _add(store, "e-100d", (now - dt.timedelta(days=100)).isoformat(), "1024681357", dept)
    _add(store, "e-400d", (now - dt.timedelta(days=400)).isoformat(), "010-2468-1357", dept)
    _add(store, "e-other", (now - dt.timedelta(days=5)).isoformat(), "01099990000", dept)
    _add(store, "e-now", at, "01024681357", dept, kind="termination", seq=3, recording="civil/call.wav")
    _add(store, "e-anon", at, "anonymous", dept)

    viewer = light.login("viewer")
    page = viewer.get("/phone/events/e-now").text
    assert "010****1357" in page and "01024681357" not in page and _ko("kind_termination") in page
    assert re.search(r'id="earlier-30">1<', page) and re.search(r'id="earlier-365">2<', page)
    assert "event-audio" not in page and "hold-place" not in page  # admins only
    assert viewer.get("/phone/recordings/file?name=civil/call.wav").status_code == 403
    anon = viewer.get("/phone/events/e-anon").text
    assert _ko("event_withheld") in anon and _ko("event_no_history") in anon
    assert viewer.get("/phone/events/nope").status_code == 404

    admin = light.login("admin")
    page = admin.get("/phone/events/e-now").text
    assert 'id="event-audio"' in page
    for _ in range(2):  # every listen is audited
        assert admin.get("/phone/recordings/file?name=civil/call.wav").status_code == 200
    listens = [e for e in light.ws.audit.entries(action_prefix="recording.play") if e.target == "civil/call.wav"]
    assert len(listens) == 2 and {e.user for e in listens} == {"admin"}

    token = csrf_of(page)
    until = (now.date() + dt.timedelta(days=30)).isoformat()
    assert viewer.post("/phone/events/e-now/hold", data={"csrf_token": csrf_of(viewer.get("/phone/events/e-now")
                                                                                    .text),
                                                         "reason": "x", "until": until}).status_code == 403
    resp = admin.post("/phone/events/e-now/hold", data={"csrf_token": token, "reason": "", "until": until},
                      follow_redirects=True)
    assert _ko("hold_bad", detail=_ko("hold_err_no-reason")) in resp.text
    resp = admin.post("/phone/events/e-now/hold", data={"csrf_token": token, "reason": "금천경찰서 수사 협조",
                                                        "until": until}, follow_redirects=True)
    assert 'id="hold-active"' in resp.text and "금천경찰서 수사 협조" in resp.text
    holds = admin.get("/phone/holds").text
    assert "e-now" in holds and "civil/call.wav" in holds
    assert [h.event_id for h in store.holds()] == ["e-now"]
    assert any(e.action == "ivr.hold" and e.result == "applied" for e in light.ws.audit.entries())


def test_csv_export_reads_back_in_korean_with_masked_numbers(light_admin) -> None:
    light = light_admin
    names = _dept_ids(light)
    first, second = list(names)[:2]
    store = _store(light)
    _add(store, "a1", "2026-11-02T09:30:00", "010-1111-2222", first)
    _add(store, "a2", "2026-11-03T23:59:00", "+82 10 3333 4444", first, kind="time-limit-end")
    _add(store, "b1", "2026-11-03T10:00:00", "01055556666", second, seq=2)
    _add(store, "late", "2026-11-04T00:00:01", "01077778888", first)
    viewer = light.login("viewer")
    resp = viewer.get(f"/phone/events.csv?from=2026-11-01&to=2026-11-03&department={first}")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    raw = resp.data
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Korean Excel needs to read UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["일시", "부서", "구분", "회선", "착신 번호", "발신 번호(가림)", "기록 번호"]
    assert rows[1:] == [
        ["2026-11-02 09:30:00", names[first], "1차 경고", "3", "0226001234", "010****2222", "a1"],
        ["2026-11-03 23:59:00", names[first], "통화 시간 초과 종료", "3", "0226001234", "010****4444", "a2"],
    ]
    assert not any(n in raw.decode("utf-8-sig") for n in ("01011112222", "33334444", "1111-2222"))
    assert not re.search(rb"[0-9a-f]{64}", raw)  # never the caller hash
    both = list(csv.reader(io.StringIO(viewer.get("/phone/events.csv?from=2026-11-03&to=2026-11-03")
                                       .data.decode("utf-8-sig"))))
    assert [r[-1] for r in both[1:]] == ["b1", "a2"]
    # A foreign caller's "+" must not start an Excel formula.
    _add(store, "f1", "2026-11-05T10:00:00", "+1 212 555 0123", first)
    foreign = list(csv.reader(io.StringIO(viewer.get("/phone/events.csv?from=2026-11-05&to=2026-11-05")
                                          .data.decode("utf-8-sig"))))
    assert foreign[1][5] == "'+12*****0123"
    for bad in ("from=2026-11-05&to=2026-11-01", "from=x&to=2026-11-01", "from=2024-01-01&to=2026-01-01"):
        resp = viewer.get(f"/phone/events.csv?{bad}")
        assert resp.status_code == 400 and "날짜 범위" in resp.text
    assert viewer.get("/phone/events.csv?from=2026-11-01&to=2026-11-03&department=nope").status_code == 404


def test_heatmap_is_inline_svg_per_department(light_admin) -> None:
    light = light_admin
    names = _dept_ids(light)
    dept = next(iter(names))
    store = _store(light)
    today = dt.datetime.now(TZ).replace(hour=10, minute=0, second=0, microsecond=0)
    for i in range(3):
        _add(store, f"h{i}", (today - dt.timedelta(days=2)).isoformat(), f"0101234000{i}", dept, seq=i + 1)
    page = light.login("viewer").get("/phone/events?days=30").text
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="heatmap"' in page
    day = (today - dt.timedelta(days=2)).date().isoformat()
    assert re.search(rf'data-dept="{dept}" data-day="{day}" data-count="3"', page)
    assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing from elsewhere: no CDN


def test_holiday_import_is_approved_as_a_diff(light_admin) -> None:
    light = light_admin
    op = light.login("operator")
    page = op.get("/phone/hours").text
    resp = op.post("/phone/holidays/add", data={"csrf_token": csrf_of(page), "date": "2027-11-02",
                                                "name": "구청 개청기념일 휴무"}, follow_redirects=True)
    assert resp.status_code == 200
    assert 'id="holidays-ending"' in page  # the shipped test list has no holidays: nothing is covered
    preview = op.get("/phone/holidays/import?years=2027").text
    expected = korean_public_holidays([2027])
    assert all(h.date.isoformat() in preview for h in expected) and 'id="hol-added"' in preview
    assert "2027-02-09" in preview and "대체" in preview
    assert yaml.safe_load((light.base / "ivr.yaml").read_text())["hours"].get("holidays_until") is None
    viewer_page = light.login("viewer").get("/phone/holidays/import?years=2027").text
    assert 'id="hol-approve"' not in viewer_page

    resp = op.post("/phone/holidays/import", data={"csrf_token": csrf_of(preview), "version": version_of_page(preview),
                                                   "years": "2027"}, follow_redirects=True)
    assert resp.status_code == 200
    hours = yaml.safe_load((light.base / "ivr.yaml").read_text())["hours"]
    dates = {str(h["date"]): h for h in hours["holidays"]}
    assert all(h.date.isoformat() in dates for h in expected)
    assert dates["2027-11-02"].get("local") is True  # the local closure survived the import
    assert str(hours["holidays_until"]) == "2027-12-31"
    page = op.get("/phone/hours").text
    ending = dt.date(2027, 12, 31) < dt.date.today() + dt.timedelta(days=60)
    assert ('id="holidays-ending"' in page) == ending and "2027-12-31" in page
    assert any(e.action == "ivr.holiday.import" for e in light.ws.audit.entries())
    again = op.get("/phone/holidays/import?years=2027").text
    assert 'id="hol-no-change"' in again and 'id="hol-approve"' not in again


def test_a_real_abusive_call_leads_to_its_case_file(admin_stack) -> None:
    """Call, the staff member presses the warning key, the event page shows it with its recording."""
    stack = admin_stack
    config = stack.config()
    dept = next(d for d in config.departments if d.protection and d.recording and d.dids)

    async def scenario() -> None:
        async with stack.ami() as client:
            await client.call(dept.dids[0], caller="+82 10-5555-0123")
            ext = dept.target.split("/", 1)[1].split("@", 1)[0]
            legs = await client.wait_until(lambda: [e.get("DestChannel") for e in client.events
                                                    if e.get("Event") == "DialEnd"
                                                    and e.get("DialStatus") == "ANSWER"
                                                    and f"Local/{ext}@" in (e.get("DestChannel") or "")], 30)
            await client.press(legs[0], config.protection.warning_key)
            await client.wait_until(lambda: client.playbacks("nms/warning-1"), 15, "warning-1")
            for ch in await client.channels():
                await client.conn.action({"Action": "Hangup", "Channel": ch.get("Channel")})

    asyncio.run(asyncio.wait_for(scenario(), 60))

    def ours() -> list[dict]:
        return [e for e in stack.ivr.store.events(limit=100) if e["caller_mask"] == "010****0123"]

    deadline = time.monotonic() + 15  # the controller stores the event after the dialplan raised it
    while not ours() and time.monotonic() < deadline:
        time.sleep(0.2)
    stored = ours()
    assert stored, stack.ivr.store.events(limit=100)
    ev = stored[-1]
    admin = stack.login("admin")
    events_page = admin.get("/phone/events").text
    assert f'data-event="{ev["event_id"]}"' in events_page
    page = admin.get(f"/phone/events/{ev['event_id']}").text
    assert "010****0123" in page and "1차 경고" in page and dept.name in page
    assert ev["recording"] and 'id="event-audio"' in page
    resp = admin.get(f"/phone/recordings/file?name={ev['recording']}")
    assert resp.status_code == 200 and resp.data[:4] == b"RIFF"
    assert any(e.action == "recording.play" and e.target == ev["recording"]
               for e in stack.admin.workspace.audit.entries())
    viewer_page = stack.login("viewer").get(f"/phone/events/{ev['event_id']}").text
    assert "event-audio" not in viewer_page
