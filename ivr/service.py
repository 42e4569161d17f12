"""The IVR as one part of the service (``nms run``): controller, event store, retention, metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from ivr import retention
from ivr.config import DEFAULT_CONFIG, IvrConfig, load_config
from ivr.controller import IvrController
from ivr.events import EventStore
from ivr.holidays import last_date_timestamp
from ivr.metrics import IvrCollector, IvrStats
from ivr.render import RenderOptions, secret_options
from nms.secrets import SecretResolver

log = logging.getLogger(__name__)


def _as_config(source: Any) -> IvrConfig:
    """Accept an IvrConfig, a path to ivr.yaml, or anything with ``ivr`` / ``config_path`` (a District)."""
    if isinstance(source, IvrConfig):
        return source
    if isinstance(source, str | Path):
        return load_config(Path(source))
    if getattr(source, "ivr", None) is not None:
        return _as_config(source.ivr)
    if getattr(source, "config_path", None) is not None:
        return load_config(Path(source.config_path).parent / "ivr.yaml")
    raise TypeError(f"cannot make an IVR configuration from {type(source).__name__}")


def protected_departments(config: IvrConfig) -> list[str]:
    """Department labels that protection events can carry."""
    return [d.id for d in config.departments if d.protection]


class IvrService:
    name = "ivr"

    def __init__(self, config: IvrConfig | Path | None = None, *, secrets: SecretResolver | None = None,
                 asterisk_etc: Path | None = None, render_options: Any = None,
                 store: EventStore | None = None,
                 prepare: Callable[[IvrConfig], IvrConfig] | None = None):
        """``prepare`` turns each validated configuration into the one Asterisk runs (the lab uses it
        to put staff simulators in place of phones); it applies at start and on every reload."""
        self._prepare = prepare or (lambda cfg: cfg)
        self.config = self._prepare(_as_config(config if config is not None else DEFAULT_CONFIG))
        self.secrets = secrets or SecretResolver()
        self.stats = IvrStats(lines=self.config.lines)
        self._publish(self.config)
        self.store = store or EventStore(self.config.events.database,
                                         self.secrets.get(self.config.events.caller_key_secret).encode())
        if render_options is None and asterisk_etc is not None:
            get = self.secrets.get

            def render_options(cfg: IvrConfig) -> RenderOptions:
                return RenderOptions(**secret_options(cfg, get))
        self.controller = IvrController(self.config, ami_secret=self.secrets.get(self.config.ami.secret),
                                        store=self.store, stats=self.stats, asterisk_etc=asterisk_etc,
                                        render_options=render_options)
        self._task: asyncio.Task | None = None
        self._scheduler: AsyncIOScheduler | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending_reload: asyncio.Future | None = None

    def _publish(self, config: IvrConfig) -> None:
        """What the metrics say about the configuration itself."""
        self.stats.expect_departments(protected_departments(config))
        self.stats.holidays_last_date = last_date_timestamp(config.hours)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self.controller.run(), name="ivr-controller")
        self._scheduler = AsyncIOScheduler()
        retention.schedule(self._scheduler, lambda: self.config, self.store)
        self._scheduler.start()

    async def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        await self.controller.stop()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def reload(self, district_or_config: Any) -> IvrConfig:
        """Validate the new configuration now (raising ConfigError, nothing touched), then apply it.

        Applying (render, AMI reload, verify) runs on the service's event loop; from another
        thread this waits for it. Returns the new configuration.
        """
        config = self._prepare(_as_config(district_or_config))
        self._publish(config)
        if self._loop is None:
            self.config = config
            return config
        coro = self.controller.reload(config)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._pending_reload = asyncio.ensure_future(coro)
        else:
            asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)
        self.config = config
        return config

    async def reload_async(self, district_or_config: Any) -> IvrConfig:
        config = self._prepare(_as_config(district_or_config))
        self._publish(config)
        await self.controller.reload(config)
        self.config = config
        return config

    def collectors(self) -> list:
        return [IvrCollector(self.stats)]
