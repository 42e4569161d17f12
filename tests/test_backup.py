"""`nms backup` / `nms restore`: a round trip under load, and archives an attacker or a broken disk made.

The load is the service's own stores written from their own threads, as `nms run` does: the IVR
event store (events arriving from Asterisk), the admin users and audit log (page changes), and the
inventory through its ConfigStore (atomic writes with history).
"""

from __future__ import annotations

import hashlib
import io
import json
import socket
import sqlite3
import tarfile
import threading
import time
from pathlib import Path

import pytest
import yaml

from ivr.events import EventStore, ProtectionEvent
from nms.admin.audit import AuditLog
from nms.admin.users import Role, UserStore
from nms.backup import BackupError, backup, read_archive, restore
from nms.cli import main
from nms.store import ConfigStore
from tests.lab_fixtures import REPO, free_tcp_port, write_small_district

KEY = b"caller-key-for-tests-0123456789ab"


def district(directory: Path) -> Path:
    """A small district whose state lives beside its configuration (relative paths)."""
    config = write_small_district(directory)
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    settings.update({"flows": {"enabled": False},
                     "ivr": {"enabled": True, "config": "ivr.yaml", "asterisk_etc": None},
                     "admin": {"enabled": True, "state_dir": "state/admin", "sounds_dir": "sounds"}})
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    ivr = yaml.safe_load((REPO / "configs" / "ivr.yaml").read_text(encoding="utf-8"))
    ivr["events"] = {**ivr.get("events", {}), "database": "state/ivr/events.sqlite3"}
    ivr["recordings"] = {**ivr.get("recordings", {}), "directory": "/var/spool/asterisk/monitor/nms",
                         "host_directory": "recordings"}
    (directory / "ivr.yaml").write_text(yaml.safe_dump(ivr, allow_unicode=True), encoding="utf-8")
    sounds = directory / "sounds" / ivr.get("language", "ko") / "nms"
    sounds.mkdir(parents=True)
    (sounds / "staff-protection.wav").write_bytes(b"RIFF" + bytes(range(256)) * 40)
    (directory / "recordings").mkdir()
    (directory / "recordings" / "call-0001.wav").write_bytes(b"RIFF" + b"\x01" * 5000)
    audio = directory / "state" / "admin" / "audio" / "blobs"
    audio.mkdir(parents=True)
    (audio / ("ab" * 32 + ".wav")).write_bytes(b"RIFF" + b"\x02" * 3000)
    return config


class Load:
    """Writers in their own threads; each remembers what it committed, in order."""

    def __init__(self, base: Path):
        self.events = EventStore(base / "state/ivr/events.sqlite3", KEY)
        self.users = UserStore(base / "state/admin/users.sqlite3")
        self.audit = AuditLog(base / "state/admin/audit.sqlite3")
        self.inventory = ConfigStore(base / "inventory.yaml")
        self.event_ids: list[str] = []
        self.audit_ids: list[int] = []
        self.user_names: list[str] = []
        self.versions: list[str] = []
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self._guard, args=(f,), daemon=True)
                        for f in (self._events, self._admin, self._config)]

    def _guard(self, loop) -> None:
        try:
            loop()
        except BaseException as exc:  # reported by the test
            self.errors.append(exc)

    def _events(self) -> None:
        i = 0
        while not self.stop.is_set():
            ev = ProtectionEvent(f"ev-{i:06d}", time.time(), "warning", 1, "civil", i % 60 + 1, "0226001234",
                                 f"0101234{i % 10000:04d}", None)
            assert self.events.add(ev)
            self.event_ids.append(ev.event_id)
            i += 1

    def _admin(self) -> None:
        i = 0
        while not self.stop.is_set():
            if i % 10 == 0:
                name = f"staff{i:04d}"
                self.users.create(name, Role.VIEWER, f"long-password-{i}-x")
                self.user_names.append(name)
            self.audit_ids.append(self.audit.record(user="kim", action="ivr.announcement", target=f"k{i}",
                                                    summary=f"change {i}", result="applied", diff="x" * 500))
            i += 1

    def _config(self) -> None:
        text = self.inventory.read()[0]
        i = 0
        while not self.stop.is_set():
            self.versions.append(self.inventory.write(text + f"# edit {i}\n", author="kim", message=f"edit {i}"))
            i += 1
            time.sleep(0.01)

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(30)
        self.events.close()
        self.users.close()
        self.audit.close()


