"""What already held in the security review (issue 9), kept as attacks over HTTP on a waitress-served
page: no user enumeration, escaping of stored and reflected input, no dialplan injection, file
serving refuses traversal, 200 concurrent requests without a 5xx. (Sessions, CSRF, roles, headers,
kill -9 during a save: test_admin_security.py and test_admin_edits.py; open redirects:
test_admin_attacks.py.)"""

from __future__ import annotations

import re
import threading

import yaml

from ivr.config import load_config
from ivr.render import render_extensions
from tests import http_client
from tests.http_client import Browser

served = http_client.served
_as = http_client.logged_in


def test_no_user_enumeration(served) -> None:
    def attempt(name: str, source: str) -> tuple[int, str]:
        b = Browser(served.service.url, source)
        resp = b.login(name, "wrong-password-123")
        body = re.sub(r'name="csrf_token" value="[^"]+"', "", resp.text)
        body = re.sub(r'<input[^>]*name="username"[^>]*>', "", body)
        return resp.status_code, body

    assert attempt("admin", "127.0.0.11") == attempt("nosuchuser", "127.0.0.12")
    assert attempt("operator", "127.0.0.13") == attempt("ghost", "127.0.0.14")


def test_stored_and_reflected_input_is_escaped(served) -> None:
    payload = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    op = _as(served, "operator")
    token, version = op.version("/phone/")
    resp = op.post("/phone/announcements/lunch", {"csrf_token": token, "version": version,
                                                  "text": "점심시간 " + payload})
    assert resp.status_code in (303, 422)
    for path in ("/phone/", "/history/audit", "/history/ivr"):
        page = _as(served, "admin").get(path).text
        assert "<script>alert(1)" not in page and "<img src=x" not in page, path
    viewer = _as(served, "viewer")
    for path in (f"/network/?q={payload}", f"/login?next={payload}", f"/phone/events?days={payload}"):
        page = viewer.get(path).text
        assert "<script>alert(1)" not in page and "<img src=x" not in page, path
    page = Browser(served.service.url).get("/login", params={"next": payload}).text
    assert "<script>alert(1)" not in page


def test_no_dialplan_injection(served) -> None:
    """Names reach the dialplan only as comments and never break out of their line, neither through
    the page nor from a hand-edited ivr.yaml."""
    op = _as(served, "operator")
    ivr = served.base / "ivr.yaml"
    dept = yaml.safe_load(ivr.read_text())["departments"][0]
    evil = "민원\nexten => 9,1,System(id)\n; "
    token, version = op.version("/phone/departments")
    op.post(f"/phone/departments/{dept['id']}", {
        "csrf_token": token, "version": version, "name": evil, "dids": ", ".join(dept["dids"]),
        "target": dept["target"], "protection": "1", "recording": "1", "menu": "1",
        "menu_digit": dept.get("menu_digit") or "", "ring_timeout": "30"})
    token = op.token("/phone/hours")
    op.post("/phone/holidays/add", {"csrf_token": token, "date": "2026-12-31", "name": evil})
    data = yaml.safe_load(ivr.read_text())
    data["departments"][1]["name"] = evil  # and by hand
    data["hours"]["holidays"] = [{"date": "2027-01-01", "name": evil}]
    ivr.write_text(yaml.safe_dump(data, allow_unicode=True))
    dialplan = render_extensions(load_config(ivr))
    assert not re.search(r"^\s*exten => 9,1,System", dialplan, re.M)
    assert "System(" not in "\n".join(line.split(";", 1)[0] for line in dialplan.splitlines())


def test_file_serving_refuses_traversal(served, tmp_path) -> None:
    admin = _as(served, "admin")
    for name in ("../../../../etc/passwd", "/etc/passwd", "..%2f..%2fetc%2fpasswd", "civil/../../x"):
        resp = admin.get("/phone/recordings/file", params={"name": name})
        assert resp.status_code in (403, 404), name
        assert "root:" not in resp.text
    for path in ("/phone/audio/..%2f..%2f..%2fetc%2fpasswd.wav", "/phone/audio/../../etc/passwd",
                 "/static/..%2f..%2fapp.py", "/static/../../app.py"):
        resp = admin.get(path)
        assert resp.status_code in (403, 404), path
        assert "root:" not in resp.text and "create_app" not in resp.text


def test_two_hundred_concurrent_requests_without_a_5xx(served) -> None:
    viewer = _as(served, "viewer")
    cookies = viewer.s.cookies
    codes: list[int] = []
    lock = threading.Lock()

    def hit(i: int) -> None:
        b = Browser(served.service.url, timeout=120)
        b.s.cookies.update(cookies)
        path = ("/", "/phone/", "/network/", "/login", "/-/healthy")[i % 5]
        code = b.get(path).status_code
        with lock:
            codes.append(code)

    threads = [threading.Thread(target=hit, args=(i,)) for i in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert len(codes) == 200
    assert all(c < 500 for c in codes), sorted(set(codes))
