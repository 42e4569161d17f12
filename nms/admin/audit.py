"""The audit log: every change made through the page, who made it, when, the diff, and whether it applied.

SQLite with ``synchronous=FULL``: an entry that was acknowledged survives a crash.
"""

from __future__ import annotations

import difflib
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from nms.database import open_database

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    time      REAL NOT NULL,
    user      TEXT NOT NULL,
    address   TEXT NOT NULL DEFAULT '',
    action    TEXT NOT NULL,      -- e.g. ivr.announcement, inventory.activate, user.create, login
    target    TEXT NOT NULL,      -- what was changed: a file, a key, a user
    summary   TEXT NOT NULL,
    diff      TEXT NOT NULL DEFAULT '',
    applied   INTEGER,            -- 1 applied, 0 not applied (restored or refused), NULL not applicable
    result    TEXT NOT NULL,      -- applied | saved | restored | refused | conflict | done
    detail    TEXT NOT NULL DEFAULT '',
    version   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_time ON audit(time);
"""
#: Schema versions of audit.sqlite3 (nms.database): 1 is the format from before versions were kept.
MIGRATIONS = [SCHEMA,
              # 2: login rows are pruned by action (see MAX_LOGIN_ROWS)
              "CREATE INDEX IF NOT EXISTS audit_action ON audit(action, id);"]
MAX_DIFF = 200_000
MAX_FIELD = 2000  # user, address, target, summary and detail are cut to this (they may come from a stranger)
#: Login rows kept (failures from strangers included); older ones are dropped, so that nobody can
#: grow the database without bound by trying passwords. Changes are never dropped.
MAX_LOGIN_ROWS = 50_000


@dataclass(frozen=True)
class AuditEntry:
    id: int
    time: float
    user: str
    address: str
    action: str
    target: str
    summary: str
    diff: str
    applied: bool | None
    result: str
    detail: str
    version: str


def text_diff(old: str, new: str, name: str = "", context: int = 2) -> str:
    """A unified diff of two texts (what the history and audit pages show)."""
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 fromfile=f"a/{name}", tofile=f"b/{name}", n=context)
    out = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    return out if len(out) <= MAX_DIFF else out[:MAX_DIFF] + "\n… (diff truncated)\n"


def value_diff(old: object, new: object) -> str:
    """A diff of two plain values (users, settings without a file)."""
    dump = lambda v: json.dumps(v, ensure_ascii=False, indent=1, sort_keys=True, default=str) + "\n"  # noqa: E731
    return text_diff(dump(old), dump(new))


class AuditLog:
    def __init__(self, path: Path | str):
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock = threading.Lock()
        self._db = open_database(path, MIGRATIONS, synchronous="FULL")

    def record(self, *, user: str, action: str, target: str, summary: str, result: str, diff: str = "",
               applied: bool | None = None, detail: str = "", address: str = "", version: str = "") -> int:
        cut = lambda v: v[:MAX_FIELD]  # noqa: E731
        row = (time.time(), cut(user), cut(address), cut(action), cut(target), cut(summary), diff[:MAX_DIFF],
               None if applied is None else int(applied), cut(result), cut(detail), cut(version))
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO audit(time, user, address, action, target, summary, diff, applied, result, detail, "
                "version) VALUES (?,?,?,?,?,?,?,?,?,?,?)", row)
            entry_id = int(cur.lastrowid)
            if action in ("login", "logout") and entry_id % 100 == 0:
                self._db.execute(
                    "DELETE FROM audit WHERE action IN ('login', 'logout') AND id < (SELECT id FROM audit WHERE "
                    "action IN ('login', 'logout') ORDER BY id DESC LIMIT 1 OFFSET ?)", (MAX_LOGIN_ROWS,))
            return entry_id

    def count_login_rows(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM audit WHERE action IN ('login', 'logout')").fetchone()[0]

    def update(self, entry_id: int, *, result: str, applied: bool | None = None, detail: str = "") -> None:
        """Complete a row recorded as ``pending`` (a change written to disk) with what happened then."""
        with self._lock:
            self._db.execute("UPDATE audit SET result=?, applied=?, detail=? WHERE id=?",
                             (result, None if applied is None else int(applied), detail[:MAX_FIELD], entry_id))

    def discard(self, entry_id: int) -> None:
        """Drop a ``pending`` row whose change never reached the disk (a version conflict, redone)."""
        with self._lock:
            self._db.execute("DELETE FROM audit WHERE id=? AND result='pending'", (entry_id,))

    def entries(self, limit: int = 100, offset: int = 0, action_prefix: str = "") -> list[AuditEntry]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, time, user, address, action, target, summary, diff, applied, result, detail, version "
                "FROM audit WHERE action LIKE ? ORDER BY id DESC LIMIT ? OFFSET ?",
                (action_prefix + "%", limit, offset)).fetchall()
        return [_entry(r) for r in rows]

    def get(self, entry_id: int) -> AuditEntry | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, time, user, address, action, target, summary, diff, applied, result, detail, version "
                "FROM audit WHERE id=?", (entry_id,)).fetchone()
        return _entry(row) if row else None

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM audit").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _entry(r: tuple) -> AuditEntry:
    return AuditEntry(id=r[0], time=r[1], user=r[2], address=r[3], action=r[4], target=r[5], summary=r[6],
                      diff=r[7], applied=None if r[8] is None else bool(r[8]), result=r[9], detail=r[10],
                      version=r[11])
