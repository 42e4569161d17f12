"""A calendar heatmap of protection events per department and day, as inline SVG.

Inline, with no script and no external file: the government network has no CDN, and the page's
Content-Security-Policy allows nothing from elsewhere. Every cell has a <title>, so the count is
readable without colour.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from html import escape

CELL, GAP, LABEL_W, TOP = 12, 2, 110, 16
#: Light to dark; index 0 is "no event".
COLOURS = ("#eef1f4", "#fde0c5", "#f9b27a", "#f07d3b", "#c9480f", "#8c2a04")


def _level(n: int, top: int) -> int:
    if n <= 0:
        return 0
    return min(len(COLOURS) - 1, 1 + (n - 1) * (len(COLOURS) - 1) // max(top, 1))


def heatmap_svg(events: Iterable[Mapping], departments: Mapping[str, str], end: dt.date, days: int, timezone: str,
                cell_title: Callable[..., str]) -> str:
    """SVG of ``days`` columns ending at ``end`` and one row per department (id -> name)."""
    tz = zoneinfo.ZoneInfo(timezone)
    start = end - dt.timedelta(days=days - 1)
    counts: Counter[tuple[str, dt.date]] = Counter()
    for e in events:
        day = dt.datetime.fromtimestamp(float(e["time"]), tz).date()
        if start <= day <= end:
            counts[(str(e["department"]), day)] += 1
    rows = list(departments.items())
    top = max(counts.values(), default=0)
    width = LABEL_W + days * (CELL + GAP)
    height = TOP + max(len(rows), 1) * (CELL + GAP)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="heatmap" id="heatmap" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" role="img">']
    for i in range(0, days, 7):
        day = start + dt.timedelta(days=i)
        out.append(f'<text x="{LABEL_W + i * (CELL + GAP)}" y="11" font-size="10">{day:%m-%d}</text>')
    for r, (dept_id, name) in enumerate(rows):
        y = TOP + r * (CELL + GAP)
        out.append(f'<text x="0" y="{y + CELL - 2}" font-size="11">{escape(name[:12])}</text>')
        for i in range(days):
            day = start + dt.timedelta(days=i)
            n = counts.get((dept_id, day), 0)
            title = escape(cell_title(dept=name, day=day.isoformat(), n=n))
            out.append(f'<rect x="{LABEL_W + i * (CELL + GAP)}" y="{y}" width="{CELL}" height="{CELL}" rx="2" '
                       f'fill="{COLOURS[_level(n, top)]}" data-dept="{escape(dept_id)}" data-day="{day}" '
                       f'data-count="{n}"><title>{title}</title></rect>')
    out.append("</svg>")
    return "".join(out)
