"""Rendering, prompts, the CLI and retention (real espeak-ng and sox, no Asterisk needed)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from ivr import retention
from ivr.config import load_config
from ivr.events import EventStore, HoldError, ProtectionEvent
from ivr.prompts import PromptError, build_prompts, convert
from ivr.render import RenderOptions, render, render_files
from tests.ivr_fixtures import config_data, write_config


@pytest.fixture
def config(tmp_path: Path):
    data = config_data(real_hours=True)
    data["sip"]["phones"] = [{"extension": "2301", "secret": "sip-2301"}]
    data["sip"]["trunk"] = {"name": "pstn", "host": "127.0.0.1", "port": 5080}
    return load_config(write_config(tmp_path, data))


def test_dialplan_contract(config) -> None:
    files = render_files(config, RenderOptions(ami_secret="s3cret", phone_secrets={"2301": "pw"}))
    ext = files["extensions.conf"]
    assert "[from-pstn]" in ext
    for dept in config.departments:
        assert f"exten => {dept.dids[0]},1," in ext
    assert f"exten => {config.main_number.did},1," in ext
    assert "Set(CHANNEL(language)=ko)" in ext
    for key in config.announcement_keys():
        assert f"nms/{key}" in ext or key.startswith("warning-") or key.startswith("time-limit")
    assert "Playback(nms/warning-${NMS_WARNS})" in ext
    assert "GROUP_COUNT(lines@nms)} > ${NMS_LINES}" in ext and "NMS_LINES=60" in ext
    assert "GotoIfTime(12:00-12:59,mon&tue&wed&thu&fri,*,*,Asia/Seoul?lunch,1)" in ext
    assert "GotoIfTime(09:00-17:59,mon&tue&wed&thu&fri,*,*,Asia/Seoul?open,1)" in ext
    assert "exten => 20261009,1,Return()  ; 한글날" in ext
    assert "MixMonitor(" in ext and "L(${NMS_LIMIT_END_MS}:${NMS_LIMIT_WARN_LEFT_MS})" in ext
    assert "NMS_LIMIT_END_MS=1200000" in ext and "NMS_LIMIT_WARN_LEFT_MS=300000" in ext
    # The unprotected department plays no protection announcement and gets no warning key.
    digital = ext[ext.index("[nms-dept-digital]"):].split("\n\n")[0]
    assert "staff-protection" not in digital and "NMS_STAFF=nms-staff)" in digital
    assert "nmswarn => *1,peer,Gosub(nms-warn,s,1)" in files["features.conf"]
    manager = files["manager.conf"]
    assert "bindaddr = 127.0.0.1" in manager and "secret = s3cret" in manager
    assert "read = call,user,system" in manager and "write = reporting\n" in manager  # read-only: see test_security_pbx
    assert "originate" not in manager and "command" not in manager
    pjsip = files["pjsip.conf"]
    assert "bind = 127.0.0.1:" in pjsip and "match = 127.0.0.1" in pjsip and "password = pw" in pjsip
    assert "runuser" not in files["asterisk.conf"].replace("; no runuser", "")


def test_dialplan_includes_are_plain_conf_names_at_the_end(config) -> None:
    secrets = {"ami_secret": "s3cret", "phone_secrets": {"2301": "pw"}}
    plain = render_files(config, RenderOptions(**secrets))["extensions.conf"]
    assert "#tryinclude" not in plain
    ext = render_files(config, RenderOptions(**secrets, dialplan_includes=("extra.conf", "more.conf")))[
        "extensions.conf"]
    assert ext.endswith("#tryinclude extra.conf\n\n#tryinclude more.conf\n")
    # A name that could reach another directory, another kind of file or another line is refused.
    for bad in ("../manager.conf", "/etc/asterisk/x.conf", "x.conf\n[evil]", "x.txt", ""):
        with pytest.raises(ValueError, match="dialplan include"):
            render_files(config, RenderOptions(**secrets, dialplan_includes=(bad,)))


def test_render_writes_files_and_keeps_secrets_private(config, tmp_path: Path) -> None:
    out = tmp_path / "out"
    written = render(config, out, resolve_secret=lambda name: f"value-of-{name}")
    assert {p.name for p in written} >= {"extensions.conf", "features.conf", "manager.conf", "pjsip.conf"}
    assert oct((out / "manager.conf").stat().st_mode & 0o777) == "0o600"
    assert "value-of-ami" in (out / "manager.conf").read_text()
    assert "value-of-ami" not in (out / "extensions.conf").read_text()


def test_cli_render_and_refusal(config, tmp_path: Path, capsys) -> None:
    from nms import exitcodes
    from nms.cli import build_parser, main_guard

    parser = build_parser()
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "ami").write_text("amisecret\n")
    (secrets / "sip-2301").write_text("pw\n")
    cfg_path = tmp_path / "ivr.yaml"
    args = parser.parse_args(["ivr", "render", "--ivr-config", str(cfg_path), "--secrets-dir", str(secrets),
                              "--out", str(tmp_path / "out")])
    assert args.func(args) == 0
    assert "secret = amisecret" in (tmp_path / "out" / "manager.conf").read_text()
    bad = config_data()
    bad["announcements"]["nonsense"] = "x"
    bad_path = write_config(tmp_path / "bad", bad)
    args = parser.parse_args(["ivr", "render", "--ivr-config", str(bad_path), "--out", str(tmp_path / "out2")])
    assert main_guard(lambda: args.func(args)) == exitcodes.CONFIG
    assert "unknown announcement key 'nonsense'" in capsys.readouterr().err
    assert not (tmp_path / "out2").exists()


def test_prompts_tts_and_operator_recordings(config, tmp_path: Path) -> None:
    recorded = tmp_path / "busy-44k.wav"
    subprocess.run(["sox", "-n", "-r", "44100", "-c", "2", str(recorded), "synth", "1.5", "sine", "440"], check=True)
    out = tmp_path / "sounds" / "ko" / "nms"
    done = build_prompts(config, out, {"busy": recorded}, progress=False)
    assert set(done) == set(config.announcements)
    for path in done.values():
        info = subprocess.run(["soxi", str(path)], capture_output=True, text=True, check=True).stdout
        assert "Sample Rate    : 8000" in info and "Channels       : 1" in info and "16-bit" in info

    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("이것은 소리가 아닙니다")
    with pytest.raises(PromptError, match="not a WAV, MP3 or Ogg audio file"):
        convert(not_audio, tmp_path / "x.wav")
    long_file = tmp_path / "long.wav"
    subprocess.run(["sox", "-n", "-r", "8000", str(long_file), "synth", "130", "sine", "300"], check=True)
    with pytest.raises(PromptError, match="at most 120 s"):
        convert(long_file, tmp_path / "y.wav")


def test_retention_deletes_old_recordings_and_events(config, tmp_path: Path, caplog) -> None:
    rec_dir = tmp_path / "rec"
    cfg = config.model_copy(update={"recordings": config.recordings.model_copy(update={"host_directory": rec_dir})})
    store = EventStore(tmp_path / "events.sqlite3", b"k")
    now = time.time()
    old, new = rec_dir / "civil" / "old.wav", rec_dir / "civil" / "new.wav"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"RIFF")
    new.write_bytes(b"RIFF")
    os.utime(old, (now - 100 * 86400, now - 100 * 86400))
    store.add(ProtectionEvent("a-warning-1", now - 400 * 86400, "warning", 1, "civil", 1, "1", "0101", "civil/old.wav"))
    store.add(ProtectionEvent("b-warning-1", now - 10, "warning", 1, "civil", 1, "1", "0101", "civil/new.wav"))
    caplog.set_level("INFO")
    report = retention.purge(cfg, store, now)
    assert report.recordings == ["civil/old.wav"] and report.events == ["a-warning-1"]
    assert not old.exists() and new.exists()
    assert [e["event_id"] for e in store.events()] == ["b-warning-1"]
    assert "deleted recording civil/old.wav" in caplog.text and "deleted protection event a-warning-1" in caplog.text


def test_a_legal_hold_keeps_an_event_and_its_recording_past_retention(config, tmp_path: Path, caplog) -> None:
    rec_dir = tmp_path / "rec"
    cfg = config.model_copy(update={"recordings": config.recordings.model_copy(update={"host_directory": rec_dir})})
    store = EventStore(tmp_path / "events.sqlite3", b"k")
    now = time.time()
    old = now - 400 * 86400  # past both retention periods
    for name in ("held", "unheld"):
        path = rec_dir / "civil" / f"{name}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"RIFF")
        os.utime(path, (old, old))
        store.add(ProtectionEvent(f"{name}-warning-1", old, "warning", 1, "civil", 1, "1", "01012345678",
                                  f"civil/{name}.wav"))
    with pytest.raises(HoldError, match="reason"):
        store.hold("held-warning-1", "  ", now + 86400, "admin")
    with pytest.raises(HoldError, match="future"):
        store.hold("held-warning-1", "수사 협조", now - 1, "admin")
    with pytest.raises(HoldError, match="no protection event"):
        store.hold("nope", "수사 협조", now + 86400, "admin")
    store.hold("held-warning-1", "경찰 수사 협조 요청 (금천경찰서 2026-123)", now + 30 * 86400, "admin")

    caplog.set_level("INFO")
    report = retention.purge(cfg, store, now)
    assert report.events == ["unheld-warning-1"] and report.recordings == ["civil/unheld.wav"]
    assert (rec_dir / "civil" / "held.wav").exists() and not (rec_dir / "civil" / "unheld.wav").exists()
    assert [e["event_id"] for e in store.events()] == ["held-warning-1"]
    assert store.events()[0]["recording"] == "civil/held.wav"
    assert [h.event_id for h in report.held] == ["held-warning-1"]
    assert "kept recording civil/held.wav past retention: legal hold on event held-warning-1" in caplog.text
    assert "kept protection event held-warning-1 past retention" in caplog.text
    assert "1 legal holds kept items past retention: held-warning-1" in caplog.text

    # Once the hold has expired, the next run deletes them like anything else.
    later = retention.purge(cfg, store, now + 31 * 86400)
    assert later.events == ["held-warning-1"] and later.recordings == ["civil/held.wav"] and not later.held
