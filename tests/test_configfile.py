"""Configuration files: YAML 1.2 core schema, located errors, duplicate keys and aliases refused."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from nms.configfile import ConfigError, load_text, read_yaml


def test_yaml_1_2_core_schema():
    data = load_text("a: no\nb: 09:00\nc: 0x1f\nd: 1e3\ne: ~\nf: !!str 5\ng: 2026-01-01\nh: 'yes'\ni: .inf\n"
                     "j: 012\nk:\nl: -3\nm: on\nn: True\no: 0o17\np: '0226272301'\nq: 0226272301\n")
    assert data == {"a": "no", "b": "09:00", "c": 31, "d": 1000.0, "e": None, "f": "5", "g": "2026-01-01",
                    "h": "yes", "i": math.inf, "j": 12, "k": None, "l": -3, "m": "on", "n": True, "o": 15,
                    "p": "0226272301", "q": 226272301}


@pytest.mark.parametrize("text,line,message", [
    ("a: 1\nb:\n  c: 1\n  c: 2\n", 4, "b.c: duplicate key"),
    ("x: &a [1]\ny: *a\n", None, "y: aliases (*name) are not allowed"),
    ("x: &a 1\ny: *a\n", None, "y: aliases (*name) are not allowed"),
    ("base: {a: 1}\nother:\n  <<: {a: 2}\n", 3, "merge keys (<<) are not allowed"),
    ("? [1]\n: 2\n", 1, "invalid key"),
    ("a: !!int x\n", 1, "a: invalid value: 'x' is not an integer"),
    ("a: !custom 1\n", 1, "unsupported tag !custom"),
    ("a: [1\n", 1, "malformed YAML"),  # the line where the unclosed list began
])
def test_bad_documents_are_located_problems(text, line, message):
    with pytest.raises(ConfigError) as err:
        load_text(text, "f.yaml")
    assert message in str(err.value)
    if line is not None:
        assert err.value.problems[0].line == line


def test_line_of_any_key_path(tmp_path: Path):
    path = tmp_path / "x.yaml"
    path.write_text("top:\n  items:\n    - {name: a, port: 1}\n    - name: b\n      port: 2\n", encoding="utf-8")
    doc = read_yaml(path)
    assert doc.data == {"top": {"items": [{"name": "a", "port": 1}, {"name": "b", "port": 2}]}}
    assert doc.line_of(("top", "items", 1, "port")) == 5
    assert doc.line_of(("top", "items", 0, "port")) == 3
    assert doc.line_of(("top", "items", 7, "port")) == 3  # deepest existing node: the list
    assert doc.line_of(("top", "missing")) == 2
