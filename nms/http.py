"""The service's HTTP endpoint: /metrics, POST /-/reload, /-/healthy, /-/ready (as Prometheus)."""

from __future__ import annotations

import gzip
import logging
import threading
import zlib
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client.registry import Collector

from nms.exposition import CONTENT_TYPE, stream_all

log = logging.getLogger(__name__)

ReloadCallback = Callable[[], tuple[bool, str]]


class ServiceHttpServer:
    def __init__(self, listen: str, collectors: Callable[[], Iterable[Collector]], reload: ReloadCallback,
                 ready: Callable[[], bool] = lambda: True):
        host, _, port = listen.rpartition(":")
        self.host, self.port = host.strip("[]"), int(port)
        self.collectors = collectors
        self.reload = reload
        self.ready = ready
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

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
                if self.path.split("?", 1)[0] != "/-/reload":
                    self._send(404, b"not found\n")
                    return
                ok, message = owner.reload()
                self._send(200 if ok else 500, (message.rstrip("\n") + "\n").encode())

            do_PUT = do_POST

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]  # the real port when 0 asked for any
        self._thread = threading.Thread(target=self._server.serve_forever, name="nms-http", daemon=True)
        self._thread.start()
        log.info("serving /metrics and /-/reload on http://%s:%d/", self.host, self.port)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
