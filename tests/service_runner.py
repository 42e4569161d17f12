"""The real service runner (HTTP, schedulers, reload) on an event loop in a background thread."""

from __future__ import annotations

import asyncio
import secrets as secrets_module
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from nms.app.district import load_district
from nms.secrets import SecretResolver
from nms.service import ServiceRunner


class RunningService:
    """The real service runner (HTTP, scheduler, reload) on an event loop in a background thread."""

    def __init__(self, config: Path, secrets=None, services: list | None = None):
        """Run ``services``, or else an SNMP collector for the district at ``config``."""
        district = load_district(config)
        if services is None:
            from collectors.snmp.service import SnmpCollector

            services = [SnmpCollector(district, secrets)]
        self.services = services
        # The reload token this test's client knows (POST /-/reload needs it).
        self.reload_token = secrets_module.token_urlsafe(16)
        tokens = SecretResolver(Path("/nonexistent"), environ={"NMS_SECRET_HTTP_RELOAD_TOKEN": self.reload_token})
        self.runner = ServiceRunner(config, district, services, secrets=tokens)
        self.thread = threading.Thread(target=lambda: asyncio.run(self.runner.run(handle_signals=False)),
                                       daemon=True)

    def __enter__(self) -> RunningService:
        self.thread.start()
        end = time.monotonic() + 10
        while time.monotonic() < end and not self.runner._started:
            time.sleep(0.05)
        assert self.runner._started, "service did not start"
        return self

    def __exit__(self, *exc) -> None:
        self.runner.request_stop()
        self.thread.join(10)

    @property
    def port(self) -> int:
        return self.runner.http.port

    def scrape(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as r:
            return r.read().decode()

    def wait_scrape(self, predicate, timeout: float) -> str | None:
        """Scrape until ``predicate(text)`` holds; the text, or None when time runs out."""
        return wait_for(lambda: (lambda t: t if predicate(t) else None)(self.scrape()), timeout)

    def reload(self) -> tuple[int, str]:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/-/reload", method="POST",
                                     headers={"Authorization": f"Bearer {self.reload_token}"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()


def wait_for(predicate, timeout: float, interval: float = 0.2):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


