"""The floors of the code (README "Architecture"): imports run one way, read from the source's AST.

Every project module sits in one *unit* (a subsystem, the admin page, the base...) on one *floor*.
A module may import its own unit, any unit on a lower floor, and the units its unit lists in
``may_import``. Everything else fails: an import up a floor, sideways between subsystems, from the
shipped product into the lab, the benchmarks or the tests, and any import cycle between modules.
Every import counts, wherever it is written: at the top, inside a function, under ``if TYPE_CHECKING:``.

To add a package, add it to ``UNITS`` (a module on no floor fails the check, so nothing is forgotten).
"""

from __future__ import annotations

import ast
import fnmatch
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ROOTS = ("nms", "collectors", "ivr", "lab", "bench", "tests", "dashboards")
SHIPPED = ("nms", "collectors", "ivr")  # setup.cfg's packages; the rest never enters the wheel


@dataclass(frozen=True)
class Unit:
    name: str
    floor: int
    # dotted module names, each matching the module and its submodules; a trailing ``*`` matches any
    # continuation of the last part (``nms.backup*``); a leading ``=`` matches that module only
    patterns: tuple[str, ...]
    may_import: frozenset[str] = frozenset()  # units on the same floor it may import


def _unit(name: str, floor: int, *patterns: str, may_import: tuple[str, ...] = ()) -> Unit:
    return Unit(name, floor, patterns or (name,), frozenset(may_import))


UNITS: tuple[Unit, ...] = (
    # 1. Base: loading config files, the versioned store, secrets, HTTP (and its web config), exposition, the
    #    service runner, running helper tools unprivileged.
    _unit("base", 1, "=nms", "nms.configfile", "nms.store", "nms.secrets", "nms.http", "nms.exposition",
          "nms.service", "nms.i18n", "nms.database", "nms.exitcodes", "nms.privileges", "nms.webconfig",
          "=collectors"),
    # 2. Inventory: models, source plugins (YAML, NetBox), diff, summary, shard, topology.
    _unit("inventory", 2, "nms.inventory"),
    # 3. Subsystems: each imports only base and inventory, never another subsystem.
    _unit("collectors.snmp", 3),
    _unit("collectors.flows", 3),
    _unit("collectors.traps", 3),
    _unit("ivr", 3),
    _unit("nms.alerting", 3),
    # 4. Reports and the admin page: may use the subsystems' public functions; admin may use reports.
    _unit("nms.reports", 4),
    _unit("nms.admin", 4, may_import=("nms.reports",)),
    # 5. Application: the CLI, the composed nms.yaml and the district, backup/restore.
    _unit("application", 5, "nms.cli", "nms.app", "nms.backup*", "nms.completion"),
    # 6. Outside the shipped wheel: the simulated district, benchmarks, tests, dashboard builder.
    _unit("lab", 6),
    _unit("bench", 6),
    _unit("tests", 6),
    _unit("dashboards", 6),
)


def _matches(pattern: str, module: str) -> int:
    """How specific ``pattern`` is for ``module`` (0: no match)."""
    if pattern.startswith("="):
        return len(pattern) if module == pattern[1:] else 0
    if pattern.endswith("*"):
        head = pattern[:-1]
        first = module.split(".")[: head.count(".") + 1]
        return len(pattern) if fnmatch.fnmatchcase(".".join(first), pattern) else 0
    return len(pattern) if module == pattern or module.startswith(pattern + ".") else 0


def unit_of(module: str) -> Unit | None:
    best = max(((u, _matches(p, module)) for u in UNITS for p in u.patterns), key=lambda x: x[1])
    return best[0] if best[1] else None


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def project_modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for root in ROOTS:
        for path in sorted((REPO / root).rglob("*.py")):
            if "__pycache__" not in path.parts:
                out[_module_name(path)] = path
    return out


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    line: int

    def __str__(self) -> str:
        return f"{self.source} (line {self.line}) imports {self.target}"


def _resolve(module: str, modules: dict[str, Path]) -> str | None:
    """The project module an imported name refers to (the longest known prefix), or None if external."""
    parts = module.split(".")
    if parts[0] not in ROOTS:
        return None
    while parts:
        name = ".".join(parts)
        if name in modules:
            return name
        parts.pop()
    return module  # a project name with no module (yet): still checked against the floors


