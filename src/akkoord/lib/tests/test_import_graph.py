"""Imports point one way: no module of ``akkoord`` imports, even indirectly, itself.

The graph is read from the source with ``ast``, so it also sees imports made
inside functions: a cycle hidden in a function is still a cycle (it only moves
the failure from start-up to the first call, and ties the two modules
together all the same). Tests and migrations are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

import akkoord

ROOT = Path(akkoord.__file__).resolve().parent

# Cycles Django needs, each with its reason: (module, module it imports).
# Empty: an app's ``ready()`` connecting signal listeners imports downwards.
ALLOWED: dict[tuple[str, str], str] = {}


def module_files() -> dict[str, Path]:
    modules = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        if "tests" in parts or "migrations" in parts or path.name == "conftest.py":
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


def imported_modules(name: str, path: Path, modules: dict[str, Path]) -> dict[str, int]:
    """The ``akkoord`` modules ``name`` imports anywhere in its source: {module: line}."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            # ``from package import module`` imports the module; ``from module import name`` not.
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):
                found.setdefault(target, node.lineno)
    return found


def import_graph() -> dict[str, dict[str, int]]:
    modules = module_files()
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """One cycle (as a path that returns to its start) per strongly connected group."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        # Tarjan's algorithm; the graph is small enough for recursion.
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_one_cycle(graph, group) for group in groups]


def _one_cycle(graph: dict[str, dict[str, int]], group: set[str]) -> list[str]:
    """A shortest path from the group's first module back to itself, inside the group."""
    start = min(group)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for other in sorted(graph[node]):
            if other == start:
                return [*paths[node], start]
            if other in group and other not in paths:
                paths[other] = [*paths[node], other]
                queue.append(other)
    raise AssertionError("a strongly connected group always has a cycle")


def _without_allowed(graph: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    return {
        name: {other: line for other, line in edges.items() if (name, other) not in ALLOWED}
        for name, edges in graph.items()
    }


def _describe(graph: dict[str, dict[str, int]], cycle: list[str]) -> str:
    return "\n".join(
        f"  {module} (line {graph[module][imported]}) imports {imported}"
        for module, imported in zip(cycle, cycle[1:], strict=False)
    )


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()
    # ``notices.apps`` imports ``notices.tasks`` only inside ``ready()``.
    assert "akkoord.notices.tasks" in graph["akkoord.notices.apps"]
    assert "akkoord.consent.ledger" in graph["akkoord.transfer.writing"]


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3}, "d": {"a": 4}}
    assert cycles(graph) == [["a", "b", "c", "a"]]


def test_no_module_imports_itself_through_others():
    graph = import_graph()
    found = cycles(_without_allowed(graph))
    assert not found, "import cycles:\n" + "\n\n".join(_describe(graph, c) for c in found)


def test_every_allowed_import_is_still_there():
    graph = import_graph()
    stale = [pair for pair in ALLOWED if pair[1] not in graph.get(pair[0], {})]
    assert not stale, f"allowed imports that no longer exist: {stale}"
