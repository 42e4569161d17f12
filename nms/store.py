"""A configuration file with atomic writes, optimistic concurrency and a full history.

Writers never leave a half-written file: the new text goes to a temporary file in the same
directory, is fsynced, and replaces the old file with ``os.replace`` (atomic on POSIX), after
which the directory is fsynced too. A reader therefore always sees the old or the new content.

Every version that was ever current is kept under ``<dir>/.history/<filename>/`` (one file per
distinct content) with a JSON-lines log of who wrote what and why. A version id is the SHA-256
of the file's bytes, so a caller that read version X can ask to write only if the file is
still X (``expected_version``); otherwise it gets :class:`VersionConflict` instead of silently
overwriting somebody else's change. An ``fcntl.flock`` on a lock file serialises writers, also
across processes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

#: ``expected_version`` meaning "the file must not exist yet".
ABSENT = "absent"
SHORT = 12  # characters of a version id shown to people and used in history file names
#: Format of a history directory, kept in its FORMAT file. 1 is the layout from before the file
#: existed (log.jsonl plus one file per version), so such a directory is marked 1 unchanged.
HISTORY_FORMAT = 1


class StoreError(Exception):
    pass


class VersionConflict(StoreError):
    """The file changed since the caller read it."""

    def __init__(self, path: Path, expected: str, actual: str | None):
        self.path = path
        self.expected = expected
        self.actual = actual
        now = "does not exist" if actual is None else f"is at version {actual[:SHORT]}"
        super().__init__(f"{path} was changed by someone else: expected version {expected[:SHORT]}, "
                         f"but it {now}; read it again and redo the change")


class UnknownVersion(StoreError, LookupError):
    pass


def version_of(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class HistoryEntry:
    seq: int
    time: datetime
    version: str
    author: str
    message: str
    file: Path  # the stored content of this version

    @property
    def short(self) -> str:
        return self.version[:SHORT]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` so that readers see either the old or the new bytes.

    The temporary file is created with ``mode`` (``O_EXCL``, a random name) before any byte is
    written, so a secret is never readable by others, not even for a moment. The default, 0600,
    is right for anything that might hold a secret; pass e.g. 0o644 for files others must read.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0), mode)
    try:
        os.fchmod(fd, mode)  # exactly ``mode``, whatever the umask
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def write_new_secret(path: Path, data: bytes) -> None:
    """Create ``path`` holding a secret: mode 0600 from the first byte, never over an existing file."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


