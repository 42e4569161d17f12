"""The admin page attacked from outside, over HTTP, as each role (and as nobody) would.

The page runs as `nms admin` does: the real app in waitress on a free loopback port, with real
sox/espeak-ng. Each test is one finding of the security review (issue 9) and fails without its fix.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path

import pytest
import yaml

from ivr.prompts import speak
from tests import http_client
from tests.admin_fixtures import PASSWORDS, LightAdmin, make_light_admin
from tests.http_client import Browser

ROOT = Path(__file__).resolve().parent.parent


served = http_client.served
_as = http_client.logged_in


def _upload(b: Browser, key: str, name: str, data: bytes) -> int:
    token, version = b.version("/phone/")
    return b.post(f"/phone/announcements/{key}/upload", {"csrf_token": token, "version": version},
                  files={"audio": (name, data, "application/octet-stream")}).status_code


def _seconds(data: bytes, tmp: Path) -> float:
    path = tmp / "measure.wav"
    path.write_bytes(data)
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


def _metrics(la: LightAdmin) -> dict[str, float]:
    """The page's metrics as the service's /metrics shows them."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.parser import text_string_to_metric_families

    registry = CollectorRegistry()
    for c in la.service.collectors():
        registry.register(c)
    return {s.name: s.value for f in text_string_to_metric_families(generate_latest(registry).decode())
            for s in f.samples}


def _world_dir() -> Path:
    """A directory every user may write (as an attacker's canary would need)."""
    d = Path(tempfile.mkdtemp(prefix="nms-canary-"))
    os.chmod(d, 0o1777)
    return d


# -- critical and high ---------------------------------------------------------------------------

def test_a_playlist_upload_runs_no_command(served) -> None:
    """Finding 1: `prompt.m3u` whose line is a URL with `$(id>CANARY)` made sox hand it to a shell as root."""
    op = _as(served, "operator")
    canary_dir = _world_dir()
    canary = canary_dir / "CANARY"
    playlist = f"http://127.0.0.1:9/$(id>{canary})\n".encode()
    for name in ("prompt.m3u", "prompt.pls", "prompt.wav", "prompt"):
        assert _upload(op, "lunch", name, playlist) == 422, name
    assert not canary.exists(), f"the upload ran a command: {canary.read_text()}"


def test_a_playlist_cannot_turn_a_call_recording_into_an_announcement(served, tmp_path) -> None:
    """Finding 2: a playlist naming a recording's absolute path made it the public `lunch` prompt."""
    recording = tmp_path / "recordings" / "civil" / "call.wav"
    recording.parent.mkdir(parents=True)
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", str(recording), "synth", "7.3", "sine", "300"], check=True)
    viewer = _as(served, "viewer")
    before = viewer.get("/phone/audio/lunch.wav")
    op = _as(served, "operator")
    for name in ("x.m3u", "x.wav", "x.mp3"):
        assert _upload(op, "lunch", name, f"{recording}\n".encode()) == 422
        assert _upload(op, "lunch", name, f"#EXTM3U\nfile://{recording}\n".encode()) == 422
    after = viewer.get("/phone/audio/lunch.wav")
    assert after.status_code == before.status_code
    if after.status_code == 200:
        assert after.content == before.content
        assert abs(_seconds(after.content, tmp_path) - 7.3) > 0.5
    rows = served.ws.audit.entries(action_prefix="ivr.audio.upload")
    assert rows and all(r.result == "refused" for r in rows)


