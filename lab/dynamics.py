"""Values of the simulated devices as deterministic functions of wall time.

Every dynamic record of an agent data file carries its whole specification (see :func:`parse_spec`),
so a value depends only on (record, whole second of wall time): two reads in the same second
agree, and a test can recompute what an agent must have answered.

This file is also an snmpsim variation module (``init``/``variate``/``shutdown`` at the bottom).
The lab copies it, unchanged, into the agents' variation-modules directory, where snmpsim runs it
with ``exec``; it therefore imports only the standard library at module level.

Kinds of value (``k=`` in a spec):

* ``c`` counter: ``o`` + rate × ∫ traffic shape since the last boot, modulo 2^``m``;
* ``u`` uptime in TimeTicks since the last boot;
* ``g`` gauge: ``lo`` + (``hi`` - ``lo``) × occupancy + noise, clamped, rounded;
* ``cl`` Wi-Fi clients of one radio: capacity × share × occupancy, with noise.

Occupancy follows the time of day and week in Seoul (KST, UTC+9; Korea has had no daylight
saving time since 1988) for a site category (``cat``). A device either booted at a fixed epoch
``b`` or reboots every ``rp`` seconds at phase ``ph``.
"""

from __future__ import annotations

import math
import struct
import time
import zlib
from collections.abc import Mapping
from typing import Any

KST_OFFSET = 9 * 3600
HOUR = 3600
WEEK = 7 * 24 * HOUR
# 1970-01-05 00:00 KST, a Monday: the origin of the weekly profile.
_WEEK_ORIGIN = 4 * 86400 - KST_OFFSET

# Occupancy (0..1) at each hour 0..23 KST, (weekday, weekend), interpolated linearly in between.
PROFILES: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    # government buildings: office hours on weekdays, a dip at lunch, almost nothing at weekends
    "government": (
        (.02, .02, .02, .02, .02, .02, .03, .06, .25, .65, .82, .86,
         .62, .80, .88, .85, .78, .58, .24, .08, .04, .03, .02, .02),
        (.02, .02, .02, .02, .02, .02, .02, .03, .05, .08, .10, .10,
         .10, .10, .10, .09, .07, .05, .04, .03, .02, .02, .02, .02),
    ),
    # traditional markets: busy daytime, peak in the late afternoon, busier at weekends
    "market": (
        (.02, .02, .02, .02, .02, .02, .03, .06, .12, .26, .45, .60,
         .70, .66, .60, .70, .85, .95, .90, .70, .45, .20, .08, .03),
        (.02, .02, .02, .02, .02, .02, .03, .06, .15, .35, .58, .75,
         .85, .85, .80, .85, .95, 1.0, .95, .78, .50, .24, .09, .03),
    ),
    # parks: evenings on weekdays, all day at weekends
    "park": (
        (.04, .03, .02, .02, .02, .05, .12, .15, .10, .10, .12, .14,
         .20, .20, .18, .20, .25, .38, .62, .85, .90, .70, .35, .10),
        (.04, .03, .02, .02, .02, .05, .12, .20, .35, .55, .70, .80,
         .85, .88, .90, .90, .85, .80, .82, .85, .80, .60, .30, .10),
    ),
    # main streets: commute peaks in the morning and the evening, lunch bump
    "street": (
        (.05, .04, .03, .03, .03, .06, .20, .55, .92, .60, .32, .35,
         .52, .40, .34, .35, .42, .62, .95, .80, .52, .36, .20, .10),
        (.06, .05, .04, .03, .03, .04, .08, .15, .25, .35, .45, .50,
         .55, .55, .52, .50, .50, .52, .55, .52, .45, .35, .22, .12),
    ),
    # welfare facilities: daytime on weekdays
    "welfare": (
        (.02, .02, .02, .02, .02, .02, .03, .06, .20, .60, .80, .78,
         .55, .70, .80, .76, .60, .40, .18, .06, .03, .02, .02, .02),
        (.02, .02, .02, .02, .02, .02, .02, .03, .06, .12, .15, .15,
         .14, .14, .14, .12, .10, .06, .04, .03, .02, .02, .02, .02),
    ),
}


class _Shape:
    """Weekly piecewise-linear shape ``base + occupancy`` and its exact integral."""

    def __init__(self, category: str, base: float):
        weekday, weekend = PROFILES[category]
        hours = [base + v for day in range(7) for v in (weekend if day >= 5 else weekday)]
        hours.append(hours[0])
        self.points = hours
        cumulative = [0.0]
        for k in range(168):
            cumulative.append(cumulative[-1] + (hours[k] + hours[k + 1]) / 2 * HOUR)
        self.cumulative = cumulative
        self.mean = cumulative[168] / WEEK

    def at(self, t: float) -> float:
        k, f = divmod((t - _WEEK_ORIGIN) % WEEK, HOUR)
        k = int(k)
        a = self.points[k]
        return a + (self.points[k + 1] - a) * f / HOUR

    def integral(self, t: float) -> float:
        """∫ shape from the week origin to ``t`` (seconds)."""
        weeks, x = divmod(t - _WEEK_ORIGIN, WEEK)
        k, f = divmod(x, HOUR)
        k = int(k)
        a = self.points[k]
        slope = (self.points[k + 1] - a) / HOUR
        return weeks * self.cumulative[168] + self.cumulative[k] + a * f + slope * f * f / 2


