"""Loading YAML configuration with errors that name the file, the line and the key.

One reader for the service and the admin page: libyaml (PyYAML's C composer) builds the node
tree fast (a 10,000-device inventory in well under a second, where a pure-Python parser takes
10 s or more), and this module turns nodes into data itself, so that

* every value keeps its line, and pydantic's errors are reported as ``file:line: key.path: message``;
* a duplicate key is refused (PyYAML would silently keep the last);
* aliases are refused (``*ref``): a configuration says each thing once, and an alias bomb
  cannot expand a small file into a huge one;
* plain scalars follow the YAML 1.2 core schema, as ruamel.yaml (the admin page's round-trip
  writer) does: ``no``, ``on`` and ``09:00`` stay strings, ``0226`` is an integer only in
  decimal, and dates stay strings for the models to parse.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Location = tuple[str | int, ...]
ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a configuration file: ``file:line: name: message``.

    ``location`` names what is wrong as a person knows it: a device or site by its name (else the
    key path). ``code`` and ``params`` let the message be shown in the reader's language
    (:mod:`nms.i18n`); ``message`` is the English text.
    """

    file: str
    line: int | None
    location: str
    message: str
    code: str = ""
    params: tuple[tuple[str, object], ...] = ()

    def text(self, lang: str = "en") -> str:
        message = self.message
        if self.code and lang != "en":
            from nms.i18n import translate

            params = dict(self.params)
            message = translate(self.code, lang, **params)
            if params.get("suggestion"):
                message += " " + translate("did_you_mean", lang, suggestion=params["suggestion"])
            if "value" in params:
                message = f"{params['value']!r} — {message}"
            if params.get("field"):
                message = f"{params['field']}: {message}"
        where = f"{self.file}:{self.line}" if self.line else self.file
        key = f" {self.location}:" if self.location else ""
        return f"{where}:{key} {message}"

    def __str__(self) -> str:
        return self.text("en")


class ConfigError(Exception):
    """A configuration that must not be used. Carries every problem found, not just the first."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def text(self, lang: str = "en") -> str:
        return "\n".join(p.text(lang) for p in self.problems)


def format_location(loc: Location) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


_PLAIN = "!plain"  # what our resolver calls an untagged plain scalar, resolved below
_STR, _INT, _FLOAT, _BOOL, _NULL = (f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null"))
_MAP, _SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
# YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution)
_CORE_NULL = frozenset(("", "~", "null", "Null", "NULL"))
_CORE_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_CORE_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_CORE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_CORE_SPECIAL = {".inf": math.inf, ".Inf": math.inf, ".INF": math.inf, "+.inf": math.inf, "+.Inf": math.inf,
                 "+.INF": math.inf, "-.inf": -math.inf, "-.Inf": -math.inf, "-.INF": -math.inf,
                 ".nan": math.nan, ".NaN": math.nan, ".NAN": math.nan}


class _Composer(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Composes nodes with libyaml; leaves plain scalars unresolved (no YAML 1.1 implicit types)."""

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode:
            if implicit[0]:
                return _PLAIN
            return _STR
        return _SEQ if kind is yaml.SequenceNode else _MAP


_NUMBER_START = frozenset("0123456789+-.")


def _core_scalar(text: str) -> Any:
    if text[:1] not in _NUMBER_START:  # most values: names, words; also "" (null)
        if text in _CORE_NULL:
            return None
        flag = _CORE_BOOL.get(text)
        return text if flag is None else flag
    if _CORE_INT.fullmatch(text):
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text)
    if _CORE_FLOAT.fullmatch(text):
        return float(text)
    special = _CORE_SPECIAL.get(text)
    return text if special is None else special


def _tagged_scalar(tag: str, text: str) -> Any:
    """An explicitly tagged scalar (``!!int "8"``); raises ValueError for what the tag refuses."""
    if tag == _STR:
        return text
    if tag == _NULL:
        if text not in _CORE_NULL:
            raise ValueError(f"{text!r} is not null")
        return None
    if tag == _BOOL:
        if text not in _CORE_BOOL:
            raise ValueError(f"{text!r} is not a boolean")
        return _CORE_BOOL[text]
    if tag == _INT:
        value = _core_scalar(text)
        if type(value) is not int:
            raise ValueError(f"{text!r} is not an integer")
        return value
    if tag == _FLOAT:
        value = _core_scalar(text)
        if type(value) not in (int, float):
            raise ValueError(f"{text!r} is not a number")
        return float(value)
    raise ValueError(f"unsupported tag {tag}")


