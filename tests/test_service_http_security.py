"""The service's own HTTP endpoint attacked from outside: /-/reload needs its token and refuses what a
browser could be tricked into sending; a reload never stalls the event loop; /metrics can have TLS
and basic authentication (exporter-toolkit web config)."""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import os
import ssl
import threading
import urllib.error
import urllib.request
from pathlib import Path

import bcrypt
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from nms.secrets import SecretResolver
from tests.district_builder import device, write_district
from tests.service_runner import RunningService


def _district(tmp_path: Path) -> Path:
    return write_district(tmp_path / "cfg", [device("sw-a", "access", "127.0.0.71", 9)], interval=300)


def _post(port: int, headers: dict[str, str], body: bytes | None = None) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/-/reload", body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


def test_reload_needs_the_token_and_refuses_cross_site_requests(tmp_path) -> None:
    with RunningService(_district(tmp_path), SecretResolver(environ={})) as svc:
        port, token = svc.port, svc.reload_token
        good = {"Authorization": f"Bearer {token}"}
        assert _post(port, {})[0] == 401
        assert _post(port, {"Authorization": "Bearer not-the-token"})[0] == 401
        assert _post(port, {"Authorization": f"Basic {base64.b64encode(token.encode()).decode()}"})[0] == 401
        # What a page on the NOC PC's browser can send, even knowing the token, is refused.
        assert _post(port, {**good, "Origin": "http://evil.example"})[0] == 403
        assert _post(port, {**good, "Origin": "null"})[0] == 403
        assert _post(port, {**good, "Sec-Fetch-Site": "cross-site"})[0] == 403
        for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
            assert _post(port, {**good, "Content-Type": ctype}, b"x=1")[0] == 415, ctype
        assert _post(port, {**good, "Content-Length": str(10 << 20)})[0] == 413
        text = svc.scrape()
        assert "nms_config_reload_failures_total 0\n" in text
        # The right token: by Authorization, or from loopback by header.
        assert _post(port, good) == (200, "configuration reloaded\n")
        assert _post(port, {"X-Reload-Token": token})[0] == 200
        assert _post(port, {**good, "Origin": f"http://127.0.0.1:{port}"})[0] == 200  # same origin


def test_reload_over_http_is_off_without_the_secret(tmp_path) -> None:
    with RunningService(_district(tmp_path), SecretResolver(environ={})) as svc:
        svc.runner.secrets = SecretResolver(tmp_path / "no-secrets", environ={})
        status, body = _post(svc.port, {"Authorization": "Bearer anything"})
        assert status == 403 and "http-reload-token" in body


def test_a_reload_does_not_stall_the_event_loop(tmp_path) -> None:
    """The configuration is read in the request's thread: while it is being read (here: an inventory
    file that is a pipe nobody writes yet), the loop, which also runs the IVR controller, goes on."""
    config = _district(tmp_path)
    with RunningService(config, SecretResolver(environ={})) as svc:
        inventory = config.parent / "inventory.yaml"
        text = inventory.read_bytes()
        inventory.unlink()
        os.mkfifo(inventory)
        result: list[tuple[int, str]] = []
        reloading = threading.Thread(target=lambda: result.append(
            _post(svc.port, {"Authorization": f"Bearer {svc.reload_token}"})))
        reloading.start()
        try:
            import asyncio

            # The loop answers while the reload waits for the file.
            for _ in range(3):
                asyncio.run_coroutine_threadsafe(asyncio.sleep(0.05), svc.runner.loop).result(timeout=5)
            assert svc.scrape()
        finally:
            with open(inventory, "wb") as f:  # let the reload read the file
                f.write(text)
            reloading.join(timeout=30)
        assert result and result[0][0] == 200, result


def _certificate(directory: Path) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    import ipaddress

    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False).sign(key, hashes.SHA256()))
    (directory / "nms.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    fd = os.open(directory / "nms.key", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return directory / "nms.crt"


def test_metrics_with_tls_and_basic_auth(tmp_path) -> None:
    config = _district(tmp_path)
    ca = _certificate(config.parent)
    hashed = bcrypt.hashpw(b"scrape-secret-27", bcrypt.gensalt(rounds=6)).decode()
    (config.parent / "web.config.yml").write_text(yaml.safe_dump({
        "tls_server_config": {"cert_file": "nms.crt", "key_file": "nms.key"},
        "basic_auth_users": {"prometheus": hashed}}))
    settings = yaml.safe_load(config.read_text())
    settings["http"]["web_config"] = "web.config.yml"
    config.write_text(yaml.safe_dump(settings))
    with RunningService(config, SecretResolver(environ={})) as svc:
        ctx = ssl.create_default_context(cafile=str(ca))
        url = f"https://127.0.0.1:{svc.port}"

        def get(path: str, auth: str | None = None) -> int:
            req = urllib.request.Request(url + path, headers={"Authorization": auth} if auth else {})
            try:
                with urllib.request.urlopen(req, context=ctx, timeout=20) as resp:
                    return resp.status
            except urllib.error.HTTPError as exc:
                return exc.code

        basic = lambda u, p: "Basic " + base64.b64encode(f"{u}:{p}".encode()).decode()  # noqa: E731
        assert get("/metrics") == 401
        assert get("/metrics", basic("prometheus", "wrong")) == 401
        assert get("/metrics", basic("nobody", "scrape-secret-27")) == 401
        assert get("/metrics", basic("prometheus", "scrape-secret-27")) == 200
        assert get("/-/healthy") == 200  # liveness stays open
        # Plain HTTP gets nothing.
        with pytest.raises((urllib.error.URLError, ConnectionError, http.client.HTTPException)):
            urllib.request.urlopen(f"http://127.0.0.1:{svc.port}/metrics", timeout=10)
