"""SQLite stores: WAL, a schema version in the file, and migrations that run when a store is opened.

Each store (admin users and sessions, the audit log, the IVR protection events) lists its
migrations in order; migration N brings the file from version N-1 to N, and ``PRAGMA user_version``
records where a file stands. Opening a store runs the missing migrations in one transaction, so a
file is never left half-migrated. A file from a newer release (a higher version than the code
knows) is refused rather than misread. Version 1 of every store is the format written before
versions existed, so such files (user_version 0) are brought to 1 unchanged.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

Migration = str | Callable[[sqlite3.Connection], None]


class SchemaError(RuntimeError):
    """The database's schema version is not one this release can use."""


def statements(script: str) -> list[str]:
    """The SQL statements of a script (``executescript`` would commit the migration's transaction)."""
    out, buf = [], ""
    for part in script.split(";"):
        buf += part + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip(" \n\t;"):
                out.append(buf.strip())
            buf = ""
    if buf.strip(" \n\t;"):
        out.append(buf.strip())
    return out


def schema_version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite3.Connection, migrations: Sequence[Migration], name: str) -> int:
    """Bring ``db`` to ``len(migrations)``; return the version it had."""
    target = len(migrations)
    db.execute("BEGIN IMMEDIATE")
    try:
        found = schema_version(db)
        if found > target:
            raise SchemaError(f"{name}: schema version {found} was written by a newer release of nms (this one "
                              f"knows up to {target}); upgrade nms, or restore a backup made with this release")
        for migration in migrations[found:]:
            if callable(migration):
                migration(db)
            else:
                for statement in statements(migration):
                    db.execute(statement)
        if found != target:
            db.execute(f"PRAGMA user_version = {target:d}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return found


def open_database(path: Path | str, migrations: Sequence[Migration], *, synchronous: str = "NORMAL",
                  foreign_keys: bool = False, mode: int = 0o600) -> sqlite3.Connection:
    """One connection (shared across threads under the caller's lock), migrated to the current schema.

    A new file is created with ``mode`` from its first byte (the stores hold personal data).
    """
    if synchronous not in ("NORMAL", "FULL"):
        raise ValueError(f"synchronous={synchronous!r}")
    name = str(path)
    if name != ":memory:":
        file = Path(path)
        file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.close(os.open(file, os.O_CREAT | os.O_RDWR, mode))
    db = sqlite3.connect(name, check_same_thread=False, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={synchronous}")
        if foreign_keys:
            db.execute("PRAGMA foreign_keys=ON")
        migrate(db, migrations, name)
    except BaseException:
        db.close()
        raise
    return db
