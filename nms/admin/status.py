"""What the running services know right now, for the overview and the device pages.

Read from the services' own state (the SNMP collector's device states, the flow engine's counters,
the IVR controller's live calls and event store); cached for a second so that many people looking
at the overview cost the service almost nothing.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nms.admin.workspace import Workspace
from nms.inventory.models import Category

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


def read_events(ws: Workspace, since: float, limit: int = 500) -> list[dict[str, Any]]:
    """Protection events since ``since``, newest first; masked caller numbers only."""
    ivr = ws.service("ivr")
    if ivr is not None:
        rows = ivr.store.events(since=since, limit=100000)
    else:
        try:
            config, _ = ws.ivr_config()
        except Exception:
            return []
        rows = _read_db(config.events.database, since)
    rows = sorted(rows, key=lambda r: r["time"], reverse=True)[:limit]
    return [{k: v for k, v in r.items() if k != "caller_hash"} | {"caller_tag": r.get("caller_hash", "")[:6]}
            for r in rows]


def _read_db(path: Path, since: float) -> list[dict[str, Any]]:
    if not Path(path).is_file():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2)
    try:
        cur = db.execute("SELECT event_id, time, kind, seq, department, line, did, caller_hash, caller_mask, "
                         "recording FROM protection_events WHERE time >= ? ORDER BY time DESC LIMIT 5000", (since,))
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    except sqlite3.Error:
        return []
    finally:
        db.close()


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
            try:
                config, _ = ws.ivr_config()
                lines, timezone = config.lines, config.hours.timezone
            except Exception:
                pass
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
        stats = flows.engine.stats()
        return Health("flows", "ok" if receiving else "down",
                      {"exporters": len(stats["exporters"]), "packets": sum(stats["packets"].values())})

    def _ivr_health(self) -> Health:
        ivr = self.ws.service("ivr")
        if ivr is None:
            return Health("ami", "absent")
        return Health("ami", "ok" if ivr.stats.connected else "down", {"connects": ivr.stats.connects})
