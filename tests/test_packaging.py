"""The installable package (what docker/Dockerfile builds) carries everything the service reads at run time."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_wheel_has_the_admin_templates_and_static_files(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "-w", str(tmp_path), str(REPO)], check=True, capture_output=True, timeout=300, cwd=tmp_path)
    wheel = next(tmp_path.glob("*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = {p.relative_to(REPO).as_posix() for p in (REPO / "nms" / "admin" / "templates").glob("*.html")}
    static = {p.relative_to(REPO).as_posix() for p in (REPO / "nms" / "admin" / "static").iterdir()}
    assert templates and templates <= names, sorted(templates - names)
    assert static <= names, sorted(static - names)
    for package in ("nms/cli.py", "collectors/snmp/ber.py", "collectors/flows/decoder.py", "ivr/controller.py"):
        assert package in names
