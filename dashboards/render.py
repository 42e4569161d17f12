"""Render each dashboard to PNG from a real Prometheus: ``python -m dashboards.render --prometheus URL``.

There is no Grafana server here, so this draws what the NOC would see with matplotlib: every panel's
real query results (variables resolved as Grafana would, dashboards.grafana) at its place in the
dashboard's 24-column grid, with its unit, thresholds, value mappings and "out below the axis".
The pictures in dashboards/png/ (shown in the README) come from the lab: tests/test_dashboards_lab.py
writes them when NMS_DASHBOARD_PNG_DIR names a directory.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from dashboards.build import load_all
from dashboards.grafana import (
    HttpPrometheus,
    PrometheusApi,
    Result,
    default_step,
    legend,
    resolve_variables,
    run_target,
    substitute,
    title,
)

PNG_DIR = Path(__file__).resolve().parent / "png"
KOREAN_FONTS = ("/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
                "/usr/share/fonts/truetype/nanum/NanumBarunGothic.ttf")
UNIT_W, UNIT_H = 0.8, 0.34  # inches per grid column / row unit (Grafana: 24 columns, 30 px rows)
COLORS = {"green": "#56A64B", "red": "#E02F44", "yellow": "#F2CC0C", "orange": "#FF9830", "blue": "#3274D9",
          "purple": "#A352CC", "text": "#CCCCDC", "panel": "#181B1F", "page": "#111217", "grid": "#2C3235"}
PALETTE = ["#73BF69", "#F2CC0C", "#8AB8FF", "#FF780A", "#F2495C", "#5794F2", "#B877D9", "#705DA0", "#37872D",
           "#FADE2A", "#447EBC", "#C15C17"]


def _font() -> None:
    for path in KOREAN_FONTS:
        if Path(path).exists():
            font_manager.fontManager.addfont(path)
            plt.rcParams["font.family"] = font_manager.FontProperties(fname=path).get_name()
            return
    print("warning: no Korean font (Debian package fonts-nanum); Hangul will show as boxes", file=sys.stderr)


def _color(name: str | None) -> str:
    return COLORS.get(name or "", name or COLORS["text"])


# -- units -------------------------------------------------------------------------------------------
_SI = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]


def _si(value: float, suffix: str, decimals: int | None) -> str:
    for factor, prefix in _SI:
        if abs(value) >= factor:
            return f"{value / factor:.{1 if decimals is None else decimals}f} {prefix}{suffix}".rstrip()
    return f"{value:.{(0 if float(value).is_integer() else 2) if decimals is None else decimals}f} {suffix}".rstrip()


def _duration(value: float) -> str:
    value = int(value)
    parts = [(value // 86400, "d"), (value % 86400 // 3600, "h"), (value % 3600 // 60, "m"), (value % 60, "s")]
    shown = [f"{n}{u}" for n, u in parts if n][:2]
    return " ".join(shown) or "0s"


def fmt(value: float, unit: str | None, decimals: int | None = None) -> str:
    """A value as Grafana shows it with this unit."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    unit = unit or "short"
    if unit == "bps":
        return _si(value, "b/s", decimals)
    if unit == "pps":
        return _si(value, "p/s", decimals)
    if unit == "decbytes":
        return _si(value, "B", decimals)
    if unit == "percent":
        return f"{value:.{1 if decimals is None else decimals}f}%"
    if unit == "percentunit":
        return f"{value * 100:.{1 if decimals is None else decimals}f}%"
    if unit == "s":
        return f"{value * 1000:.0f} ms" if abs(value) < 1 else f"{value:.{2 if decimals is None else decimals}f} s"
    if unit == "dtdurations":
        return _duration(value)
    if unit == "celsius":
        return f"{value:.1f} °C"
    if unit == "none":
        return f"{value:g}"
    return _si(value, "", decimals)


