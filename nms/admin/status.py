"""What the running services know right now, for the overview and the device pages.

Read from the services' own state (the SNMP collector's device states, the flow engine's counters,
the IVR controller's live calls and event store); cached for a second so that many people looking
at the overview cost the service almost nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import threading
import time
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ivr.config import IvrConfig
from nms.admin.events import event_store
from nms.admin.validation import Invalid
from nms.admin.workspace import Workspace
from nms.inventory.models import Category

log = logging.getLogger(__name__)

CACHE_SECONDS = 1.0
TOP_SITES = 8


@dataclass
class Health:
    name: str
    state: str  # ok | down | absent
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Overview:
    health: list[Health]
    lines_in_use: int | None
    lines: int
    down_by_category: list[tuple[str, int, int]]  # category, down, polled
    top_sites: list[tuple[str, str, int]]  # site id, name, clients
    events_today: list[dict[str, Any]]
    events_by_kind: dict[str, int]
    events_by_department: dict[str, int]
    devices_polled: int
    devices_down: int
    made: float


def midnight(timezone: str) -> float:
    tz = zoneinfo.ZoneInfo(timezone)
    now = dt.datetime.now(tz)
    return now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


class _Condition:
    """Logs a problem once when it starts or changes, and once when it is over."""

    def __init__(self, what: str):
        self.what = what
        self._lock = threading.Lock()
        self._problem: str | None = None

    def report(self, problem: str | None) -> None:
        with self._lock:
            if problem == self._problem:
                return
            before, self._problem = self._problem, problem
        if problem is not None:
            log.warning("overview: %s: %s", self.what, problem)
        elif before is not None:
            log.info("overview: %s: readable again", self.what)


_ivr_yaml = _Condition("ivr.yaml")
_event_db = _Condition("protection events")


def _ivr_config(ws: Workspace) -> IvrConfig | None:
    """ivr.yaml for the overview; None (logged once) if it is missing or invalid."""
    try:
        config, _ = ws.ivr_config()
    except FileNotFoundError as exc:
        _ivr_yaml.report(f"{exc.filename or 'ivr.yaml'} does not exist")
        return None
    except Invalid as exc:
        _ivr_yaml.report(f"not valid ({exc})")
        return None
    except OSError as exc:
        _ivr_yaml.report(f"cannot be read ({exc})")
        return None
    _ivr_yaml.report(None)
    return config


def read_events(ws: Workspace, since: float, limit: int = 500) -> list[dict[str, Any]]:
    """Protection events since ``since``, newest first; masked caller numbers only."""
    if ws.service("ivr") is None and _ivr_config(ws) is None:
        return []
    try:
        store = event_store(ws, create=False)
        rows = store.events(since=since, limit=100000) if store is not None else []
    except sqlite3.Error as exc:
        _event_db.report(f"cannot be read ({exc})")
        return []
    except (OSError, Invalid):
        return []  # ivr.yaml went away or broke just now; the next overview says so
    _event_db.report(None)
    rows = sorted(rows, key=lambda r: r["time"], reverse=True)[:limit]
    return [{k: v for k, v in r.items() if k != "caller_hash"} | {"caller_tag": r.get("caller_hash", "")[:6]}
            for r in rows]


class StatusReader:
    def __init__(self, ws: Workspace):
        self.ws = ws
        self._lock = threading.Lock()
        self._cached: Overview | None = None

    def overview(self) -> Overview:
        with self._lock:
            if self._cached is not None and time.monotonic() - self._cached.made < CACHE_SECONDS:
                return self._cached
            self._cached = self._make()
            return self._cached

    def _make(self) -> Overview:
        ws = self.ws
        health = [self._snmp_health(), self._flow_health(), self._ivr_health()]
        ivr = ws.service("ivr")
        lines = 60
        in_use = None
        timezone = "Asia/Seoul"
        if ivr is not None:
            lines = ivr.config.lines
            in_use = len(ivr.controller.calls)
            timezone = ivr.config.hours.timezone
        else:
            config = _ivr_config(ws)
            if config is not None:
                lines, timezone = config.lines, config.hours.timezone
        down, polled = Counter(), Counter()
        clients: Counter[str] = Counter()
        snmp = ws.service("snmp")
        if snmp is not None:
            for st in list(snmp.states.values()):
                if st.last is None:
                    continue
                polled[st.category] += 1
                if not st.last.ok:
                    down[st.category] += 1
                    continue
                ap = st.last.columns.get("apClients")
                if ap:
                    clients[st.site] += sum(v for _t, v in ap.values() if isinstance(v, int))
        names = {s.id: s.name for s in ws.district.inventory.sites}
        by_cat = [(c.value, down[c.value], polled[c.value]) for c in Category]
        by_cat += [(c, down[c], polled[c]) for c in sorted(polled) if c not in {x.value for x in Category}]
        top = [(site, names.get(site, site), n) for site, n in clients.most_common(TOP_SITES) if n > 0]
        events = read_events(ws, midnight(timezone))
        return Overview(
            health=health, lines_in_use=in_use, lines=lines, down_by_category=by_cat, top_sites=top,
            events_today=events[:20], events_by_kind=dict(Counter(e["kind"] for e in events)),
            events_by_department=dict(Counter(e["department"] for e in events)),
            devices_polled=sum(polled.values()), devices_down=sum(down.values()), made=time.monotonic())

    def _snmp_health(self) -> Health:
        snmp = self.ws.service("snmp")
        if snmp is None:
            return Health("snmp", "absent")
        running = snmp.scheduler is not None and snmp.scheduler.running
        last = max(snmp.health.last_cycle_end.values(), default=None) if snmp.health.last_cycle_end else None
        return Health("snmp", "ok" if running else "down",
                      {"devices": len(snmp.states), "last_cycle": last, "misfires": sum(snmp.health.misfires.values())})

    def _flow_health(self) -> Health:
        flows = self.ws.service("flows")
        if flows is None:
            return Health("flows", "absent")
        receiving = flows.receiving
        snap = flows.snapshot()  # summed over the receive processes when flows.workers > 1
        return Health("flows", "ok" if receiving else "down",
                      {"exporters": len(snap.exporters), "packets": sum(snap.packets.values())})

    def _ivr_health(self) -> Health:
        ivr = self.ws.service("ivr")
        if ivr is None:
            return Health("ami", "absent")
        return Health("ami", "ok" if ivr.stats.connected else "down", {"connects": ivr.stats.connects})
