"""No two modules of course_helpers import each other, directly or through others.

Every import counts: module level, inside functions and under ``TYPE_CHECKING``
(a cycle hidden there is still two modules that cannot be read one without the
other). Imports of a package's ``__init__`` (the facades) are left out: a facade
re-exports its modules by design.
"""

from __future__ import annotations

import ast
from pathlib import Path

import course_helpers

ROOT = Path(course_helpers.__file__).parent
PACKAGE = ROOT.name


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets |= {a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            for alias in node.names:
                if f"{module}.{alias.name}" in modules:  # from package import module
                    targets.add(f"{module}.{alias.name}")
                elif module in modules:
                    targets.add(module)
    return targets - {name}


def import_graph() -> dict[str, set[str]]:
    """Each module of the package and the modules it imports (facades left out)."""
    modules = _modules()
    facades = {n for n, p in modules.items() if p.name == "__init__.py"}
    return {
        name: _imports(name, path, modules) - facades
        for name, path in modules.items()
        if name not in facades
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the groups of modules that reach each other (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_finder_sees_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_no_module_imports_one_that_imports_it_back() -> None:
    graph = import_graph()
    assert f"{PACKAGE}.widgets._base" in graph
    found = cycles(graph)
    assert not found, "modules that import each other: " + "; ".join(
        " <-> ".join(group) for group in found
    )
