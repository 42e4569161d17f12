"""No edit is ever lost: concurrent editors (threads and processes), and a writer killed mid-write.

The editors use the same change path as the page (ChangeManager: edit on the latest text, version
check, atomic write with history, audit). Every edit that was acknowledged must be in the file or
superseded by a later acknowledged edit of the same item, and in the history and the audit log.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from nms.admin.changes import ChangeManager
from nms.admin.validation import check_ivr
from nms.configfile import load_text
from tests import admin_fixtures

light_admin = admin_fixtures.light_admin
REPO = Path(__file__).resolve().parent.parent
KEYS = ["staff-protection", "recording-notice", "menu", "busy", "after-hours", "lunch", "holiday", "warning-final"]

CHILD = textwrap.dedent("""
    import sys
    from pathlib import Path
    from nms.admin.changes import ChangeManager
    from nms.admin.settings import AdminSettings
    from nms.admin.workspace import Workspace
    from nms.app.district import load_district
    from nms import admin

    base, key, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    ws = Workspace(load_district(base / "nms.yaml"), AdminSettings(
        state_dir=base / "admin", ivr_config=base / "ivr.yaml", sounds_dir=base / "sounds"))
    changes = ChangeManager(ws)
    store = ws.file("ivr").store
    for n in range(count):
        _, version = store.read()
        text = f"{key} 수정 {n}"
        def edit(doc, text=text):
            doc["announcements"][key] = text
        out = changes.change("ivr", user=f"proc-{key}", action="ivr.announcement", summary=f"{key} {n}",
                             base_version=version, edit=edit, section=("announcements", key))
        print(out.status, n, out.version, flush=True)
""")


def _announcements(base: Path) -> dict[str, str]:
    return load_text((base / "ivr.yaml").read_text(encoding="utf-8"))["announcements"]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def test_concurrent_editors_in_threads_lose_nothing(light_admin) -> None:
    changes = ChangeManager(light_admin.ws)
    store = light_admin.ws.file("ivr").store
    _, base = store.read()
    results: dict[str, str] = {}
    barrier = threading.Barrier(len(KEYS) + 2)

    def editor(key: str, text: str, slot: str) -> None:
        barrier.wait()
        out = changes.change("ivr", user=slot, action="ivr.announcement", summary=key, base_version=base,
                             edit=lambda doc: doc["announcements"].__setitem__(key, text),
                             section=("announcements", key))
        results[slot] = out.status

    threads = [threading.Thread(target=editor, args=(k, f"{k} 새 문구", k)) for k in KEYS]
    # Two people editing the same announcement from the same page: one wins, the other is told.
    threads += [threading.Thread(target=editor, args=("busy", f"동시 수정 {i}", f"rival-{i}")) for i in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    texts = _announcements(light_admin.base)
    for k in KEYS:
        if k != "busy":
            assert results[k] == "saved" and texts[k] == f"{k} 새 문구"
    busy_writers = [s for s in ("busy", "rival-1", "rival-2") if results[s] == "saved"]
    assert len(busy_writers) == 1 and sorted(results[s] for s in ("busy", "rival-1", "rival-2")).count(
        "conflict") == 2
    winner = {"busy": "busy 새 문구", "rival-1": "동시 수정 1", "rival-2": "동시 수정 2"}[busy_writers[0]]
    assert texts["busy"] == winner
    history = store.history()
    assert len({e.version for e in history}) == len(KEYS) + 1  # the original and one version per saved edit
    audit = light_admin.ws.audit.entries(limit=100)
    assert sorted(e.result for e in audit if e.action == "ivr.announcement").count("conflict") == 2


def test_concurrent_editor_processes_lose_nothing(light_admin) -> None:
    keys = KEYS[:4]
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(light_admin.base), k, "6"], env=_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for k in keys]
    outputs = [p.communicate(timeout=120) for p in procs]
    for (out, err), p in zip(outputs, procs, strict=True):
        assert p.returncode == 0, err
        statuses = [line.split()[0] for line in out.splitlines()]
        assert statuses == ["saved"] * 6, out
    texts = _announcements(light_admin.base)
    assert all(texts[k] == f"{k} 수정 5" for k in keys)
    versions = {e.version for e in light_admin.ws.file("ivr").store.history()}
    for out, _err in outputs:
        for line in out.splitlines():
            assert line.split()[2] in versions


def test_a_writer_killed_mid_write_loses_nothing(light_admin) -> None:
    base = light_admin.base
    store = light_admin.ws.file("ivr").store
    for attempt in range(3):  # kill at three different moments
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(base), "busy", "100000"], env=_env(),
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        acked: list[tuple[int, str]] = []
        deadline = time.monotonic() + 30
        while len(acked) < 3 + attempt * 2 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line.startswith("saved"):
                acked.append((int(line.split()[1]), line.split()[2]))
        time.sleep(0.013 * (attempt + 1))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        acked += [(int(x.split()[1]), x.split()[2]) for x in proc.stdout.read().splitlines() if x.startswith("saved")]
        assert acked, "the child acknowledged no write"
        # The file is whole and valid: the last acknowledged edit or the one being written when killed.
        text, _current = store.read()
        check_ivr(text)
        last_n = acked[-1][0]
        assert _announcements(base)["busy"] in (f"busy 수정 {last_n}", f"busy 수정 {last_n + 1}")
        versions = {e.version for e in store.history()}
        assert all(v in versions for _n, v in acked)
        audited = {e.version for e in light_admin.ws.audit.entries(limit=100000) if e.action == "ivr.announcement"}
        assert all(v in audited for _n, v in acked)
    # The next write through the page path works and cleans up what the killed writer left.
    changes = ChangeManager(light_admin.ws)
    out = changes.change("ivr", user="after", action="ivr.announcement", summary="after the kill",
                         base_version=store.read()[1], edit=lambda d: d["announcements"].__setitem__("busy", "복구 후"),
                         section=("announcements", "busy"))
    assert out.status == "saved"
    assert not list(base.glob(".ivr.yaml.*.tmp"))
