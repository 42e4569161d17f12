"""``nms backup`` and ``nms restore``: everything a district would lose with its server, in one archive.

What goes in (each under its own prefix in the tar archive):

- ``config/``: nms.yaml, inventory.yaml, snmp.yaml, ivr.yaml and their ``.history/`` (copied under
  each file's store lock, so a file and its history agree);
- ``admin/``: the admin page's state directory: users and sessions, the audit log, the audio archive;
- ``ivr/events.sqlite3``: the staff-protection event store;
- ``sounds/``: the announcement audio Asterisk plays (``<sounds_dir>/<language>/nms``);
- ``recordings/``: call recordings, only with ``--with-recordings``;
- ``files/``: a configuration file that lives outside nms.yaml's directory, by absolute path.

SQLite files run in WAL mode, so they are copied with SQLite's online backup API (a consistent
snapshot while the service keeps writing), never as plain files. ``manifest.json`` (the last
member) lists every member with its size, mode and SHA-256. The archive is created 0600 and
appears under its final name only when complete.

Restoring checks the whole archive first (member names, types, sizes and checksums; no absolute
paths, ``..``, links or devices), unpacks it into a private staging directory, reads the restored
configuration to learn where state belongs, and only then writes each file atomically. It refuses
to overwrite existing state, or to run while a service answers on the configuration's HTTP port,
unless told (``--force``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import socket
import sqlite3
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from nms import __version__
from nms.store import ConfigStore, atomic_write_bytes

FORMAT = 1
MANIFEST = "manifest.json"
PREFIXES = ("config", "admin", "ivr", "sounds", "recordings", "files")
SQLITE_SUFFIXES = (".sqlite3", ".sqlite", ".db")
SKIP_SUFFIXES = ("-wal", "-shm", "-journal", ".lock", ".tmp", ".partial")
MAX_MEMBERS = 1_000_000
MAX_MANIFEST = 256 << 20


class BackupError(Exception):
    """The backup or restore was refused or failed; the message says why."""


@dataclass(frozen=True)
class Locations:
    """Where a configuration keeps what a backup holds (absolute paths)."""

    config: Path  # nms.yaml
    config_files: tuple[Path, ...]  # nms.yaml, inventory.yaml, snmp.yaml, ivr.yaml (those that exist)
    admin_state: Path | None
    events_db: Path | None
    sounds: Path | None
    recordings: Path | None

    @property
    def config_dir(self) -> Path:
        return self.config.parent


def locations(config: Path) -> Locations:
    """Read (and validate) the configuration at ``config``; raises ConfigError if it is invalid."""
    from ivr.config import load_config
    from nms.admin.workspace import admin_settings
    from nms.app.district import load_district

    config = Path(config).absolute()
    district = load_district(config)
    base = config.parent
    settings = district.settings

    def resolve(path: Path, against: Path = base) -> Path:
        return path if path.is_absolute() else against / path

    inventory = settings.inventory.file(base)  # None for an inventory that is not a file (NetBox)
    files = [config, *([inventory] if inventory else []), resolve(settings.snmp)]
    admin = admin_settings(district) if settings.admin.enabled else None
    ivr_path = resolve(settings.ivr.config)
    events = sounds = recordings = None
    if ivr_path.exists():
        files.append(ivr_path)
        ivr = load_config(ivr_path)
        events = ivr.events.database
        recordings = resolve(ivr.recordings.local_directory, ivr_path.parent)
        if admin is not None:
            sounds = admin.sounds_dir / ivr.language / "nms"
    if admin is not None and admin.ivr_config.exists() and admin.ivr_config not in files:
        files.append(admin.ivr_config)
    return Locations(config=config, config_files=tuple(dict.fromkeys(files)),
                     admin_state=admin.state_dir if admin else None, events_db=events, sounds=sounds,
                     recordings=recordings)


# -- backup ------------------------------------------------------------------------------------------
def _sqlite_snapshot(path: Path) -> bytes:
    """A consistent copy of a live WAL database through the online backup API."""
    with tempfile.TemporaryDirectory(prefix="nms-backup-") as tmp:
        copy = Path(tmp) / "copy.sqlite3"
        src = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        dst = sqlite3.connect(copy)
        try:
            src.backup(dst)  # all pages in one step, under one read transaction
            dst.execute("PRAGMA journal_mode=DELETE")  # the copy stands alone, without a -wal
        finally:
            dst.close()
            src.close()
        return copy.read_bytes()


def _is_sqlite(path: Path) -> bool:
    return path.suffix in SQLITE_SUFFIXES


def _skipped(path: Path) -> bool:
    return path.name.endswith(SKIP_SUFFIXES) or (path.name.startswith(".") and path.name.endswith(".tmp"))


def _walk(directory: Path) -> Iterator[Path]:
    """Regular files under ``directory`` (no symlinks followed), sorted."""
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            if path.is_file() and not path.is_symlink() and not _skipped(path):
                yield path


class _Writer:
    def __init__(self, tar: tarfile.TarFile, progress: Callable[[str], None] | None):
        self.tar = tar
        self.members: list[dict[str, object]] = []
        self.progress = progress
        self.names: set[str] = set()

    def add(self, name: str, data: bytes, mode: int) -> None:
        if name in self.names:
            return
        self.names.add(name)
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mode = mode & 0o777
        info.mtime = int(time.time())
        self.tar.addfile(info, io.BytesIO(data))
        self.members.append({"name": name, "size": len(data), "mode": mode & 0o777,
                             "sha256": hashlib.sha256(data).hexdigest()})
        if self.progress:
            self.progress(name)

    def add_file(self, name: str, path: Path) -> None:
        try:
            data = _sqlite_snapshot(path) if _is_sqlite(path) else path.read_bytes()
            mode = path.stat().st_mode
        except FileNotFoundError:  # deleted meanwhile (e.g. an expired recording): nothing to keep
            return
        self.add(name, data, mode)

    def add_tree(self, prefix: str, directory: Path | None) -> None:
        if directory is None or not directory.is_dir():
            return
        for path in _walk(directory):
            self.add_file(f"{prefix}/{path.relative_to(directory).as_posix()}", path)


def _config_name(loc: Locations, path: Path) -> str:
    try:
        return "config/" + path.relative_to(loc.config_dir).as_posix()
    except ValueError:
        return "files/" + path.absolute().as_posix().lstrip("/")


def backup(config: Path, out: Path, *, with_recordings: bool = False,
           progress: Callable[[str], None] | None = None) -> dict[str, object]:
    """Write the archive ``out`` (refused if it exists); return its manifest."""
    loc = locations(config)
    out = Path(out).absolute()
    if out.exists():
        raise BackupError(f"{out} exists already: give another name (a backup never overwrites a file)")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.parent / f".{out.name}.{os.getpid()}.partial"
    fd = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
            writer = _Writer(tar, progress)
            for path in loc.config_files:
                store = ConfigStore(path)
                with store.locked():  # the file and its history as one consistent set
                    name = _config_name(loc, path)
                    writer.add_file(name, path)
                    if store.history_dir.is_dir():
                        writer.add_tree(_config_name(loc, store.history_dir), store.history_dir)
            writer.add_tree("admin", loc.admin_state)
            if loc.events_db is not None and loc.events_db.exists():
                writer.add_file("ivr/events.sqlite3", loc.events_db)
            writer.add_tree("sounds", loc.sounds)
            if with_recordings:
                writer.add_tree("recordings", loc.recordings)
            manifest = {"format": FORMAT, "nms": __version__, "created": datetime.now(UTC).isoformat(),
                        "host": socket.gethostname(), "config": loc.config.as_posix(),
                        "recordings": with_recordings, "members": writer.members}
            writer.add(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"), 0o600)
            raw.flush()
            os.fsync(raw.fileno())
        os.link(partial, out)  # fails rather than replace a file that appeared meanwhile
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return manifest


# -- restore -----------------------------------------------------------------------------------------
def safe_member_name(name: str) -> PurePosixPath:
    """A member name as a relative path that stays inside its prefix; BackupError otherwise."""
    if not name or "\\" in name or "\0" in name or name.startswith("/"):
        raise BackupError(f"archive member {name!r}: not a plain relative path")
    path = PurePosixPath(name)
    if any(part in ("", ".", "..") for part in name.split("/")):
        raise BackupError(f"archive member {name!r}: '..' or '.' in the path")
    if name != MANIFEST and (len(path.parts) < 2 or path.parts[0] not in PREFIXES):
        raise BackupError(f"archive member {name!r}: not a part of an nms backup")
    return path


def read_archive(archive: Path, staging: Path) -> dict[str, object]:
    """Check every member of ``archive`` and unpack it into ``staging``; return the manifest."""
    try:
        tar = tarfile.open(archive, mode="r:*")  # noqa: SIM115 - closed by the with below
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"{archive}: not a readable backup archive ({exc})") from None
    with tar:
        members = tar.getmembers()
        if len(members) > MAX_MEMBERS:
            raise BackupError(f"{archive}: {len(members)} members, more than a backup has")
        seen: dict[str, tarfile.TarInfo] = {}
        for m in members:
            safe_member_name(m.name)
            if not m.isfile():
                raise BackupError(f"archive member {m.name!r}: links, devices and directories are not allowed")
            if m.name in seen:
                raise BackupError(f"archive member {m.name!r} appears twice")
            seen[m.name] = m
        if MANIFEST not in seen or seen[MANIFEST].size > MAX_MANIFEST:
            raise BackupError(f"{archive}: no manifest.json, so it is not an nms backup")
        try:
            manifest = json.loads(tar.extractfile(seen[MANIFEST]).read())
            listed = {str(e["name"]): e for e in manifest["members"]}
            fmt = int(manifest["format"])
        except (ValueError, KeyError, TypeError) as exc:
            raise BackupError(f"{archive}: damaged manifest.json ({exc})") from None
        if fmt > FORMAT:
            raise BackupError(f"{archive}: backup format {fmt} was written by a newer release of nms "
                              f"(this one reads up to {FORMAT})")
        extra = set(seen) - set(listed) - {MANIFEST}
        missing = set(listed) - set(seen)
        if extra or missing:
            raise BackupError(f"{archive}: members do not match the manifest (not listed: {sorted(extra)[:5]}, "
                              f"missing: {sorted(missing)[:5]})")
        for name, entry in listed.items():
            m = seen[name]
            if m.size != int(entry["size"]):
                raise BackupError(f"archive member {name!r}: size {m.size}, the manifest says {entry['size']}")
            target = staging.joinpath(*safe_member_name(name).parts)
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            digest = hashlib.sha256()
            src = tar.extractfile(m)
            with open(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600), "wb") as f:
                while chunk := src.read(1 << 20):
                    digest.update(chunk)
                    f.write(chunk)
            if digest.hexdigest() != entry["sha256"]:
                raise BackupError(f"archive member {name!r}: checksum mismatch (the archive is damaged)")
    return manifest


def _service_answers(config: Path) -> str | None:
    """The address of a service running with this configuration, if one answers."""
    from nms.app.settings import Settings
    from nms.configfile import ConfigError, read_yaml, validate

    try:  # nms.yaml alone: the other files may be what is being repaired
        listen = validate(read_yaml(config), Settings).http.listen
    except (ConfigError, OSError):
        return None
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return listen
    except OSError:
        return None


@dataclass(frozen=True)
class RestorePlan:
    files: list[tuple[Path, Path, int]]  # (staged, target, mode)
    config: Path


def _plan(manifest: dict[str, object], staging: Path, config: Path, root: Path | None) -> RestorePlan:
    modes = {str(e["name"]): int(e.get("mode", 0o600)) & 0o777 for e in manifest["members"]}
    original = PurePosixPath(str(manifest["config"]))
    staged_config = staging / "config" / original.name
    if not staged_config.is_file():
        raise BackupError(f"the archive has no config/{original.name}")
    loc = locations(staged_config)
    staged_dir = staging / "config"

    def target(path: Path) -> Path:
        """A location read from the staged configuration, as it will be after the restore."""
        path = path.absolute()
        with contextlib.suppress(ValueError):
            return config.parent / path.relative_to(staged_dir)
        if root is not None:
            return root / path.relative_to("/")
        return path

    anchors = {"admin": loc.admin_state, "sounds": loc.sounds, "recordings": loc.recordings}
    files: list[tuple[Path, Path, int]] = []
    for name, mode in modes.items():
        parts = PurePosixPath(name).parts
        staged = staging.joinpath(*parts)
        if parts[0] == "config":
            dest = config.parent.joinpath(*parts[1:])
        elif parts[0] == "files":
            dest = target(Path("/", *parts[1:]))
        elif parts[0] == "ivr":
            if loc.events_db is None:
                raise BackupError("the archive has an IVR event store, but the restored configuration has no IVR")
            dest = target(loc.events_db)
        else:
            anchor = anchors[parts[0]]
            if anchor is None:
                raise BackupError(f"the archive has {parts[0]}/, but the restored configuration has no place for it")
            dest = target(anchor).joinpath(*parts[1:])
        files.append((staged, dest, mode))
    return RestorePlan(files=files, config=config)


def restore(archive: Path, config: Path, *, root: Path | None = None, force: bool = False,
            progress: Callable[[str], None] | None = None) -> RestorePlan:
    """Restore ``archive`` so that ``config`` (re-rooted under ``root``) is its nms.yaml."""
    archive = Path(archive).absolute()
    root = Path(root).absolute() if root else None
    config = Path(config).absolute()
    if root is not None:
        config = root / config.relative_to("/")
    config.parent.mkdir(parents=True, exist_ok=True)
    running = _service_answers(config) if config.exists() else None
    if running and not force:
        raise BackupError(f"a service answers on {running} (configured in {config}): stop it first "
                          f"(systemctl stop nms), or restore with --force")
    staging = Path(tempfile.mkdtemp(prefix=".nms-restore-", dir=config.parent))
    try:
        manifest = read_archive(archive, staging)
        original = PurePosixPath(str(manifest["config"]))
        if original.name != config.name:  # the archive's nms.yaml restores under the name given
            (staging / "config" / original.name).rename(staging / "config" / config.name)
            manifest["members"] = [{**e, "name": "config/" + config.name}
                                   if e["name"] == "config/" + original.name else e for e in manifest["members"]]
            manifest["config"] = (original.parent / config.name).as_posix()
        plan = _plan(manifest, staging, config, root)
        existing = [dest for _, dest, _ in plan.files if dest.exists()]
        if existing and not force:
            shown = ", ".join(str(p) for p in existing[:3]) + (" ..." if len(existing) > 3 else "")
            raise BackupError(f"{len(existing)} file(s) would be overwritten ({shown}); restore into an empty "
                              f"place, or pass --force to replace them")
        for staged, dest, mode in plan.files:
            dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if _is_sqlite(dest):  # a stale WAL beside the new file would be replayed into it
                for suffix in ("-wal", "-shm", "-journal"):
                    with contextlib.suppress(FileNotFoundError):
                        Path(f"{dest}{suffix}").unlink()
            atomic_write_bytes(dest, staged.read_bytes(), mode)
            if progress:
                progress(str(dest))
        return plan
    finally:
        shutil.rmtree(staging, ignore_errors=True)
