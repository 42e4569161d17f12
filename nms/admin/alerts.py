"""The admin page's view of Alertmanager (API v2): what fires now, the silences, and new silences.

Firing means active, not silenced and not inhibited: what people are being told about. The list is
cached for a few seconds so a busy overview costs Alertmanager one request per refresh period.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

CACHE_SECONDS = 5.0
MAX_ALERTS = 500


class AlertmanagerError(RuntimeError):
    """Alertmanager did not answer or refused; the message says which and why."""


@dataclass(frozen=True)
class FiringAlert:
    fingerprint: str
    name: str
    severity: str
    team: str
    summary_ko: str
    summary: str
    labels: dict[str, str]
    starts_at: str


@dataclass(frozen=True)
class Silence:
    id: str
    state: str
    matchers: str
    created_by: str
    comment: str
    ends_at: str


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class AlertmanagerClient:
    def __init__(self, url: str, timeout: float = 3.0):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._lock = threading.Lock()
        self._cache: tuple[float, list[FiringAlert]] | None = None

    def _call(self, path: str, body: object | None = None) -> object:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data, {"Content-Type": "application/json"},
                                     method="GET" if body is None else "POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return json.loads(resp.read(4 << 20))
        except urllib.error.HTTPError as exc:
            raise AlertmanagerError(f"Alertmanager {self.url} refused {path}: HTTP {exc.code} "
                                    f"{exc.read(300).decode(errors='replace').strip()}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise AlertmanagerError(f"Alertmanager {self.url} does not answer: "
                                    f"{getattr(exc, 'reason', exc)}") from None

    def firing(self, fresh: bool = False) -> list[FiringAlert]:
        with self._lock:
            if not fresh and self._cache and time.monotonic() - self._cache[0] < CACHE_SECONDS:
                return self._cache[1]
        query = urllib.parse.urlencode({"active": "true", "silenced": "false", "inhibited": "false"})
        raw = self._call(f"/api/v2/alerts?{query}")
        alerts = []
        for a in raw if isinstance(raw, list) else []:
            labels = {str(k): str(v) for k, v in (a.get("labels") or {}).items()}
            notes = a.get("annotations") or {}
            alerts.append(FiringAlert(
                fingerprint=str(a.get("fingerprint", "")), name=labels.get("alertname", ""),
                severity=labels.get("severity", ""), team=labels.get("team", ""),
                summary_ko=str(notes.get("summary_ko", "")), summary=str(notes.get("summary", "")),
                labels=labels, starts_at=str(a.get("startsAt", ""))))
        order = {"critical": 0, "warning": 1}
        alerts.sort(key=lambda a: (order.get(a.severity, 2), a.starts_at))
        alerts = alerts[:MAX_ALERTS]
        with self._lock:
            self._cache = (time.monotonic(), alerts)
        return alerts

    def silences(self) -> list[Silence]:
        raw = self._call("/api/v2/silences")
        found = []
        for s in raw if isinstance(raw, list) else []:
            state = (s.get("status") or {}).get("state", "")
            if state not in ("active", "pending"):
                continue
            matchers = ", ".join(f"{m['name']}{'=' if m.get('isEqual', True) else '!='}{m['value']}"
                                 for m in s.get("matchers", []))
            found.append(Silence(str(s.get("id", "")), state, matchers, str(s.get("createdBy", "")),
                                 str(s.get("comment", "")), str(s.get("endsAt", ""))))
        return found

    def silence(self, matchers: dict[str, str], hours: float, author: str, comment: str) -> str:
        """Create a silence of exact-match ``matchers`` from now for ``hours``; its id."""
        now = dt.datetime.now(dt.UTC)
        body = {"matchers": [{"name": k, "value": v, "isRegex": False, "isEqual": True}
                             for k, v in sorted(matchers.items())],
                "startsAt": _iso(now), "endsAt": _iso(now + dt.timedelta(hours=hours)),
                "createdBy": author, "comment": comment}
        answer = self._call("/api/v2/silences", body)
        with self._lock:
            self._cache = None
        if not isinstance(answer, dict) or not answer.get("silenceID"):
            raise AlertmanagerError(f"Alertmanager {self.url} gave no silence id")
        return str(answer["silenceID"])
