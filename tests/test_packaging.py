"""The installable package (what docker/Dockerfile builds) carries everything the service reads at run time."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The file names inside a wheel built from this checkout (``pip wheel --no-deps``, as `make test` does)."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "-w", str(out), str(REPO)], check=True, capture_output=True, timeout=300, cwd=out)
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
    top = {name.split("/", 1)[0] for name in wheel_names if not name.split("/", 1)[0].endswith((".dist-info", ".data"))}
    assert top == {"nms", "collectors", "ivr"}, sorted(top)
    leaked = sorted(n for n in wheel_names if n.endswith(".py") and (
        "/lab/" in n or n.startswith(("lab/", "bench/", "tests/")) or n.rsplit("/", 1)[-1].startswith(("test_", "conftest"))
        or n.rsplit("/", 1)[-1] in {"district_seed.py", "pcapgen.py", "reference.py", "flows_reference.py"}))
    assert leaked == []