class _Document:
    """A parsed YAML document: plain Python data, and the node tree to find any key path's line."""

    def __init__(self, text: str, file: str):
        self.file = file
        self._seen: set[int] = set()
        try:
            loader = _Composer(text)
            try:
                node = loader.get_single_node()
            finally:
                loader.dispose()
        except yaml.YAMLError as exc:
            raise ConfigError([yaml_problem(exc, file)]) from None
        self._root = node
        self.data = self._build(node, ()) if node is not None else {}
        self._seen.clear()

    def _problem(self, node: yaml.Node, path: Location, message: str) -> ConfigError:
        return ConfigError([Problem(self.file, node.start_mark.line + 1, format_location(path), message)])

    def _build(self, node: yaml.Node, path: Location) -> Any:
        """Data from nodes. ``path`` is only for error messages; it is extended lazily."""
        cls = node.__class__
        seen = self._seen
        if id(node) in seen:  # libyaml hands an alias over as the anchored node itself
            raise self._problem(node, path, "aliases (*name) are not allowed in configuration files")
        seen.add(id(node))
        if cls is yaml.ScalarNode:
            return _core_scalar(node.value) if node.tag == _PLAIN else self._construct(node, path, "value")
        if cls is yaml.MappingNode and node.tag == _MAP:
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.__class__ is yaml.ScalarNode and key_node.tag == _PLAIN and key_node.value != "<<":
                    key = _core_scalar(key_node.value)
                else:
                    key = self._key(key_node, path)
                if key in result:
                    raise self._problem(key_node, (*path, key), "duplicate key")
                if value_node.__class__ is yaml.ScalarNode and value_node.tag == _PLAIN and id(value_node) not in seen:
                    seen.add(id(value_node))
                    result[key] = _core_scalar(value_node.value)
                else:
                    result[key] = self._build(value_node, (*path, key))
            return result
        if cls is yaml.SequenceNode and node.tag == _SEQ:
            return [self._build(item, (*path, i)) for i, item in enumerate(node.value)]
        raise self._problem(node, path, f"invalid value: unsupported tag {node.tag}")

    def _key(self, node: yaml.Node, path: Location) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise self._problem(node, (*path, "<key>"), "invalid key: a key must be a plain value, not a "
                                                         "list or mapping")
        if node.tag == _PLAIN and node.value == "<<":
            raise self._problem(node, (*path, "<key>"), "merge keys (<<) are not allowed in configuration files")
        return self._construct(node, (*path, "<key>"), "key")

    def _construct(self, node: yaml.ScalarNode, path: Location, what: str) -> Any:
        """One scalar or key. What cannot be constructed (unknown tag, ``!!int abc``...) is a located
        problem, not a stray exception."""
        if node.tag == _PLAIN:
            return _core_scalar(node.value)
        try:
            return _tagged_scalar(node.tag, node.value)
        except ValueError as exc:
            raise self._problem(node, path, f"invalid {what}: {exc}") from None

    def line_of(self, loc: Location) -> int | None:
        """The line of the deepest node of ``loc`` that exists in the document."""
        node = self._root
        if node is None:
            return None
        line = node.start_mark.line + 1
        for part in loc:
            child = None
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    if isinstance(key_node, yaml.ScalarNode) and _core_scalar(key_node.value) == part:
                        child = value_node
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                child = node.value[part]
            if child is None:
                break
            node = child
            line = node.start_mark.line + 1
        return line


def load_text(text: str, file: str = "<text>") -> Any:
    """YAML text as plain data, read exactly as the service reads its files (raises ConfigError)."""
    return _Document(text, file).data


def yaml_problem(exc: yaml.YAMLError, file: str) -> Problem:
    """A YAML syntax error at the line that holds the mistake.

    PyYAML's ``problem_mark`` is where it gave up, often the line after the mistake (a key without
    its ``:`` is only noticed on the next line); its ``context_mark`` is where the construct it was
    reading began. The earlier of the two is the line to fix.
    """
    problem = getattr(exc, "problem_mark", None)
    context = getattr(exc, "context_mark", None)
    marks = [m for m in (context, problem) if m is not None]
    line = min(m.line for m in marks) + 1 if marks else None
    reason = getattr(exc, "problem", None) or str(exc)
    context_text = getattr(exc, "context", None)
    if context is not None and problem is not None and context.line != problem.line:
        reason = f"{reason} ({context_text}; noticed at line {problem.line + 1})" if context_text else reason
    return Problem(file, line, "", f"malformed YAML: {reason}", "cfg_yaml", (("reason", reason),))


def read_yaml(path: Path) -> _Document:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([Problem(str(path), None, "", f"cannot read: {exc.strerror}")]) from None
    return _Document(text, str(path))


def parse_yaml_text(text: str, file: str) -> _Document:
    return _Document(text, file)


def validate(doc: _Document, model: type[ModelT], context: dict[str, Any] | None = None) -> ModelT:
    """Validate a document against a pydantic model, converting errors to located, plain problems."""
    try:
        return model.model_validate(doc.data, context=context)
    except ValidationError as exc:
        raise ConfigError(validation_problems(doc, exc)) from None


def data_location(data: Any, loc: Location) -> Location:
    """The part of a pydantic error location that exists in the data. The rest names pydantic's own
    validators (``lax-or-strict[...]``, union members, ``function-after[...]``): nothing a user wrote."""
    out: list[str | int] = []
    node = data
    for part in loc:
        exists = (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node))
        if exists:
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and not any(c in part for c in "[](),="):
            out.append(part)  # a missing or unknown key: still the user's name
            break
        else:
            break
        out.append(part)
    return tuple(out)