_shapes: dict[tuple[str, float], _Shape] = {}


def shape(category: str, base: float = 0.0) -> _Shape:
    key = (category, base)
    found = _shapes.get(key)
    if found is None:
        found = _shapes[key] = _Shape(category, base)
    return found


def occupancy(category: str, t: float) -> float:
    """Share (0..1) of the typical peak crowd present at a site of ``category`` at time ``t``."""
    return shape(category).at(t)


def noise(seed: int, bucket: int) -> float:
    """Deterministic noise in [-1, 1] for a seed and a time bucket."""
    return zlib.crc32(struct.pack("<QQ", seed & 0xFFFFFFFFFFFFFFFF, bucket & 0xFFFFFFFFFFFFFFFF)) / 2**31 - 1


def seed_of(*parts: object) -> int:
    return zlib.crc32("/".join(str(p) for p in parts).encode())


def last_boot(spec: Mapping[str, Any], t: float) -> float:
    period = spec.get("rp", 0)
    if period:
        phase = spec.get("ph", 0)
        return phase + math.floor((t - phase) / period) * period
    return spec["b"]


def counter_increase(spec: Mapping[str, Any], since: float, t: float) -> int:
    """How much a counter grew from ``since`` to ``t`` (both after the same boot)."""
    rate = spec.get("r", 0)
    if not rate:
        return 0
    sh = shape(_category(spec), spec.get("base", 0.2))
    return int(rate / sh.mean * (sh.integral(t) - sh.integral(since)))


def value_at(spec: Mapping[str, Any], t: float) -> int:
    """The value of a dynamic record at wall time ``t`` (rounded down to the second)."""
    t = math.floor(t)
    kind = spec["k"]
    if kind == "c":
        boot = last_boot(spec, t)
        modulus = 1 << int(spec.get("m", 64))
        return (int(spec.get("o", 0)) + counter_increase(spec, boot, t)) % modulus
    if kind == "u":
        return int((t - last_boot(spec, t)) * 100) % (1 << 32)
    if kind == "g":
        lo, hi = spec.get("lo", 0), spec.get("hi", 100)
        v = lo + (hi - lo) * occupancy(_category(spec), t)
        v += spec.get("n", 0) * noise(int(spec.get("s", 0)), t // 60)
        return round(min(max(v, spec.get("min", lo)), spec.get("max", hi)))
    if kind == "cl":
        occ = occupancy(_category(spec), t)
        v = spec["cap"] * spec.get("share", 1.0) * occ * (1 + 0.2 * noise(int(spec.get("s", 0)), t // 60))
        return max(0, round(v))
    raise ValueError(f"unknown kind {kind!r}")


_CATEGORIES = tuple(PROFILES)


def _category(spec: Mapping[str, Any]) -> str:
    return _CATEGORIES[int(spec.get("cat", 0))]


def category_code(category: str) -> int:
    return _CATEGORIES.index(category)


def format_spec(spec: Mapping[str, object]) -> str:
    """Text of a spec as it stands in a data file: ``k=c,r=12.5,...`` (values are numbers)."""
    parts = []
    for key, val in spec.items():
        if key == "k":
            parts.append(f"k={val}")
        elif isinstance(val, float):
            parts.append(f"{key}={int(val)}" if val.is_integer() else f"{key}={val!r}")  # exact round trip
        else:
            parts.append(f"{key}={val}")
    return ",".join(parts)


def parse_spec(text: str) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    for part in text.split(","):
        key, _, val = part.partition("=")
        if key == "k":
            spec["k"] = val
        elif key:
            spec[key] = int(val) if val.lstrip("-").isdigit() else float(val)
    return spec


# --- snmpsim variation module entry points --------------------------------------------------
# snmpsim calls variate(oid, tag, value, **context) for records written as ``OID|TAG:nmslab|SPEC``.

_TYPES: dict[str, type] = {}
_parsed: dict[tuple[str, object], dict[str, Any]] = {}


def init(**context: object) -> None:
    from pysnmp.proto import rfc1902

    _TYPES.update({"2": rfc1902.Integer32, "65": rfc1902.Counter32, "66": rfc1902.Gauge32,
                   "67": rfc1902.TimeTicks, "70": rfc1902.Counter64})


def variate(oid: Any, tag: str, value: str, **context: Any) -> tuple[Any, str, Any]:
    if (not context["nextFlag"] and not context["exactMatch"]) or context["setFlag"]:
        return context["origOid"], tag, context["errorStatus"]
    key = (context["dataFile"], oid)
    spec = _parsed.get(key)
    if spec is None:
        spec = _parsed[key] = parse_spec(value)
    return oid, tag, _TYPES[tag](value_at(spec, time.time()))


def shutdown(**context: object) -> None:
    _parsed.clear()