def _mapped(value: float, defaults: dict[str, Any]) -> tuple[str, str | None]:
    """Text and colour for a value: a value mapping, else the unit's text and the threshold colour."""
    for mapping in defaults.get("mappings", []):
        for key, option in mapping.get("options", {}).items():
            if _same(key, value):
                return option.get("text", key), option.get("color")
    return fmt(value, defaults.get("unit"), defaults.get("decimals")), _threshold_color(value, defaults)


def _same(key: str, value: float) -> bool:
    try:
        return float(key) == value
    except ValueError:
        return False


def _threshold_color(value: float, defaults: dict[str, Any], maximum: float | None = None) -> str | None:
    thresholds = defaults.get("thresholds", {})
    steps = thresholds.get("steps", [])
    if thresholds.get("mode") == "percentage":
        top = maximum if maximum is not None else defaults.get("max")
        if not top:
            return None
        value = value / top * 100
    color = None
    for step in steps:
        if step["value"] is None or value >= step["value"]:
            color = step["color"]
    return color


# -- panels ------------------------------------------------------------------------------------------
def _series(results: list[Result], panel: dict[str, Any]) -> list[tuple[str, list[tuple[float, float]]]]:
    targets = {t["refId"]: t for t in panel["targets"]}
    out = []
    for r in results:
        for labels, points in r.series:
            out.append((legend(targets[r.ref].get("legendFormat", ""), labels, r.expr), points))
    return out


def _negative(name: str, panel: dict[str, Any]) -> bool:
    for o in panel["fieldConfig"].get("overrides", []):
        if o["matcher"]["id"] == "byRegexp" and re.fullmatch(o["matcher"]["options"], name):
            return any(p["id"] == "custom.transform" and p["value"] == "negative-Y" for p in o["properties"])
    return False


def _time_axis(ax: Axes, span: tuple[float, float]) -> None:
    """The dashboard's whole time range, so a young lab shows where its data begins."""
    ax.set_xlim(*span)
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: time.strftime("%H:%M", time.localtime(v))))


def _timeseries(ax: Axes, panel: dict[str, Any], results: list[Result], span: tuple[float, float]) -> None:
    defaults = panel["fieldConfig"]["defaults"]
    # The busiest series first: with many ports, those are the ones worth a colour and a legend line.
    series = sorted(_series(results, panel), key=lambda s: -max((abs(v) for _, v in s[1]), default=0))
    steps = (defaults.get("custom") or {}).get("lineInterpolation") == "stepAfter"
    bars = (defaults.get("custom") or {}).get("drawStyle") == "bars"
    for i, (name, points) in enumerate(series[:12]):
        sign = -1 if _negative(name, panel) else 1
        xs = [t for t, _ in points]
        ys = [sign * v for _, v in points]
        color = PALETTE[i % len(PALETTE)]
        if bars:
            ax.bar(xs, ys, width=(xs[1] - xs[0]) * 0.8 if len(xs) > 1 else 10, color=color, label=name)
        else:
            ax.plot(xs, ys, color=color, linewidth=1.2, label=name, drawstyle="steps-post" if steps else "default")
    unit, decimals = defaults.get("unit"), defaults.get("decimals")
    if decimals == 0:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: fmt(abs(v), unit, decimals)))
    _time_axis(ax, span)
    ax.tick_params(colors=COLORS["text"], labelsize=6)
    ax.grid(color=COLORS["grid"], linewidth=0.5)
    for side in ax.spines.values():
        side.set_color(COLORS["grid"])
    if series:
        ax.legend(fontsize=5.5, loc="upper left", ncols=2 if len(series) > 4 else 1, frameon=False,
                  labelcolor=COLORS["text"])
    if len(series) > 12:
        ax.text(1, 1, f"+{len(series) - 12} more", transform=ax.transAxes, ha="right", va="top", fontsize=6,
                color=COLORS["text"])


def _values(results: list[Result], panel: dict[str, Any]) -> list[tuple[str, float]]:
    return [(name, points[-1][1]) for name, points in _series(results, panel) if points]