def test_only_real_wav_mp3_and_ogg_recordings_are_accepted(served, tmp_path) -> None:
    op = _as(served, "operator")
    for fmt in ("wav", "mp3", "ogg"):
        path = tmp_path / f"tone.{fmt}"
        subprocess.run(["sox", "-n", "-r", "22050", "-c", "2", str(path), "synth", "1", "sine", "440"], check=True)
        # The content decides, never the name: any name works for real audio.
        assert _upload(op, "holiday", "녹음 파일.bin", path.read_bytes()) == 303, fmt
        served_audio = op.get("/phone/audio/holiday.wav").content
        assert 0.9 < _seconds(served_audio, tmp_path) < 1.1
    flac = tmp_path / "tone.flac"
    subprocess.run(["sox", "-n", str(flac), "synth", "1", "sine", "440"], check=True)
    assert _upload(op, "holiday", "tone.flac", flac.read_bytes()) == 422
    assert _upload(op, "holiday", "fake.wav", b"RIFF\x10\x00\x00\x00WAVEjunk") == 422
    assert _upload(op, "holiday", "notes.wav", b"this is not audio") == 422
    long_tone = tmp_path / "long.wav"
    subprocess.run(["sox", "-n", "-r", "8000", str(long_tone), "synth", "150", "sine", "440"], check=True)
    assert _upload(op, "holiday", "long.wav", long_tone.read_bytes()) == 422


def test_announcement_text_cannot_make_tts_read_a_file(served, tmp_path) -> None:
    """Finding 3: the text `-f/path` made espeak-ng speak the file, deployed and downloadable."""
    secret = _world_dir() / "secret.txt"
    secret.write_text("비밀 문서의 내용입니다. " * 60)
    os.chmod(secret, 0o644)
    file_seconds = _seconds(speak(secret.read_text(), tmp_path / "file.wav").read_bytes(), tmp_path)
    op = _as(served, "operator")
    for text in (f"-f{secret}", f"-f {secret}", f"--path={secret.parent} -f{secret}"):
        token, version = op.version("/phone/")
        resp = op.post("/phone/announcements/lunch", {"csrf_token": token, "version": version, "text": text})
        assert resp.status_code in (303, 422)
        audio = op.get("/phone/audio/lunch.wav")
        assert audio.status_code == 200
        assert _seconds(audio.content, tmp_path) < file_seconds / 4, "the prompt speaks the file"
    # Text TTS cannot take is refused before anything is written.
    before = (served.base / "ivr.yaml").read_text()
    token, version = op.version("/phone/")
    resp = op.post("/phone/announcements/lunch", {"csrf_token": token, "version": version, "text": "가" * 1001})
    assert resp.status_code == 422
    assert (served.base / "ivr.yaml").read_text() == before


def test_login_cannot_fill_the_disk(served) -> None:
    """Finding 4: a 19 MB user name added ~66 MB to the audit database per request, limited or not."""
    audit_db = served.ws.settings.state_dir / "audit.sqlite3"

    def db_bytes() -> int:
        return sum(p.stat().st_size for p in audit_db.parent.glob("audit.sqlite3*"))

    before = db_bytes()
    stranger = Browser(served.service.url, "127.0.0.9")
    token = stranger.token()
    for _ in range(3):
        resp = stranger.post("/login", {"username": "a" * (19 << 20), "password": "x", "csrf_token": token})
        assert resp.status_code == 413
    # Long but small: refused, and stored cut to a bounded length.
    resp = stranger.post("/login", {"username": "b" * 5000, "password": "p" * 5000, "csrf_token": token})
    assert resp.status_code == 401
    # Rate-limited attempts: the lock is logged once, not every refused attempt.
    codes = [stranger.post("/login", {"username": "admin", "password": "wrong-password", "csrf_token": token})
             .status_code for _ in range(60)]
    assert codes.count(429) >= 50
    assert db_bytes() - before < 1 << 20
    db = sqlite3.connect(audit_db)
    rows = db.execute("SELECT user, target, length(user) + length(target) + length(detail) FROM audit "
                      "WHERE action='login'").fetchall()
    db.close()
    assert max(r[2] for r in rows) <= 100
    assert sum(1 for r in rows if r[0] == "admin") <= served.ws.settings.login_attempts + 1
    # The audit page stays small.
    admin = _as(served, "admin")
    page = admin.get("/history/audit")
    assert page.status_code == 200 and len(page.content) < 512 * 1024


