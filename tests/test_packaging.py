"""The installable package (what docker/Dockerfile builds) carries everything the service reads at run time."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The file names inside a wheel built (``pip wheel --no-deps``) from a clean copy of this checkout.

    A copy, because setuptools reuses an existing ``build/`` directory, which may still hold modules
    that have since moved (such as the old ``nms/lab``).
    """
    src = tmp_path_factory.mktemp("src") / "checkout"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "run", "*.egg-info", "__pycache__", ".stamps", ".history", "*.pcap"))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(src)],
                   check=True, capture_output=True, timeout=300, cwd=out)
    wheel = next(out.glob("*.whl"))
    return set(zipfile.ZipFile(wheel).namelist())


def test_wheel_has_the_admin_templates_and_static_files(wheel_names: set[str]) -> None:
    names = wheel_names
    templates = {p.relative_to(REPO).as_posix() for p in (REPO / "nms" / "admin" / "templates").glob("*.html")}
    static = {p.relative_to(REPO).as_posix() for p in (REPO / "nms" / "admin" / "static").iterdir()}
    assert templates and templates <= names, sorted(templates - names)
    assert static <= names, sorted(static - names)
    for package in ("nms/cli.py", "collectors/snmp/ber.py", "collectors/flows/decoder.py", "ivr/controller.py"):
        assert package in names


def test_wheel_ships_no_lab_bench_or_test_code(wheel_names: set[str]) -> None:
    """The simulated district, the benchmarks and the test helpers stay out of the product (floor 6)."""
    top = {n.split("/", 1)[0] for n in wheel_names}
    assert {t for t in top if not t.endswith((".dist-info", ".data"))} == {"nms", "collectors", "ivr"}, sorted(top)
    lab_only = {"district_seed.py", "pcapgen.py", "reference.py", "flows_reference.py", "conftest.py"}
    leaked = sorted(n for n in wheel_names if n.endswith(".py") and (
        "/lab/" in n or "/tests/" in n or "/bench/" in n
        or n.rsplit("/", 1)[-1].startswith("test_") or n.rsplit("/", 1)[-1] in lab_only))
    assert leaked == []
