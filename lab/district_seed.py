"""Generator of the simulated district inventory (``configs/inventory.yaml``).

The seed document gives the public Wi-Fi only as two marginal tables: sites and APs by
category, and sites and APs by install year. :data:`ALLOCATION` is one site-level split that
reproduces both tables at once (a small transportation problem solved by hand; :func:`generate`
checks it against the tables). Sites are then taken from per-category name lists, with the
places the document names pinned to their years, and each cell's APs are spread over its sites
by size. Everything is deterministic: no random numbers, so the output never changes between runs.

    python -m lab.district_seed [--out PATH]
"""

from __future__ import annotations

import argparse
import ipaddress
import math
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from nms.reports.sitemap import bounds, contains

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "configs" / "inventory.yaml"
COMMAND = "python -m lab.district_seed"

CATEGORIES = ("government", "park", "welfare", "market", "street")
YEAR_LABELS = ("2013-2016", "2017", "2018", "2019", "2020", "2021")

# The seed document's tables (as of 2021): label -> (sites, APs).
SEED_BY_CATEGORY = {
    "government": (16, 111), "park": (56, 64), "welfare": (52, 120), "market": (32, 54), "street": (110, 127),
}
SEED_BY_YEAR = {
    "2013-2016": (59, 134), "2017": (77, 137), "2018": (12, 54),
    "2019": (90, 117), "2020": (21, 25), "2021": (7, 9),
}

# (category, year label) -> (sites, APs). Rows sum to SEED_BY_CATEGORY, columns to SEED_BY_YEAR.
# 2021 is fixed by the document: 3 APs at the hillside park, 6 on the Doksan-ro undergrounded section.
# 2018 has few sites but many APs (4.5 a site): mostly large government and welfare buildings.
ALLOCATION: dict[tuple[str, str], tuple[int, int]] = {
    ("government", "2013-2016"): (7, 50), ("government", "2017"): (5, 31), ("government", "2018"): (4, 30),
    ("park", "2013-2016"): (10, 11), ("park", "2017"): (15, 17), ("park", "2019"): (20, 22),
    ("park", "2020"): (10, 11), ("park", "2021"): (1, 3),
    ("welfare", "2013-2016"): (14, 36), ("welfare", "2017"): (18, 37), ("welfare", "2018"): (5, 17),
    ("welfare", "2019"): (15, 30),
    ("market", "2013-2016"): (8, 13), ("market", "2017"): (8, 14), ("market", "2018"): (3, 7),
    ("market", "2019"): (10, 15), ("market", "2020"): (3, 5),
    ("street", "2013-2016"): (20, 24), ("street", "2017"): (31, 38), ("street", "2019"): (45, 50),
    ("street", "2020"): (8, 9), ("street", "2021"): (6, 6),
}

SUBNET_OCTET = {"government": 10, "park": 20, "welfare": 30, "market": 40, "street": 50}
PORT = 1161
PLAN_YEAR = 2022


@dataclass(frozen=True)
class Place:
    """A candidate Wi-Fi site: names, relative size (spreads APs) and optionally a pinned year label."""

    name: str
    name_en: str
    weight: int = 1
    year: str | None = None
    key: str | None = None  # for places other parts of the generator refer to


# --- Place names. Plausible Geumcheon-gu places; not all of them are real. -----------------------

_DONGS = [("가산동", "Gasan-dong"), ("독산1동", "Doksan 1-dong"), ("독산2동", "Doksan 2-dong"),
          ("독산3동", "Doksan 3-dong"), ("독산4동", "Doksan 4-dong"), ("시흥1동", "Siheung 1-dong"),
          ("시흥2동", "Siheung 2-dong"), ("시흥3동", "Siheung 3-dong"), ("시흥4동", "Siheung 4-dong"),
          ("시흥5동", "Siheung 5-dong")]


def _government() -> list[Place]:
    places = [
        Place("금천구청", "Geumcheon-gu Office", 8, "2013-2016", key="office"),
        Place("금천구의회", "Geumcheon-gu Council", 3, key="council"),
        Place("금천구보건소", "Geumcheon-gu Public Health Center", 3, key="health"),
    ]
    places += [Place(f"{ko} 주민센터", f"{en} Community Service Center", 2, key=f"dong{i}")
               for i, (ko, en) in enumerate(_DONGS, 1)]
    places += [
        Place("금나래도서관", "Geumnarae Library", 3),
        Place("금천구민문화체육센터", "Geumcheon Culture and Sports Center", 3),
        Place("금천구청 별관", "Geumcheon-gu Office Annex", 2, key="annex"),
    ]
    return places