def _stat(ax: Axes, panel: dict[str, Any], results: list[Result], span: tuple[float, float]) -> None:
    defaults = panel["fieldConfig"]["defaults"]
    values = _values(results, panel)
    if panel["options"].get("textMode") == "name":
        values = [(name, math.nan) for name, _ in values]
    if not values:
        ax.text(0.5, 0.5, "No data", ha="center", va="center", color=COLORS["text"], fontsize=10)
        return
    n = min(len(values), 6)
    for i, (name, value) in enumerate(values[:n]):
        x = (i + 0.5) / n
        text, color = (name, None) if math.isnan(value) else _mapped(value, defaults)
        fixed = defaults.get("color", {}).get("fixedColor")
        ax.text(x, 0.45, text, ha="center", va="center", fontsize=16 if n == 1 else 11, weight="bold",
                color=_color(fixed or color or "green"))
        if n > 1:
            ax.text(x, 0.12, name[:28], ha="center", va="center", fontsize=6, color=COLORS["text"])


def _gauge(ax: Axes, panel: dict[str, Any], results: list[Result], span: tuple[float, float]) -> None:
    defaults = panel["fieldConfig"]["defaults"]
    series = dict(_values(results, panel))
    field = panel["options"].get("reduceOptions", {}).get("fields", "").strip("/")
    value = next((v for k, v in series.items() if not field or re.search(field, k)), math.nan)
    maximum = defaults.get("max")
    for t in panel.get("transformations", []):
        if t["id"] == "configFromData":
            for mapping in t["options"]["mappings"]:
                if mapping["handlerKey"] == "max":
                    maximum = series.get(mapping["fieldName"], maximum)
    maximum = maximum or 100
    share = 0 if math.isnan(value) else max(0.0, min(1.0, value / maximum))
    color = _color(_threshold_color(value, defaults, maximum) if not math.isnan(value) else None)
    ax.barh([0.3], [1], height=0.18, color=COLORS["grid"])
    ax.barh([0.3], [share], height=0.18, color=color)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.text(0.5, 0.68, f"{fmt(value, defaults.get('unit'), defaults.get('decimals'))} / {maximum:g}", ha="center",
            va="center", fontsize=15, weight="bold", color=color)


def _bargauge(ax: Axes, panel: dict[str, Any], results: list[Result], span: tuple[float, float]) -> None:
    defaults = panel["fieldConfig"]["defaults"]
    values = _values(results, panel)[:10]
    if not values:
        ax.text(0.5, 0.5, "No data", ha="center", va="center", color=COLORS["text"], fontsize=10)
        return
    top = defaults.get("max") or max((v for _, v in values), default=1) or 1
    for i, (name, value) in enumerate(reversed(values)):
        color = _color(_threshold_color(value, defaults))
        ax.barh(i, max(0.0, value) / top, color=color, height=0.6)
        ax.text(0.01, i + 0.42, name[:40], fontsize=6, color=COLORS["text"], va="bottom")
        ax.text(1.0, i, fmt(value, defaults.get("unit"), defaults.get("decimals")), fontsize=7, ha="right",
                va="center", color=COLORS["text"], weight="bold")
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.6, len(values) - 0.2)


