"""Loading YAML configuration with errors that name the file, the line and the key.

PyYAML forgets where values came from and silently keeps the last of two duplicate keys.
We compose the node tree ourselves so that every value keeps its line, duplicates are refused,
and pydantic's validation errors can be reported as ``file:line: key.path: message``.
"""

from __future__ import annotations

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
    """One thing wrong with a configuration file."""

    file: str
    line: int | None
    location: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        key = f" {self.location}:" if self.location else ""
        return f"{where}:{key} {self.message}"


class ConfigError(Exception):
    """A configuration that must not be used. Carries every problem found, not just the first."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def format_location(loc: Location) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class _Document:
    """A parsed YAML document: plain Python data plus the line of every key path."""

    def __init__(self, text: str, file: str):
        self.file = file
        self.lines: dict[Location, int] = {}
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            reason = getattr(exc, "problem", None) or str(exc)
            raise ConfigError([Problem(file, line, "", f"malformed YAML: {reason}")]) from None
        self.data = self._build(node, ()) if node is not None else {}

    def _build(self, node: yaml.Node, path: Location) -> Any:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self._construct(key_node, (*path, "<key>"), "key")
                if key in result:
                    raise ConfigError(
                        [
                            Problem(
                                self.file,
                                key_node.start_mark.line + 1,
                                format_location((*path, key)),
                                "duplicate key",
                            )
                        ]
                    )
                result[key] = self._build(value_node, (*path, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self._build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._construct(node, path, "value")

    def _construct(self, node: yaml.Node, path: Location, what: str) -> Any:
        """One scalar or key. What YAML cannot construct (unknown tag, bad date, list as key...)
        is a located problem, not a stray exception."""
        try:
            value = yaml.SafeLoader(" ").construct_object(node)
            hash(value)
        except (yaml.YAMLError, ValueError, TypeError) as exc:
            reason = getattr(exc, "problem", None) or str(exc)
            line = node.start_mark.line + 1
            problem = Problem(self.file, line, format_location(path), f"invalid {what}: {reason}")
            raise ConfigError([problem]) from None
        return value

    def line_of(self, loc: Location) -> int | None:
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get(())


def read_yaml(path: Path) -> _Document:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([Problem(str(path), None, "", f"cannot read: {exc.strerror}")]) from None
    return _Document(text, str(path))


def parse_yaml_text(text: str, file: str) -> _Document:
    return _Document(text, file)


def validate(doc: _Document, model: type[ModelT], context: dict[str, Any] | None = None) -> ModelT:
    """Validate a document against a pydantic model, converting errors to located problems."""
    try:
        return model.model_validate(doc.data, context=context)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = tuple(err.get("loc", ()))
            # Errors raised by model validators carry their own location in ctx.
            ctx = err.get("ctx") or {}
            inner = ctx.get("error")
            if isinstance(inner, LocatedValueError):
                loc = loc + inner.loc
                message = inner.message
            else:
                message = err["msg"].removeprefix("Value error, ")
            problems.append(Problem(doc.file, doc.line_of(loc), format_location(loc), message))
        raise ConfigError(problems) from None


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