_PARKS = [
    ("금천폭포공원", "Geumcheon Waterfall Park", 2), ("금나래중앙공원", "Geumnarae Central Park", 2),
    ("독산근린공원", "Doksan Neighborhood Park", 1), ("시흥근린공원", "Siheung Neighborhood Park", 1),
    ("가산근린공원", "Gasan Neighborhood Park", 1), ("감로천생태공원", "Gamnocheon Ecological Park", 1),
    ("호암산숲길공원", "Hoamsan Forest Trail Park", 1),
    ("금천한내 수변공원", "Geumcheon Hannae Riverside Park", 2),
    ("탑골근린공원", "Tapgol Neighborhood Park", 1), ("범일운동장", "Beomil Sports Ground", 1),
    ("한내근린공원", "Hannae Neighborhood Park", 1), ("두산공원", "Dusan Park", 1),
    ("은행나무공원", "Eunhaengnamu Park", 1), ("벚꽃십리길 쉼터", "Cherry Blossom Road Rest Area", 1),
    ("G밸리 쉼터공원", "G-Valley Rest Park", 1), ("독산 하늘공원", "Doksan Sky Park", 1),
]
_CHILDREN_PARKS = [
    ("햇살", "Haessal"), ("무지개", "Mujigae"), ("새싹", "Saessak"), ("다람쥐", "Daramjwi"),
    ("소나무", "Sonamu"), ("개나리", "Gaenari"), ("진달래", "Jindallae"), ("민들레", "Mindeulle"),
    ("해바라기", "Haebaragi"), ("느티나무", "Neutinamu"), ("까치", "Kkachi"), ("샘터", "Saemteo"),
    ("솔밭", "Solbat"), ("별빛", "Byeolbit"), ("달빛", "Dalbit"), ("꿈동산", "Kkumdongsan"),
    ("한울", "Hanul"), ("푸른", "Pureun"), ("들꽃", "Deulkkot"), ("초록", "Chorok"),
    ("도란도란", "Dorandoran"), ("박미", "Bakmi"), ("벌말", "Beolmal"), ("새말", "Saemal"),
    ("말미", "Malmi"), ("문성", "Munseong"), ("호암", "Hoam"), ("범안", "Beoman"),
    ("한우물", "Hanumul"), ("장미", "Jangmi"), ("목련", "Mongnyeon"), ("단풍", "Danpung"),
    ("참새", "Chamsae"), ("꽃마을", "Kkotmaeul"), ("오솔길", "Osolgil"), ("무궁화", "Mugunghwa"),
    ("은하수", "Eunhasu"),
]


def _parks() -> list[Place]:
    places = [
        Place("금천체육공원", "Geumcheon Sports Park", 3, "2013-2016", key="sports-park"),
        Place("삼각공원", "Samgak Park", 2, "2017", key="samgak-park"),
        Place("산기슭공원", "Hillside Park (Sangiseul Park)", 1, "2021", key="hillside-park"),
    ]
    places += [Place(ko, en, w) for ko, en, w in _PARKS]
    places += [Place(f"{ko}어린이공원", f"{en} Children's Park") for ko, en in _CHILDREN_PARKS]
    return places