def _table_rows(panel: dict[str, Any], results: list[Result]) -> tuple[list[str], list[list[str]]]:
    """Joins the targets' instant results on their shared labels, then applies the organize transformation."""
    defaults = panel["fieldConfig"]["defaults"]
    organize = next((t["options"] for t in panel.get("transformations", []) if t["id"] == "organize"), {})
    excluded = set(organize.get("excludeByName", {}))
    rename = organize.get("renameByName", {})
    several = len(results) > 1
    rows: dict[tuple, dict[str, Any]] = {}
    label_keys: list[str] = []
    key_labels: list[str] | None = None
    for r in results:
        for labels, _ in r.series:
            keys = [k for k in labels if k != "__name__"]
            key_labels = keys if key_labels is None else [k for k in key_labels if k in keys]
    for r in results:
        for labels, points in r.series:
            key = tuple(labels.get(k, "") for k in key_labels or [])
            row = rows.setdefault(key, {})
            for k, v in labels.items():
                if k != "__name__":
                    row.setdefault(k, v)
                    if k not in label_keys:
                        label_keys.append(k)
            row[f"Value #{r.ref}" if several else "Value"] = points[-1][1]
    value_keys = [f"Value #{r.ref}" for r in results] if several else ["Value"]
    order = organize.get("indexByName", {})
    columns = [c for c in label_keys + value_keys if c not in excluded and not c.startswith("Time")]
    columns.sort(key=lambda c: order.get(c, 100 + (label_keys + value_keys).index(c)))
    units = {o["matcher"]["options"]: {p["id"]: p["value"] for p in o["properties"]}
             for o in panel["fieldConfig"].get("overrides", []) if o["matcher"]["id"] == "byName"}
    out = []
    for row in rows.values():
        cells = []
        for c in columns:
            value = row.get(c, "")
            if isinstance(value, float):
                props = units.get(rename.get(c, c), {})
                if props.get("mappings"):
                    text, _ = _mapped(value, {"mappings": props["mappings"]})
                elif "unit" in props:
                    text = fmt(value, props["unit"], props.get("decimals"))
                else:
                    text, _ = _mapped(value, defaults)
                cells.append(text)
            else:
                cells.append(str(value)[:40])
        out.append(cells)
    return [rename.get(c, c) for c in columns], out


def _table(ax: Axes, panel: dict[str, Any], results: list[Result], span: tuple[float, float]) -> None:
    header, rows = _table_rows(panel, results)
    fits = max(1, int(panel["gridPos"]["h"] * 1.2) - 2)
    if len(rows) > fits:
        ax.text(1, 0, f"+{len(rows) - fits} more rows", transform=ax.transAxes, ha="right", va="bottom",
                fontsize=6, color=COLORS["text"])
        rows = rows[:fits]
    ax.axis("off")
    if not rows:
        ax.text(0.5, 0.5, "No data", ha="center", va="center", color=COLORS["text"], fontsize=9)
        return
    table = ax.table(cellText=rows, colLabels=header, loc="upper center", cellLoc="left", colLoc="left")
    table.auto_set_font_size(False)
    table.set_fontsize(5.5)
    for (r, _), cell in table.get_celld().items():
        cell.set_edgecolor(COLORS["grid"])
        cell.set_facecolor(COLORS["page"] if r == 0 else COLORS["panel"])
        cell.get_text().set_color(COLORS["text"])
        cell.set_height(min(0.12, 1 / (len(rows) + 1.5)))


def _piechart(ax: Axes, panel: dict[str, Any], results: list[Result], span: tuple[float, float]) -> None:
    values = [(n, v) for n, v in _values(results, panel) if v > 0]
    if not values:
        ax.text(0.5, 0.5, "No data", ha="center", va="center", color=COLORS["text"], fontsize=9)
        ax.axis("off")
        return
    ax.pie([v for _, v in values], labels=[f"{n} ({v:g})" for n, v in values], colors=PALETTE,
           textprops={"fontsize": 6, "color": COLORS["text"]}, wedgeprops={"width": 0.45})


def _state_timeline(ax: Axes, panel: dict[str, Any], results: list[Result], span: tuple[float, float]) -> None:
    defaults = panel["fieldConfig"]["defaults"]
    series = _series(results, panel)[:12]
    for i, (name, points) in enumerate(series):
        for (t0, v), (t1, _) in zip(points, [*points[1:], (points[-1][0] + 15, 0)], strict=True):
            _, color = _mapped(v, defaults)
            ax.barh(i, t1 - t0, left=t0, color=_color(color or _threshold_color(v, defaults)), height=0.8)
        ax.text(points[0][0] if points else 0, i, f" {name}", va="center", fontsize=6, color="white")
    ax.set_yticks([])
    _time_axis(ax, span)
    ax.tick_params(colors=COLORS["text"], labelsize=6)


