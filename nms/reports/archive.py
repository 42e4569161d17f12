"""The reports kept under the state directory: written by the monthly job, listed by the admin page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

#: Only files the report writer names are listed or served: nothing else in the directory leaks.
NAME = re.compile(r"^report-(monthly|yearly)-(\d{4}(?:-\d{2})?)\.(pdf|xlsx)$")


@dataclass(frozen=True)
class KeptReport:
    name: str
    kind: str  # monthly | yearly
    period: str  # 2026-11 | 2026
    format: str  # pdf | xlsx
    size: int
    modified: float


def list_reports(directory: Path) -> list[KeptReport]:
    """Newest period first; an absent directory is an empty list."""
    if not directory.is_dir():
        return []
    out = []
    for path in directory.iterdir():
        found = NAME.match(path.name)
        if found and path.is_file() and not path.is_symlink():
            st = path.stat()
            out.append(KeptReport(path.name, found.group(1), found.group(2), found.group(3), st.st_size, st.st_mtime))
    out.sort(key=lambda r: (r.kind, r.format))
    return sorted(out, key=lambda r: r.period, reverse=True)


def kept_report(directory: Path, name: str) -> Path | None:
    """The path of a listed report by its file name; None for any other name (no path tricks)."""
    if not NAME.match(name):
        return None
    path = directory / name
    return path if path.is_file() and not path.is_symlink() else None
