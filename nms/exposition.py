"""Prometheus text exposition (format 0.0.4) for any collector registry.

prometheus_client's writer names every counter's TYPE line ``<name>_total``. snmp_exporter
exposes IF-MIB counters under their MIB names (``ifHCInOctets``, no suffix); to stay compatible
with the dashboards built for it, this writer uses the name the samples actually carry.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _escape_label(value: str) -> str:
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
    return value


def _format_value(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def generate_text(registry: Collector) -> bytes:
    out: list[str] = []
    append = out.append
    for metric in registry.collect():
        samples = [s for s in metric.samples if not s.name.endswith("_created")]
        if not samples and metric.type not in ("counter", "gauge"):
            continue
        name = metric.name
        if metric.type == "counter" and any(s.name == name + "_total" for s in samples):
            name += "_total"
        mtype = metric.type if metric.type != "unknown" else "untyped"
        doc = metric.documentation.replace("\\", r"\\").replace("\n", r"\n")
        append(f"# HELP {name} {doc}\n# TYPE {name} {mtype}\n")
        for s in samples:
            if s.labels:
                labels = ",".join(f'{k}="{_escape_label(v)}"' for k, v in s.labels.items())
                append(f"{s.name}{{{labels}}} {_format_value(s.value)}\n")
            else:
                append(f"{s.name} {_format_value(s.value)}\n")
    return "".join(out).encode()


def collect_all(collectors: Iterable[Collector]) -> bytes:
    class _Many:
        def collect(self):
            for c in collectors:
                yield from c.collect()

    return generate_text(_Many())
