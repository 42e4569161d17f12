"""A messenger/SMS-gateway stand-in for the alert relay's tests: a real HTTP server on loopback."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Messenger:
    """An HTTP endpoint on loopback: records each POST, answers the next statuses in ``fail`` first."""

    def __init__(self) -> None:
        self.received: list[tuple[dict, str]] = []
        self.fail: list[int] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = owner.fail.pop(0) if owner.fail else 200
                if status == 200:
                    owner.received.append((json.loads(body), self.headers.get("Authorization", "")))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/nms?key=hidden"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
