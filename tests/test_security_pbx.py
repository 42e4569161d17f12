"""Security of the telephony side, attacked over AMI and on disk against the real Asterisk 22.

* The controller's AMI account (its secret is all an attacker on the host needs) may read, never
  change: GetConfig, UpdateConfig, Originate, Command, Redirect, Setvar, Reload, DBPut, DBDel and
  Hangup are refused by Asterisk itself.
* Caller numbers never reach a log, an event or the AstDB; the key of their hash is in no log either.
* Recordings are 0640 in 0750 directories of the PBX's group.
* Files holding secrets are never readable by another user, not even while a reload writes them.
"""

from __future__ import annotations

import os
import pwd
import sqlite3
import subprocess
import textwrap
import time

from ivr.ami_protocol import AmiConnection
from ivr.render import CALLER_KEY_FILE, caller_hash_key, render
from lab import asterisk as lab_asterisk
from tests import ivr_fixtures
from tests.ivr_fixtures import run

asterisk_rootfs = ivr_fixtures.asterisk_rootfs
ivr_lab_factory = ivr_fixtures.ivr_lab_factory

FORBIDDEN = {
    "GetConfig": {"Filename": "manager.conf"},
    "UpdateConfig": {"SrcFilename": "extensions.conf", "DstFilename": "extensions.conf", "Reload": "yes",
                     "Action-000000": "Append", "Cat-000000": "nms-menu", "Var-000000": "exten",
                     "Value-000000": "0,1,System(id)"},
    "Originate": {"Channel": "Local/s@nms-lab-caller/n", "Context": "nms-lab-caller", "Exten": "s",
                  "Priority": "1", "Async": "true"},
    "Command": {"Command": "core show settings"},
    "Redirect": {"Channel": "Local/x@y-00000001;1", "Context": "nms-dial", "Exten": "s", "Priority": "1"},
    "Setvar": {"Variable": "NMS_LINES", "Value": "0"},
    "Reload": {"Module": "pbx_config"},
    "ModuleLoad": {"Module": "pbx_config", "LoadType": "reload"},
    "DBPut": {"Family": "nmsevents", "Key": "forged", "Val": "x"},
    "DBDel": {"Family": "nmsevents", "Key": "forged"},
    "Hangup": {"Channel": "Local/x@y-00000001;1"},
    "CreateConfig": {"Filename": "evil.conf"},
}


def test_the_controllers_ami_account_may_read_but_change_nothing(ivr_lab_factory) -> None:
    lab = ivr_lab_factory()
    ami = lab.config.ami
    secret = lab.secret(ami.secret)
    service = lab.service()

    async def scenario() -> None:
        conn = AmiConnection(str(ami.host), ami.port, ami.username, secret, 10.0)
        await conn.connect(5)
        try:
            for action, fields in FORBIDDEN.items():
                resp = await conn.action({"Action": action, **fields})
                assert resp.get("Response") == "Error" and "ermission denied" in resp.get("Message", ""), \
                    (action, dict(resp))
            # What it needs still works: reading variables, channels and the event outbox.
            resp = await conn.action({"Action": "Getvar", "Variable": "NMS_CONFIG_ID"})
            assert resp.get("Response") == "Success" and resp.get("Value")
            entries = await conn.event_list({"Action": "DBGetTree", "Family": "nmsevents"}, "DBGetTreeResponse")
            assert entries == []
            # A function with side effects read through Getvar does nothing either.
            resp = await conn.action({"Action": "Getvar", "Variable": "SHELL(id)"})
            assert resp.get("Response") == "Error"
        finally:
            conn.close()
        # The controller itself still reloads and hangs up (through Asterisk's control socket).
        await service.start()
        await service.controller.ready.wait()
        new = lab.config.model_copy(update={"lines": lab.config.lines - 1})
        await service.reload_async(new)
        async with lab.client() as client:
            did = lab.config.departments[0].dids[0]
            await client.call(did)
            uid = await client.wait_until(lambda: next(iter(service.controller.calls), None), 30, "a live call")
            await service.controller.hangup(uid)
            await client.wait_until(lambda: not service.controller.calls, 15, "the call hung up")
        await service.stop()

    run(scenario())
    assert "write = reporting" in (lab.instance.etc_dir / "manager.conf").read_text()


