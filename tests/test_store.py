"""nms.store: atomic writes (also when the writer is killed), version conflicts, history, rollback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from nms.store import ABSENT, ConfigStore, UnknownVersion, VersionConflict, version_of

REPO = Path(__file__).resolve().parent.parent


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _temp_files(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*.tmp")]


def test_write_then_read_gives_text_and_sha256_version(tmp_path: Path) -> None:
    store = ConfigStore(tmp_path / "inventory.yaml")
    assert store.current_version() is None
    with pytest.raises(FileNotFoundError):
        store.read()
    version = store.write("version: 1\n", expected_version=ABSENT, author="kim", message="first")
    assert store.read() == ("version: 1\n", version)
    assert version == version_of("version: 1\n") == version_of(b"version: 1\n")
    assert len(version) == 64
    assert _temp_files(tmp_path) == []


def test_stale_expected_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yaml"
    alice, bob = ConfigStore(path), ConfigStore(path)
    v0 = alice.write("a: 0\n")
    _, seen_by_bob = bob.read()
    alice.write("a: 1\n", expected_version=v0, author="alice")
    with pytest.raises(VersionConflict) as err:
        bob.write("a: 2\n", expected_version=seen_by_bob, author="bob")
    assert str(path) in str(err.value)
    assert err.value.actual == version_of("a: 1\n")
    assert path.read_text() == "a: 1\n"  # alice's change survives
    with pytest.raises(VersionConflict):
        bob.write("a: 3\n", expected_version=ABSENT)  # expected no file, but there is one
    assert [e.author for e in bob.history()] == ["", "alice"]


def test_history_keeps_every_version_and_rollback_is_a_new_write(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yaml"
    store = ConfigStore(path)
    v1 = store.write("n: 1\n", author="kim", message="one")
    v2 = store.write("n: 2\n", expected_version=v1, author="lee", message="two")
    v3 = store.write("n: 3\n", expected_version=v2, author="park", message="three")

    history = store.history()
    assert [(e.seq, e.version, e.author, e.message) for e in history] == [
        (1, v1, "kim", "one"), (2, v2, "lee", "two"), (3, v3, "park", "three")]
    assert all(e.time.tzinfo is not None for e in history)
    assert store.history_dir == tmp_path / ".history" / "inventory.yaml"
    for entry in history:
        # <UTC timestamp>-<seq>-<short sha>.yaml
        stamp, seq, short = entry.file.stem.split("-")
        assert stamp.endswith("Z") and int(seq) == entry.seq and entry.version.startswith(short)
        assert entry.file.suffix == ".yaml"
    log = [json.loads(line) for line in (store.history_dir / "log.jsonl").read_text().splitlines()]
    assert [r["version"] for r in log] == [v1, v2, v3]
    assert {"time", "author", "message", "version"} <= set(log[0])

    assert store.read_version(v1) == "n: 1\n"
    assert store.read_version(v2[:8]) == "n: 2\n"  # a unique prefix is enough
    with pytest.raises(UnknownVersion):
        store.read_version("0" * 64)

    v4 = store.rollback(v1[:10], author="choi")
    assert v4 == v1
    assert path.read_text() == "n: 1\n"
    last = store.history()[-1]
    assert (last.seq, last.version, last.author) == (4, v1, "choi")
    assert "rollback" in last.message and v1[:12] in last.message
    # Content is stored once per distinct version.
    assert len(list(store.history_dir.glob("*.yaml"))) == 3


def test_rewriting_the_same_content_logs_nothing(tmp_path: Path) -> None:
    store = ConfigStore(tmp_path / "x.yaml")
    v = store.write("same\n")
    assert store.write("same\n", expected_version=v) == v
    assert len(store.history()) == 1


def test_hand_edited_and_preexisting_versions_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text("written by hand\n")
    path.chmod(0o640)
    store = ConfigStore(path)
    v_store = store.write("by the store\n", author="kim")
    path.write_text("edited by hand again\n")
    store.write("by the store again\n", author="lee")
    texts = [store.read_version(e.version) for e in store.history()]
    assert texts == ["written by hand\n", "by the store\n", "edited by hand again\n", "by the store again\n"]
    assert "found on disk" in store.history()[0].message
    assert store.history()[1].version == v_store
    assert path.stat().st_mode & 0o777 == 0o640  # the file's mode is kept


def test_custom_history_dir(tmp_path: Path) -> None:
    store = ConfigStore(tmp_path / "a.yaml", history_dir=tmp_path / "hist")
    v = store.write("a\n")
    assert (tmp_path / "hist" / "log.jsonl").exists()
    assert store.read_version(v) == "a\n"
    assert not (tmp_path / ".history").exists()


def test_concurrent_writers_in_separate_processes_lose_no_update(tmp_path: Path) -> None:
    """Read-modify-write with expected_version from 3 processes: every increment lands exactly once."""
    path = tmp_path / "counter.yaml"
    ConfigStore(path).write("0\n", author="init")
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from nms.store import ConfigStore, VersionConflict
        store = ConfigStore(Path({str(path)!r}))
        done = conflicts = 0
        while done < 15:
            text, version = store.read()
            try:
                store.write(f"{{int(text) + 1}}\\n", expected_version=version, author=sys.argv[1])
                done += 1
            except VersionConflict:
                conflicts += 1
                if conflicts > 10000:
                    sys.exit("too many conflicts")
        """)
    procs = [subprocess.Popen([sys.executable, "-c", script, f"writer-{i}"], env=_child_env())
             for i in range(3)]
    try:
        codes = [p.wait(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert codes == [0, 0, 0]
    store = ConfigStore(path)
    assert store.read()[0] == "45\n"
    history = store.history()
    assert len(history) == 46
    assert [store.read_version(e.version) for e in history] == [f"{n}\n" for n in range(46)]


# -- crashes ------------------------------------------------------------------------------------

_LOOP_WRITER = """
import sys
from pathlib import Path
from nms.store import ConfigStore
store = ConfigStore(Path(sys.argv[1]))
texts = [Path(sys.argv[2]).read_text(), Path(sys.argv[3]).read_text()]
for i in range(2000):
    store.write(texts[i % 2], author="loop")
"""


def _big_text(mark: str, size: int = 4 << 20) -> str:
    line = f"- {mark} " + mark * 60 + "\n"
    return line * (size // len(line))


def test_killed_writer_leaves_old_or_new_content_never_partial(tmp_path: Path) -> None:
    """SIGKILL a process that writes 4 MB files in a loop; readers only ever see whole versions."""
    path = tmp_path / "inventory.yaml"
    texts = {"a": _big_text("a"), "b": _big_text("b")}
    for mark, text in texts.items():
        (tmp_path / f"{mark}.src").write_text(text)
    whole = {version_of(t) for t in texts.values()}
    initial = "initial\n"
    ConfigStore(path).write(initial)
    whole.add(version_of(initial))

    for round_no in range(6):
        child = subprocess.Popen([sys.executable, "-c", _LOOP_WRITER, str(path),
                                  str(tmp_path / "a.src"), str(tmp_path / "b.src")], env=_child_env())
        try:
            changes, changes_wanted = 0, 2 + round_no
            deadline = time.monotonic() + 60
            last = version_of(path.read_bytes())
            while changes < changes_wanted and time.monotonic() < deadline and child.poll() is None:
                version = version_of(path.read_bytes())
                assert version in whole, "a reader saw a partially written file"
                if version != last:
                    changes, last = changes + 1, version
            time.sleep(0.005 * round_no)  # land the kill at a different point of a write each round
            child.send_signal(signal.SIGKILL)
        finally:
            if child.poll() is None:
                child.kill()
            child.wait()
        assert version_of(path.read_bytes()) in whole
        store = ConfigStore(path)
        store.history()  # a torn log line does not break reading the history
        # The lock died with the writer; the next write works and clears its temp files.
        v = store.write(f"after crash {round_no}\n", author="test")
        assert store.read() == (f"after crash {round_no}\n", v)
        assert _temp_files(tmp_path) == []
        whole.add(v)


_STUCK_WRITER = """
import os, sys, time
from pathlib import Path
import nms.store
target = Path(sys.argv[1])
real_fsync = os.fsync
def fsync(fd):
    name = os.readlink(f"/proc/self/fd/{fd}")
    if os.path.basename(name).startswith("." + target.name + ".") and os.path.dirname(name) == str(target.parent):
        print("mid-write", flush=True)
        time.sleep(600)
    real_fsync(fd)
nms.store.os.fsync = fsync
nms.store.ConfigStore(target).write("new content\\n" * 1000, author="stuck")
"""


def test_writer_killed_mid_write_leaves_the_old_file(tmp_path: Path) -> None:
    """Kill a writer exactly while its temp file is written but not yet renamed."""
    path = tmp_path / "inventory.yaml"
    store = ConfigStore(path)
    old_version = store.write("old content\n", author="kim")
    child = subprocess.Popen([sys.executable, "-c", _STUCK_WRITER, str(path)], env=_child_env(),
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "mid-write"
        assert len(_temp_files(tmp_path)) >= 1  # the new text sits in a temp file...
        assert store.read() == ("old content\n", old_version)  # ...and the file is untouched
        child.send_signal(signal.SIGKILL)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    assert store.read() == ("old content\n", old_version)
    v = store.write("next\n", expected_version=old_version, author="lee")
    assert store.read()[1] == v
    assert _temp_files(tmp_path) == []
    # Only the committed writes are in the log; the killed one is not.
    assert [e.author for e in store.history()] == ["kim", "lee"]
