"""The webhook receiver and the forwarding worker of the alert relay.

``POST /api/alerts/relay`` with ``Authorization: Bearer <token>`` and an Alertmanager webhook body:
202 once queued, 401 without the right token, 400 for a body that is no notification, 413 when too
large, 503 when the queue is full (Alertmanager then retries). A worker thread forwards each
notification to the endpoint with retries (network errors, 429 and 5xx; doubling backoff) and logs
the outcome. ``GET /api/alerts/deliveries`` (same token) returns the delivery log, newest first.
"""

from __future__ import annotations

import hmac
import json
import logging
import queue
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from nms.alerting.log import DeliveryLog, entry, safe_endpoint
from nms.alerting.message import Notification, PayloadError, parse, render
from nms.alerting.settings import ForwardSettings

log = logging.getLogger(__name__)
RELAY_PATH = "/api/alerts/relay"
DELIVERIES_PATH = "/api/alerts/deliveries"


@dataclass(frozen=True)
class Endpoint:
    """Where to forward, with its resolved bearer token (never logged)."""

    settings: ForwardSettings
    token: str | None


class Counters:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: Counter[str] = Counter()  # by notification status
        self.rejected: Counter[str] = Counter()  # by reason
        self.deliveries: Counter[str] = Counter()  # delivered | failed | logged
        self.attempts = 0

    def add(self, counter: str, key: str) -> None:
        with self.lock:
            getattr(self, counter)[key] += 1


class Forwarder:
    """Delivers queued notifications one at a time; ``endpoint`` is read per delivery (reloads)."""

    def __init__(self, endpoint: Callable[[], Endpoint | None], deliveries: DeliveryLog, counters: Counters,
                 queue_limit: int):
        self.endpoint = endpoint
        self.log = deliveries
        self.counters = counters
        self.queue: queue.Queue[Notification] = queue.Queue(maxsize=queue_limit)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="nms-alert-relay", daemon=True)

    def offer(self, n: Notification) -> bool:
        try:
            self.queue.put_nowait(n)
        except queue.Full:
            return False
        return True

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                n = self.queue.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                self.deliver(n)
            except Exception:  # one bad delivery must not stop the worker
                log.exception("alert relay: delivery failed unexpectedly")

    def deliver(self, n: Notification) -> None:
        names = [a["alertname"] for a in n.alerts]
        target = self.endpoint()
        if target is None:
            self.log.append(entry(n.status, names, len(n.alerts), "", "logged", 0))
            self.counters.add("deliveries", "logged")
            return
        settings = target.settings
        url = str(settings.url)
        body = json.dumps(render(n), ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "nms-alert-relay"}
        if target.token:
            headers["Authorization"] = f"Bearer {target.token}"
        delay, status, error = settings.backoff, None, ""
        for attempt in range(1, settings.attempts + 1):
            with self.counters.lock:
                self.counters.attempts += 1
            retry = True
            try:
                with urllib.request.urlopen(urllib.request.Request(url, body, headers, method="POST"),
                                            timeout=settings.timeout) as resp:
                    status = resp.status
                self.log.append(entry(n.status, names, len(n.alerts), safe_endpoint(url), "delivered", attempt,
                                      status))
                self.counters.add("deliveries", "delivered")
                return
            except urllib.error.HTTPError as exc:
                status, error = exc.code, f"HTTP {exc.code} {exc.reason}"
                retry = exc.code == 429 or exc.code >= 500
            except (urllib.error.URLError, OSError) as exc:
                status, error = None, str(getattr(exc, "reason", exc))
            if not retry or attempt == settings.attempts or self.stopping.wait(delay):
                break
            delay *= 2
        log.warning("alert relay: delivery to %s failed after %d attempt(s): %s", safe_endpoint(url), attempt,
                    error)
        self.log.append(entry(n.status, names, len(n.alerts), safe_endpoint(url), "failed", attempt, status, error))
        self.counters.add("deliveries", "failed")


class RelayServer:
    """The receiving HTTP server on its own port."""

    def __init__(self, listen: str, token: Callable[[], str], forwarder: Forwarder, deliveries: DeliveryLog,
                 counters: Counters, max_body: Callable[[], int]):
        host, _, port = listen.rpartition(":")
        self.host, self.port = host.strip("[]"), int(port)
        self.token, self.forwarder, self.deliveries, self.counters = token, forwarder, deliveries, counters
        self.max_body = max_body
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 10  # seconds a slow client may hold a connection

            def log_message(self, fmt: str, *args) -> None:
                log.debug("alert relay http: " + fmt, *args)

            def _send(self, status: int, body: bytes, content_type: str = "text/plain; charset=utf-8") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _authorised(self) -> bool:
                sent = self.headers.get("Authorization", "")
                want = "Bearer " + owner.token()
                if hmac.compare_digest(sent.encode(), want.encode()):
                    return True
                owner.counters.add("rejected", "unauthorised")
                self.close_connection = True
                self._send(401, b"missing or wrong bearer token\n")
                return False

            def do_GET(self) -> None:
                if self.path.split("?", 1)[0] != DELIVERIES_PATH:
                    self._send(404, b"not found\n")
                elif self._authorised():
                    body = json.dumps(owner.deliveries.entries(), ensure_ascii=False).encode()
                    self._send(200, body, "application/json; charset=utf-8")

            def do_POST(self) -> None:
                if self.path.split("?", 1)[0] != RELAY_PATH:
                    self.close_connection = True
                    self._send(404, b"not found\n")
                    return
                if not self._authorised():
                    return
                try:
                    length = int(self.headers.get("Content-Length", ""))
                except ValueError:
                    length = -1
                if length < 0 or length > owner.max_body():
                    owner.counters.add("rejected", "too-large" if length > 0 else "no-length")
                    self.close_connection = True
                    self._send(413 if length > 0 else 411, b"body too large or without Content-Length\n")
                    return
                try:
                    n = parse(json.loads(self.rfile.read(length)))
                except (PayloadError, ValueError) as exc:
                    owner.counters.add("rejected", "invalid")
                    self._send(400, f"not an Alertmanager webhook notification: {exc}\n".encode())
                    return
                if not owner.forwarder.offer(n):
                    owner.counters.add("rejected", "queue-full")
                    self._send(503, b"relay queue full; retry later\n")
                    return
                owner.counters.add("received", n.status)
                self._send(202, b"queued\n")

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, name="nms-alert-relay-http", daemon=True).start()
        log.info("alert relay: receiving Alertmanager webhooks on http://%s:%d%s", self.host, self.port,
                 RELAY_PATH)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
