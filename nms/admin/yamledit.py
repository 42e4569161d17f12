"""Editing a YAML configuration file as the page does: comments, order and layout are kept.

ruamel.yaml round-trips the document (comments and layout are kept); every reading, here and in
the service, goes through :func:`nms.configfile.load_text` (YAML 1.2 core schema). A new string
that the reader would take as something else (``0226272301`` an integer, ``true`` a boolean, ``~``
null) is written quoted, so what the page saves is what the service reads.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from nms.configfile import ConfigError, load_text

_SEQ_LINE = re.compile(r"^( *)(\S[^:#]*):\s*(#.*)?\n( *)- ", re.MULTILINE)


def _yaml(text: str) -> YAML:
    y = YAML()
    y.preserve_quotes = True
    y.width = 4096
    # Keep the file's own list indentation ("key:\n  - item" or "key:\n- item").
    m = _SEQ_LINE.search(text)
    offset = max(0, len(m.group(4)) - len(m.group(1))) if m else 0
    y.indent(mapping=2, sequence=offset + 2, offset=offset)
    return y


class AliasError(ValueError):
    """The file uses YAML anchors/aliases, which the page refuses to expand (see nms.configfile)."""


def load(text: str) -> Any:
    try:
        if any(isinstance(e, yaml.AliasEvent) for e in yaml.parse(text, Loader=yaml.SafeLoader)):
            raise AliasError("YAML aliases (*name) are not allowed; write the values out")
    except yaml.YAMLError:
        pass  # not YAML PyYAML can parse: ruamel reports it below
    return _yaml(text).load(text)


def dump(data: Any, like: str) -> str:
    buf = io.StringIO()
    _yaml(like).dump(data, buf)
    return buf.getvalue()


def safe(value: Any) -> Any:
    """A value to put into the document: strings PyYAML would misread are quoted; containers recursively."""
    if isinstance(value, str):
        try:
            reread = load_text(value) if value.strip() else value
        except ConfigError:  # not a plain scalar at all (``*x``, ``[a``, ``a: b``...)
            reread = None
        return value if reread == value and "\n" not in value else DoubleQuotedScalarString(value)
    if isinstance(value, dict):
        m = CommentedMap()
        for k, v in value.items():
            m[k] = safe(v)
        m.fa.set_flow_style() if _flat(value) else None
        return m
    if isinstance(value, list | tuple):
        s = CommentedSeq(safe(v) for v in value)
        if all(isinstance(v, str | int | float | bool | dt.date) for v in value):
            s.fa.set_flow_style()
        return s
    return value


def _flat(value: dict) -> bool:
    return all(isinstance(v, str | int | float | bool | dt.date | None) or
               (isinstance(v, list) and all(isinstance(x, str | int) for x in v)) for v in value.values())


def edit(text: str, change: Callable[[Any], None]) -> str:
    """Apply ``change`` to the round-tripped document and return the new text."""
    data = load(text)
    change(data)
    return dump(data, text)


def plain(value: Any) -> Any:
    """The document (or a part of it) as plain Python data, as PyYAML would give it."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value
