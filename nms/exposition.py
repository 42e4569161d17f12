"""Prometheus text exposition (format 0.0.4) for any collector registry, streamed in chunks.

prometheus_client's writer names every counter's TYPE line ``<name>_total``. snmp_exporter
exposes IF-MIB counters under their MIB names (``ifHCInOctets``, no suffix); to stay compatible
with the dashboards built for it, this writer uses the name the samples actually carry.

A collector may also offer ``expose()``, yielding ready-made exposition text (bytes): the SNMP
collector keeps each device's rendered block until its next poll, so a scrape only joins them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Protocol, runtime_checkable

from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_CHUNK = 1 << 16


@runtime_checkable
class Exposer(Protocol):
    """A collector that renders its own exposition text."""

    def expose(self) -> Iterator[bytes]: ...


def escape_label(value: str) -> str:
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
    return value


def escape_help(text: str) -> str:
    return text.replace("\\", r"\\").replace("\n", r"\n")


def format_float(value: float) -> str:
    """A float exactly as prometheus_client's ``floatToGoString`` writes it (NaN, +Inf, Go exponents)."""
    if value == math.inf:
        return "+Inf"
    if value == -math.inf:
        return "-Inf"
    if value != value:
        return "NaN"
    s = repr(value)
    dot = s.find(".")
    if value > 0 and dot > 6:
        mantissa = f"{s[0]}.{s[1:dot]}{s[dot + 1:]}".rstrip("0.")
        return f"{mantissa}e+0{dot - 1}"
    return s


def format_value(value: float | int) -> str:
    """Integers exactly (a Counter64 keeps all its digits); whole floats as integers; other floats
    as client_python does. Never raises on NaN or infinities."""
    if type(value) is int:
        return str(value)
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:  # is_integer() is False for NaN and the infinities
        return str(int(value))
    return format_float(value)


def _render(metric) -> str:
    samples = [s for s in metric.samples if not s.name.endswith("_created")]
    if not samples and metric.type not in ("counter", "gauge"):
        return ""
    name = metric.name
    if metric.type == "counter" and any(s.name == name + "_total" for s in samples):
        name += "_total"
    mtype = metric.type if metric.type != "unknown" else "untyped"
    out = [f"# HELP {name} {escape_help(metric.documentation)}\n# TYPE {name} {mtype}\n"]
    for s in samples:
        if s.labels:
            labels = ",".join(f'{k}="{escape_label(v)}"' for k, v in s.labels.items())
            out.append(f"{s.name}{{{labels}}} {format_value(s.value)}\n")
        else:
            out.append(f"{s.name} {format_value(s.value)}\n")
    return "".join(out)


def stream(registry: Collector) -> Iterator[bytes]:
    """One collector's exposition, in chunks of roughly 64 KiB."""
    if isinstance(registry, Exposer):
        yield from registry.expose()
        return
    pending: list[str] = []
    size = 0
    for metric in registry.collect():
        text = _render(metric)
        pending.append(text)
        size += len(text)
        if size >= _CHUNK:
            yield "".join(pending).encode()
            pending, size = [], 0
    if pending:
        yield "".join(pending).encode()


def stream_all(collectors: Iterable[Collector]) -> Iterator[bytes]:
    for c in collectors:
        yield from stream(c)


def generate_text(registry: Collector) -> bytes:
    return b"".join(stream(registry))


def collect_all(collectors: Iterable[Collector]) -> bytes:
    return b"".join(stream_all(collectors))