def test_audit_paging_is_robust(served) -> None:
    admin = _as(served, "admin")
    for page in ("99999999999999999999", "9" * 5000, "-1", "0", "abc", "1e9", "٣", "100000"):
        resp = admin.get(f"/history/audit?page={page}")
        assert resp.status_code == 404, page
    assert admin.get("/history/audit?page=1").status_code == 200
    assert admin.get("/network/?page=99999999999999999999").status_code == 200


# -- medium -----------------------------------------------------------------------------------------

def test_nobody_can_lock_out_another_address_and_the_host_can_unlock(served) -> None:
    """Finding 5: five wrong passwords locked the user name for everyone, the right password got 429."""
    attacker = Browser(served.service.url, "127.0.0.2")
    token = attacker.token()
    codes = [attacker.post("/login", {"username": "admin", "password": "not-the-password", "csrf_token": token})
             .status_code for _ in range(12)]
    assert codes[:5] == [401] * 5 and codes[-1] == 429
    # The admin, from their own address, gets in at once.
    assert _as(served, "admin", "127.0.0.3").get("/users/").status_code == 200
    # Many names from one address lock that address (password spraying), not the names elsewhere.
    for i in range(30):
        attacker.post("/login", {"username": f"user{i}", "password": "Spring2026!", "csrf_token": token})
    assert attacker.post("/login", {"username": "viewer", "password": PASSWORDS["viewer"],
                                    "csrf_token": token}).status_code == 429
    assert Browser(served.service.url, "127.0.0.4").login("viewer", PASSWORDS["viewer"]).status_code == 302
    # An admin sharing the attacker's address (one office, one NAT) is let in after `nms admin unlock`.
    same = Browser(served.service.url, "127.0.0.2")
    assert same.login("admin", PASSWORDS["admin"]).status_code == 429
    cli = subprocess.run([sys.executable, "-m", "nms.cli", "--config", str(served.base / "nms.yaml"), "admin",
                          "unlock", "admin", "--state-dir", str(served.ws.settings.state_dir)],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert cli.returncode == 0, cli.stderr
    assert same.login("admin", PASSWORDS["admin"]).status_code == 302
    assert any(e.action == "user.unlock" for e in served.ws.audit.entries())


def test_a_huge_body_is_refused_before_it_is_read(served) -> None:
    """Finding 6: waitress read a 200 MB body in full before Flask answered 413."""
    with socket.create_connection((served.service.host, served.service.port), timeout=20) as s:
        s.sendall(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                  b"Content-Length: 209715200\r\n\r\n" + b"a" * 65536)
        reply = s.recv(4096)  # only 64 KiB of 200 MB were sent: the answer must come now
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]


