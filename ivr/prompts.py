"""Announcement prompts: Korean text-to-speech (espeak-ng) or an operator's recording, made into
8 kHz mono 16-bit WAV files that Asterisk plays without transcoding (``sounds/ko/nms/KEY.wav``).

Untrusted input never reaches a tool as a name or an option. A recording is accepted only if its
first bytes are WAV, MP3 or Ogg; it is copied to a fixed name without extension and sox is told its
format (``-t wav|mp3|ogg``), so sox never reads it as a playlist or a URL (it would hand those to a
shell). TTS text goes to espeak-ng on standard input, never as an argument (``-f FILE`` would be an
option). Both tools run as an unprivileged user (nms.privileges).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import unicodedata
import wave
from collections.abc import Mapping
from pathlib import Path

from tqdm import tqdm

from ivr.config import IvrConfig
from nms.privileges import give_to_tool_user, run_tool

MAX_SECONDS = 120.0  # a prompt longer than this is a mistake (a whole recording, not an announcement)
MAX_TEXT = 1000  # characters of announcement text
SOX_FORMAT = ["-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer"]
FORMATS = ("wav", "mp3", "ogg")


class PromptError(RuntimeError):
    pass


def _need(tool: str) -> str:
    path = shutil.which(tool, path="/usr/bin:/bin")
    if path is None:
        raise PromptError(f"{tool} is not installed: run `make setup`")
    return path


def sniff(head: bytes) -> str | None:
    """The audio format of a file from its first bytes: wav, mp3, ogg, or None."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    return None


def check_text(text: str) -> str:
    """The announcement text as TTS gets it; raises PromptError for text no announcement has."""
    if not text.strip():
        raise PromptError("the announcement text is empty")
    if len(text) > MAX_TEXT:
        raise PromptError(f"the announcement text is longer than {MAX_TEXT} characters")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in text):
        raise PromptError("the announcement text contains control or unassigned characters")
    return text


def _seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / float(w.getframerate() or 1)


def convert(src: Path, dest: Path, max_seconds: float = MAX_SECONDS) -> Path:
    """Convert a WAV, MP3 or Ogg file into an Asterisk-ready WAV, refusing anything else and long files."""
    src = Path(src)
    try:
        with open(src, "rb") as f:
            head = f.read(16)
    except OSError as exc:
        raise PromptError(f"{src.name}: {exc.strerror}") from None
    kind = sniff(head)
    if kind is None:
        raise PromptError("not a WAV, MP3 or Ogg audio file")
    with tempfile.TemporaryDirectory(prefix="nms-sox-") as tmp:
        work = Path(tmp)
        shutil.copyfile(src, work / "audio")
        give_to_tool_user(work)
        give_to_tool_user(work / "audio")
        trim = [] if max_seconds == float("inf") else ["trim", "0", f"{max_seconds + 1:.0f}"]
        try:
            proc = run_tool([_need("sox"), "--no-glob", "-t", kind, "audio", *SOX_FORMAT, "-t", "wav", "out.wav",
                             *trim], cwd=work)
        except subprocess.TimeoutExpired:
            raise PromptError("sox took too long to convert the file") from None
        out = work / "out.wav"
        if proc.returncode != 0 or not out.is_file():
            reason = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "unknown format"
            raise PromptError(f"not audio sox can read as {kind} ({reason.replace(str(work), '')})")
        try:
            seconds = _seconds(out)
        except (wave.Error, EOFError) as exc:
            raise PromptError(f"sox produced no audio ({exc})") from None
        if seconds <= 0:
            raise PromptError("the file contains no audio")
        if seconds > max_seconds:
            raise PromptError(f"the recording is longer than {max_seconds:.0f} s (an announcement may be at "
                              f"most {max_seconds:.0f} s)")
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp_dest = dest.with_name(f".{dest.name}.tmp.wav")
        shutil.copyfile(out, tmp_dest)
        tmp_dest.replace(dest)
    return dest


def speak(text: str, dest: Path, voice: str = "ko") -> Path:
    """Korean TTS with espeak-ng (text on standard input), then sox to 8 kHz mono."""
    text = check_text(text)
    if not voice.replace("-", "").isalnum():
        raise PromptError(f"bad voice name {voice!r}")
    with tempfile.TemporaryDirectory(prefix="nms-tts-") as tmpdir:
        work = Path(tmpdir)
        give_to_tool_user(work)
        try:
            proc = run_tool([_need("espeak-ng"), "-v", voice, "-w", "tts.wav", "--stdin"], cwd=work, input=text)
        except subprocess.TimeoutExpired:
            raise PromptError("espeak-ng took too long") from None
        raw = work / "tts.wav"
        if proc.returncode != 0 or not raw.exists():
            raise PromptError(f"espeak-ng failed: {proc.stderr.strip()}")
        return convert(raw, dest, max_seconds=float("inf"))


def build_prompts(config: IvrConfig, out_dir: Path, recordings: Mapping[str, Path] | None = None,
                  progress: bool = True, keep_existing: bool = False) -> dict[str, Path]:
    """Write ``out_dir/KEY.wav`` for every announcement. ``recordings`` maps keys to operator files
    used instead of TTS. ``out_dir`` is the ``sounds/ko/nms`` directory. ``keep_existing`` leaves a
    prompt that is already there (an uploaded recording, an edit from the admin page) untouched and
    only makes the missing ones."""
    recordings = dict(recordings or {})
    unknown = set(recordings) - set(config.announcements)
    if unknown:
        raise PromptError(f"recordings given for unknown announcement keys: {', '.join(sorted(unknown))}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    done: dict[str, Path] = {}
    keys = sorted(config.announcements)
    for key in tqdm(keys, desc="prompts", unit="prompt", disable=not progress):
        dest = out_dir / f"{key}.wav"
        if keep_existing and key not in recordings and dest.is_file() and dest.stat().st_size > 0:
            continue
        if key in recordings:
            done[key] = convert(recordings[key], dest)
        else:
            done[key] = speak(config.announcements[key], dest)
    return done