def test_caller_numbers_stay_out_of_logs_events_and_astdb(ivr_lab_factory) -> None:
    lab = ivr_lab_factory()
    service = lab.service()
    dept = next(d for d in lab.config.departments if d.protection and d.recording)
    number = "01055557777"

    async def scenario() -> None:
        await service.start()
        async with lab.client() as client:
            await service.controller.ready.wait()
            await client.call(dept.dids[0], caller=number)
            staff = await client.wait_until(lambda: [
                e.get("Channel") for e in client.events if e.get("Event") == "BridgeEnter"
                and "@nms-lab-staff" in e.get("Channel", "") and e.get("Channel").endswith(";1")], 30,
                "staff answered")
            await client.press(staff[0], lab.config.protection.warning_key)
            await client.wait_until(lambda: client.user_events("NmsProtection"), 15, "a protection event")
            await client.wait_until(lambda: service.store.count() == 1, 10, "stored")
            await client.conn.ok({"Action": "Hangup", "Channel": staff[0]})
            await client.wait_until(lambda: client.user_events("NmsCallEnd"), 15, "call ended")
            events = [dict(e) for e in client.events]
        await service.stop()
        return events

    events = run(scenario())
    inst = lab.instance
    key = caller_hash_key(lab.render_options(lab.config))
    # Every event Asterisk emitted to anyone, the verbose log and the AstDB: no number, no key.
    protection = [e for e in events if e.get("UserEvent") == "NmsProtection"]
    assert protection and protection[0]["Caller"] and "7777" not in protection[0]["Caller"]
    # What the project puts into events (Asterisk's own channel headers aside): the UserEvents' fields,
    # the arguments of every dialplan step, every variable set.
    own = [{k: v for k, v in e.items() if k not in ("CallerIDNum", "ConnectedLineNum")} for e in events
           if e.get("Event") == "UserEvent"]
    own += [e.get("AppData") for e in events if e.get("Event") == "Newexten"]
    own += [e.get("Value") for e in events if e.get("Event") == "VarSet"]
    assert len(own) > 50
    for item in own:
        assert number not in str(item) and key not in str(item), item
    verbose = inst.host_path(f"{inst.base}/log/verbose.log").read_text(errors="replace")
    assert "Playing 'nms/staff-protection" in verbose  # the log is there and detailed
    assert number not in verbose and key not in verbose
    for path in inst.host_path(f"{inst.base}/log").iterdir():
        assert number.encode() not in path.read_bytes(), path
    db = sqlite3.connect(inst.host_path(f"{inst.base}/lib/astdb.sqlite3"))
    assert number not in repr(db.execute("SELECT * FROM astdb").fetchall())
    db.close()
    assert key not in (inst.etc_dir / "extensions.conf").read_text()
    assert (inst.etc_dir / CALLER_KEY_FILE).stat().st_mode & 0o777 == 0o600
    stored = service.store.events()[0]
    assert stored["caller_mask"] == "010****7777" and number not in str(stored)
    # The recording: 0640, in 0750 directories of the PBX's group.
    recdir = lab.config.recordings.local_directory
    rec = recdir / stored["recording"]
    assert rec.is_file()
    gid = lab_asterisk.pbx_gid(inst.root)
    for d in (recdir, rec.parent):
        st = d.stat()
        assert st.st_mode & 0o777 == 0o750 and st.st_gid == gid, (d, oct(st.st_mode))
    assert rec.stat().st_mode & 0o777 == 0o640 and rec.stat().st_gid == gid


WATCHER = textwrap.dedent("""
    import ctypes, os, struct, sys, time
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init()
    libc.inotify_add_watch(fd, sys.argv[1].encode(), 0x100 | 0x80 | 0x02)  # CREATE, MOVED_TO, MODIFY
    print("ready", flush=True)
    leaked, opened, end = set(), [], time.monotonic() + float(sys.argv[2])
    os.set_blocking(fd, False)
    while time.monotonic() < end:
        try:
            buf = os.read(fd, 65536)
        except BlockingIOError:
            continue
        i = 0
        while i < len(buf):
            _wd, _mask, _cookie, n = struct.unpack_from("iIII", buf, i)
            name = buf[i + 16:i + 16 + n].rstrip(b"\\0").decode()
            i += 16 + n
            if not any(k in name for k in ("manager", "pjsip", "nms-caller")):
                continue
            try:  # open at once; read later, when the writer is done (an open file stays readable)
                opened.append((name, os.open(os.path.join(sys.argv[1], name), os.O_RDONLY)))
            except OSError:
                continue
    for name, f in opened:
        data = os.pread(f, 1 << 20, 0)
        if b"secret = " in data or b"password = " in data or (name.startswith(".nms-caller") and data):
            leaked.add(name)
    print(" ".join(sorted(leaked)) or "-", flush=True)
""")


def test_secret_files_are_never_readable_by_another_user_while_written(ivr_lab_factory) -> None:
    """A local user (``nobody``) watches the configuration directory while the service renders it
    again and again (as every reload does) and opens every file the moment it appears."""
    lab = ivr_lab_factory()
    etc = lab.instance.etc_dir
    options = lab.render_options(lab.config)
    os.chmod(etc, 0o755)  # the directory itself is listable, as /etc/asterisk usually is
    nobody = pwd.getpwnam("nobody")
    proc = subprocess.Popen(["/usr/bin/python3", "-I", "-c", WATCHER, str(etc), "20"], stdout=subprocess.PIPE,
                            text=True, user=nobody.pw_uid, group=nobody.pw_gid, extra_groups=[], cwd="/")
    try:
        assert proc.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            render(lab.config, etc, options)
        out = proc.communicate(timeout=30)[0].strip()
    finally:
        proc.kill()
    assert out == "-", f"another user read secret-bearing files while they were written: {out}"
    for name in ("manager.conf", "pjsip.conf", CALLER_KEY_FILE):
        assert (etc / name).stat().st_mode & 0o777 == 0o600, name
