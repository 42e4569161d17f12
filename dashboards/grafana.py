"""What Grafana does with a dashboard before Prometheus sees a query, for the tests and the PNG renderer.

There is no Grafana server here, so this module does Grafana's part against a real Prometheus:
template variables are resolved (``label_values(...)`` through the series API, ``query_result(...)``
through an instant query and the variable's ``regex`` with its ``text``/``value`` groups), "All"
becomes the variable's allValue, ``$__range`` the time range, and a panel's default step is
``max(min interval, range / data points)``.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol

from dashboards.windows import seconds

_VAR = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")
_LABEL_VALUES = re.compile(r"^label_values\((.+),\s*(\w+)\)$")
_QUERY_RESULT = re.compile(r"^query_result\((.+)\)$", re.S)
MAX_DATA_POINTS = 1000
"""About a wide panel's width in pixels: Grafana's default maxDataPoints."""


class PrometheusApi(Protocol):
    def get(self, path: str, **params: str) -> tuple[int, dict[str, Any]]: ...


class HttpPrometheus:
    """Prometheus's HTTP API at ``url`` (e.g. ``http://127.0.0.1:9090``)."""

    def __init__(self, url: str, timeout: float = 30.0):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def get(self, path: str, **params: str) -> tuple[int, dict[str, Any]]:
        url = f"{self.url}{path}?{urllib.parse.urlencode(params, doseq=True)}"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as r:
                return r.status, json.load(r)
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")


def substitute(text: str, values: dict[str, str]) -> str:
    """Replaces ``$name``, ``${name}``, ``${name:format}`` and ``[[name]]``; KeyError names an unknown variable."""
    def one(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2) or m.group(3)
        if name not in values:
            raise KeyError(f"unknown variable ${name} in {text!r}")
        return values[name]

    return _VAR.sub(one, text)


def _query_result_lines(body: dict[str, Any]) -> list[str]:
    """Grafana's text for each sample of a query_result(): ``name{a="x",b="y"} value timestamp``."""
    out = []
    for series in body["data"]["result"]:
        labels = dict(series["metric"])
        name = labels.pop("__name__", "")
        inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        out.append(f"{name}{{{inner}}} {series['value'][1]} {int(float(series['value'][0]) * 1000)}")
    return out


def _apply_regex(regex: str, texts: list[str]) -> list[tuple[str, str]]:
    """(text, value) pairs as Grafana's variable regex gives them (JavaScript named groups)."""
    if not regex:
        return [(t, t) for t in texts]
    pattern = re.compile(regex.strip("/").replace("(?<", "(?P<"))
    out = []
    for t in texts:
        m = pattern.search(t)
        if not m:
            continue
        groups = m.groupdict()
        value = groups.get("value") or (m.group(1) if m.groups() else m.group(0))
        out.append((groups.get("text") or value, value))
    return out


def variable_options(prom: PrometheusApi, var: dict[str, Any], values: dict[str, str], start: float,
                     end: float) -> list[tuple[str, str]]:
    """The (text, value) options of a query variable, sorted by text as ``sort: 1`` asks."""
    definition = substitute(var["definition"], values)
    m = _LABEL_VALUES.match(definition)
    if m:
        status, body = prom.get("/api/v1/series", **{"match[]": m.group(1), "start": str(start), "end": str(end)})
        if status != 200:
            raise RuntimeError(f"variable {var['name']}: HTTP {status}: {body}")
        found = sorted({s[m.group(2)] for s in body["data"] if m.group(2) in s})
        options = _apply_regex(var.get("regex", ""), found)
    else:
        q = _QUERY_RESULT.match(definition)
        if not q:
            raise ValueError(f"variable {var['name']} is neither label_values(...) nor query_result(...)")
        status, body = prom.get("/api/v1/query", query=q.group(1), time=str(end))
        if status != 200:
            raise RuntimeError(f"variable {var['name']}: HTTP {status}: {body}")
        options = _apply_regex(var.get("regex", ""), _query_result_lines(body))
    return sorted(set(options))


def resolve_variables(prom: PrometheusApi, dashboard: dict[str, Any], start: float, end: float,
                      chosen: dict[str, str] | None = None) -> dict[str, str]:
    """Variable values as Grafana sets them by default (All, else the first option), plus ``$__range``.

    Also ``<name>:text`` for each single-valued variable (what ``${name:text}`` shows).
    """
    values = {"__range": f"{max(1, int(end - start))}s"}
    texts: dict[str, str] = {}
    for var in dashboard["templating"]["list"]:
        if var["type"] == "datasource":
            continue
        options = variable_options(prom, var, values, start, end)
        if chosen and var["name"] in chosen:
            values[var["name"]] = chosen[var["name"]]
        elif var.get("includeAll"):
            values[var["name"]] = var.get("allValue") or "(" + "|".join(re.escape(v) for _, v in options) + ")"
        elif options:
            values[var["name"]] = options[0][1]
        else:
            raise LookupError(f"{dashboard['uid']}: variable {var['name']} has no value")
        texts[var["name"]] = "All" if var.get("includeAll") and var["name"] not in (chosen or {}) else next(
            (t for t, v in options if v == values[var["name"]]), values[var["name"]])
    values.update({f"{name}:text": text for name, text in texts.items()})
    return values


def title(text: str, values: dict[str, str]) -> str:
    """A panel or row title with ``${name:text}`` shown as the option's text."""
    def one(m: re.Match[str]) -> str:
        whole = m.group(0)
        name = m.group(1) or m.group(2) or m.group(3)
        if whole.endswith(":text}") and f"{name}:text" in values:
            return values[f"{name}:text"]
        return values.get(name, whole)

    return _VAR.sub(one, text)


def default_step(panel: dict[str, Any], start: float, end: float, max_points: int = MAX_DATA_POINTS) -> float:
    """Grafana's step for a range query: the panel's min interval, or coarser for a long range."""
    minimum = seconds(panel.get("interval") or "15s")
    return max(minimum, (end - start) / max_points)


@dataclass
class Result:
    """One target's answer: (labels, [(t, v), ...]) per series; instant queries have one point."""

    ref: str
    expr: str
    series: list[tuple[dict[str, str], list[tuple[float, float]]]]


def run_target(prom: PrometheusApi, target: dict[str, Any], expr: str, start: float, end: float,
               step: float) -> Result:
    if target.get("instant"):
        status, body = prom.get("/api/v1/query", query=expr, time=str(end))
    else:
        status, body = prom.get("/api/v1/query_range", query=expr, start=str(start), end=str(end), step=str(step))
    if status != 200 or body.get("status") != "success":
        raise RuntimeError(f"HTTP {status}: {body.get('error', body)} for {expr}")
    data = body["data"]
    series: list[tuple[dict[str, str], list[tuple[float, float]]]] = []
    if data["resultType"] == "matrix":
        series = [(s["metric"], [(float(t), float(v)) for t, v in s["values"]]) for s in data["result"]]
    elif data["resultType"] == "vector":
        series = [(s["metric"], [(float(s["value"][0]), float(s["value"][1]))]) for s in data["result"]]
    elif data["resultType"] == "scalar":
        series = [({}, [(float(data["result"][0]), float(data["result"][1]))])]
    return Result(target["refId"], expr, series)


def legend(fmt: str, labels: dict[str, str], expr: str = "") -> str:
    if not fmt or fmt == "__auto":
        inner = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
        return labels.get("__name__", "") + (f"{{{inner}}}" if inner else "") or expr
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), fmt)
