"""The protection-event store: SQLite, one row per event, keyed by the dialplan's unique event id.

The caller's number is personal data: it is stored only as a keyed hash (HMAC-SHA256 with a secret
key), which still lets staff see that the same caller came back, plus a masked form for display.
Inserting an event that is already there does nothing, so replaying the AstDB outbox after a
reconnect never counts an event twice.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ivr import numbers

SCHEMA = """
CREATE TABLE IF NOT EXISTS protection_events (
    event_id    TEXT PRIMARY KEY,
    time        REAL NOT NULL,      -- when it happened (Asterisk clock, Unix seconds)
    kind        TEXT NOT NULL,      -- warning | termination | time-limit-end
    seq         INTEGER NOT NULL,   -- warning number within the call
    department  TEXT NOT NULL,
    line        INTEGER NOT NULL,
    did         TEXT NOT NULL,
    caller_hash TEXT NOT NULL,      -- HMAC-SHA256 of the canonical number, hex; '' if withheld
    caller_mask TEXT NOT NULL,      -- e.g. 010****5678; '' if withheld
    recording   TEXT,               -- file name relative to the recordings directory
    stored      REAL NOT NULL       -- when the controller stored it (host clock)
);
CREATE INDEX IF NOT EXISTS protection_events_time ON protection_events(time);
"""


@dataclass(frozen=True)
class ProtectionEvent:
    event_id: str
    time: float
    kind: str
    seq: int
    department: str
    line: int
    did: str
    caller: str  # plain number: only in memory, hashed before storage
    recording: str | None


def mask_number(number: str) -> str:
    """The masked display form of a caller number as delivered (see :mod:`ivr.numbers`)."""
    return numbers.mask_raw(number)


def hash_number(key: bytes, number: str) -> str:
    """The keyed hash of a caller number as delivered; the same caller in any notation is one key."""
    return numbers.caller_key(key, numbers.normalise(number))


class EventStore:
    """Thread-safe (one connection, one lock): the controller writes, the admin page reads."""

    def __init__(self, path: Path | str, caller_key: bytes):
        if not caller_key:
            raise ValueError("the caller-hash key must not be empty")
        self.path = Path(path) if str(path) != ":memory:" else path
        if isinstance(self.path, Path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._key = caller_key
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def add(self, ev: ProtectionEvent) -> bool:
        """Store one event; False if an event with that id was already stored."""
        caller = numbers.normalise(ev.caller)
        row = (ev.event_id, ev.time, ev.kind, ev.seq, ev.department, ev.line, ev.did,
               numbers.caller_key(self._key, caller), numbers.mask(caller), ev.recording or None, time.time())
        with self._lock:
            cur = self._db.execute("INSERT OR IGNORE INTO protection_events VALUES (?,?,?,?,?,?,?,?,?,?,?)", row)
            return cur.rowcount == 1

    def has(self, event_id: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM protection_events WHERE event_id=?", (event_id,)).fetchone() \
                is not None

    def events(self, since: float = 0.0, limit: int = 1000) -> list[dict]:
        with self._lock:
            cur = self._db.execute(
                "SELECT event_id, time, kind, seq, department, line, did, caller_hash, caller_mask, recording "
                "FROM protection_events WHERE time >= ? ORDER BY time, event_id LIMIT ?", (since, limit))
            cols = [c[0] for c in cur.description]
            return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM protection_events").fetchone()[0]

    def purge(self, before: float) -> list[str]:
        """Delete events older than ``before``; return their ids."""
        with self._lock:
            ids = [r[0] for r in self._db.execute(
                "SELECT event_id FROM protection_events WHERE time < ?", (before,)).fetchall()]
            self._db.execute("DELETE FROM protection_events WHERE time < ?", (before,))
            return ids

    def forget_recording(self, recording: str) -> None:
        with self._lock:
            self._db.execute("UPDATE protection_events SET recording=NULL WHERE recording=?", (recording,))

    def close(self) -> None:
        with self._lock:
            self._db.close()