def named_location(data: Any, loc: Location) -> tuple[str, str]:
    """(what, field): the deepest list item on ``loc`` that has an ``id`` or ``name`` is called by it
    (``acc-sw-09``, not ``devices[10]``; a site by its id); ``field`` is the key path inside it."""
    node, label_at, label = data, -1, ""
    for i, part in enumerate(loc):
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(part, int) and isinstance(node, dict):
            for key in ("id", "name", "extension", "key"):  # a site by its id, a device by its name
                if isinstance(node.get(key), str | int) and str(node.get(key)):
                    label_at, label = i, str(node[key])
                    break
    if label_at < 0:
        return format_location(loc), ""
    return label, format_location(loc[label_at + 1:])


# pydantic's error types as plain messages. The codes are the shared catalogue's (nms.i18n), which
# the admin page uses for the same errors; the English text here also names the value.
_UNION_PAIRS = {frozenset(("ip_v4_address", "ip_v6_address")): "v_ip",
                frozenset(("ip_v4_network", "ip_v6_network")): "v_network",
                frozenset(("ip_v4_interface", "ip_v6_interface")): "v_network"}
_PLAIN_TYPES = {"int_parsing": "v_int", "int_type": "v_int", "int_from_float": "v_int",
                "float_parsing": "v_number", "float_type": "v_number", "bool_parsing": "v_bool",
                "bool_type": "v_bool", "missing": "v_required", "extra_forbidden": "v_extra",
                "ip_v4_address": "v_ip", "ip_v6_address": "v_ip", "enum": "v_choice", "literal_error": "v_choice",
                "string_pattern_mismatch": "v_pattern", "greater_than_equal": "v_ge", "greater_than": "v_gt",
                "less_than_equal": "v_le", "less_than": "v_lt"}
_ENGLISH = {"v_ip": "{value!r} is not an IP address", "v_network": "{value!r} is not a network (e.g. 10.1.2.0/24)",
            "v_int": "{value!r} is not a whole number", "v_number": "{value!r} is not a number",
            "v_bool": "{value!r} is not true or false", "v_required": "missing: this key is required",
            "v_extra": "unknown key", "v_choice": "{value!r} is not one of {expected}",
            "v_pattern": "{value!r} has characters or a form not allowed here",
            "v_ge": "{value!r} is too small (at least {ge})", "v_gt": "{value!r} is too small (more than {gt})",
            "v_le": "{value!r} is too large (at most {le})", "v_lt": "{value!r} is too large (less than {lt})"}
_NO_VALUE = ("v_required", "v_extra")


def _plain(code: str, err: dict[str, Any]) -> tuple[str, dict[str, object]]:
    ctx = err.get("ctx") or {}
    value = err.get("input")
    value = value if isinstance(value, str | int | float | bool) or value is None else str(value)
    params: dict[str, object] = {k: v for k, v in ctx.items() if k in ("ge", "gt", "le", "lt", "expected")}
    message = _ENGLISH[code].format(value=value, expected=ctx.get("expected", ""), **{
        k: ctx.get(k, "") for k in ("ge", "gt", "le", "lt")})
    if code not in _NO_VALUE:
        params["value"] = value
    return message, params


def validation_problems(doc: _Document, exc: ValidationError) -> list[Problem]:
    grouped: dict[Location, list[dict[str, Any]]] = {}
    for err in exc.errors(include_url=False):
        loc = tuple(err.get("loc", ()))
        inner = (err.get("ctx") or {}).get("error")
        if isinstance(inner, LocatedValueError):  # a model validator that knows the key at fault
            loc = loc + inner.loc
        grouped.setdefault(data_location(doc.data, loc), []).append(err)
    problems = []
    for loc, errs in grouped.items():
        what, field = named_location(doc.data, loc)
        types = frozenset(e["type"] for e in errs)
        code = _UNION_PAIRS.get(types) or (_PLAIN_TYPES.get(next(iter(types))) if len(types) == 1 else None)
        if code is not None:
            message, params = _plain(code, errs[0])
        else:
            messages = []
            for e in errs:
                inner = (e.get("ctx") or {}).get("error")
                text = inner.message if isinstance(inner, LocatedValueError) else e["msg"].removeprefix(
                    "Value error, ")
                if text not in messages:
                    messages.append(text)
            message, params, code = "; ".join(messages), {"message": "; ".join(messages)}, "v_other"
        if field:
            message = f"{field}: {message}"
        params["field"] = field
        problems.append(Problem(doc.file, doc.line_of(loc), what, message, code,
                                tuple(sorted(params.items()))))
    return problems


class LocatedValueError(ValueError):
    """A ValueError raised inside a model validator that knows which key is at fault."""

    def __init__(self, loc: Location, message: str):
        super().__init__(message)
        self.loc = tuple(loc)
        self.message = message


def load_model(path: Path, model: type[ModelT], context: dict[str, Any] | None = None) -> ModelT:
    return validate(read_yaml(path), model, context)


def section(settings: object, name: str, model: type[ModelT]) -> ModelT:
    """``settings.<name>`` if it is a ``model``, else the model's defaults: how a subsystem finds its own
    section in the composed settings without importing them."""
    found = getattr(settings, name, None)
    return found if isinstance(found, model) else model()
