"""Rate windows: every ``rate()``, ``irate()`` and ``increase()`` covers at least four polls.

The SNMP collector polls each device class at its own interval (``polling.classes`` in
configs/nms.yaml: backbone 15 s ... APs 60 s) and Prometheus scrapes the service every 15 s, so an
AP's counter only moves every fourth scrape. A window that holds fewer than two *changes* of the
counter alternates between 0 and a too-high value (with ``[1m]`` over an AP: 35.6, 35.6, 35.5, 0.0,
37.4 Mbit/s). We chose to keep the scrape fast (alerts stay quick for the fast classes) and to make
every window at least :data:`POLLS_PER_WINDOW` polls of the slowest device class the query reads,
rather than stamping samples with the poll time. Grafana's ``$__rate_interval`` and ``$__interval``
follow the scrape interval and the zoom, not the poll interval, so they are refused outright;
``$__range`` counts as Grafana's shortest quick range (5 minutes) and is refused under a panel
time override such as ``now/d`` (a minute after midnight it is one minute long).

A query's device classes come from its ``role`` matcher (``role="ap"``, ``role=~"backbone|ips"``,
or a dashboard variable whose "All" value lists them). A query without one (flows, IVR, or a
``device=`` filter alone) is taken to read the slowest class.

:func:`violations` is run by ``python -m dashboards.build --check`` over the dashboards and the
alert rules (configs/prometheus/alerts.yml), and by tests/test_dashboards.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
SETTINGS = REPO / "configs" / "nms.yaml"
ALERT_RULES = REPO / "configs" / "prometheus" / "alerts.yml"
POLLS_PER_WINDOW = 4
SHORTEST_RANGE = 300
"""Grafana's shortest quick time range ("Last 5 minutes"), the least ``$__range`` can be."""

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")
_RATE_CALL = re.compile(
    r"\b(rate|irate|increase)\s*\(\s*([a-zA-Z_:][\w:]*)?\s*(\{[^{}]*\})?\s*\[\s*([^\]:]+?)\s*(?::[^\]]*)?\]")
_RATE_FUNCTION = re.compile(r"\b(rate|irate|increase)\s*\(")
_ROLE = re.compile(r'\brole\s*(=~|=|!=|!~)\s*"([^"]*)"')
_VARIABLE = re.compile(r"^\$\{?(\w+)(?::\w+)?\}?$")


@cache
def poll_intervals(settings: Path = SETTINGS) -> dict[str, float]:
    """Device class -> poll interval in seconds, from ``polling.classes`` of the service's settings."""
    data = yaml.safe_load(settings.read_text(encoding="utf-8")) or {}
    classes = (data.get("polling") or {}).get("classes") or {}
    out = {name: float(spec["interval"]) for name, spec in classes.items() if spec and "interval" in spec}
    if not out:
        raise ValueError(f"{settings}: polling.classes lists no device class with an interval")
    return out


def seconds(duration: str) -> float:
    """A Prometheus duration (``90s``, ``1h30m``) in seconds; ValueError if it is not one."""
    parts = _DURATION.findall(duration)
    if not parts or "".join(n + u for n, u in parts) != duration:
        raise ValueError(f"not a Prometheus duration: {duration!r}")
    return sum(float(n) * _UNITS[u] for n, u in parts)


def duration(value: float) -> str:
    """Seconds as the shortest Prometheus duration: 60 -> ``1m``, 90 -> ``90s``."""
    value = int(value)
    for unit in ("h", "m"):
        if value % _UNITS[unit] == 0:
            return f"{value // int(_UNITS[unit])}{unit}"
    return f"{value}s"


def window(*classes: str, settings: Path = SETTINGS) -> str:
    """The shortest allowed window for queries over these device classes (all classes if none)."""
    intervals = poll_intervals(settings)
    unknown = [c for c in classes if c not in intervals]
    if unknown:
        raise ValueError(f"unknown device class {unknown} (polling.classes has {sorted(intervals)})")
    return duration(POLLS_PER_WINDOW * max(intervals[c] for c in (classes or intervals)))


