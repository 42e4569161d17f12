"""Announcement prompts: Korean text-to-speech (espeak-ng) or an operator's recording, made into
8 kHz mono 16-bit WAV files that Asterisk plays without transcoding (``sounds/ko/nms/KEY.wav``).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from tqdm import tqdm

from ivr.config import IvrConfig

MAX_SECONDS = 120.0  # a prompt longer than this is a mistake (a whole recording, not an announcement)
SOX_FORMAT = ["-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer"]


class PromptError(RuntimeError):
    pass


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise PromptError(f"{tool} is not installed: run `make setup`")
    return path


def _duration(path: Path) -> float:
    """Length in seconds according to sox; raises PromptError if the file is not audio."""
    proc = subprocess.run([_need("soxi"), "-D", str(path)], capture_output=True, text=True)
    if proc.returncode != 0:
        reason = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "unknown format"
        raise PromptError(f"{path} is not an audio file sox can read ({reason})")
    try:
        return float(proc.stdout.strip())
    except ValueError:
        raise PromptError(f"{path}: sox reported no duration") from None


def convert(src: Path, dest: Path, max_seconds: float = MAX_SECONDS) -> Path:
    """Convert any audio file sox can read into an Asterisk-ready WAV, refusing non-audio or long files."""
    src = Path(src)
    if not src.is_file():
        raise PromptError(f"{src}: no such file")
    seconds = _duration(src)
    if seconds <= 0:
        raise PromptError(f"{src} contains no audio")
    if seconds > max_seconds:
        raise PromptError(f"{src} is {seconds:.1f} s long; an announcement may be at most {max_seconds:.0f} s")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp.wav")
    proc = subprocess.run([_need("sox"), str(src), *SOX_FORMAT, str(tmp)], capture_output=True, text=True)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise PromptError(f"sox could not convert {src}: {proc.stderr.strip()}")
    tmp.replace(dest)
    return dest


def speak(text: str, dest: Path, voice: str = "ko") -> Path:
    """Korean TTS with espeak-ng, then sox to 8 kHz mono."""
    with tempfile.TemporaryDirectory(prefix="nms-tts-") as tmpdir:
        raw = Path(tmpdir) / "tts.wav"
        proc = subprocess.run([_need("espeak-ng"), "-v", voice, "-w", str(raw), text],
                              capture_output=True, text=True)
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
