"""Announcement drafts: a text and its audio that callers do not hear until it is published.

A draft's audio is made by the same TTS as a published announcement and kept in the audio library
(which remembers the TTS of each text). Publishing the draft's text therefore deploys exactly the
audio that was listened to, not a new synthesis of the same words.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from nms.store import atomic_write_bytes

MAX_DRAFT_CHARS = 1000


@dataclass(frozen=True)
class Draft:
    key: str
    text: str
    sha: str  # the audio library's id of the draft audio
    user: str
    time: float


class DraftStore:
    """One draft per announcement key, in a JSON file next to the audio library."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()

    def _read(self) -> dict[str, dict]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, key: str) -> Draft | None:
        with self._lock:
            entry = self._read().get(key)
        try:
            return Draft(**entry) if entry else None
        except TypeError:
            return None

    def all(self) -> dict[str, Draft]:
        with self._lock:
            data = self._read()
        out = {}
        for key, entry in data.items():
            try:
                out[key] = Draft(**entry)
            except TypeError:
                continue
        return out

    def put(self, key: str, text: str, sha: str, user: str) -> Draft:
        draft = Draft(key, text, sha, user, time.time())
        with self._lock:
            data = self._read()
            data[key] = asdict(draft)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(self.path, json.dumps(data, ensure_ascii=False, indent=1).encode(), 0o600)
        return draft

    def discard(self, key: str) -> bool:
        with self._lock:
            data = self._read()
            if data.pop(key, None) is None:
                return False
            atomic_write_bytes(self.path, json.dumps(data, ensure_ascii=False, indent=1).encode(), 0o600)
            return True
