"""Write (or check) the dashboards' JSON: ``python -m dashboards.build [--check] [--out DIR]``.

Exit status: 0 done (or up to date), 1 with ``--check`` when a file is missing or differs, or when a
rate()/irate()/increase() window of a panel, an annotation or an alert rule is shorter than four polls
of the device class it reads (dashboards.windows).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dashboards import backbone, category, device, flows, interface, noc, site, telephony, wifi, windows
from dashboards.model import Dashboard

JSON_DIR = Path(__file__).resolve().parent / "json"
MODULES = (noc, category, site, device, interface, wifi, backbone, flows, telephony)


def dashboards() -> list[Dashboard]:
    return [module.dashboard() for module in MODULES]


def render(dashboard: Dashboard) -> str:
    return json.dumps(dashboard.to_json(), ensure_ascii=False, indent=2) + "\n"


def render_all() -> dict[str, str]:
    """File name -> JSON text, for every dashboard."""
    return {f"{d.uid}.json": render(d) for d in dashboards()}


def load_all(directory: Path = JSON_DIR) -> dict[str, dict[str, Any]]:
    """The shipped JSON: file name -> dashboard."""
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*.json"))}


def stale(directory: Path = JSON_DIR) -> list[str]:
    """Files that are missing, different from the build, or left over from a removed dashboard."""
    wanted = render_all()
    out = [name for name, text in wanted.items()
           if not (directory / name).exists() or (directory / name).read_text(encoding="utf-8") != text]
    out += [p.name for p in sorted(directory.glob("*.json")) if p.name not in wanted]
    return out


def write_all(directory: Path = JSON_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    wanted = render_all()
    for p in directory.glob("*.json"):
        if p.name not in wanted:
            p.unlink()
    written = []
    for name, text in wanted.items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboards.build", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the JSON is up to date")
    parser.add_argument("--out", type=Path, default=JSON_DIR, help="directory (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.check:
        problems = stale(args.out)
        for name in problems:
            print(f"out of date: {args.out / name} (run `python -m dashboards.build`)", file=sys.stderr)
        short = windows.violations(load_all(args.out))
        for problem in short:
            print(f"rate window too short: {problem}", file=sys.stderr)
        return 1 if problems or short else 0
    for path in write_all(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
