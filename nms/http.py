"""The service's HTTP endpoint: /metrics, POST /-/reload, /-/healthy, /-/ready (as Prometheus).

``/-/reload`` changes what the service does, so, as Prometheus does with ``--web.enable-lifecycle``, it
is off unless enabled, here by the secret ``http-reload-token``. A reload must then carry
``Authorization: Bearer TOKEN``, or come from loopback with ``X-Reload-Token: TOKEN``. Requests a
browser could be tricked into sending (cross-site ``Origin``/``Sec-Fetch-Site``, form and plain-text
bodies) are refused whatever they carry. The reload itself runs in the request's thread, never on
the service's event loop (which also runs the IVR controller).

``/metrics`` and the rest can be given TLS and basic authentication with an exporter-toolkit web
config (nms.webconfig); ``/-/healthy`` stays open for liveness probes.
"""

from __future__ import annotations

import gzip
import hmac
import ipaddress
import logging
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from prometheus_client.registry import Collector

from nms.exposition import CONTENT_TYPE, stream_all
from nms.webconfig import WebConfig

log = logging.getLogger(__name__)

ReloadCallback = Callable[[], tuple[bool, str]]
#: Bodies a browser sends cross-origin without asking first (CORS "simple requests").
SIMPLE_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")
MAX_BODY = 64 * 1024


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.removeprefix("::ffff:")).is_loopback
    except ValueError:
        return False


def reload_refusal(headers, client: str, token: str | None) -> tuple[int, str] | None:
    """Why a reload request is refused (status, message), or None if it may go ahead."""
    site = headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        return 403, "cross-site reload refused"
    origin = headers.get("Origin")
    if origin is not None and (origin == "null" or urlsplit(origin).netloc != headers.get("Host", "")):
        return 403, "cross-origin reload refused"
    ctype = (headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
    if ctype in SIMPLE_TYPES:
        return 415, f"reload refused: a {ctype} body is what a cross-site form sends; send no body"
    if not token:
        return 403, ("reload over HTTP is disabled: create the secret http-reload-token to enable it "
                     "(or send SIGHUP)")
    auth = headers.get("Authorization") or ""
    if auth.startswith("Bearer ") and hmac.compare_digest(auth[7:].strip().encode(), token.encode()):
        return None
    header = headers.get("X-Reload-Token")
    if header is not None and _loopback(client) and hmac.compare_digest(header.strip().encode(), token.encode()):
        return None
    return 401, "reload needs Authorization: Bearer <http-reload-token>"


class ServiceHttpServer:
    def __init__(self, listen: str, collectors: Callable[[], Iterable[Collector]], reload: ReloadCallback,
                 ready: Callable[[], bool] = lambda: True, reload_token: Callable[[], str | None] = lambda: None,
                 web_config: WebConfig | None = None):
        host, _, port = listen.rpartition(":")
        self.host, self.port = host.strip("[]"), int(port)
        self.collectors = collectors
        self.reload = reload
        self.ready = ready
        self.reload_token = reload_token
        self.web_config = web_config
        self._last_refusal_log = -60.0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def log_refusal(self, client: str, why: str) -> None:
        """A refused reload is logged, but at most once a minute: refusals must not flood the log."""
        now = time.monotonic()
        if now - self._last_refusal_log >= 60:
            self._last_refusal_log = now
            log.warning("reload from %s refused: %s (further refusals within a minute are not logged)", client, why)

    def start(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt: str, *args) -> None:
                log.debug("http: " + fmt, *args)

            def _send(self, status: int, body: bytes, content_type: str = "text/plain; charset=utf-8") -> None:
                if "gzip" in self.headers.get("Accept-Encoding", "") and len(body) > 1024:
                    body = gzip.compress(body, compresslevel=1)
                    self.send_response(status)
                    self.send_header("Content-Encoding", "gzip")
                else:
                    self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _authorized(self) -> bool:
                """Basic authentication of the web config; /-/healthy is always open (liveness)."""
                web = owner.web_config
                if web is None or web.check_basic(self.headers.get("Authorization")):
                    return True
                body = b"Unauthorized\n"
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="nms"')
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return False

            def _send_metrics(self) -> None:
                """Stream the exposition (chunked, gzip when asked): it is never held whole in memory."""
                chunks = stream_all(owner.collectors())
                try:
                    first = next(chunks, b"")
                except Exception as exc:  # a broken collector must not take the endpoint down
                    log.exception("metrics collection failed")
                    self._send(500, f"metrics collection failed: {exc}\n".encode())
                    return
                gz = zlib.compressobj(1, zlib.DEFLATED, 31) if "gzip" in self.headers.get("Accept-Encoding", "") \
                    else None
                self.send_response(200)
                self.send_header("Content-Type", CONTENT_TYPE)
                if gz is not None:
                    self.send_header("Content-Encoding", "gzip")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()

                def write(data: bytes) -> None:
                    if gz is not None:
                        data = gz.compress(data)
                    if data:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

                try:
                    write(first)
                    for chunk in chunks:
                        write(chunk)
                except Exception:  # headers are out: all we can do is end the connection unfinished
                    log.exception("metrics collection failed while streaming")
                    self.close_connection = True
                    return
                if gz is not None:
                    tail = gz.flush()
                    if tail:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(tail), tail))
                self.wfile.write(b"0\r\n\r\n")

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path != "/-/healthy" and not self._authorized():
                    return
                if path == "/metrics":
                    self._send_metrics()
                elif path == "/-/healthy":
                    self._send(200, b"Healthy.\n")
                elif path == "/-/ready":
                    ok = owner.ready()
                    self._send(200 if ok else 503, b"Ready.\n" if ok else b"Not ready.\n")
                elif path == "/":
                    self._send(200, b"<html><body><h1>nms</h1><a href='/metrics'>metrics</a></body></html>",
                               "text/html; charset=utf-8")
                else:
                    self._send(404, b"not found\n")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY or length < 0:
                    self.close_connection = True
                    self._send(413, b"request body too large\n")
                    return
                if length:
                    self.rfile.read(length)
                if self.path.split("?", 1)[0] != "/-/reload":
                    self._send(404, b"not found\n")
                    return
                refusal = reload_refusal(self.headers, self.client_address[0], owner.reload_token())
                if refusal is not None:
                    owner.log_refusal(self.client_address[0], refusal[1])
                    self._send(refusal[0], (refusal[1] + "\n").encode())
                    return
                ok, message = owner.reload()
                self._send(200 if ok else 500, (message.rstrip("\n") + "\n").encode())

            do_PUT = do_POST

        tls = self.web_config.tls if self.web_config is not None else None

        class Server(ThreadingHTTPServer):
            address_family = socket.AF_INET6 if ":" in owner.host else socket.AF_INET

            def finish_request(self, request, client_address) -> None:  # in the request's own thread
                request.settimeout(30)
                if tls is not None:
                    try:
                        request = tls.wrap_socket(request, server_side=True)
                    except (OSError, ValueError) as exc:
                        log.debug("TLS handshake with %s failed: %s", client_address[0], exc)
                        return
                super().finish_request(request, client_address)

        self._server = Server((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]  # the real port when 0 asked for any
        self._thread = threading.Thread(target=self._server.serve_forever, name="nms-http", daemon=True)
        self._thread.start()
        scheme = "https" if tls is not None else "http"
        log.info("serving /metrics and /-/reload on %s://%s:%d/", scheme, self.host, self.port)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
