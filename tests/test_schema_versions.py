"""Every store carries a schema version and migrates at start-up from the previous format.

The previous format is written here as the released code wrote it (frozen SQL and files, not the
code's current SCHEMA), then the current code opens it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from ivr.events import EventStore, ProtectionEvent
from nms.admin import audit, users
from nms.admin.audit import AuditLog
from nms.admin.users import Role, UserStore
from nms.database import SchemaError, migrate, open_database
from nms.store import HISTORY_FORMAT, ConfigStore, StoreError

# The formats of release 0.1.0, before stores had versions (user_version 0).
USERS_0_1 = """
CREATE TABLE users (name TEXT PRIMARY KEY, role TEXT NOT NULL, pw_hash TEXT NOT NULL, created REAL NOT NULL,
                    disabled INTEGER NOT NULL DEFAULT 0, language TEXT);
CREATE TABLE sessions (id_hash TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
                       created REAL NOT NULL, expires REAL NOT NULL);
CREATE INDEX sessions_user ON sessions(user);
"""
AUDIT_0_1 = """
CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, user TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '', action TEXT NOT NULL, target TEXT NOT NULL, summary TEXT NOT NULL,
    diff TEXT NOT NULL DEFAULT '', applied INTEGER, result TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '',
    version TEXT NOT NULL DEFAULT '');
CREATE INDEX audit_time ON audit(time);
"""
EVENTS_0_1 = """
CREATE TABLE protection_events (event_id TEXT PRIMARY KEY, time REAL NOT NULL, kind TEXT NOT NULL,
    seq INTEGER NOT NULL, department TEXT NOT NULL, line INTEGER NOT NULL, did TEXT NOT NULL,
    caller_hash TEXT NOT NULL, caller_mask TEXT NOT NULL, recording TEXT, stored REAL NOT NULL);