DRAW = {"timeseries": _timeseries, "stat": _stat, "gauge": _gauge, "bargauge": _bargauge, "table": _table,
        "piechart": _piechart, "state-timeline": _state_timeline}


def render(prom: PrometheusApi, dashboard: dict[str, Any], path: Path, start: float, end: float,
           chosen: dict[str, str] | None = None) -> Path:
    """Draw ``dashboard`` with its real query results between start and end; write a PNG to ``path``."""
    _font()
    values = resolve_variables(prom, dashboard, start, end, chosen)
    panels = dashboard["panels"]
    height = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels) + 2
    fig = plt.figure(figsize=(24 * UNIT_W, height * UNIT_H), facecolor=COLORS["page"])
    shown = {k: v for k, v in values.items() if not k.startswith("__") and ":" not in k}
    fig.text(0.005, 1 - 0.6 / height, f"{dashboard['title']}    " + "  ".join(
        f"{k}={values.get(k + ':text', v)}" for k, v in shown.items())
        + time.strftime("    %Y-%m-%d %H:%M", time.localtime(start)) + time.strftime(" - %H:%M", time.localtime(end)),
        fontsize=11, color="white", weight="bold", va="center")
    for panel in panels:
        g = panel["gridPos"]
        left, width = g["x"] / 24, g["w"] / 24
        bottom, top = 1 - (g["y"] + 2 + g["h"]) / height, 1 - (g["y"] + 2) / height
        if panel["type"] == "row":
            fig.text(left + 0.003, (bottom + top) / 2, title(panel["title"], values), fontsize=9, color="white",
                     va="center", weight="bold")
            continue
        frame = fig.add_axes((left + 0.002, bottom + 0.004, width - 0.004, top - bottom - 0.008))
        frame.set_facecolor(COLORS["panel"])
        frame.set_xticks([])
        frame.set_yticks([])
        for side in frame.spines.values():
            side.set_color(COLORS["grid"])
        unit = panel["fieldConfig"]["defaults"].get("unit", "")
        frame.set_title(f"{title(panel['title'], values)}  [{unit}]", fontsize=7, color=COLORS["text"], loc="left",
                        pad=2)
        axis = 0.032 if panel["type"] == "timeseries" else 0  # room for the value axis' labels
        inner = (left + 0.006 + axis, bottom + 0.022, width - 0.012 - axis, top - bottom - 0.04)
        ax = fig.add_axes(inner)
        ax.set_facecolor(COLORS["panel"])
        if panel["type"] not in ("timeseries", "state-timeline"):
            ax.axis("off")
        step = default_step(panel, start, end)
        try:
            results = [run_target(prom, t, substitute(t["expr"], values), start, end, step)
                       for t in panel["targets"]]
        except RuntimeError as exc:
            ax.text(0.5, 0.5, f"query failed: {exc}"[:120], ha="center", va="center", fontsize=6, color="red",
                    wrap=True)
            continue
        DRAW[panel["type"]](ax, panel, results, (start, end))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80, facecolor=COLORS["page"])
    plt.close(fig)
    return path


def render_all(prom: PrometheusApi, out: Path, minutes: float = 10, chosen: dict[str, dict[str, str]] | None = None
               ) -> list[Path]:
    end = time.time()
    start = end - minutes * 60
    return [render(prom, d, out / name.replace(".json", ".png"), start, end, (chosen or {}).get(d["uid"]))
            for name, d in load_all().items()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboards.render", description=__doc__.splitlines()[0])
    parser.add_argument("--prometheus", required=True, help="Prometheus base URL, e.g. http://127.0.0.1:9090")
    parser.add_argument("--out", type=Path, default=PNG_DIR, help="directory (default: %(default)s)")
    parser.add_argument("--minutes", type=float, default=10, help="time range to draw (default: %(default)s)")
    args = parser.parse_args(argv)
    for path in render_all(HttpPrometheus(args.prometheus), args.out, args.minutes):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
