"""Users, roles and server-side sessions (SQLite). Passwords are stored as Argon2id hashes only.

A browser holds a random session id in a signed cookie; the server keeps only its SHA-256. Logging
out deletes the row, so a cookie copied before logout is refused afterwards. Changing a user's
password, role or state deletes all of that user's sessions.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from nms.database import open_database

NAME_RE = re.compile(r"^[a-z][a-z0-9._-]{1,31}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 256  # longer is no stronger, only more work for Argon2 and the form parser
MAX_NAME = 32
MIN_SCORE = 3  # zxcvbn: "safely unguessable" (about 10^8 guesses and more)

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name      TEXT PRIMARY KEY,
    role      TEXT NOT NULL,
    pw_hash   TEXT NOT NULL,
    created   REAL NOT NULL,
    disabled  INTEGER NOT NULL DEFAULT 0,
    language  TEXT
);
CREATE TABLE IF NOT EXISTS sessions (
    id_hash   TEXT PRIMARY KEY,
    user      TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    created   REAL NOT NULL,
    expires   REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user);
"""
UNLOCKS = """
CREATE TABLE IF NOT EXISTS unlocks (
    user      TEXT PRIMARY KEY,
    time      REAL NOT NULL       -- login failures before this no longer lock the user out (nms admin unlock)
);
"""
#: Schema versions of users.sqlite3 (nms.database): 1 is the format from before versions were kept.
MIGRATIONS = [SCHEMA, UNLOCKS]  # 2: nms admin unlock


class Role(IntEnum):
    """A user's permission level on the admin page; each role can do everything the roles below it can.
    (A device's part in the network is :class:`nms.inventory.models.DeviceRole`.)"""

    VIEWER = 1  # reads everything except recordings
    OPERATOR = 2  # announcements, hours, holidays, departments, call policy, live calls
    ADMIN = 3  # inventory, polling, users, recordings

    @classmethod
    def parse(cls, value: str) -> Role:
        try:
            return cls[value.upper()]
        except KeyError:
            raise ValueError(f"unknown role {value!r} (viewer, operator or admin)") from None

    @property
    def label(self) -> str:
        return self.name.lower()


