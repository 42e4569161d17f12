"""Running the project's services in one process, with one /metrics and one reload path.

Every service has the same small interface (:class:`Service`). The runner loads the configuration,
starts the services, serves their collectors, and on SIGHUP or ``POST /-/reload`` loads the whole
configuration again: if it is valid, every service gets it; if not, the error is logged and
reported, and everything keeps running on the last good configuration.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Generic, Protocol, Self, TypeVar

from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from nms.configfile import ConfigError
from nms.http import ServiceHttpServer
from nms.secrets import SecretError, SecretResolver
from nms.webconfig import load_web_config

log = logging.getLogger(__name__)


class Configuration(Protocol):
    """The whole configuration as the runner handles it (the application's ``District``)."""

    @property
    def config_path(self) -> Path: ...

    @property
    def http_listen(self) -> str: ...

    def reloaded(self) -> Self:
        """The configuration read again; raises :class:`ConfigError` if it is not valid."""
        ...


C = TypeVar("C", bound=Configuration)
C_contra = TypeVar("C_contra", contravariant=True)


class Service(Protocol[C_contra]):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def reload(self, district: C_contra) -> None: ...

    def collectors(self) -> Iterable[Collector]: ...


class _ReloadMetrics:
    def __init__(self) -> None:
        self.successful = 1
        self.last_success = time.time()
        self.failures = 0

    def collect(self) -> Iterator[Metric]:
        ok = Metric("nms_config_last_reload_successful", "Whether the last configuration reload succeeded",
                    "gauge")
        ok.add_sample(ok.name, {}, self.successful)
        when = Metric("nms_config_last_reload_success_timestamp_seconds",
                      "When the configuration was last loaded successfully", "gauge")
        when.add_sample(when.name, {}, self.last_success)
        failures = Metric("nms_config_reload_failures", "Reloads refused because the config was invalid",
                          "counter")
        failures.add_sample("nms_config_reload_failures_total", {}, self.failures)
        yield from (ok, when, failures)


class ServiceRunner(Generic[C]):
    def __init__(self, config_path: Path, district: C, services: list[Service[C]],
                 secrets: SecretResolver | None = None):
        self.config_path = config_path
        self.district = district
        self.services = services
        self.secrets = secrets or SecretResolver()
        self.reload_metrics = _ReloadMetrics()
        self.loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = False
        self._reloading = threading.Lock()
        web = None
        web_path = getattr(district, "http_web_config", None)
        if web_path is not None:
            web = load_web_config(web_path)
        self.http = ServiceHttpServer(district.http_listen, self.all_collectors, self.reload_from_thread,
                                      lambda: self._started, reload_token=self._reload_token, web_config=web)

    def _reload_token(self) -> str | None:
        try:
            return self.secrets.get(getattr(self.district, "http_reload_token_secret", "http-reload-token"))
        except SecretError:
            return None

    def all_collectors(self) -> list[Collector]:
        out: list[Collector] = [self.reload_metrics]
        for service in self.services:
            out.extend(service.collectors())
        return out

    def reload(self) -> tuple[bool, str]:
        """Load and validate everything, then hand it to every service (in the calling thread)."""
        district = self._load()
        if isinstance(district, str):
            return False, district
        return self._apply(district)

    def _load(self) -> C | str:
        """The new configuration, or why it was refused. Parsing is the slow part: never on the loop."""
        try:
            return self.district.reloaded()
        except ConfigError as exc:
            self.reload_metrics.successful = 0
            self.reload_metrics.failures += 1
            log.error("reload refused, keeping the last good configuration:\n%s", exc)
            return f"reload refused, keeping the last good configuration:\n{exc}"

    def _apply(self, district: C) -> tuple[bool, str]:
        for service in self.services:
            try:
                service.reload(district)
            except Exception as exc:  # one service's failure is reported, the others keep going
                log.exception("service %s failed to apply the new configuration", service.name)
                self.reload_metrics.successful = 0
                return False, f"{service.name}: failed to apply the new configuration: {exc}"
        self.district = district
        self.reload_metrics.successful = 1
        self.reload_metrics.last_success = time.time()
        log.info("configuration reloaded from %s", self.config_path)
        return True, "configuration reloaded"

    def reload_from_thread(self) -> tuple[bool, str]:
        """A reload asked for from another thread (HTTP, the admin page, SIGHUP): the configuration is
        loaded and validated here, and only handed to the services on the event loop, which keeps
        running meanwhile (the IVR controller included). One reload at a time."""
        if self.loop is None:
            return False, "service is not running"
        with self._reloading:
            district = self._load()
            if isinstance(district, str):
                return False, district

            async def _apply() -> tuple[bool, str]:
                return self._apply(district)

            return asyncio.run_coroutine_threadsafe(_apply(), self.loop).result(timeout=60)

    def request_stop(self) -> None:
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)

    async def run(self, handle_signals: bool = True) -> None:
        """Run until SIGINT/SIGTERM (or :meth:`request_stop`). Signals need the main thread."""
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        if handle_signals:
            loop = self.loop
            loop.add_signal_handler(signal.SIGHUP, lambda: loop.run_in_executor(None, self.reload_from_thread))
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.loop.add_signal_handler(sig, self.request_stop)
        self.http.start()
        try:
            for service in self.services:
                await service.start()
                log.info("service %s started", service.name)
            self._started = True
            await self._stop.wait()
            self._started = False
        finally:
            for service in reversed(self.services):
                try:
                    await service.stop()
                except Exception:
                    log.exception("service %s did not stop cleanly", service.name)
            self.http.stop()


def run_until_signalled(service: Service, started: str | None = None) -> None:
    """Run one service on its own until SIGINT or SIGTERM (``nms ivr``, ``nms admin``)."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await service.start()
        if started:
            print(started, file=sys.stderr)
        try:
            await stop.wait()
        finally:
            await service.stop()

    asyncio.run(main())