_WELFARE_LARGE = [
    ("금천종합사회복지관", "Geumcheon Community Welfare Center", 5),
    ("독산종합사회복지관", "Doksan Community Welfare Center", 5),
    ("시흥종합사회복지관", "Siheung Community Welfare Center", 5),
    ("금천노인종합복지관", "Geumcheon Senior Welfare Center", 5),
    ("금천장애인종합복지관", "Geumcheon Welfare Center for the Disabled", 5),
    ("금천구 가족센터", "Geumcheon Family Center", 3),
    ("금천청소년수련관", "Geumcheon Youth Center", 4),
    ("금천구 치매안심센터", "Geumcheon Dementia Care Center", 2),
    ("금천구 정신건강복지센터", "Geumcheon Mental Health Welfare Center", 2),
    ("금천여성복지관", "Geumcheon Women's Welfare Center", 3),
    ("금천구 자원봉사센터", "Geumcheon Volunteer Center", 2),
    ("시흥노인복지관", "Siheung Senior Welfare Center", 3),
    ("금천구 장애인 주간보호센터", "Geumcheon Day Care Center for the Disabled", 2),
    ("금천구 건강가정지원센터", "Geumcheon Healthy Family Support Center", 2),
]
_CHILD_CENTERS = [("가산", "Gasan"), ("독산", "Doksan"), ("시흥", "Siheung"), ("은행나무", "Eunhaengnamu"),
                  ("호암", "Hoam"), ("벽산", "Byeoksan"), ("말미", "Malmi"), ("범일", "Beomil")]
_SENIOR_CENTERS = [
    ("벽산아파트", "Byeoksan Apartment"), ("현대아파트", "Hyundai Apartment"),
    ("한신아파트", "Hanshin Apartment"), ("두산아파트", "Doosan Apartment"), ("롯데캐슬", "Lotte Castle"),
    ("남서울럭키아파트", "Namseoul Lucky Apartment"), ("시흥", "Siheung"), ("은행나무", "Eunhaengnamu"),
    ("호암", "Hoam"), ("범일", "Beomil"), ("말미", "Malmi"),
    ("문성", "Munseong"), ("탑골", "Tapgol"), ("박미", "Bakmi"), ("새말", "Saemal"), ("벌말", "Beolmal"),
    ("한우물", "Hanumul"), ("가산", "Gasan"), ("독산", "Doksan"), ("금천현대", "Geumcheon Hyundai"),
    ("신흥", "Sinheung"), ("금빛", "Geumbit"), ("범안", "Beoman"), ("금하", "Geumha"),
    ("두산", "Dusan"), ("관악산벽산", "Gwanaksan Byeoksan"), ("무지개", "Mujigae"), ("꽃동네", "Kkotdongne"),
    ("한내", "Hannae"), ("장수", "Jangsu"),
]


def _welfare() -> list[Place]:
    large = [Place(ko, en, w) for ko, en, w in _WELFARE_LARGE]
    small = [Place(f"{ko}지역아동센터", f"{en} Community Child Center", 2) for ko, en in _CHILD_CENTERS]
    small += [Place(f"{ko} 경로당", f"{en} Senior Center") for ko, en in _SENIOR_CENTERS]
    return _interleave(large, small)


_MARKETS = [
    ("남문시장", "Nammun Market", 6), ("현대시장", "Hyundai Market", 5),
    ("대명여울빛거리시장", "Daemyeong Yeoulbit Street Market", 5), ("은행나무시장", "Eunhaengnamu Market", 5),
    ("독산동 우시장", "Doksan-dong Meat Market", 4), ("시흥유통상가", "Siheung Distribution Arcade", 4),
    ("박미시장", "Bakmi Market", 3),
]


def _markets() -> list[Place]:
    """Each market is split into zones; zone 1 of every market first, as markets were equipped in stages."""
    zones = [[Place(f"{ko} {z}구역", f"{en}, zone {z}", 2 if z == 1 else 1) for z in range(1, n + 1)]
             for ko, en, n in _MARKETS]
    return _interleave(*zones)


_ROADS = [
    ("시흥대로", "Siheung-daero", 12), ("독산로", "Doksan-ro", 8), ("가산디지털1로", "Gasan digital 1-ro", 9),
    ("가산디지털2로", "Gasan digital 2-ro", 7), ("디지털로", "Digital-ro", 8), ("벚꽃로", "Beotkkot-ro", 8),
    ("남부순환로", "Nambusunhwan-ro", 6), ("금하로", "Geumha-ro", 7), ("범안로", "Beoman-ro", 6),
    ("금천로", "Geumcheon-ro", 6), ("탑골로", "Tapgol-ro", 5), ("한내로", "Hannae-ro", 5),
    ("두산로", "Dusan-ro", 5), ("호암로", "Hoam-ro", 6), ("문성로", "Munseong-ro", 6),
]
DOKSAN_BLOCKS = 6


