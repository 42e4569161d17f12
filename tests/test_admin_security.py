"""Security of the admin page: CSRF, roles, login rate limiting, sessions that end at logout, cookies,
password storage, and a waitress server (never Flask's development server)."""

from __future__ import annotations

import sqlite3
import urllib.request
from http.cookies import SimpleCookie

from tests import admin_fixtures
from tests.admin_fixtures import PASSWORDS, csrf_of, make_light_admin, version_of_page

light_admin = admin_fixtures.light_admin


def test_a_form_without_its_csrf_token_gets_400(light_admin) -> None:
    client = light_admin.login("operator")
    page = client.get("/phone/")
    version = version_of_page(page.text)
    before = (light_admin.base / "ivr.yaml").read_text()
    resp = client.post("/phone/announcements/busy", data={"version": version, "text": "바뀌면 안 됨"})
    assert resp.status_code == 400
    assert "CSRF" in resp.text
    resp = client.post("/phone/announcements/busy", data={"version": version, "text": "바뀌면 안 됨",
                                                           "csrf_token": "forged"})
    assert resp.status_code == 400
    assert (light_admin.base / "ivr.yaml").read_text() == before
    # Logging in needs the token too.
    assert light_admin.app.test_client().post("/login", data={"username": "admin", "password": PASSWORDS["admin"]}
                                              ).status_code == 400


def test_a_viewers_edit_gets_403_and_changes_nothing(light_admin) -> None:
    client = light_admin.login("viewer")
    before = (light_admin.base / "ivr.yaml").read_text()
    inventory = (light_admin.base / "inventory.yaml").read_text()
    page = client.get("/phone/")
    assert page.status_code == 200  # a viewer reads everything...
    token, version = csrf_of(page.text), version_of_page(page.text)
    edits = [
        ("/phone/announcements/busy", {"text": "뷰어의 수정", "version": version}),
        ("/phone/announcements/busy/regenerate", {"version": version}),
        ("/phone/hours", {"version": version, "rows": "0"}),
        ("/phone/holidays/add", {"date": "2026-12-31", "name": "x"}),
        ("/phone/departments/civil", {"version": version, "name": "x"}),
        ("/phone/policy", {"version": version}),
        ("/phone/calls/hangup", {"call": "1.1"}),
        ("/network/planned", {"device": "ap-plan-1"}),
        ("/network/polling", {}),
        ("/network/device/core-1", {"profile": "host", "status": "active"}),
        ("/users/", {"name": "mallory", "role": "admin", "password": "x" * 12, "confirm": "x" * 12}),
    ]
    for url, data in edits:
        resp = client.post(url, data={**data, "csrf_token": token})
        assert resp.status_code == 403, url
    # ...except recordings, and only admins manage users
    assert client.get("/phone/recordings").status_code == 403
    assert client.get("/users/").status_code == 403
    assert (light_admin.base / "ivr.yaml").read_text() == before
    assert (light_admin.base / "inventory.yaml").read_text() == inventory
    # An operator may edit the IVR but not the inventory or the users.
    op = light_admin.login("operator")
    token = csrf_of(op.get("/network/planned").text)
    assert op.post("/network/planned", data={"device": "ap-plan-1", "csrf_token": token}).status_code == 403
    assert op.get("/phone/recordings").status_code == 403
    assert light_admin.login("admin").get("/phone/recordings").status_code == 200


def test_ten_wrong_passwords_are_rate_limited(light_admin) -> None:
    client = light_admin.app.test_client()
    codes = []
    for _ in range(10):
        token = csrf_of(client.get("/login").text)
        codes.append(client.post("/login", data={"username": "admin", "password": "wrong-password!",
                                                 "csrf_token": token}).status_code)
    assert codes[0] == 401
    assert 429 in codes and codes[-1] == 429
    # While limited, even the right password is refused, and the page says when to try again.
    token = csrf_of(client.get("/login").text)
    resp = client.post("/login", data={"username": "admin", "password": PASSWORDS["admin"], "csrf_token": token})
    assert resp.status_code == 429
    assert "분 뒤에 다시" in resp.text
    # Another user is not locked out by it.
    assert light_admin.login("operator").get("/").status_code == 200
    entries = light_admin.ws.audit.entries(action_prefix="login")
    # Five failures, then the lock is logged once (not each refused attempt: see test_admin_attacks).
    assert sum(1 for e in entries if e.result == "refused" and e.target == "admin") == 6


def test_a_session_cookie_from_before_logout_is_refused(light_admin) -> None:
    client = light_admin.login("admin")
    assert client.get("/users/").status_code == 200
    cookie = client.get_cookie("nms_admin")
    assert cookie is not None
    stolen = cookie.value
    token = csrf_of(client.get("/").text)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    # Replaying the old cookie in another browser: not logged in.
    other = light_admin.app.test_client()
    other.set_cookie("nms_admin", stolen)
    resp = other.get("/users/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert other.post("/phone/announcements/busy", data={"text": "x"}).status_code in (400, 401)
    # A password change also ends every session of the user.
    first = light_admin.login("operator")
    second = light_admin.login("operator")
    token = csrf_of(first.get("/account").text)
    resp = first.post("/account", data={"current": PASSWORDS["operator"], "new": "another-pass-5678",
                                        "confirm": "another-pass-5678", "csrf_token": token})
    assert resp.status_code == 302
    assert second.get("/").status_code == 302


def test_cookies_are_httponly_samesite_and_secure_with_tls(light_admin, tmp_path) -> None:
    client = light_admin.app.test_client()
    resp = client.get("/login")
    header = resp.headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Strict" in header and "Secure" not in header
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    tls = make_light_admin(tmp_path / "tls", secure_cookies=True)
    try:
        header = tls.app.test_client().get("/login", base_url="https://localhost").headers["Set-Cookie"]
        assert header.startswith("__Host-nms_admin=")
        assert "Secure" in header and "HttpOnly" in header and "SameSite=Strict" in header
    finally:
        tls.service.close()


def test_passwords_are_argon2id_hashes_and_there_is_no_default_user(light_admin, tmp_path) -> None:
    db = sqlite3.connect(light_admin.ws.settings.users_db)
    rows = db.execute("SELECT name, pw_hash FROM users").fetchall()
    db.close()
    assert {r[0] for r in rows} == {"admin", "operator", "viewer"}
    for name, pw_hash in rows:
        assert pw_hash.startswith("$argon2id$") and PASSWORDS[name] not in pw_hash
    from nms.admin.service import AdminService
    from nms.admin.settings import AdminSettings
    from nms.app.district import load_district

    # A fresh state directory has no user at all: there is no default account.
    service = AdminService(load_district(light_admin.base / "nms.yaml"),
                    settings=AdminSettings(state_dir=tmp_path / "fresh", ivr_config=light_admin.base / "ivr.yaml"))
    try:
        assert service.workspace.users.count() == 0
        page = service.app.test_client().get("/login")
        assert "create-user" in page.text
    finally:
        service.close()


def test_served_by_waitress_with_security_headers(light_admin) -> None:
    service = light_admin.service
    service.start_threads()
    try:
        with urllib.request.urlopen(service.url + "/login", timeout=5) as resp:
            assert resp.status == 200
            assert resp.headers["Server"] == "nms-admin"  # waitress's ident, not Werkzeug
            assert resp.headers["X-Frame-Options"] == "DENY"
            cookie = SimpleCookie(resp.headers["Set-Cookie"])
            assert cookie["nms_admin"]["httponly"]
    finally:
        service.stop_threads()