def test_parallel_password_checks_are_bounded(served) -> None:
    """Low: 100 parallel failed logins (Argon2) made other pages wait up to 10 s."""
    from nms.admin import users

    codes: list[int] = []

    def attack(i: int) -> None:
        b = Browser(served.service.url, f"127.0.{1 + i // 200}.{2 + i % 200}")
        token = b.token()
        for _ in range(2):
            codes.append(b.post("/login", {"username": "admin", "password": f"guess-{i}",
                                           "csrf_token": token}).status_code)

    threads = [threading.Thread(target=attack, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    health = Browser(served.service.url).get("/-/healthy")
    for t in threads:
        t.join(timeout=120)
    assert health.status_code == 200
    assert set(codes) <= {401, 503} and len(codes) == 80
    metrics = _metrics(served)
    assert 1 <= metrics["nms_admin_password_checks_peak"] <= users.PASSWORD_CHECKS._initial_value


# -- low ----------------------------------------------------------------------------------------------

def test_next_with_cr_lf_redirects_home(served) -> None:
    nasty = ["/x\r\nSet-Cookie: a=b", "/%0d%0aX: y", "/\\evil.example", "//evil.example", "http://evil.example/",
             "/ok\x00", "/\tx"]
    b = Browser(served.service.url)
    for target in nasty:
        resp = b.get("/language/en", params={"next": target})
        assert resp.status_code == 302, target
        assert resp.headers["Location"] in ("/", "http://127.0.0.1/") or resp.headers["Location"].endswith(
            ("/%0d%0aX: y", "/%0D%0AX:%20y")) or resp.headers["Location"].startswith("/"), target
        assert "\r" not in resp.headers["Location"] and "\n" not in resp.headers["Location"]
        assert "evil.example" not in resp.headers["Location"]
    for target in nasty:
        b2 = Browser(served.service.url)
        resp = b2.login("viewer", PASSWORDS["viewer"], next_=target)
        assert resp.status_code == 302, target
        assert "evil.example" not in resp.headers["Location"] and "\n" not in resp.headers["Location"]
        assert b2.get("/").status_code == 200  # logged in, the redirect went home
    assert Browser(served.service.url).login("viewer", PASSWORDS["viewer"], next_="/phone/hours").headers[
        "Location"] == "/phone/hours"


@pytest.mark.parametrize("password", ["1234567890", "password12", "qwertyuiop", "aaaaaaaaaa1", "admin12345",
                                      "20261130aa", "P@ssw0rd2026", "newuser1234"])
def test_common_and_patterned_passwords_are_refused(served, password) -> None:
    admin = _as(served, "admin")
    token = admin.token("/users/")
    resp = admin.post("/users/", {"name": "newuser", "role": "viewer", "password": password, "confirm": password,
                                  "csrf_token": token})
    assert resp.status_code == 422, password
    assert served.ws.users.get("newuser") is None
    strong = "Geumcheon-syslog-27-Bus"
    resp = admin.post("/users/", {"name": "newuser", "role": "viewer", "password": strong, "confirm": strong,
                                  "csrf_token": token})
    assert resp.status_code in (302, 303)


def test_start_up_warns_when_listening_beyond_loopback_without_tls(tmp_path, caplog) -> None:
    from nms.admin.service import warn_if_exposed

    assert warn_if_exposed("0.0.0.0", False)
    assert "without TLS" in caplog.text
    assert not warn_if_exposed("127.0.0.1", False)
    assert not warn_if_exposed("::1", False)
    assert not warn_if_exposed("0.0.0.0", True)
    from nms.admin.service import AdminService

    caplog.clear()
    light = make_light_admin(tmp_path / "exposed")
    exposed = AdminService(light.service.workspace.district, listen="0.0.0.0:0",
                           settings=light.ws.settings)  # built as `nms run` does at start-up; never started
    try:
        assert "listens on 0.0.0.0 without TLS" in caplog.text
    finally:
        exposed.close()
        light.service.close()


def test_yaml_aliases_are_refused_by_every_loader(served) -> None:
    bomb = ("a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
            "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
            "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
            "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n")
    from nms.configfile import ConfigError, parse_yaml_text

    with pytest.raises(ConfigError, match="aliases"):
        parse_yaml_text(bomb, "bomb.yaml")
    # A hand-edited ivr.yaml with an alias: the page says so (422), it neither hangs nor fails (500).
    ivr = served.base / "ivr.yaml"
    ivr.write_text(ivr.read_text() + "\n" + bomb.replace("a: &a", "x_a: &a", 1))
    op = _as(served, "operator")
    for path in ("/phone/", "/phone/hours", "/phone/departments"):
        resp = op.get(path)
        assert resp.status_code == 422 and "별칭" in resp.text, path
    token = op.token("/account")
    resp = op.post("/phone/announcements/busy", {"csrf_token": token, "version": "0" * 64, "text": "통화 중"})
    assert resp.status_code == 422


def test_an_operator_cannot_route_a_department_outside(tmp_path) -> None:
    """Low: an operator could point a department at PJSIP/<any number>@<trunk> or Local/x@<any context>,
    and set the call limit to 1 s/2 s."""
    la = make_light_admin(tmp_path / "page", dial_targets=["PJSIP/2399"], call_limit_min=60, call_limit_max=3600)
    la.service.start_threads()
    try:
        op = _as(la, "operator")
        ivr = la.base / "ivr.yaml"
        dept = yaml.safe_load(ivr.read_text())["departments"][0]
        before = ivr.read_text()

        def save(target: str) -> int:
            token, version = op.version("/phone/departments")
            return op.post(f"/phone/departments/{dept['id']}", {
                "csrf_token": token, "version": version, "name": dept["name"], "dids": ", ".join(dept["dids"]),
                "target": target, "protection": "1", "recording": "1", "menu": "1",
                "menu_digit": dept.get("menu_digit") or "", "ring_timeout": "30"}).status_code

        for target in ("PJSIP/00797012345678@trunk", "PJSIP/01012345678", "Local/s@nms-inbound",
                       "Local/2301@default/n", "PJSIP/2399&PJSIP/01099998888@trunk"):
            assert save(target) == 422, target
            assert ivr.read_text() == before
        token = op.token("/phone/departments")
        assert op.post("/phone/departments/new", {
            "csrf_token": token, "id": "toll", "name": "유료", "dids": "0226279999",
            "target": "PJSIP/00797012345678@trunk", "protection": "1", "menu": "", "ring_timeout": "30"}
        ).status_code == 422
        assert save(dept["target"]) in (302, 303)  # what it is
        assert save("PJSIP/2399") in (302, 303)  # on the admin's list
        for warning, end in (("1", "2"), ("30", "59"), ("600", "99999")):
            token, version = op.version("/phone/policy")
            resp = op.post("/phone/policy", {"csrf_token": token, "version": version,
                                             "call_limit.warning_after": warning, "call_limit.end_after": end,
                                             "protection.warning_key": "*1", "protection.warnings_before_end": "3"})
            assert resp.status_code == 422, (warning, end)
        limit = yaml.safe_load(ivr.read_text())["call_limit"]
        assert limit["end_after"] >= 60 and limit["warning_after"] >= 60
    finally:
        la.service.stop_threads()
        la.service.close()


def test_a_change_killed_while_applying_leaves_its_trace(tmp_path) -> None:
    """Finding 9: a change written to disk whose apply never finished (kill -9) left no audit row."""
    la = make_light_admin(tmp_path / "page")
    la.service.close()
    base = la.base
    hang = socket.socket()  # a "running service" that accepts the reload and never answers
    hang.bind(("127.0.0.1", 0))
    hang.listen(8)
    page_port = _free_port()
    settings = yaml.safe_load((base / "nms.yaml").read_text())
    settings["admin"] = {"listen": f"127.0.0.1:{page_port}", "state_dir": "admin",
                         "reload_url": f"http://127.0.0.1:{hang.getsockname()[1]}/-/reload"}
    (base / "nms.yaml").write_text(yaml.safe_dump(settings))
    proc = subprocess.Popen([sys.executable, "-m", "nms.cli", "--config", str(base / "nms.yaml"), "admin"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    inventory = base / "inventory.yaml"
    before = inventory.read_text()
    try:
        url = f"http://127.0.0.1:{page_port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                Browser(url).get("/-/healthy")
                break
            except OSError:
                time.sleep(0.2)
        admin = Browser(url, timeout=60)
        assert admin.login("admin", PASSWORDS["admin"]).status_code == 302
        token = admin.token("/network/planned")
        threading.Thread(target=lambda: _ignore(lambda: admin.post(
            "/network/planned", {"device": "ap-plan-1", "csrf_token": token})), daemon=True).start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and inventory.read_text() == before:
            time.sleep(0.05)
        assert inventory.read_text() != before, "the change was not written"
    finally:
        proc.kill()  # kill -9 while the page waits for the service to apply the change
        proc.wait(timeout=10)
        hang.close()
    db = sqlite3.connect(base / "admin" / "audit.sqlite3")
    rows = db.execute("SELECT action, result, diff FROM audit WHERE action='inventory.activate'").fetchall()
    db.close()
    assert len(rows) == 1 and rows[0][1] == "pending" and "-  status: planned" in rows[0][2], rows


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ignore(call) -> None:
    with contextlib.suppress(Exception):  # the server is killed under the request on purpose
        call()
