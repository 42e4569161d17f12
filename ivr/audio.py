"""The announcement audio that Asterisk plays, tied to configuration versions so a rollback restores it.

Every audio file ever made (TTS or an uploaded recording, converted by sox) is kept once, named by
the SHA-256 of its bytes, in ``<state>/audio/blobs``. A manifest records which file each
announcement uses now, and which it used with each version of ivr.yaml. Deploying copies a file
atomically to ``<sounds>/<language>/nms/KEY.wav``, so a call hears the old or the new prompt, never
half of one. Rolling ivr.yaml back to a version brings back the exact audio of that version (TTS
output is not bit-for-bit repeatable, so regenerating would not).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivr import prompts
from ivr.config import IvrConfig
from nms.store import atomic_write_bytes


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def text_key(text: str, language: str) -> str:
    return hashlib.sha256(f"{language}\0{text}".encode()).hexdigest()


@dataclass(frozen=True)
class AudioInfo:
    """What the phone page shows about one announcement's audio."""

    key: str
    sha: str | None
    source: str | None  # tts | upload | existing
    matches_text: bool
    seconds: float | None
    when: float | None
    user: str


class AudioLibrary:
    def __init__(self, directory: Path, sounds_root: Path):
        self.directory = Path(directory)
        self.blobs = self.directory / "blobs"
        self.manifest_path = self.directory / "manifest.json"
        self.lock_path = self.directory / ".manifest.lock"
        self.sounds_root = Path(sounds_root)
        self._lock = threading.RLock()
        self.blobs.mkdir(parents=True, exist_ok=True)

    # -- paths ---------------------------------------------------------------------------------

    def sounds_dir(self, config: IvrConfig) -> Path:
        return self.sounds_root / config.language / "nms"

    def deployed(self, config: IvrConfig, key: str) -> Path:
        return self.sounds_dir(config) / f"{key}.wav"

    def blob(self, sha: str) -> Path:
        if not all(c in "0123456789abcdef" for c in sha) or len(sha) != 64:
            raise ValueError("bad audio id")
        return self.blobs / f"{sha}.wav"

    # -- manifest ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        """The manifest, locked (threads and processes); written back atomically on success."""
        with self._lock:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                manifest = self._read()
                before = json.dumps(manifest, sort_keys=True)
                yield manifest
                if json.dumps(manifest, sort_keys=True) != before:
                    atomic_write_bytes(self.manifest_path,
                                       json.dumps(manifest, ensure_ascii=False, indent=1).encode())
            finally:
                os.close(fd)

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            data = {}
        for k in ("current", "by_version", "tts"):
            data.setdefault(k, {})
        return data

    def manifest(self) -> dict[str, Any]:
        with self._lock:
            return self._read()

    # -- making audio --------------------------------------------------------------------------

    def _store(self, path: Path) -> str:
        sha = sha256_file(path)
        target = self.blob(sha)
        if not target.exists():
            atomic_write_bytes(target, path.read_bytes(), mode=0o644)
        return sha

    def synthesize(self, text: str, language: str) -> str:
        """Korean TTS of ``text`` (espeak-ng + sox), or the one made before; returns the stored file's id."""
        known = self.manifest()["tts"].get(text_key(text, language))
        if known and self.blob(known).exists():
            return known
        with tempfile.TemporaryDirectory(prefix="nms-admin-tts-") as tmp:
            out = prompts.speak(text, Path(tmp) / "tts.wav", voice=language)
            sha = self._store(out)
        with self._locked() as m:
            m["tts"][text_key(text, language)] = sha
        return sha

    def bind_text_audio(self, text: str, language: str, sha: str) -> None:
        """Use the stored audio ``sha`` whenever ``text`` needs audio (e.g. going back to an earlier text
        brings back the very audio it had, not a new synthesis)."""
        if not self.blob(sha).exists():
            raise ValueError(f"no stored audio {sha[:12]}")
        with self._locked() as m:
            m["tts"][text_key(text, language)] = sha

    def audio_of_version(self, version: str, key: str) -> str | None:
        """The audio ``key`` had with configuration ``version``, if it is still stored."""
        entry = self.manifest()["by_version"].get(version, {}).get(key)
        sha = entry.get("sha") if entry else None
        return sha if sha and self.blob(sha).exists() else None

    def convert_upload(self, source: Path) -> str:
        """An uploaded recording, checked and converted by sox (8 kHz mono); raises PromptError."""
        with tempfile.TemporaryDirectory(prefix="nms-admin-upload-") as tmp:
            out = prompts.convert(source, Path(tmp) / "upload.wav")
            return self._store(out)

    # -- choosing and deploying ----------------------------------------------------------------

    def adopt(self, config: IvrConfig, version: str) -> None:
        """Archive prompts already in the sounds directory (e.g. from `nms prompts build`) as this version's."""
        with self._locked() as m:
            for key in config.announcement_keys():
                if key in m["current"]:
                    continue
                path = self.deployed(config, key)
                if path.is_file():
                    sha = self._store(path)
                    m["current"][key] = {"sha": sha, "source": "existing", "time": time.time(), "user": "",
                                         "text": text_key(config.announcements.get(key, ""), config.language)}
            m["by_version"].setdefault(version, dict(m["current"]))

    def set_current(self, config: IvrConfig, version: str, key: str, sha: str, source: str, user: str,
                    text: str | None = None) -> None:
        """Make ``sha`` the audio of ``key`` now and for ``version``, and deploy it."""
        entry = {"sha": sha, "source": source, "time": time.time(), "user": user,
                 "text": text_key(text if text is not None else config.announcements.get(key, ""), config.language)}
        with self._locked() as m:
            m["current"][key] = entry
            m["by_version"][version] = dict(m["current"])
            self._deploy(config, {key: entry})

    def sync(self, config: IvrConfig, version: str, user: str, regenerate: set[str] | None = None) -> list[str]:
        """Give every announcement of ``config`` the audio that belongs to ``version``; return changed keys.

        The audio bound to ``version`` is used if there is one (a rollback); otherwise an announcement
        keeps its audio while its text is unchanged, and gets TTS of its text when the text changed
        (the TTS made earlier for the same text, if any) or when it is in ``regenerate``.
        """
        regenerate = regenerate or set()
        with self._locked() as m:
            bound = m["by_version"].get(version, {})
            chosen: dict[str, dict[str, Any]] = {}
            for key in config.announcement_keys():
                text = config.announcements.get(key, "")
                tkey = text_key(text, config.language)
                current = m["current"].get(key)
                if key in regenerate:
                    entry = None
                elif key in bound and self.blob(bound[key]["sha"]).exists():
                    entry = bound[key]
                elif current and current.get("text") == tkey and self.blob(current["sha"]).exists():
                    entry = current
                elif tkey in m["tts"] and self.blob(m["tts"][tkey]).exists():
                    entry = {"sha": m["tts"][tkey], "source": "tts", "time": time.time(), "user": user,
                             "text": tkey}
                else:
                    entry = None
                if entry is None:
                    sha = self.synthesize_unlocked(text, config.language, m)
                    entry = {"sha": sha, "source": "tts", "time": time.time(), "user": user, "text": tkey}
                chosen[key] = entry
            changed = [k for k, e in chosen.items() if (m["current"].get(k) or {}).get("sha") != e["sha"]]
            m["current"].update(chosen)
            m["by_version"][version] = dict(m["current"])
            self._deploy(config, chosen)
        return changed

    def synthesize_unlocked(self, text: str, language: str, m: dict[str, Any]) -> str:
        with tempfile.TemporaryDirectory(prefix="nms-admin-tts-") as tmp:
            sha = self._store(prompts.speak(text, Path(tmp) / "tts.wav", voice=language))
        m["tts"][text_key(text, language)] = sha
        return sha

    def _deploy(self, config: IvrConfig, entries: dict[str, dict[str, Any]]) -> None:
        target_dir = self.sounds_dir(config)
        target_dir.mkdir(parents=True, exist_ok=True)
        for key, entry in entries.items():
            dest = target_dir / f"{key}.wav"
            if dest.is_file() and sha256_file(dest) == entry["sha"]:
                continue
            atomic_write_bytes(dest, self.blob(entry["sha"]).read_bytes(), 0o644)

    # -- reading -------------------------------------------------------------------------------

    def info(self, config: IvrConfig) -> dict[str, AudioInfo]:
        m = self.manifest()
        out = {}
        for key in config.announcement_keys():
            e = m["current"].get(key) or {}
            path = self.deployed(config, key)
            sha = e.get("sha")
            seconds = None
            if path.is_file():
                size = path.stat().st_size
                seconds = max(size - 44, 0) / 16000.0  # 8 kHz, 16-bit mono WAV
            out[key] = AudioInfo(key=key, sha=sha, source=e.get("source"),
                                 matches_text=e.get("text") == text_key(config.announcements.get(key, ""),
                                                                         config.language),
                                 seconds=seconds, when=e.get("time"), user=e.get("user", ""))
        return out
