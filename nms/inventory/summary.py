"""Counts of the district inventory in the shape of the seed document's tables.

Planned devices are not installed yet, so they are left out of every count; a site counts
once it has at least one AP that is not planned. A site's install year labels its sites row,
an AP's own install year (else its site's) labels its APs row.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from typing import Any

from nms.inventory.models import Category, DeviceRole, DeviceStatus, Inventory

YEAR_LABELS = ("2013-2016", "2017", "2018", "2019", "2020", "2021")
CATEGORY_KO = {
    Category.GOVERNMENT: "관공서",
    Category.PARK: "공원",
    Category.WELFARE: "복지시설",
    Category.MARKET: "전통시장",
    Category.STREET: "주요거리",
}
ROLE_KO = {
    DeviceRole.BACKBONE: "백본 스위치",
    DeviceRole.ACCESS: "스위치",
    DeviceRole.IPS: "침입방지시스템",
    DeviceRole.AP: "무선 AP",
    DeviceRole.HOST: "서버",
}


def year_label(year: int | None) -> str:
    """The seed table's row for an install year; years outside it get a row of their own."""
    if year is None:
        return "unknown"
    if 2013 <= year <= 2016:
        return "2013-2016"
    return str(year)


def summarize(inventory: Inventory) -> dict[str, Any]:
    """Sites and APs by category and by install year, and devices by role (planned ones left out).

    ``by_year`` always has the six seed labels in order; a year outside them (say, a 2022 AP
    turned active) gets its own label after them rather than vanishing from the totals.
    """
    sites = inventory.site_by_id()
    counted = [d for d in inventory.devices if d.status is not DeviceStatus.PLANNED]
    aps = [d for d in counted if d.role is DeviceRole.AP]
    ap_sites = {d.site for d in aps}

    by_category = {c.value: {"sites": 0, "aps": 0} for c in Category}
    by_year: dict[str, dict[str, int]] = {label: {"sites": 0, "aps": 0} for label in YEAR_LABELS}
    for site_id in sorted(ap_sites):
        site = sites[site_id]
        by_category[site.category.value]["sites"] += 1
        by_year.setdefault(year_label(site.installed), {"sites": 0, "aps": 0})["sites"] += 1
    for ap in aps:
        site = sites[ap.site]
        by_category[site.category.value]["aps"] += 1
        year = ap.installed if ap.installed is not None else site.installed
        by_year.setdefault(year_label(year), {"sites": 0, "aps": 0})["aps"] += 1

    roles = Counter(d.role for d in counted)
    return {
        "by_category": by_category,
        "by_year": by_year,
        "devices_by_role": {r.value: roles.get(r, 0) for r in DeviceRole},
    }


def _width(text: str) -> int:
    """Terminal columns: Hangul and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(_width(r[i]) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        out = [cells[0] + " " * (widths[0] - _width(cells[0]))]
        out += [" " * (w - _width(c)) + c for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return [line(headers), rule, *(line(r) for r in rows[:-1]), rule, line(rows[-1])]


def _counts_table(first: str, counts: dict[str, dict[str, int]], label: dict[str, str]) -> list[str]:
    rows = [[label.get(k, k), str(v["sites"]), str(v["aps"])] for k, v in counts.items()]
    rows.append(["합계 (total)", str(sum(v["sites"] for v in counts.values())),
                 str(sum(v["aps"] for v in counts.values()))])
    return _table([first, "sites", "APs"], rows)


def format_tables(summary: dict[str, Any]) -> str:
    """The summary as text tables, like the seed document's (Korean and English labels)."""
    categories = {c.value: f"{CATEGORY_KO[c]} ({c.value})" for c in Category}
    roles = {r.value: f"{ROLE_KO[r]} ({r.value})" for r in DeviceRole}
    out = ["공공와이파이: 시설 구분별 (public Wi-Fi by site category)"]
    out += _counts_table("site category", summary["by_category"], categories)
    out += ["", "공공와이파이: 설치 연도별 (public Wi-Fi by install year)"]
    out += _counts_table("installed", summary["by_year"], {})
    out += ["", "장비 역할별 (devices by role; planned ones left out)"]
    role_rows = [[roles.get(k, k), str(n)] for k, n in summary["devices_by_role"].items()]
    role_rows.append(["합계 (total)", str(sum(summary["devices_by_role"].values()))])
    out += _table(["role", "devices"], role_rows)
    return "\n".join(out) + "\n"
