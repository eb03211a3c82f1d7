"""The import graph of schemas/, connectors/ and services/, computed from the source (ast).

Rules (docs/ARCHITECTURE.md):

* no import cycle between modules;
* dependencies point one way: schemas <- connectors <- services (schemas imports neither,
  connectors does not import services);
* a service package (a package of services/ with a ``service.py``) imports no other service
  package, and nothing but the composition root (services.bootstrap) imports a service
  package: services meet through topics and leaf modules.

Every import counts, also one inside a function or under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAYERS = ("schemas", "connectors", "services")
ROOT = "services.bootstrap"

#: Imports of one service package by another that issue 9's other half removes (the
#: tickets' shared state and redaction move to leaf modules). Listed so the rule holds for
#: everything else now; an entry that no longer occurs fails the test, so the list only
#: shrinks.
PENDING: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for layer in LAYERS:
        for path in sorted((REPO / layer).rglob("*.py")):
            found[_module_name(path)] = path
    return found


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of the three layers that ``name`` imports (a ``from package import x``
    names the submodule when x is one, else the package)."""
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                targets.add(sub if sub in known else base)
    return {t for t in targets if t in known and t != name}


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def _service_packages() -> set[str]:
    return {
        f"services.{p.parent.name}"
        for p in (REPO / "services").glob("*/service.py")
        if (p.parent / "__init__.py").exists()
    }


def _package_of(module: str, packages: set[str]) -> str | None:
    return next((p for p in packages if module == p or module.startswith(p + ".")), None)


def test_the_graph_is_read() -> None:
    modules = _modules()
    assert {"schemas.topics", "connectors", "services.bootstrap", "services.contract"} <= set(
        modules
    )
    assert {"services.normaliser", "services.router", "services.gateway"} <= _service_packages()


def test_no_import_cycles(graph: dict[str, set[str]]) -> None:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_dependencies_point_schemas_connectors_services(graph: dict[str, set[str]]) -> None:
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    wrong = sorted(
        f"{source} -> {target}"
        for source, targets in graph.items()
        for target in targets
        if rank[target.split(".")[0]] > rank[source.split(".")[0]]
    )
    assert not wrong, "imports against schemas <- connectors <- services:\n" + "\n".join(wrong)


def test_only_the_root_imports_service_packages(graph: dict[str, set[str]]) -> None:
    packages = _service_packages()
    found: set[tuple[str, str]] = set()
    where: dict[tuple[str, str], list[str]] = {}
    for source, targets in graph.items():
        if source == ROOT:
            continue
        own = _package_of(source, packages)
        for target in targets:
            other = _package_of(target, packages)
            if other is None or other == own:
                continue
            pair = (own or source, other)
            found.add(pair)
            where.setdefault(pair, []).append(f"{source} -> {target}")
    new = sorted(found - PENDING)
    assert not new, "service packages imported outside the composition root:\n" + "\n".join(
        line for pair in new for line in where[pair]
    )
    gone = sorted(PENDING - found)
    assert not gone, f"no longer imported, remove from PENDING: {gone}"


def test_service_packages_do_not_import_the_root_or_the_cli(graph: dict[str, set[str]]) -> None:
    packages = _service_packages()
    wrong = sorted(
        f"{source} -> {target}"
        for source, targets in graph.items()
        if _package_of(source, packages)
        for target in targets
        if target in {ROOT, "services.cli"}
    )
    assert not wrong, "\n".join(wrong)
