"""What the admin page works on: the configuration files, the running services, and its own stores.

The page runs inside ``nms run`` (``runner`` is the :class:`nms.service.ServiceRunner`, whose services
it reads and whose event loop applies changes) or alone (``nms admin``), where it edits the files and
asks a running service to reload over HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar, overload

from collectors.flows.service import FlowService
from collectors.snmp.service import SnmpCollector
from ivr.audio import AudioLibrary
from ivr.config import IvrConfig
from ivr.service import IvrService
from nms.admin.audit import AuditLog
from nms.admin.interfaces import AdminDistrict, Runner
from nms.admin.ratelimit import LoginLimiter
from nms.admin.settings import AdminSettings
from nms.admin.users import UserStore
from nms.admin.validation import Invalid, check_ivr
from nms.secrets import SecretError, SecretResolver
from nms.store import ConfigStore

log = logging.getLogger(__name__)
T = TypeVar("T")
_SERVICES: dict[str, type] = {"snmp": SnmpCollector, "flows": FlowService, "ivr": IvrService}

APPLY_TIMEOUT = 30.0


@dataclass(frozen=True)
class ConfigFile:
    kind: str  # ivr | inventory | settings
    path: Path
    store: ConfigStore
    role: str  # the role needed to change it: operator (ivr) or admin


def admin_settings(district: AdminDistrict, settings: AdminSettings | None = None) -> AdminSettings:
    """The admin settings of ``district`` (``admin:`` in nms.yaml) with paths resolved."""
    if settings is None:
        settings = getattr(district.settings, "admin", None) or AdminSettings()
    return settings.resolved(Path(district.config_path).resolve().parent)


class Workspace:
    def __init__(self, district: AdminDistrict, settings: AdminSettings, runner: Runner | None = None):
        self.settings = settings
        self.runner = runner
        self._district = district
        state = settings.state_dir
        state.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.users = UserStore(settings.users_db or state / "users.sqlite3")
        self.audit = AuditLog(state / "audit.sqlite3")
        self.audio = AudioLibrary(state / "audio", settings.sounds_dir)
        self.limiter = LoginLimiter(settings.login_attempts, settings.login_window,
                                    unlocked_at=self.users.unlocked_at)
        self._ivr_cache: tuple[str, IvrConfig] | None = None
        self._cache_lock = threading.Lock()

    # -- configuration -------------------------------------------------------------------------

    @property
    def district(self) -> AdminDistrict:
        if self.runner is not None and self.runner.district is not None:
            return self.runner.district
        return self._district

    def set_district(self, district: AdminDistrict) -> None:
        self._district = district

    def files(self) -> dict[str, ConfigFile]:
        d = self.district
        base = Path(d.config_path).resolve().parent
        inv = d.settings.inventory.file(base)
        out = {
            "ivr": ConfigFile("ivr", self.settings.ivr_config, ConfigStore(self.settings.ivr_config), "operator"),
            "settings": ConfigFile("settings", Path(d.config_path), ConfigStore(Path(d.config_path)), "admin"),
        }
        if inv is not None:  # a file-based inventory plugin; NetBox is edited in NetBox
            out["inventory"] = ConfigFile("inventory", inv, ConfigStore(inv), "admin")
        return out

    def file(self, kind: str) -> ConfigFile:
        return self.files()[kind]

    def ivr_config(self) -> tuple[IvrConfig, str]:
        """The IVR configuration in ivr.yaml and its version (cached per version)."""
        store = self.file("ivr").store
        text, version = store.read()
        with self._cache_lock:
            if self._ivr_cache is not None and self._ivr_cache[0] == version:
                return self._ivr_cache[1], version
        config = _absolute_events(check_ivr(text, store.path.name), store.path)
        with self._cache_lock:
            self._ivr_cache = (version, config)
        return config, version

    def reload_district(self) -> None:
        """Standalone mode: read the files again after a change."""
        self._district = self._district.reloaded()

    # -- services ------------------------------------------------------------------------------

    @overload
    def service(self, name: Literal["snmp"]) -> SnmpCollector | None: ...

    @overload
    def service(self, name: Literal["flows"]) -> FlowService | None: ...

    @overload
    def service(self, name: Literal["ivr"]) -> IvrService | None: ...

    def service(self, name: str) -> SnmpCollector | FlowService | IvrService | None:
        """The running subsystem ``name`` in this process, if any, as its own type."""
        if self.runner is None:
            return None
        for s in self.runner.services:
            if s.name == name and isinstance(s, _SERVICES[name]):
                return s
        return None

    def run_async(self, coro: Coroutine[Any, Any, T], timeout: float = APPLY_TIMEOUT) -> T:
        """Run a coroutine on the service's event loop from a page thread and wait for it."""
        loop = self.runner.loop if self.runner is not None else None
        if loop is None or not loop.is_running():
            coro.close()
            raise RuntimeError("the service is not running")
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=timeout)

    def apply_ivr(self, config: IvrConfig) -> tuple[bool | None, str]:
        """Render, reload Asterisk over AMI and verify. None: no IVR runs in this process (saved only)."""
        ivr = self.service("ivr")
        if ivr is None:
            return None, "no IVR service runs with the admin page"
        try:
            self.run_async(ivr.reload_async(config))
        except Exception as exc:  # AMI down, reload not verified, render refused: all are "not applied"
            log.warning("IVR change not applied: %s", exc)
            return False, str(exc) or type(exc).__name__
        return True, "live"

    def apply_district(self) -> tuple[bool | None, str]:
        """Reload inventory and polling in the running collector, without a restart."""
        if self.runner is not None and self.runner.loop is not None:
            try:
                return self.runner.reload_from_thread()
            except Exception as exc:
                return False, str(exc) or type(exc).__name__
        self.reload_district()
        url = self.settings.reload_url or f"http://{self.district.settings.http.listen}/-/reload"
        headers = {}
        with contextlib.suppress(SecretError):  # without it the service answers that HTTP reload is off
            headers["Authorization"] = "Bearer " + SecretResolver().get(self.district.settings.http.reload_token_secret)
        try:
            req = urllib.request.Request(url, method="POST", data=b"", headers=headers)
            with urllib.request.urlopen(req, timeout=APPLY_TIMEOUT) as resp:
                return True, resp.read().decode(errors="replace").strip()
        except urllib.error.HTTPError as exc:
            return False, exc.read().decode(errors="replace").strip() or str(exc)
        except (urllib.error.URLError, OSError) as exc:
            return None, f"no running service answered at {url} ({getattr(exc, 'reason', exc)})"

    def close(self) -> None:
        self.users.close()
        self.audit.close()


def _absolute_events(config: IvrConfig, path: Path) -> IvrConfig:
    """As :func:`ivr.config.load_config`: a relative events database is relative to ivr.yaml."""
    if config.events.database.is_absolute():
        return config
    db = path.resolve().parent / config.events.database
    return config.model_copy(update={"events": config.events.model_copy(update={"database": db})})


__all__ = ["ConfigFile", "Invalid", "Workspace", "admin_settings"]
