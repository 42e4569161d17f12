"""What every benchmark shares: percentiles, a process's CPU time, and publishing the result.

Each ``bench/*.py`` prints one JSON object and writes it to ``bench/results/<name>.json``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def percentile(values: list[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) by nearest rank; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a running process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def publish(name: str, result: dict[str, Any], out: Path | None = None) -> Path:
    """Print the result as JSON and write it to ``bench/results/<name>.json`` (or ``out``)."""
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    path = out or RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")
    return path
