"""docs/deploying.md: every `nms` command it gives parses with the real CLI, every repository path
and make target it names exists, and it covers each item of the deployment checklist (issue 13)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from nms.cli import build_parser

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "deploying.md"
TEXT = DOC.read_text(encoding="utf-8")
REPO_DIRS = ("configs", "docker", "docs", "scripts", "tests", "dashboards", "bench", "nms", "ivr", "collectors")


def snippets(text: str) -> list[str]:
    """Inline code spans and the lines of fenced code blocks."""
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, re.S)
    rest = re.sub(r"```[a-z]*\n.*?```", "", text, flags=re.S)
    return [line for b in blocks for line in b.splitlines()] + re.findall(r"`([^`\n]+)`", rest)


def nms_commands(text: str) -> list[list[str]]:
    out = []
    for snippet in snippets(text):
        snippet = snippet.split(" # ")[0].strip()
        if not snippet.startswith("nms "):
            continue
        out.append(shlex.split(snippet)[1:])
    return out


def test_the_guide_names_commands() -> None:
    assert len(nms_commands(TEXT)) >= 10


@pytest.mark.parametrize("argv", nms_commands(TEXT), ids=lambda a: " ".join(a)[:60])
def test_every_nms_command_parses(argv: list[str]) -> None:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        pytest.fail(f"`nms {' '.join(argv)}` does not parse (exit {exc.code})")
    assert callable(getattr(args, "func", None))


def test_every_repository_path_exists() -> None:
    pattern = re.compile(rf"(?<![\w/.])((?:{'|'.join(REPO_DIRS)})/[\w./@-]*[\w/])")
    named = {m.group(1) for m in pattern.finditer(TEXT)}
    assert len(named) >= 8
    missing = sorted(p for p in named if not (REPO / p).exists())
    assert not missing, f"docs/deploying.md names paths that do not exist: {missing}"


def test_make_targets_and_units_exist() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    for target in set(re.findall(r"`make (\w+)", TEXT)):
        assert re.search(rf"^{target}:", makefile, re.M), f"make {target}"
    for unit in set(re.findall(r"(nms(?:-\w+@)?\.service)", TEXT)):
        assert (REPO / "configs" / "systemd" / unit).is_file(), unit


def test_the_guide_covers_the_checklist() -> None:
    for needle in ("NetBox", "SNMPv3", "IPS", "AP vendor", "SIP trunk", "Korean carrier", "retention",
                   "recording rules", "remote_write", "VictoriaMetrics", "Thanos", "Mimir", "TLS", "Firewall",
                   "SNMP polls", "NetFlow", "AMI", "loopback", "backup", "restore", "CHANGELOG.md", "schema version"):
        assert needle.lower() in TEXT.lower(), needle