class ConfigStore:
    """One configuration file (e.g. ``configs/inventory.yaml``) and its history."""

    def __init__(self, path: Path, history_dir: Path | None = None):
        self.path = Path(path)
        self.history_dir = history_dir or self.path.parent / ".history" / self.path.name
        self.log_path = self.history_dir / "log.jsonl"
        self.lock_path = self.path.parent / f".{self.path.name}.lock"
        self._suffix = self.path.suffix or ".yaml"

    # -- reading ---------------------------------------------------------------------------

    def read(self) -> tuple[str, str]:
        """The current text and its version id. Raises FileNotFoundError if there is no file."""
        data = self.path.read_bytes()
        return data.decode("utf-8"), version_of(data)

    def current_version(self) -> str | None:
        try:
            return version_of(self.path.read_bytes())
        except FileNotFoundError:
            return None

    def check_format(self, mark: bool = False) -> None:
        """Refuse a history written by a newer release; with ``mark`` (writers, under the lock), mark an
        unversioned one as format 1: the migration from the layout before FORMAT existed."""
        marker = self.history_dir / "FORMAT"
        try:
            found = int(marker.read_text(encoding="ascii").strip() or "0")
        except FileNotFoundError:
            found = 0
        except ValueError:
            raise StoreError(f"{marker} is damaged: it should hold a format number") from None
        if found > HISTORY_FORMAT:
            raise StoreError(f"the history in {self.history_dir} has format {found}, written by a newer release "
                             f"of nms (this one knows up to {HISTORY_FORMAT})")
        if mark and found < HISTORY_FORMAT and self.history_dir.is_dir():
            atomic_write_bytes(marker, f"{HISTORY_FORMAT}\n".encode("ascii"))

    def history(self) -> list[HistoryEntry]:
        """Every logged write, oldest first."""
        self.check_format()
        try:
            lines = self.log_path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        entries = []
        for line in lines:
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                entries.append(HistoryEntry(
                    seq=int(rec["seq"]), time=datetime.fromisoformat(rec["time"]), version=rec["version"],
                    author=rec.get("author", ""), message=rec.get("message", ""),
                    file=self.history_dir / rec["file"]))
            except (ValueError, KeyError, TypeError):
                # A torn last line (crash while appending) must not hide the rest of the history.
                continue
        return entries

    def read_version(self, version: str) -> str:
        """The text of a past (or the current) version; a unique prefix of the id is enough."""
        entry = self._find(version)
        data = entry.file.read_bytes()
        if version_of(data) != entry.version:
            raise StoreError(f"history file {entry.file} is damaged (content does not match {entry.short})")
        return data.decode("utf-8")

    def _find(self, version: str) -> HistoryEntry:
        if len(version) < 6:
            raise UnknownVersion(f"version id {version!r} is too short (give at least 6 characters)")
        by_version: dict[str, HistoryEntry] = {}
        for entry in self.history():
            if entry.version.startswith(version):
                by_version.setdefault(entry.version, entry)
        if not by_version:
            raise UnknownVersion(f"no version {version!r} in the history of {self.path}")
        if len(by_version) > 1:
            raise UnknownVersion(f"version prefix {version!r} is ambiguous for {self.path}")
        return next(iter(by_version.values()))

    # -- writing ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the writers' lock (e.g. to copy the file and its history as one consistent set)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def write(self, text: str, *, expected_version: str | None = None, author: str = "",
              message: str = "") -> str:
        """Write ``text`` atomically and log it; returns the new version id.

        ``expected_version`` is the version the caller based its change on (``ABSENT`` if it
        expects no file yet); ``None`` writes unconditionally. Writing the current content
        again changes nothing and logs nothing.
        """
        data = text.encode("utf-8")
        new_version = version_of(data)
        with self.locked():
            self._remove_stale_temp_files()
            try:
                old = self.path.read_bytes()
            except FileNotFoundError:
                old = None
            old_version = version_of(old) if old is not None else None
            if expected_version is not None:
                matches = old_version is None if expected_version == ABSENT else old_version == expected_version
                if not matches:
                    raise VersionConflict(self.path, expected_version, old_version)
            if new_version == old_version:
                return new_version
            self.history_dir.mkdir(parents=True, exist_ok=True)
            self.check_format(mark=True)
            logged = {e.version: e for e in self.history()}
            seq = max((e.seq for e in logged.values()), default=0)
            if old is not None and old_version is not None and old_version not in logged:
                # The file was edited by hand (or a previous write died before logging it):
                # keep that version too before it is replaced.
                seq += 1
                self._record(seq, old, old_version, logged, author="",
                             message="version found on disk (not written through the store)")
            mode = self.path.stat().st_mode & 0o7777 if old is not None else 0o600
            seq += 1
            stored = self._store_content(seq, data, new_version, logged)
            atomic_write_bytes(self.path, data, mode)
            self._append_log(seq, new_version, author, message, stored)
        return new_version

    def rollback(self, version: str, author: str, *, expected_version: str | None = None) -> str:
        """Make a past version current again. The rollback is itself a new, logged write."""
        entry = self._find(version)
        text = self.read_version(entry.version)
        return self.write(text, expected_version=expected_version, author=author,
                          message=f"rollback to {entry.short} (#{entry.seq})")

    # -- internals -------------------------------------------------------------------------

    def _record(self, seq: int, data: bytes, version: str, logged: dict[str, HistoryEntry],
                author: str, message: str) -> None:
        stored = self._store_content(seq, data, version, logged)
        self._append_log(seq, version, author, message, stored)

    def _store_content(self, seq: int, data: bytes, version: str, logged: dict[str, HistoryEntry]) -> Path:
        """The history file holding ``data``: an existing one for known content, else a new one."""
        known = logged.get(version)
        if known is not None and known.file.exists():
            return known.file
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        target = self.history_dir / f"{stamp}-{seq:06d}-{version[:SHORT]}{self._suffix}"
        atomic_write_bytes(target, data)
        return target

    def _append_log(self, seq: int, version: str, author: str, message: str, stored: Path) -> None:
        record = {"seq": seq, "time": datetime.now(UTC).isoformat(timespec="microseconds"),
                  "version": version, "author": author, "message": message, "file": stored.name}
        line = json.dumps(record, ensure_ascii=False) + "\n"
        fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            # A torn line from a crash would glue onto ours: start on a fresh line if needed.
            size = os.fstat(fd).st_size
            if size:
                with open(self.log_path, "rb") as f:
                    f.seek(size - 1)
                    if f.read(1) != b"\n":
                        line = "\n" + line
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)

    def _remove_stale_temp_files(self) -> None:
        """Temp files left by a writer that died; only called while holding the lock."""
        stale = list(self.path.parent.glob(f".{self.path.name}.*.tmp"))
        if self.history_dir.is_dir():
            stale += self.history_dir.glob(".*.tmp")
        for leftover in stale:
            with contextlib.suppress(OSError):
                leftover.unlink()
