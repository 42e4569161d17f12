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
from nms.database import open_database

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
CREATE INDEX IF NOT EXISTS protection_events_caller ON protection_events(caller_hash, time);
-- Legal holds: an event (and its recording) kept past retention until the hold expires or is released.
CREATE TABLE IF NOT EXISTS legal_holds (
    event_id    TEXT PRIMARY KEY,
    recording   TEXT,               -- the event's recording when the hold was placed
    reason      TEXT NOT NULL,
    expires     REAL NOT NULL,      -- Unix seconds; the hold no longer applies from then
    held_by     TEXT NOT NULL,
    created     REAL NOT NULL,
    released    REAL                -- set when released early (the row stays, as a record)
);
CREATE TABLE IF NOT EXISTS calls (
    time        REAL NOT NULL,      -- when the call ended (host clock, Unix seconds)
    outcome     TEXT NOT NULL,      -- connected | busy | after-hours | abandoned | unanswered
    department  TEXT NOT NULL       -- '' when the caller never reached a department
);
CREATE INDEX IF NOT EXISTS calls_time ON calls(time);
"""
#: Schema versions of the event store (nms.database). 1: the 0.1.0 tables, plus (CREATE ... IF NOT EXISTS,
#: so a 0.1.0 file gains them when it is brought to 1) the caller index and legal holds.
MIGRATIONS = [SCHEMA]
MAX_HOLD_REASON = 500


class HoldError(ValueError):
    """A hold that cannot be placed; ``code``: no-reason, reason-too-long, expiry-past, unknown-event."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class LegalHold:
    event_id: str
    recording: str | None
    reason: str
    expires: float
    held_by: str
    created: float


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

    def __init__(self, path: Path | str, caller_key: bytes | None):
        """``caller_key`` None: a store for reading and legal holds only (the admin page); it cannot add."""
        if caller_key is not None and not caller_key:
            raise ValueError("the caller-hash key must not be empty")
        self.path = Path(path) if str(path) != ":memory:" else path
        if isinstance(self.path, Path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._key = caller_key
        self._lock = threading.Lock()
        self._db = open_database(path, MIGRATIONS, synchronous="NORMAL")

    def add(self, ev: ProtectionEvent) -> bool:
        """Store one event; False if an event with that id was already stored."""
        if self._key is None:
            raise RuntimeError("this event store was opened without the caller-hash key and cannot add events")
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

    _COLUMNS = "event_id, time, kind, seq, department, line, did, caller_hash, caller_mask, recording"

    def _rows(self, where: str, params: tuple, suffix: str = "") -> list[dict]:
        with self._lock:
            cur = self._db.execute(f"SELECT {self._COLUMNS} FROM protection_events WHERE {where} {suffix}", params)
            cols = [c[0] for c in cur.description]
            return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    def events(self, since: float = 0.0, limit: int = 1000, until: float = float("inf"),
               department: str | None = None) -> list[dict]:
        """Events with ``since <= time < until`` (of one department if given), oldest first."""
        where, params = "time >= ? AND time < ?", (since, until)
        if department is not None:
            where, params = where + " AND department = ?", (*params, department)
        return self._rows(where, params, f"ORDER BY time, event_id LIMIT {int(limit)}")

    def event(self, event_id: str) -> dict | None:
        rows = self._rows("event_id = ?", (event_id,))
        return rows[0] if rows else None

    def events_by_id(self, event_ids: list[str]) -> list[dict]:
        if not event_ids:
            return []
        return self._rows(f"event_id IN ({','.join('?' * len(event_ids))})", tuple(event_ids), "ORDER BY time")

    def earlier_by_caller(self, caller_hash: str, before: float, window: float) -> int:
        """How many events the same caller (keyed hash) had in the ``window`` seconds before ``before``.

        A withheld caller has no hash and therefore no history.
        """
        if not caller_hash:
            return 0
        with self._lock:
            return self._db.execute(
                "SELECT count(*) FROM protection_events WHERE caller_hash = ? AND time < ? AND time >= ?",
                (caller_hash, before, before - window)).fetchone()[0]

    def add_call(self, when: float, outcome: str, department: str = "") -> None:
        """One ended call: counted exactly per day by :meth:`calls_since` (no caller data is kept)."""
        with self._lock:
            self._db.execute("INSERT INTO calls VALUES (?,?,?)", (when, outcome, department or ""))

    def calls_since(self, since: float) -> dict[str, int]:
        """Ended calls by outcome from ``since`` on."""
        with self._lock:
            return dict(self._db.execute(
                "SELECT outcome, count(*) FROM calls WHERE time >= ? GROUP BY outcome", (since,)).fetchall())

    def protection_since(self, since: float) -> dict[tuple[str, str], int]:
        """Stored protection events by (department, kind) from ``since`` on."""
        with self._lock:
            rows = self._db.execute("SELECT department, kind, count(*) FROM protection_events WHERE time >= ? "
                                    "GROUP BY department, kind", (since,)).fetchall()
        return {(dept, kind): n for dept, kind, n in rows}

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM protection_events").fetchone()[0]

    def purge(self, before: float, now: float | None = None) -> list[str]:
        """Delete events older than ``before`` that no hold active at ``now`` keeps; return their ids."""
        now = time.time() if now is None else now
        query = ("FROM protection_events WHERE time < ? AND event_id NOT IN "
                 "(SELECT event_id FROM legal_holds WHERE released IS NULL AND expires > ?)")
        with self._lock:
            ids = [r[0] for r in self._db.execute(f"SELECT event_id {query}", (before, now)).fetchall()]
            self._db.execute(f"DELETE {query}", (before, now))
            self._db.execute("DELETE FROM calls WHERE time < ?", (before,))
            return ids

    # --- legal holds ------------------------------------------------------------------------------

    def hold(self, event_id: str, reason: str, expires: float, held_by: str, now: float | None = None) -> LegalHold:
        """Keep an event and its recording past retention until ``expires`` (replaces an earlier hold)."""
        now = time.time() if now is None else now
        reason = " ".join(reason.split())
        if not reason:
            raise HoldError("no-reason", "a legal hold needs a reason")
        if len(reason) > MAX_HOLD_REASON:
            raise HoldError("reason-too-long", f"the reason is longer than {MAX_HOLD_REASON} characters")
        if expires <= now:
            raise HoldError("expiry-past", "the hold's expiry must be in the future")
        with self._lock:
            row = self._db.execute("SELECT recording FROM protection_events WHERE event_id=?", (event_id,)).fetchone()
            if row is None:
                raise HoldError("unknown-event", f"no protection event {event_id!r}")
            hold = LegalHold(event_id, row[0], reason, expires, held_by, now)
            self._db.execute("INSERT OR REPLACE INTO legal_holds VALUES (?,?,?,?,?,?,NULL)",
                             (hold.event_id, hold.recording, hold.reason, hold.expires, hold.held_by, hold.created))
        return hold

    def release(self, event_id: str, now: float | None = None) -> bool:
        """End a hold early; False if there was no active hold."""
        now = time.time() if now is None else now
        with self._lock:
            cur = self._db.execute("UPDATE legal_holds SET released=? WHERE event_id=? AND released IS NULL "
                                   "AND expires > ?", (now, event_id, now))
            return cur.rowcount == 1

    def holds(self, now: float | None = None) -> list[LegalHold]:
        """Holds in force at ``now``, soonest expiry first."""
        now = time.time() if now is None else now
        with self._lock:
            rows = self._db.execute(
                "SELECT event_id, recording, reason, expires, held_by, created FROM legal_holds "
                "WHERE released IS NULL AND expires > ? ORDER BY expires, event_id", (now,)).fetchall()
        return [LegalHold(*r) for r in rows]

    def forget_recording(self, recording: str) -> None:
        with self._lock:
            self._db.execute("UPDATE protection_events SET recording=NULL WHERE recording=?", (recording,))

    def close(self) -> None:
        with self._lock:
            self._db.close()


def count_events(path: Path | str, start: float, end: float) -> dict[tuple[str, str], int] | None:
    """Protection events with ``start <= time < end`` by (department, kind), read-only: counts, never callers.

    None if there is no event store at ``path`` (the IVR never ran there), so a report can tell
    "no data" from "no events". Needs no caller key: nothing personal is read.
    """
    path = Path(path)
    if not path.is_file():
        return None
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT department, kind, count(*) FROM protection_events WHERE time >= ? AND time < ? "
                          "GROUP BY department, kind ORDER BY department, kind", (start, end)).fetchall()
    except sqlite3.OperationalError:  # a file without our table
        return None
    finally:
        db.close()
    return {(dept, kind): n for dept, kind, n in rows}