def imports_in(source: str, text: str, is_package: bool, modules: dict[str, Path]) -> list[Import]:
    """Every project import written in ``text`` (module ``source``), wherever it is."""
    found: list[Import] = []
    for node in ast.walk(ast.parse(text)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = source.split(".") if is_package else source.split(".")[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join(package + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            # ``from pkg import sub`` imports the module pkg.sub when there is one
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        for name in names:
            target = _resolve(name, modules)
            imp = Import(source, target, node.lineno) if target is not None and target != source else None
            if imp is not None and imp not in found:
                found.append(imp)
    return found


@cache
def project_imports() -> tuple[Import, ...]:
    modules = project_modules()
    found: list[Import] = []
    for source, path in modules.items():
        found += imports_in(source, path.read_text(encoding="utf-8"), path.name == "__init__.py", modules)
    return tuple(found)


def test_the_scan_sees_the_project() -> None:
    modules = project_modules()
    assert {"nms.cli", "nms.configfile", "collectors.snmp.service", "ivr.service", "nms.admin.app",
            "lab.control", "nms.app.district", "nms.inventory.plugins"} <= set(modules)
    assert len(project_imports()) > 200


def test_every_module_is_on_a_floor() -> None:
    assert unit_of("nms.newthing") is None and unit_of("collectors.newthing") is None  # no catch-all
    lost = sorted(m for m in project_modules() if unit_of(m) is None)
    assert lost == [], f"modules on no floor (add them to UNITS in {Path(__file__).name}): {lost}"


OUTSIDE = 6  # the floor outside the wheel: its units use each other and everything else


def allowed(source: Unit, target: Unit) -> bool:
    return (source == target or target.floor < source.floor or target.name in source.may_import
            or source.floor == target.floor == OUTSIDE)


def violations(imports: tuple[Import, ...]) -> list[str]:
    out = []
    for imp in imports:
        src, dst = unit_of(imp.source), unit_of(imp.target)
        if src is None or dst is None or allowed(src, dst):
            continue
        if dst.floor == 6 and imp.source.split(".")[0] in SHIPPED:
            why = "shipped code imports the lab, a benchmark or a test"
        elif dst.floor > src.floor:
            why = f"up from floor {src.floor} ({src.name}) to floor {dst.floor} ({dst.name})"
        else:
            why = f"sideways on floor {src.floor}, {src.name} -> {dst.name}"
        out.append(f"{imp}: {why}")
    return sorted(out)


def test_imports_never_go_up_or_sideways() -> None:
    assert violations(project_imports()) == []


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def import_graph(imports: tuple[Import, ...]) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for imp in imports:
        edges.setdefault(imp.source, set()).add(imp.target)
    return edges


def test_no_import_cycles() -> None:
    assert _cycles(import_graph(project_imports())) == []


# -- the check itself is checked: each rule fires on a made-up import --------------------------------

@pytest.mark.parametrize(("source", "target", "rule"), [
    ("nms.configfile", "nms.inventory.models", "up from floor 1"),
    ("nms.inventory.sources", "collectors.snmp.config", "up from floor 2"),
    ("collectors.snmp.service", "collectors.flows.settings", "sideways on floor 3"),
    ("collectors.traps.receiver", "ivr.config", "sideways on floor 3"),
    ("nms.alerting.relay", "collectors.snmp.metrics", "sideways on floor 3"),
    ("collectors.snmp.poller", "nms.app.settings", "up from floor 3"),
    ("ivr.service", "nms.admin.app", "up from floor 3"),
    ("nms.reports.monthly", "nms.admin.status", "sideways on floor 4"),
    ("nms.admin.views.network", "nms.cli", "up from floor 4"),
    ("nms.cli", "lab.control", "shipped code imports"),
    ("nms.backup_restore", "tests.lab_fixtures", "shipped code imports"),
])
def test_each_rule_catches_its_violation(source: str, target: str, rule: str) -> None:
    found = violations((Import(source, target, 1),))
    assert len(found) == 1 and rule in found[0], found


@pytest.mark.parametrize(("source", "target"), [
    ("nms.admin.views.network", "nms.reports.monthly"),
    ("nms.admin.workspace", "collectors.snmp.service"),
    ("nms.cli", "nms.backup"),
    ("nms.app.settings", "nms.admin.settings"),
    ("collectors.traps.receiver", "nms.inventory.models"),
    ("nms.alerting.relay", "nms.i18n"),
    ("nms.alerting.relay", "nms"),
    ("lab.control", "nms.cli"),
    ("tests.test_lab", "lab.control"),
])
def test_allowed_imports_pass(source: str, target: str) -> None:
    assert violations((Import(source, target, 1),)) == []


def test_cycle_detection_finds_a_cycle_through_three_modules() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(edges) == [["a", "b", "c"]]


def test_type_checking_relative_and_function_imports_count() -> None:
    text = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from nms.app.district import District\n"
            "def f():\n    import lab.control\nfrom . import i18n\nfrom .views import auth\n")
    found = imports_in("nms.admin.app", text, False, project_modules())
    assert {(i.target, i.line) for i in found} == {("nms.app.district", 3), ("lab.control", 5),
                                                 ("nms.admin.i18n", 6), ("nms.admin.views.auth", 7)}
    assert len(violations(tuple(found))) == 2  # up to the application, into the lab


def test_the_snmp_collector_loads_no_web_page_no_lab_and_no_other_subsystem() -> None:
    """What ``import collectors.snmp.service`` really loads (issue 10's importtime comparison, as a test)."""
    code = "import sys, collectors.snmp.service; print('\\n'.join(sorted(sys.modules)))"
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                cwd=REPO, timeout=120).stdout.split())
    assert "collectors.snmp.service" in loaded
    unwanted = sorted(m for m in loaded if m.split(".")[0] in {"flask", "werkzeug", "waitress", "lab", "ivr"}
                      or m.startswith(("nms.admin", "nms.app", "nms.cli", "collectors.flows")))
    assert unwanted == []
