"""The one error the lab raises: it names the failing component and where its log is."""

from __future__ import annotations

from pathlib import Path


class LabError(RuntimeError):
    def __init__(self, component: str, message: str, log: Path | None = None, tail: str = ""):
        self.component = component
        self.log = log
        text = f"[lab:{component}] {message}"
        if log is not None:
            text += f"\n  로그: {log}"
        if tail:
            text += "\n  " + tail.replace("\n", "\n  ")
        super().__init__(text)
