"""The structure holds: imports flow scheduler -> crawler -> storage, and no module imports itself
back through others. Read from the source with ``ast`` (lazy imports inside functions count too:
a cycle hidden in a function is still a cycle)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("storage", "crawler", "scheduler")
LAYER = {name: rank for rank, name in enumerate(PACKAGES)}
"""A package may import only packages of a lower rank, and itself."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


def _imports(path: Path, known: dict[str, Path]) -> set[str]:
    """Our modules that ``path`` imports, each resolved to the longest known module name."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
            names.add(node.module)
    resolved = set()
    for name in names:
        parts = name.split(".")
        while parts and ".".join(parts) not in known:
            parts.pop()
        if parts:
            resolved.add(".".join(parts))
    return resolved


def _graph() -> dict[str, set[str]]:
    known = _modules()
    return {name: _imports(path, known) - {name} for name, path in known.items()}


def test_imports_never_run_against_the_flow() -> None:
    wrong = [
        f"{module} imports {target}"
        for module, targets in _graph().items()
        for target in targets
        if LAYER[target.split(".")[0]] > LAYER[module.split(".")[0]]
    ]
    assert wrong == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _package_edges_removed(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """A package's ``__init__`` re-exporting its submodules is not a cycle with them: drop the
    edges from a package to its own submodules."""
    return {
        module: {t for t in targets if not t.startswith(module + ".")}
        for module, targets in graph.items()
    }


def test_no_import_cycles() -> None:
    assert _cycles(_package_edges_removed(_graph())) == []


def test_the_checks_see_a_cycle_and_a_wrong_direction() -> None:
    graph = {"crawler.a": {"crawler.b"}, "crawler.b": {"crawler.a"}, "storage.x": set()}
    assert _cycles(graph) == [["crawler.a", "crawler.b"]]
    assert "storage.search" in _graph()["scheduler.cli.search"]


def test_the_pipeline_stage_never_reaches_back_into_fetching() -> None:
    """Fetching hands pages to the pipeline; the pipeline (and the run's recorder it feeds) must
    not import fetching back, or the two stages become one knot."""
    wrong = [
        f"{module} imports {target}"
        for module, targets in _graph().items()
        if module.startswith("crawler.pipeline")
        for target in targets
        if target.startswith("crawler.fetching")
    ]
    assert wrong == []
