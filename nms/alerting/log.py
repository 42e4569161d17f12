"""The relay's delivery log: the newest entries, kept in memory and in a JSON-lines file.

Entries say what was delivered when, where to (the endpoint without credentials or query) and how
it went. They never hold a token or the message's full text.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections import deque
from pathlib import Path
from typing import TypedDict

from nms.store import atomic_write_bytes


class Delivery(TypedDict):
    time: float
    status: str  # the notification's: firing | resolved
    alertnames: list[str]
    alerts: int
    endpoint: str
    result: str  # delivered | failed | logged (no endpoint configured)
    attempts: int
    http_status: int | None
    error: str


def safe_endpoint(url: str) -> str:
    """scheme://host[:port]/path of ``url``: no user, password, query or fragment (tokens hide there)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


class DeliveryLog:
    def __init__(self, path: Path, max_entries: int):
        self.path = path
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: deque[Delivery] = deque(maxlen=max_entries)
        self._load()

    def _load(self) -> None:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return
        for line in lines[-self.max_entries:]:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn line is skipped, the rest is kept
            if isinstance(entry, dict) and "result" in entry:
                self._entries.append(entry)  # type: ignore[arg-type]

    def append(self, entry: Delivery) -> None:
        with self._lock:
            self._entries.append(entry)
            data = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in self._entries).encode()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(self.path, data, mode=0o640)

    def entries(self) -> list[Delivery]:
        """Newest first."""
        with self._lock:
            return list(reversed(self._entries))


def entry(status: str, alertnames: list[str], alerts: int, endpoint: str, result: str, attempts: int,
          http_status: int | None = None, error: str = "") -> Delivery:
    return Delivery(time=time.time(), status=status, alertnames=sorted(set(alertnames))[:20], alerts=alerts,
                    endpoint=endpoint, result=result, attempts=attempts, http_status=http_status,
                    error=error[:300])
