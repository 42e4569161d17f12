"""The alert relay as a service of ``nms run``: settings from nms.yaml, secrets resolved at start and reload."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from prometheus_client.metrics_core import Metric

from nms.alerting.log import DeliveryLog
from nms.alerting.relay import Counters, Endpoint, Forwarder, RelayServer
from nms.alerting.settings import AlertingSettings
from nms.configfile import section
from nms.secrets import SecretResolver

log = logging.getLogger(__name__)


class _Configured(Protocol):
    """What the relay needs of the composed configuration (nms.app.district.District)."""

    @property
    def config_path(self) -> Path: ...

    @property
    def settings(self) -> object: ...


class RelayMetrics:
    def __init__(self, counters: Counters, forwarder: Forwarder):
        self.counters, self.forwarder = counters, forwarder

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        c = self.counters
        with c.lock:
            received, rejected, deliveries = dict(c.received), dict(c.rejected), dict(c.deliveries)
            attempts = c.attempts
        families = []
        m = Metric("nms_alert_relay_received", "Alertmanager notifications accepted, by status", "counter")
        for status in ("firing", "resolved"):
            m.add_sample("nms_alert_relay_received_total", {"status": status}, received.get(status, 0))
        families.append(m)
        m = Metric("nms_alert_relay_rejected", "Webhook requests refused, by reason", "counter")
        for reason in ("unauthorised", "invalid", "too-large", "no-length", "queue-full"):
            m.add_sample("nms_alert_relay_rejected_total", {"reason": reason}, rejected.get(reason, 0))
        families.append(m)
        m = Metric("nms_alert_relay_deliveries", "Notifications forwarded, by result (delivered, failed, "
                   "logged: no endpoint configured)", "counter")
        for result in ("delivered", "failed", "logged"):
            m.add_sample("nms_alert_relay_deliveries_total", {"result": result}, deliveries.get(result, 0))
        families.append(m)
        m = Metric("nms_alert_relay_attempts", "HTTP attempts made to the endpoint, retries included", "counter")
        m.add_sample("nms_alert_relay_attempts_total", {}, attempts)
        families.append(m)
        m = Metric("nms_alert_relay_queue_length", "Notifications waiting for delivery", "gauge")
        m.add_sample("nms_alert_relay_queue_length", {}, self.forwarder.queue.qsize())
        families.append(m)
        yield from families


class AlertRelayService:
    """Receives Alertmanager's webhook on ``alerting.listen`` and forwards to ``alerting.forward``."""

    name = "alerting"

    def __init__(self, district: _Configured, secrets: SecretResolver | None = None):
        self.secrets = secrets or SecretResolver()
        self.settings = section(district.settings, "alerting", AlertingSettings)
        self._apply(district, self.settings)  # resolves the secrets now: a missing one stops the start
        self.counters = Counters()
        base = Path(district.config_path).parent
        path = self.settings.log if self.settings.log.is_absolute() else base / self.settings.log
        self.deliveries = DeliveryLog(path, self.settings.log_entries)
        self.forwarder = Forwarder(lambda: self._endpoint, self.deliveries, self.counters, self.settings.queue_limit)
        self.server = RelayServer(self.settings.listen, lambda: self._token, self.forwarder, self.deliveries,
                                  self.counters, lambda: self.settings.max_body)
        self.metrics = RelayMetrics(self.counters, self.forwarder)

    def _apply(self, district: _Configured, settings: AlertingSettings) -> None:
        forward = settings.forward
        token = self.secrets.get(settings.token_secret)
        if len(token) < 16:
            raise ValueError(f"secret {settings.token_secret!r} is shorter than 16 characters")
        endpoint = None
        if forward is not None:
            endpoint = Endpoint(forward, self.secrets.get(forward.token_secret) if forward.token_secret else None)
        self._token, self._endpoint, self.settings = token, endpoint, settings

    @property
    def port(self) -> int:
        return self.server.port

    async def start(self) -> None:
        self.server.start()
        self.forwarder.thread.start()

    async def stop(self) -> None:
        self.forwarder.stopping.set()
        self.server.stop()

    def reload(self, district: _Configured) -> None:
        new = section(district.settings, "alerting", AlertingSettings)
        if new.listen != self.settings.listen:
            log.warning("alert relay: alerting.listen changed to %s; it applies at the next restart", new.listen)
            new = new.model_copy(update={"listen": self.settings.listen})
        self._apply(district, new)

    def collectors(self) -> list[RelayMetrics]:
        return [self.metrics]