CREATE INDEX protection_events_time ON protection_events(time);
"""


def old_database(path: Path, schema: str, rows: list[tuple[str, tuple]]) -> Path:
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(schema)
    for sql, values in rows:
        db.execute(sql, values)
    db.commit()
    db.close()
    return path


def version_of(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return db.execute("PRAGMA user_version").fetchone()[0]
    finally:
        db.close()


def test_users_from_the_previous_format_keep_their_logins(tmp_path: Path) -> None:
    # A user created by 0.1.0: the hash is a real Argon2id hash of the password.
    seed = UserStore(tmp_path / "seed.sqlite3")
    seed.create("kim", Role.ADMIN, "correct horse 7")
    pw_hash = seed._db.execute("SELECT pw_hash FROM users").fetchone()[0]
    seed.close()
    path = old_database(tmp_path / "users.sqlite3", USERS_0_1, [
        ("INSERT INTO users VALUES (?,?,?,?,?,?)", ("kim", "admin", pw_hash, 1.7e9, 0, "ko"))])
    assert version_of(path) == 0
    store = UserStore(path)
    assert version_of(path) == len(users.MIGRATIONS), "migrated from the previous format to the current one"
    user = store.verify("kim", "correct horse 7")
    assert user is not None and user.role is Role.ADMIN and user.language == "ko"
    store.close()


def test_audit_from_the_previous_format_is_kept_and_extended(tmp_path: Path) -> None:
    path = old_database(tmp_path / "audit.sqlite3", AUDIT_0_1, [
        ("INSERT INTO audit(time, user, action, target, summary, result) VALUES (?,?,?,?,?,?)",
         (1.7e9, "kim", "login", "kim", "login", "done"))])
    log = AuditLog(path)
    assert version_of(path) == len(audit.MIGRATIONS), "migrated from the previous format to the current one"
    log.record(user="lee", action="user.create", target="park", summary="create", result="applied")
    assert [e.user for e in log.entries()] == ["lee", "kim"]
    log.close()


def test_events_from_the_previous_format_are_kept(tmp_path: Path) -> None:
    path = old_database(tmp_path / "events.sqlite3", EVENTS_0_1, [
        ("INSERT INTO protection_events VALUES (?,?,?,?,?,?,?,?,?,?,?)",
         ("e1", 1.7e9, "warning", 1, "civil", 3, "0226001234", "ab" * 32, "010****5678", None, 1.7e9))])
    store = EventStore(path, b"k" * 32)
    assert version_of(path) == 1
    assert [e["event_id"] for e in store.events()] == ["e1"]
    assert store.add(ProtectionEvent("e2", 1.7e9 + 1, "warning", 1, "civil", 3, "0226001234", "01012345678", None))
    assert store.count() == 2
    store.close()


@pytest.mark.parametrize("opener", [lambda p: UserStore(p), lambda p: AuditLog(p),
                                    lambda p: EventStore(p, b"k" * 32)], ids=["users", "audit", "events"])
def test_a_database_from_a_newer_release_is_refused_not_misread(tmp_path: Path, opener) -> None:
    path = tmp_path / "store.sqlite3"
    opener(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    with pytest.raises(SchemaError, match="newer release"):
        opener(path)


def test_a_failing_migration_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    open_database(path, ["CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1);"]).close()

    def broken(db: sqlite3.Connection) -> None:
        db.execute("ALTER TABLE t ADD COLUMN b TEXT")
        raise RuntimeError("disk full in the middle of a migration")

    db = sqlite3.connect(path, isolation_level=None)
    with pytest.raises(RuntimeError):
        migrate(db, ["CREATE TABLE t (a INTEGER)", broken], str(path))
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    assert [c[1] for c in db.execute("PRAGMA table_info(t)")] == ["a"]
    db.close()
    # The next migration succeeds and keeps the rows.
    db = open_database(path, ["CREATE TABLE t (a INTEGER)", "ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'x'"])
    assert db.execute("SELECT a, b FROM t").fetchall() == [(1, "x")]
    assert db.execute("PRAGMA user_version").fetchone()[0] == 2


def test_new_store_files_are_private_from_the_first_byte(tmp_path: Path) -> None:
    for name, opener in (("u", UserStore), ("a", AuditLog), ("e", lambda p: EventStore(p, b"k"))):
        path = tmp_path / f"{name}.sqlite3"
        opener(path).close()
        assert path.stat().st_mode & 0o777 == 0o600, name


def test_config_history_from_the_previous_format_is_read_and_marked(tmp_path: Path) -> None:
    # 0.1.0's layout: the file, .history/<name>/log.jsonl and one file per version, no FORMAT.
    path = tmp_path / "inventory.yaml"
    path.write_text("version: 1\n", encoding="utf-8")
    history = tmp_path / ".history" / "inventory.yaml"
    history.mkdir(parents=True)
    (history / "20261101T000000.000000Z-000001-aaaaaaaaaaaa.yaml").write_text("version: 1\n", encoding="utf-8")
    version = hashlib.sha256(b"version: 1\n").hexdigest()
    (history / "log.jsonl").write_text(json.dumps({
        "seq": 1, "time": "2026-11-01T00:00:00+00:00", "version": version, "author": "kim", "message": "first",
        "file": "20261101T000000.000000Z-000001-aaaaaaaaaaaa.yaml"}) + "\n", encoding="utf-8")
    store = ConfigStore(path)
    assert [e.author for e in store.history()] == ["kim"]
    store.write("version: 1\nsites: []\n", author="lee", message="second")
    assert (history / "FORMAT").read_text().strip() == str(HISTORY_FORMAT)
    assert [e.author for e in store.history()] == ["kim", "lee"]
    assert store.read_version(version[:12]) == "version: 1\n"


def test_config_history_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ivr.yaml"
    store = ConfigStore(path)
    store.write("lines: 60\n", author="kim")
    (tmp_path / ".history" / "ivr.yaml" / "FORMAT").write_text("2\n")
    with pytest.raises(StoreError, match="newer release"):
        store.history()
    with pytest.raises(StoreError, match="newer release"):
        store.write("lines: 30\n", author="kim")
    assert path.read_text() == "lines: 60\n"