def _streets() -> list[Place]:
    sections = [[Place(f"{ko} {s}구간", f"{en}, section {s}") for s in range(1, n + 1)]
                for ko, en, n in _ROADS]
    undergrounded = [
        Place(f"독산로 지중화 구간 {b}블록", f"Doksan-ro undergrounded section, block {b}", 1, "2021")
        for b in range(1, DOKSAN_BLOCKS + 1)
    ]
    return _interleave(*sections) + undergrounded


def _interleave(*lists: list[Place]) -> list[Place]:
    out: list[Place] = []
    for i in range(max(len(lst) for lst in lists)):
        out += [lst[i] for lst in lists if i < len(lst)]
    return out


PLACES = {
    "government": _government, "park": _parks, "welfare": _welfare, "market": _markets, "street": _streets,
}

# --- Device models ------------------------------------------------------------------------------


def ap_hardware(category: str, year: int) -> tuple[str, str, str]:
    """(profile, vendor, model) of an AP: Cisco until 2019, Ubiquiti from 2020; outdoor units in
    parks and streets."""
    outdoor = category in ("park", "street")
    if year >= 2021:
        return "ap-ubiquiti", "Ubiquiti", "U6-Mesh" if outdoor else "U6-Pro"
    if year == 2020:
        return "ap-ubiquiti", "Ubiquiti", "UAP-AC-M" if outdoor else "UAP-AC-PRO"
    if year <= 2014:
        model = "AIR-CAP1552E-K-K9" if outdoor else "AIR-CAP2602I-K-K9"
    elif year <= 2016:
        model = "AIR-AP1572EAC-K-K9" if outdoor else "AIR-CAP2702I-K-K9"
    else:
        indoor = {2017: "AIR-AP1832I-K-K9", 2018: "AIR-AP2802I-K-K9", 2019: "AIR-AP1852I-K-K9"}[year]
        model = "AIR-AP1562I-K-K9" if outdoor else indoor
    return "ap-cisco", "Cisco", model


# (name, role, site key, profile, credentials, vendor, model, tags)
INFRASTRUCTURE = [
    ("core-sw-01", "backbone", "office", "switch", "district-v3", "Cisco", "C9500-48Y4C", ["admin-net"]),
    ("core-sw-02", "backbone", "office", "switch", "district-v3", "Cisco", "C9500-48Y4C", ["admin-net"]),
    ("acc-sw-01", "access", "office", "switch", "district-v2c", "Dasan Networks", "V5848G", ["admin-net"]),
    ("acc-sw-02", "access", "office", "switch", "district-v2c", "Dasan Networks", "V5848G", ["admin-net"]),
    ("acc-sw-03", "access", "office", "switch", "district-v2c", "Dasan Networks", "V5848G", ["admin-net"]),
    ("acc-sw-04", "access", "annex", "switch", "district-v2c", "Dasan Networks", "V5824G", ["admin-net"]),
    ("acc-sw-05", "access", "council", "switch", "district-v2c", "Dasan Networks", "V5824G", ["admin-net"]),
    ("acc-sw-06", "access", "health", "switch", "district-v2c", "Dasan Networks", "V5824G", ["admin-net"]),
    ("acc-sw-07", "access", "dong1", "switch", "district-v2c", "Dasan Networks", "V5824G", ["admin-net"]),
    ("acc-sw-08", "access", "dong2", "switch", "district-v2c", "Dasan Networks", "V5824G", ["admin-net"]),
    ("acc-sw-09", "access", "dong6", "switch", "district-v2c", "Dasan Networks", "V5824G", ["admin-net"]),
    ("ips-01", "ips", "office", "ips", "district-v3", "WINS", "SNIPER ONE-i 4000", ["service-net"]),
    ("media-ctl-01", "host", "office", "host", "district-v2c", "Dell", "PowerEdge R450", ["removable-media"]),
    ("ivr-01", "host", "office", "host", "district-v2c", "HPE", "ProLiant DL360 Gen10 Plus", ["ivr"]),
]
INFRA_ADDRESS_BASE = {"backbone": 1, "access": 11, "ips": 31, "host": 41}