def wait_until(predicate, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end and not predicate():
        time.sleep(0.05)
    assert predicate()


def prefix_of(committed: list, restored: list) -> None:
    """Restored = the first k committed items, in order: nothing missing in between, nothing torn."""
    assert restored == committed[:len(restored)]


def test_backup_under_load_restores_into_a_fresh_directory_with_nothing_lost(tmp_path: Path) -> None:
    source = tmp_path / "live"
    config = district(source)
    archive = tmp_path / "backup.tar.gz"
    with Load(source) as load:
        wait_until(lambda: len(load.event_ids) > 200 and len(load.audit_ids) > 20 and len(load.versions) > 5)
        before = (list(load.event_ids), list(load.audit_ids), list(load.user_names), list(load.versions))
        assert main(["--config", str(config), "backup", "--out", str(archive), "--with-recordings"]) == 0
        after_events = len(load.event_ids)
        wait_until(lambda: len(load.event_ids) > after_events + 100)  # still writing after the backup
    assert not load.errors, load.errors
    assert archive.stat().st_mode & 0o777 == 0o600

    fresh = tmp_path / "fresh"
    assert main(["--config", str(fresh / "nms.yaml"), "restore", str(archive)]) == 0

    # Every SQLite file is whole, and holds at least what was committed before the backup started.
    for db in ("state/ivr/events.sqlite3", "state/admin/users.sqlite3", "state/admin/audit.sqlite3"):
        con = sqlite3.connect(fresh / db)
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok", db
        con.close()
    events = EventStore(fresh / "state/ivr/events.sqlite3", KEY)
    restored_events = [e["event_id"] for e in events.events(limit=10**7)]
    events.close()
    prefix_of(load.event_ids, restored_events)
    assert len(restored_events) >= len(before[0])
    audit = AuditLog(fresh / "state/admin/audit.sqlite3")
    restored_audit = sorted(e.id for e in audit.entries(limit=10**7))
    audit.close()
    prefix_of(load.audit_ids, restored_audit)
    assert len(restored_audit) >= len(before[1])
    users = UserStore(fresh / "state/admin/users.sqlite3")
    restored_users = sorted(u.name for u in users.list())
    assert users.verify(before[2][0], "long-password-0-x") is not None  # logins survive
    users.close()
    prefix_of(load.user_names, restored_users)

    # The inventory and its history agree: the restored file is a logged version, none missing.
    store = ConfigStore(fresh / "inventory.yaml")
    _text, version = store.read()
    history = [e.version for e in store.history()]
    assert version == history[-1]
    assert set(before[3]) <= set(history)
    for entry in store.history():
        assert hashlib.sha256(store.read_version(entry.version).encode()).hexdigest() == entry.version

    # Audio, announcement prompts and recordings came back byte for byte.
    for rel in ("sounds/ko/nms/staff-protection.wav", "recordings/call-0001.wav",
                "state/admin/audio/blobs/" + "ab" * 32 + ".wav", "ivr.yaml", "snmp.yaml"):
        assert (fresh / rel).read_bytes() == (source / rel).read_bytes(), rel
    assert (fresh / "nms.yaml").read_bytes() == config.read_bytes()
    assert (fresh / "state/admin/users.sqlite3").stat().st_mode & 0o777 == 0o600


def test_recordings_only_when_asked(tmp_path: Path) -> None:
    config = district(tmp_path / "live")
    names = []
    for flag, out in ((False, tmp_path / "a.tgz"), (True, tmp_path / "b.tgz")):
        manifest = backup(config, out, with_recordings=flag)
        names.append({m["name"] for m in manifest["members"]})
    assert "recordings/call-0001.wav" not in names[0]
    assert "recordings/call-0001.wav" in names[1]
    assert {"config/nms.yaml", "config/inventory.yaml", "config/snmp.yaml", "config/ivr.yaml",
            "sounds/staff-protection.wav"} <= names[0]


def test_backup_never_overwrites_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = district(tmp_path / "live")
    out = tmp_path / "exists.tgz"
    out.write_text("precious")
    assert main(["--config", str(config), "backup", "--out", str(out)]) == 1
    assert out.read_text() == "precious"
    assert "exists already" in capsys.readouterr().err


def test_restore_refuses_existing_state_and_a_running_service_unless_forced(tmp_path: Path,
                                                                           capsys: pytest.CaptureFixture) -> None:
    config = district(tmp_path / "live")
    archive = tmp_path / "b.tgz"
    backup(config, archive)
    target = tmp_path / "target" / "nms.yaml"
    restore(archive, target)
    # Existing state: refused, nothing changed.
    (target.parent / "snmp.yaml").write_text("# changed after the restore\n")
    assert main(["--config", str(target), "restore", str(archive)]) == 1
    assert "would be overwritten" in capsys.readouterr().err
    assert (target.parent / "snmp.yaml").read_text() == "# changed after the restore\n"
    # A service answering on the configuration's http.listen: refused even before looking further.
    settings = yaml.safe_load(target.read_text())
    port = free_tcp_port()
    settings["http"]["listen"] = f"127.0.0.1:{port}"
    target.write_text(yaml.safe_dump(settings))
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", port))
        listener.listen()
        with pytest.raises(BackupError, match="a service answers"):
            restore(archive, target)
    # Told to: it replaces the files.
    assert main(["--config", str(target), "restore", str(archive), "--force"]) == 0
    assert (target.parent / "snmp.yaml").read_bytes() == (tmp_path / "live" / "snmp.yaml").read_bytes()


def test_restore_under_a_root_keeps_absolute_paths_inside_it(tmp_path: Path) -> None:
    config = district(tmp_path / "live")
    settings = yaml.safe_load(config.read_text())
    absolute = tmp_path / "var-lib-nms-admin"  # an absolute state directory, as /var/lib/nms/admin is
    (tmp_path / "live/state/admin").rename(absolute)
    settings["admin"]["state_dir"] = str(absolute)
    config.write_text(yaml.safe_dump(settings))
    archive = tmp_path / "b.tgz"
    backup(config, archive)
    root = tmp_path / "root"
    plan = restore(archive, Path("/etc/nms/nms.yaml"), root=root)
    assert plan.config == root / "etc/nms/nms.yaml"
    assert all(dest.is_relative_to(root) for _, dest, _ in plan.files)
    blob = "audio/blobs/" + "ab" * 32 + ".wav"
    assert (root / absolute.relative_to("/") / blob).read_bytes() == (absolute / blob).read_bytes()
    assert (root / "etc/nms/sounds/ko/nms/staff-protection.wav").is_file()


def _evil_archive(path: Path, members: list[tuple[tarfile.TarInfo, bytes]], manifest: dict | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        entries = []
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
            if info.isfile():
                entries.append({"name": info.name, "size": len(data), "mode": 0o600,
                                "sha256": hashlib.sha256(data).hexdigest()})
        doc = manifest or {"format": 1, "config": "/etc/nms/nms.yaml", "members": entries}
        data = json.dumps(doc).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path


def _file(name: str, data: bytes = b"x") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


@pytest.mark.parametrize("member", [
    _file("../../outside.txt"),
    _file("config/../../outside.txt"),
    _file("/tmp/outside.txt"),
    _file("config/./nms.yaml"),
    _file("elsewhere/x"),
    _file("config\\..\\x"),
], ids=["dotdot", "nested-dotdot", "absolute", "dot", "unknown-prefix", "backslash"])
def test_restore_refuses_path_traversal(tmp_path: Path, member: tuple[tarfile.TarInfo, bytes]) -> None:
    archive = _evil_archive(tmp_path / "evil.tgz", [_file("config/nms.yaml", b"inventory: i.yaml\n"), member])
    target = tmp_path / "t" / "nms.yaml"
    with pytest.raises(BackupError):
        restore(archive, target)
    assert not (tmp_path / "outside.txt").exists() and not Path("/tmp/outside.txt").exists()
    assert not target.exists()
    assert [p for p in target.parent.iterdir()] == []  # the staging directory is gone too


def test_restore_refuses_links_devices_and_tampering(tmp_path: Path) -> None:
    link = tarfile.TarInfo("config/inventory.yaml")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/shadow"
    hard = tarfile.TarInfo("config/snmp.yaml")
    hard.type, hard.linkname = tarfile.LNKTYPE, "config/nms.yaml"
    dev = tarfile.TarInfo("config/dev")
    dev.type = tarfile.CHRTYPE
    for i, bad in enumerate((link, hard, dev)):
        archive = _evil_archive(tmp_path / f"l{i}.tgz", [_file("config/nms.yaml"), (bad, b"")])
        with pytest.raises(BackupError, match="links, devices"):
            read_archive(archive, tmp_path / f"s{i}")
    # A member changed after the backup: its checksum no longer matches the manifest.
    good = _file("config/nms.yaml", b"inventory: a\n")
    manifest = {"format": 1, "config": "/etc/nms/nms.yaml", "members": [
        {"name": "config/nms.yaml", "size": len(good[1]), "mode": 0o600, "sha256": "0" * 64}]}
    with pytest.raises(BackupError, match="checksum"):
        read_archive(_evil_archive(tmp_path / "sum.tgz", [good], manifest), tmp_path / "s-sum")
    # A member not in the manifest, and a manifest naming a missing member.
    manifest["members"][0]["name"] = "config/other.yaml"
    with pytest.raises(BackupError, match="do not match the manifest"):
        read_archive(_evil_archive(tmp_path / "extra.tgz", [good], manifest), tmp_path / "s-extra")
    # Not an archive at all, and a format from the future.
    (tmp_path / "junk.tgz").write_bytes(b"this is not an archive\n" * 100)
    with pytest.raises(BackupError, match="not a readable backup"):
        read_archive(tmp_path / "junk.tgz", tmp_path / "s-junk")
    future = {"format": 99, "config": "/etc/nms/nms.yaml", "members": []}
    with pytest.raises(BackupError, match="newer release"):
        read_archive(_evil_archive(tmp_path / "future.tgz", [], future), tmp_path / "s-future")