def classes_of(selector: str, variables: Mapping[str, list[str]] | None = None,
               settings: Path = SETTINGS) -> list[str]:
    """The device classes a label selector reads: from its ``role`` matcher, else every class."""
    everything = sorted(poll_intervals(settings))
    m = _ROLE.search(selector or "")
    if not m or m.group(1) in ("!=", "!~"):
        return everything
    value = m.group(2)
    var = _VARIABLE.match(value)
    if var:
        return list((variables or {}).get(var.group(1)) or everything)
    names = value.split("|") if m.group(1) == "=~" else [value]
    if not all(n in poll_intervals(settings) for n in names):
        return everything  # a pattern we cannot enumerate: assume the slowest
    return names


def for_selector(selector: str, variables: Mapping[str, list[str]] | None = None) -> str:
    """The window for a query with this label selector."""
    return window(*classes_of(selector, variables))


@dataclass(frozen=True)
class RateCall:
    function: str
    metric: str
    selector: str
    window: str


def rate_calls(expr: str) -> Iterator[RateCall]:
    for m in _RATE_CALL.finditer(expr):
        yield RateCall(m.group(1), m.group(2) or "", m.group(3) or "", m.group(4))


def problems(expr: str, variables: Mapping[str, list[str]] | None = None, time_override: bool = False) -> list[str]:
    """What is wrong with the windows of one query (empty when every window is long enough).

    A rate function over anything but a plain selector (``rate((a + b)[5m:])``) cannot be checked and
    is reported as such, so the check cannot be walked around.
    """
    parsed = {m.start() for m in _RATE_CALL.finditer(expr)}
    out = [f"{expr[m.start():m.start() + 60]}...: not a plain selector with a range, cannot be checked"
           for m in _RATE_FUNCTION.finditer(expr) if m.start() not in parsed]
    for call in rate_calls(expr):
        need = seconds(for_selector(call.selector, variables))
        where = f"{call.function}({call.metric}{call.selector}[{call.window}])"
        if call.window in ("$__rate_interval", "$__interval", "${__rate_interval}", "${__interval}"):
            out.append(f"{where}: {call.window} follows the zoom, not the poll interval (need >= {duration(need)})")
            continue
        if call.window in ("$__range", "${__range}"):
            if time_override:
                out.append(f"{where}: $__range under a panel time override can be shorter than {duration(need)}")
            elif need > SHORTEST_RANGE:
                out.append(f"{where}: $__range can be {duration(SHORTEST_RANGE)}, need >= {duration(need)}")
            continue
        try:
            have = seconds(call.window)
        except ValueError:
            out.append(f"{where}: window {call.window!r} cannot be checked")
            continue
        if have < need:
            out.append(f"{where}: window {call.window} < {POLLS_PER_WINDOW} polls of its slowest class "
                       f"({', '.join(classes_of(call.selector, variables))}) = {duration(need)}")
    return out


def variable_classes(dashboard: dict) -> dict[str, list[str]]:
    """Variables whose "All" value enumerates device classes (``backbone|access|ips``)."""
    intervals = poll_intervals()
    out = {}
    for var in dashboard.get("templating", {}).get("list", []):
        names = str(var.get("allValue") or "").split("|")
        if names and all(n in intervals for n in names):
            out[var["name"]] = names
    return out


def _panels(dashboard: dict) -> Iterable[dict]:
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def dashboard_violations(name: str, dashboard: dict) -> list[str]:
    variables = variable_classes(dashboard)
    out = []
    for panel in _panels(dashboard):
        for target in panel.get("targets", []):
            for problem in problems(target.get("expr", ""), variables, time_override=bool(panel.get("timeFrom"))):
                out.append(f"{name}: panel {panel.get('title')!r}: {problem}")
    for annotation in dashboard.get("annotations", {}).get("list", []):
        for problem in problems(annotation.get("expr", ""), variables):
            out.append(f"{name}: annotation {annotation.get('name')!r}: {problem}")
    return out


def rule_violations(path: Path = ALERT_RULES) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = []
    for group in data.get("groups", []):
        for rule in group.get("rules", []):
            name = rule.get("alert") or rule.get("record")
            for problem in problems(str(rule.get("expr", ""))):
                out.append(f"{path.name}: rule {name}: {problem}")
    return out


def violations(dashboards: Mapping[str, dict], rules: Path = ALERT_RULES) -> list[str]:
    out = []
    for name, dashboard in sorted(dashboards.items()):
        out += dashboard_violations(name, dashboard)
    return out + rule_violations(rules)