# 2022 plan: planned APs by site key (7 on a new Doksan-ro site, 10 in two existing parks).
PLAN_2022 = {"jeonghun": 7, "sports-park": 6, "samgak-park": 4}
JEONGHUN = Place("독산로 지중화 구간 (정훈단지)", "Doksan-ro undergrounded section (Jeonghun complex)",
                 key="jeonghun")


# --- Allocation ---------------------------------------------------------------------------------


def check_allocation() -> None:
    """Raise if ALLOCATION does not reproduce both seed tables or leaves a site without an AP."""
    for (cat, label), (sites, aps) in ALLOCATION.items():
        if cat not in CATEGORIES or label not in YEAR_LABELS or not 1 <= sites <= aps:
            raise ValueError(f"bad allocation cell {cat}/{label}: {sites} sites, {aps} APs")
    for cat, want in SEED_BY_CATEGORY.items():
        got = tuple(sum(v[k] for (c, _), v in ALLOCATION.items() if c == cat) for k in (0, 1))
        if got != want:
            raise ValueError(f"allocation gives {got} for {cat}, seed says {want}")
    for label, want in SEED_BY_YEAR.items():
        got = tuple(sum(v[k] for (_, y), v in ALLOCATION.items() if y == label) for k in (0, 1))
        if got != want:
            raise ValueError(f"allocation gives {got} for {label}, seed says {want}")


