"""The IVR controller: follows Asterisk over AMI, keeps the live call table, stores protection events.

Reliability model:

* The dialplan writes every protection event to the AstDB family ``nmsevents`` before raising its
  ``UserEvent``. The controller stores the event (SQLite, keyed by the event id, so a second copy
  is ignored) and only then deletes the AstDB entry. After every (re)connect, and periodically,
  it drains whatever is left there. An event raised while the controller was away, or whose
  ``UserEvent`` was lost in a crash, is therefore stored later, and never twice.
* After every connect the live state is rebuilt from ``CoreShowChannels`` (plus ``Getvar`` of the
  line and department), while incoming events are held back and replayed after the snapshot.
* Reconnects back off exponentially with jitter, capped (default 2 s, so a restarted Asterisk is
  seen again within a few seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from panoramisk.message import Message

from ivr.ami_protocol import AmiConnection, AmiError
from ivr.config import IvrConfig
from ivr.control import AsteriskControl, control_socket_for, decrypt_caller
from ivr.events import EventStore, ProtectionEvent, mask_number
from ivr.metrics import IvrStats
from ivr.render import EVENT_FAMILY, RenderOptions, caller_hash_key, config_id, render
from ivr.trunk import TRUNK_EVENTS, TrunkMonitor

log = logging.getLogger(__name__)

MAX_CLOCK_SKEW = 3600.0  # an event timestamp further off than this is a skewed clock, not lag


@dataclass
class LiveCall:
    uniqueid: str
    channel: str
    department: str
    line: int
    did: str
    since: float  # host time the controller learnt of the call

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class IvrController:
    def __init__(self, config: IvrConfig, *, ami_secret: str, store: EventStore, stats: IvrStats | None = None,
                 asterisk_etc: Path | None = None,
                 render_options: Callable[[IvrConfig], RenderOptions] | None = None,
                 heartbeat: float = 5.0, drain_interval: float = 30.0, trunk_interval: float = 15.0,
                 backoff_min: float = 0.2):
        self.config = config
        self._secret = ami_secret
        self.store = store
        self.stats = stats or IvrStats(lines=config.lines)
        self.asterisk_etc = asterisk_etc
        self.render_options = render_options
        self.heartbeat = heartbeat
        self.drain_interval = drain_interval
        self.trunk_interval = trunk_interval
        self.trunk = TrunkMonitor(config.sip.trunk, self.stats)
        self.trunk.cli = self._cli
        self.backoff_min = backoff_min
        self.calls: dict[str, LiveCall] = {}
        self.ready = asyncio.Event()  # connected and resynchronised
        self.reconnected_at: float | None = None
        self._conn: AmiConnection | None = None
        self._stopping = False
        self._held: list[Message] | None = None
        self._tasks: set[asyncio.Task] = set()

    # --- the connection loop --------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, resynchronise, follow events; reconnect with backoff; until :meth:`stop`."""
        backoff = self.backoff_min
        while not self._stopping:
            conn = self._new_connection()
            try:
                await conn.connect(self.config.ami.connect_timeout)
            except AmiError as exc:
                log.warning("%s; retrying in %.1f s", exc, backoff)
                await self._sleep(backoff * random.uniform(0.8, 1.2))
                backoff = min(backoff * 2, self.config.ami.backoff_max)
                continue
            backoff = self.backoff_min
            self._conn = conn
            self.stats.connected = True
            self.stats.connects += 1
            log.info("AMI connected to %s:%s", conn.host, conn.port)
            try:
                await self._resync(conn)
                await self._drain_outbox(conn)
                await self.trunk.refresh(conn)
                self.reconnected_at = time.time()
                self.ready.set()
                await self._follow(conn)
            except AmiError as exc:
                if not self._stopping:
                    log.warning("AMI session ended: %s", exc)
            finally:
                self.ready.clear()
                self.stats.connected = False
                self._conn = None
                conn.close()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stop_event().wait(), seconds)

    def _stop_event(self) -> asyncio.Event:
        if not hasattr(self, "_stop_ev"):
            self._stop_ev = asyncio.Event()
        return self._stop_ev

    async def stop(self) -> None:
        self._stopping = True
        self._stop_event().set()
        if self._conn is not None:
            self._conn.close()
        for task in list(self._tasks):
            task.cancel()

    def _new_connection(self) -> AmiConnection:
        ami = self.config.ami
        conn = AmiConnection(str(ami.host), ami.port, ami.username, self._secret, ami.action_timeout)
        conn.on_event("UserEvent", self._on_event)
        conn.on_event("Hangup", self._on_event)
        for name in TRUNK_EVENTS:
            conn.on_event(name, self._on_event)
        return conn

    async def _follow(self, conn: AmiConnection) -> None:
        """Heartbeat, periodic outbox drain and trunk read-back until the connection closes."""
        next_drain = time.monotonic() + self.drain_interval
        next_trunk = time.monotonic() + self.trunk_interval
        while not conn.closed.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(conn.closed.wait(), self.heartbeat)
            if conn.closed.is_set() or self._stopping:
                break
            await conn.ok({"Action": "Ping"})
            if time.monotonic() >= next_drain:
                await self._drain_outbox(conn)
                next_drain = time.monotonic() + self.drain_interval
            if time.monotonic() >= next_trunk:
                await self.trunk.refresh(conn)
                next_trunk = time.monotonic() + self.trunk_interval

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- state ------------------------------------------------------------------------------------

    async def _resync(self, conn: AmiConnection) -> None:
        self._held = []
        try:
            channels = await conn.event_list({"Action": "CoreShowChannels"}, "CoreShowChannel")
            calls: dict[str, LiveCall] = {}
            now = time.time()

            async def probe(ch: Message) -> None:
                name = ch.get("Channel")
                values = []
                for var in ("NMS_LINE", "NMS_DEPT", "NMS_DID"):
                    try:
                        resp = await conn.ok({"Action": "Getvar", "Channel": name, "Variable": var})
                    except AmiError:
                        return  # the channel went away meanwhile
                    values.append(resp.get("Value", "") or "")
                line, dept, did = values
                if line.isdigit() and int(line) > 0:
                    uid = ch.get("Uniqueid")
                    calls[uid] = LiveCall(uid, name, dept, int(line), did, now)

            await asyncio.gather(*(probe(ch) for ch in channels))
            self.calls = calls
            self.stats.lines_in_use = len(calls)
            log.info("resynchronised: %d channels, %d calls on lines", len(channels), len(calls))
        finally:
            held, self._held = self._held, None
        for msg in held:
            self._handle(msg)

    async def _drain_outbox(self, conn: AmiConnection) -> int:
        """Store every protection event left in the AstDB outbox; return how many were new."""
        entries = await conn.event_list({"Action": "DBGetTree", "Family": EVENT_FAMILY}, "DBGetTreeResponse")
        new = 0
        for e in entries:
            event_id = e.get("Key", "").rsplit("/", 1)[-1]
            fields = e.get("Val", "").split("|")
            if not event_id or len(fields) < 8:
                log.warning("malformed outbox entry %r", e.get("Key"))
                continue
            kind, seq, dept, line, caller, rec, ts, did = fields[:8]
            new += self._store(ProtectionEvent(event_id, _float(ts), kind, _int(seq), dept, _int(line), did,
                                               self._caller(caller), rec or None), source="outbox")
        if entries:
            log.info("outbox drained: %d entries, %d new", len(entries), new)
        return new

    def _on_event(self, msg: Message) -> None:
        if self._held is not None:
            self._held.append(msg)
            return
        self._handle(msg)

    def _handle(self, msg: Message) -> None:
        event = msg.get("Event")
        if event == "UserEvent":
            kind = msg.get("UserEvent")
            if kind == "NmsProtection":
                self._store(ProtectionEvent(
                    msg.get("EventId"), _float(msg.get("Time")), msg.get("Kind"), _int(msg.get("Count")),
                    msg.get("Department"), _int(msg.get("Line")), msg.get("Did", ""),
                    self._caller(msg.get("Caller", "")),
                    msg.get("Recording") or None), source="event")
                label = "protection"
            elif kind == "NmsCallStart":
                uid = msg.get("Uniqueid")
                self.calls[uid] = LiveCall(uid, msg.get("Channel"), msg.get("Department"),
                                           _int(msg.get("Line")), msg.get("Did", ""), time.time())
                self.stats.lines_in_use = len(self.calls)
                label = "call-start"
            elif kind == "NmsCallEnd":
                outcome = msg.get("Outcome") or "abandoned"
                self.stats.call_ended(outcome)
                live = self.calls.pop(msg.get("Uniqueid"), None)
                self.store.add_call(time.time(), outcome, msg.get("Department") or (live.department if live else ""))
                self.stats.lines_in_use = len(self.calls)
                label = "call-end"
            else:
                return
        elif event in TRUNK_EVENTS:
            self.trunk.on_event(msg)
            return
        elif event == "Hangup":
            if self.calls.pop(msg.get("Uniqueid"), None) is not None:
                self.stats.lines_in_use = len(self.calls)
            label = "hangup"
        else:
            return
        stamp = msg.get("Timestamp")
        if stamp:
            lag = time.time() - _float(stamp)
            if -1.0 < lag < MAX_CLOCK_SKEW:
                self.stats.observe_lag(lag, label)

    def _store(self, ev: ProtectionEvent, source: str) -> bool:
        if not ev.event_id or not ev.kind:
            log.warning("protection event without id or kind from %s", source)
            return False
        new = self.store.add(ev)
        if new:
            self.stats.protection_event(ev.department, ev.kind)
            log.info("protection event %s: %s #%d, department %s, line %d, caller %s (%s)", ev.event_id, ev.kind,
                     ev.seq, ev.department, ev.line, mask_number(ev.caller), source)
        conn = self._conn
        if conn is not None and conn.connected:
            self._spawn(self._ack(conn, ev.event_id))
        return new

    async def _ack(self, conn: AmiConnection, event_id: str) -> None:
        """The event is stored: remove it from the AstDB outbox (a failure only means a harmless replay)."""
        with contextlib.suppress(AmiError):
            await self._control().db_del(EVENT_FAMILY, event_id)

    def _caller(self, field: str) -> str:
        """The number the dialplan sent encrypted (see ivr.render nms-event); only ever held in memory."""
        # Without render options (an Asterisk configured elsewhere) the key derives from the AMI
        # secret, as the renderer's default does.
        options = (self.render_options(self.config) if self.render_options is not None
                   else RenderOptions(ami_secret=self._secret))
        return decrypt_caller(caller_hash_key(options), field)

    async def _cli(self, *words: str) -> str:
        return await self._control().command(*words)

    def _control(self) -> AsteriskControl:
        """Asterisk's control socket, for what the read-only AMI account may not do (see ivr.control)."""
        if self.asterisk_etc is None or self.render_options is None:
            raise AmiError("this controller was started without an Asterisk configuration directory")
        d = self.render_options(self.config).directories
        return AsteriskControl(control_socket_for(self.asterisk_etc, d.etc, d.run))

    # --- operations for the admin page ----------------------------------------------------------

    def _connection(self) -> AmiConnection:
        if self._conn is None or not self._conn.connected:
            raise AmiError("not connected to Asterisk")
        return self._conn

    def live_calls(self) -> list[dict[str, Any]]:
        return [c.as_dict() for c in sorted(self.calls.values(), key=lambda c: c.line)]

    async def hangup(self, call: str) -> None:
        """End a call, named by its unique id or its channel."""
        live = self.calls.get(call)
        channel = live.channel if live else call
        await self._control().hangup(channel)

    async def running_config_id(self) -> str:
        resp = await self._connection().ok({"Action": "Getvar", "Variable": "NMS_CONFIG_ID"})
        return resp.get("Value", "") or ""

    async def reload(self, config: IvrConfig) -> str:
        """Render ``config`` into Asterisk's configuration directory, reload, and verify.

        ``config`` must already be validated (a :class:`ConfigError` happens before this point,
        so a bad configuration never reaches Asterisk).
        """
        if self.asterisk_etc is None or self.render_options is None:
            raise AmiError("this controller was started without an Asterisk configuration directory")
        conn = self._connection()
        render(config, self.asterisk_etc, self.render_options(config))
        control = self._control()
        for module in ("pbx_config", "features", "res_pjsip.so"):
            await control.reload_module(module)
        expected = config_id(config)
        deadline = time.monotonic() + 5
        running = ""
        while time.monotonic() < deadline:
            running = await self.running_config_id()
            if running == expected:
                self.config = config
                self.stats.lines = config.lines
                self.trunk.configure(config.sip.trunk)
                await self.trunk.refresh(conn)
                log.info("IVR configuration %s is live", expected)
                return expected
            await asyncio.sleep(0.1)
        raise AmiError(f"reload not verified: Asterisk runs configuration {running!r}, expected {expected!r}")


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