class UserError(ValueError):
    """A user operation refused; ``code`` is a message id for the interface."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    disabled: bool
    language: str | None
    created: float

    def can(self, role: Role) -> bool:
        return not self.disabled and self.role >= role


def _sid_hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def check_password_strength(password: str, user_inputs: tuple[str, ...] = ()) -> None:
    """Refuse short, overlong, common and trivially patterned passwords (zxcvbn score below 3:
    dictionary words, keyboard walks, sequences, repeats, dates, the user's own name)."""
    if len(password) < MIN_PASSWORD:
        raise UserError("password_short", str(MIN_PASSWORD))
    if len(password) > MAX_PASSWORD:
        raise UserError("password_long", str(MAX_PASSWORD))
    if len(set(password)) < 4:
        raise UserError("password_weak")
    from zxcvbn import zxcvbn

    if zxcvbn(password, user_inputs=[*user_inputs, "geumcheon", "nms", "admin"])["score"] < MIN_SCORE:
        raise UserError("password_weak")


#: At most this many password checks (Argon2id, ~50 ms of CPU and 64 MiB each) run at once; more
#: would starve every other page. A few more logins may wait briefly for a turn; any beyond those
#: get "busy" at once, so logins never hold more than half of the page's threads.
PASSWORD_CHECKS = threading.BoundedSemaphore(2)
CHECK_WAITERS = threading.BoundedSemaphore(2)
CHECK_WAIT = 2.0


class Busy(RuntimeError):
    """Too many password checks at once."""


class CheckLoad:
    """How many password checks run now, and the most that ever ran at once (a metric)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.running = 0
        self.peak = 0

    def __enter__(self) -> None:
        with self._lock:
            self.running += 1
            self.peak = max(self.peak, self.running)

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.running -= 1


CHECK_LOAD = CheckLoad()


class UserStore:
    """Thread-safe; one connection guarded by a lock (the page's requests are short)."""

    def __init__(self, path: Path | str, hasher: PasswordHasher | None = None):
        self.path = path
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.hasher = hasher or PasswordHasher()  # Argon2id, RFC 9106 low-memory profile
        self._lock = threading.Lock()
        self._db = open_database(path, MIGRATIONS, synchronous="FULL", foreign_keys=True)
        # A hash to verify against when the user does not exist, so both cases take as long.
        self._dummy = self.hasher.hash(secrets.token_urlsafe(16))

    # -- lockouts --------------------------------------------------------------------------------

    def unlock(self, name: str) -> None:
        """Lift every login lock of ``name`` (``nms admin unlock``): failures before now no longer count."""
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO unlocks(user, time) VALUES (?, ?)", (name.lower(), time.time()))

    def unlocked_at(self, name: str) -> float:
        with self._lock:
            row = self._db.execute("SELECT time FROM unlocks WHERE user=?", (name.lower()[:MAX_NAME],)).fetchone()
        return float(row[0]) if row else 0.0

    # -- users ---------------------------------------------------------------------------------

    def create(self, name: str, role: Role, password: str) -> User:
        if not NAME_RE.match(name):
            raise UserError("user_name_invalid")
        check_password_strength(password, (name,))
        pw_hash = self.hasher.hash(password)
        with self._lock:
            try:
                self._db.execute("INSERT INTO users(name, role, pw_hash, created) VALUES (?,?,?,?)",
                                 (name, role.label, pw_hash, time.time()))
            except sqlite3.IntegrityError:
                raise UserError("user_exists", name) from None
        user = self.get(name)
        assert user is not None
        return user

    def get(self, name: str) -> User | None:
        with self._lock:
            row = self._db.execute("SELECT name, role, disabled, language, created FROM users WHERE name=?",
                                   (name,)).fetchone()
        return _user(row) if row else None

    def list(self) -> list[User]:
        with self._lock:
            rows = self._db.execute("SELECT name, role, disabled, language, created FROM users ORDER BY name")
            return [_user(r) for r in rows.fetchall()]

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM users").fetchone()[0]

    def verify(self, name: str, password: str) -> User | None:
        """The user if ``password`` is theirs and the account is enabled, else None (same cost either way).

        Raises :class:`Busy` when too many checks are running (see PASSWORD_CHECKS).
        """
        if len(name) > MAX_NAME or len(password) > MAX_PASSWORD:
            return None
        with self._lock:
            row = self._db.execute("SELECT pw_hash, disabled FROM users WHERE name=?", (name,)).fetchone()
        pw_hash = row[0] if row else self._dummy
        if not CHECK_WAITERS.acquire(blocking=False):
            raise Busy("too many password checks at once")
        try:
            got = PASSWORD_CHECKS.acquire(timeout=CHECK_WAIT)
        finally:
            CHECK_WAITERS.release()
        if not got:
            raise Busy("too many password checks at once")
        try:
            with CHECK_LOAD:
                self.hasher.verify(pw_hash, password)
            ok = row is not None and not row[1]
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        finally:
            PASSWORD_CHECKS.release()
        if ok and self.hasher.check_needs_rehash(pw_hash):
            with self._lock:
                self._db.execute("UPDATE users SET pw_hash=? WHERE name=?", (self.hasher.hash(password), name))
        return self.get(name) if ok else None

    def set_password(self, name: str, password: str) -> None:
        check_password_strength(password, (name,))
        pw_hash = self.hasher.hash(password)
        self._update(name, "pw_hash=?", (pw_hash,))

    def set_role(self, name: str, role: Role) -> None:
        self._update(name, "role=?", (role.label,))

    def set_disabled(self, name: str, disabled: bool) -> None:
        self._update(name, "disabled=?", (1 if disabled else 0,))

    def set_language(self, name: str, language: str) -> None:
        with self._lock:
            self._db.execute("UPDATE users SET language=? WHERE name=?", (language, name))

    def _update(self, name: str, assignment: str, args: tuple) -> None:
        with self._lock:
            cur = self._db.execute(f"UPDATE users SET {assignment} WHERE name=?", (*args, name))
            if cur.rowcount != 1:
                raise UserError("user_unknown", name)
            self._db.execute("DELETE FROM sessions WHERE user=?", (name,))

    def admins(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM users WHERE role='admin' AND disabled=0").fetchone()[0]

    # -- sessions ------------------------------------------------------------------------------

    def open_session(self, name: str, lifetime: float) -> str:
        sid = secrets.token_urlsafe(32)
        now = time.time()
        with self._lock:
            self._db.execute("DELETE FROM sessions WHERE expires < ?", (now,))
            self._db.execute("INSERT INTO sessions VALUES (?,?,?,?)", (_sid_hash(sid), name, now, now + lifetime))
        return sid

    def session_user(self, sid: str, lifetime: float) -> User | None:
        """The user of a live session (and the session is extended), or None."""
        now = time.time()
        h = _sid_hash(sid)
        with self._lock:
            row = self._db.execute(
                "SELECT u.name, u.role, u.disabled, u.language, u.created, s.expires FROM sessions s "
                "JOIN users u ON u.name = s.user WHERE s.id_hash=?", (h,)).fetchone()
            if row is None:
                return None
            if row[5] < now or row[2]:
                self._db.execute("DELETE FROM sessions WHERE id_hash=?", (h,))
                return None
            if row[5] - now < lifetime - 60:  # extend at most once a minute
                self._db.execute("UPDATE sessions SET expires=? WHERE id_hash=?", (now + lifetime, h))
        return _user(row[:5])

    def close_session(self, sid: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM sessions WHERE id_hash=?", (_sid_hash(sid),))

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _user(row: tuple) -> User:
    return User(name=row[0], role=Role.parse(row[1]), disabled=bool(row[2]), language=row[3], created=row[4])