def spread(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` into one share per weight, each at least 1, the rest by largest remainder."""
    n = len(weights)
    if total < n:
        raise ValueError(f"cannot give {n} sites at least one of {total} APs")
    extra, wsum = total - n, sum(weights)
    exact = [extra * w / wsum for w in weights]
    shares = [math.floor(x) for x in exact]
    left = extra - sum(shares)
    order = sorted(range(n), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[:left]:
        shares[i] += 1
    return [1 + s for s in shares]


def install_year(label: str, index: int, count: int) -> int:
    """The year of the index-th of count sites under a label; 2013-2016 is spread over its four years."""
    if label == "2013-2016":
        return 2013 + index * 4 // count
    return int(label)


def assign(category: str) -> Iterator[tuple[Place, int, int]]:
    """(place, install year, AP count) for every site of a category, oldest first."""
    places = PLACES[category]()
    free = [p for p in places if p.year is None]
    for label in YEAR_LABELS:
        if (category, label) not in ALLOCATION:
            continue
        n_sites, n_aps = ALLOCATION[(category, label)]
        pinned = [p for p in places if p.year == label]
        if len(pinned) > n_sites:
            raise ValueError(f"{len(pinned)} places pinned to {category}/{label}, which has {n_sites} sites")
        take = n_sites - len(pinned)
        if take > len(free):
            raise ValueError(f"not enough {category} place names for {label}")
        cell, free = pinned + free[:take], free[take:]
        for i, (place, aps) in enumerate(zip(cell, spread(n_aps, [p.weight for p in cell]), strict=True)):
            yield place, install_year(label, i, n_sites), aps
    stray = [p.name for p in places if p.year is not None and p.year not in YEAR_LABELS]
    if stray or free:
        raise ValueError(f"{category} places left unused: {stray + [p.name for p in free]}")


# --- Generation ---------------------------------------------------------------------------------


def _addresses(first: ipaddress.IPv4Address) -> Iterator[str]:
    """Consecutive addresses from ``first``, skipping .0 and .255 so none looks like a network/broadcast."""
    addr = first
    while True:
        if addr.packed[-1] not in (0, 255):
            yield str(addr)
        addr += 1


def _halton(index: int, base: int) -> float:
    result, f = 0.0, 1.0
    while index:
        f /= base
        result += f * (index % base)
        index //= base
    return result


def site_position(index: int) -> dict[str, float]:
    """A made-up but deterministic position inside the district's outline (Halton points, no randomness).

    The lab's sites are real names at invented places: enough to draw the site map, not to find them.
    """
    x0, y0, x1, y1 = bounds()
    n = index + 1
    while True:
        lon, lat = x0 + (x1 - x0) * _halton(n, 2), y0 + (y1 - y0) * _halton(n, 3)
        if contains(lon, lat):
            return {"lat": round(lat, 5), "lon": round(lon, 5)}
        n += 1000  # next candidate, far enough along the sequence not to repeat another site's point


def generate() -> dict[str, Any]:
    """The inventory as plain data (the shape of :class:`nms.inventory.models.Inventory`)."""
    check_allocation()
    sites: list[dict[str, Any]] = []
    aps: list[tuple[dict[str, Any], int]] = []  # (site, AP count)
    site_of_key: dict[str, dict[str, Any]] = {}

    def add_site(category: str, place: Place, year: int) -> dict[str, Any]:
        number = sum(1 for s in sites if s["category"] == category) + 1
        site = {
            "id": f"{category}-{number:03d}",
            "name": place.name,
            "name_en": place.name_en,
            "category": category,
            "installed": year,
            "subnets": [f"10.{SUBNET_OCTET[category]}.{number}.0/24"],
            **site_position(len(sites)),
        }
        sites.append(site)
        if place.key:
            site_of_key[place.key] = site
        return site

    for category in CATEGORIES:
        for place, year, count in assign(category):
            aps.append((add_site(category, place, year), count))
    add_site("street", JEONGHUN, PLAN_YEAR)

    devices: list[dict[str, Any]] = []
    next_infra = dict(INFRA_ADDRESS_BASE)
    for name, role, key, profile, creds, vendor, model, tags in INFRASTRUCTURE:
        devices.append({
            "name": name, "role": role, "site": site_of_key[key]["id"],
            "address": f"127.20.0.{next_infra[role]}", "port": PORT,
            "profile": profile, "credentials": creds, "vendor": vendor, "model": model, "tags": tags,
        })
        next_infra[role] += 1

    ap_addresses = _addresses(ipaddress.IPv4Address("127.20.1.1"))
    numbered: dict[str, int] = {}

    def add_ap(site: dict[str, Any], year: int, planned: bool) -> None:
        numbered[site["id"]] = numbered.get(site["id"], 0) + 1
        profile, vendor, model = ap_hardware(site["category"], year)
        device: dict[str, Any] = {
            "name": f"ap-{site['id']}-{numbered[site['id']]:02d}", "role": "ap", "site": site["id"],
            "address": next(ap_addresses), "port": PORT, "profile": profile, "credentials": "district-v2c",
        }
        if planned:
            device["status"] = "planned"
        device.update({"installed": year, "vendor": vendor, "model": model})
        if planned:
            device["tags"] = [f"plan-{PLAN_YEAR}"]
        devices.append(device)

    # Active APs first, so that they hold one contiguous address block; the planned ones follow.
    for site, count in aps:
        for _ in range(count):
            add_ap(site, site["installed"], planned=False)
    for key, count in PLAN_2022.items():
        for _ in range(count):
            add_ap(site_of_key[key], PLAN_YEAR, planned=True)

    return {"version": 1, "sites": sites, "devices": devices}


def _flow(item: Any) -> str:
    return yaml.safe_dump(item, default_flow_style=True, allow_unicode=True, sort_keys=False,
                          width=math.inf).strip()


def render(data: dict[str, Any]) -> str:
    """YAML text with one site or device per line (the file is long; one line each keeps it greppable)."""
    lines = [
        "# GENERATED FILE - do not edit by hand.",
        f"# Written by `{COMMAND}` (lab/district_seed.py); change the generator and rerun it.",
        "# The simulated district: public Wi-Fi sites and APs reproducing the 2021 tables of the seed",
        "# document, the administrative-network switches, the service-network IPS and two servers.",
        "# Subnets are data only (they map flow addresses to sites) and are never polled; every",
        "# management address is on loopback (127.20.0.0/16), where the lab's agents listen.",
        f"version: {data['version']}",
        "sites:",
        *(f"- {_flow(site)}" for site in data["sites"]),
        "devices:",
        *(f"- {_flow(device)}" for device in data["devices"]),
    ]
    text = "\n".join(lines) + "\n"
    if yaml.safe_load(text) != data:  # guard against an emitter surprise
        raise RuntimeError("rendered inventory does not read back as generated")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output file (default: {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    data = generate()
    args.out.write_text(render(data), encoding="utf-8")
    n_ap = sum(1 for d in data["devices"] if d["role"] == "ap")
    print(f"wrote {args.out}: {len(data['sites'])} sites, {len(data['devices'])} devices ({n_ap} APs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
