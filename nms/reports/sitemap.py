"""The site map: sites as points coloured by availability on a plain outline of the district.

No tile server (the administrative network reaches none): the outline is a simplified polygon of
Geumcheon-gu's boundary (about 25 m to 150 m off the official one; enough to place sites, not to
survey). Drawn as inline SVG for the admin page and with matplotlib for the PDF.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from html import escape

from nms.inventory.models import Site

#: (longitude, latitude), WGS 84, clockwise from the north-west (Anyangcheon at Gasan).
OUTLINE: tuple[tuple[float, float], ...] = (
    (126.8795, 37.4855), (126.8905, 37.4870), (126.9010, 37.4840), (126.9060, 37.4760), (126.9150, 37.4680),
    (126.9155, 37.4560), (126.9100, 37.4450), (126.9050, 37.4370), (126.8990, 37.4340), (126.8900, 37.4350),
    (126.8840, 37.4430), (126.8800, 37.4560), (126.8790, 37.4680), (126.8780, 37.4780),
)
#: (lower bound of availability, colour, Korean label), best first; None is grey.
BANDS = ((0.99, "#2e7d32", "99% 이상"), (0.95, "#f9a825", "95~99%"), (0.90, "#ef6c00", "90~95%"),
         (0.0, "#c62828", "90% 미만"))
NO_DATA_COLOUR = "#9e9e9e"


def colour(ratio: float | None) -> str:
    if ratio is None:
        return NO_DATA_COLOUR
    return next(c for bound, c, _ in BANDS if ratio >= bound)


def contains(lon: float, lat: float, polygon: Iterable[tuple[float, float]] = OUTLINE) -> bool:
    """Ray casting: is the point inside the polygon?"""
    points = list(polygon)
    inside = False
    for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=True):
        if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def bounds() -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in OUTLINE], [p[1] for p in OUTLINE]
    return min(xs), min(ys), max(xs), max(ys)


def _projector(width: float, margin: float = 8.0):
    """Equirectangular, with longitudes shrunk by cos(latitude) so the district keeps its shape."""
    x0, y0, x1, y1 = bounds()
    k = math.cos(math.radians((y0 + y1) / 2))
    scale = (width - 2 * margin) / ((x1 - x0) * k)
    height = (y1 - y0) * scale + 2 * margin

    def project(lon: float, lat: float) -> tuple[float, float]:
        return margin + (lon - x0) * k * scale, margin + (y1 - lat) * scale

    return project, height


def placed(sites: Iterable[Site]) -> list[Site]:
    return [s for s in sites if s.lat is not None and s.lon is not None]


def svg(sites: Iterable[Site], availability: dict[str, float], width: int = 420) -> str:
    """Inline SVG (presentation attributes only, no style or script): outline, points, legend."""
    project, height = _projector(width)
    outline = " ".join(f"{x:.1f},{y:.1f}" for x, y in (project(*p) for p in OUTLINE))
    legend_y = height + 6
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="sitemap" viewBox="0 0 {width} {legend_y + 20:.0f}" '
           f'width="{width}" role="img" aria-label="사이트 지도">',
           f'<polygon points="{outline}" fill="#f4f6f8" stroke="#546e7a" stroke-width="1.5"/>']
    for site in placed(sites):
        x, y = project(site.lon, site.lat)
        ratio = availability.get(site.id)
        label = f"{site.name} ({site.id}): " + ("데이터 없음" if ratio is None else f"{ratio * 100:.1f}%")
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.2" fill="{colour(ratio)}" stroke="#ffffff" '
                   f'stroke-width="0.6" data-site="{escape(site.id)}"><title>{escape(label)}</title></circle>')
    x = 8.0
    for _, c, text in (*BANDS, (None, NO_DATA_COLOUR, "데이터 없음")):
        out.append(f'<circle cx="{x + 4:.0f}" cy="{legend_y + 6:.0f}" r="4" fill="{c}"/>'
                   f'<text x="{x + 11:.0f}" y="{legend_y + 10:.0f}" font-size="10">{escape(text)}</text>')
        x += 82
    out.append("</svg>")
    return "\n".join(out)


def draw(ax, sites: Iterable[Site], availability: dict[str, float]) -> None:
    """The same map on a matplotlib axes (for the PDF)."""
    xs, ys = zip(*(*OUTLINE, OUTLINE[0]), strict=True)
    ax.fill(xs, ys, color="#f4f6f8", zorder=0)
    ax.plot(xs, ys, color="#546e7a", linewidth=1.2, zorder=1)
    shown = placed(sites)
    ax.scatter([s.lon for s in shown], [s.lat for s in shown], s=14, zorder=2, edgecolors="white", linewidths=0.4,
               c=[colour(availability.get(s.id)) for s in shown])
    _, y0, _, y1 = bounds()
    ax.set_aspect(1 / math.cos(math.radians((y0 + y1) / 2)))
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    for _, c, text in (*BANDS, (None, NO_DATA_COLOUR, "데이터 없음")):
        ax.scatter([], [], c=c, s=20, label=text)
    ax.legend(loc="lower left", fontsize=7, frameon=False, bbox_to_anchor=(1.0, 0.0))
