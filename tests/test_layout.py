"""The package keeps the shape that lets a reader find things: small modules, no cycles."""

from __future__ import annotations

import ast
from pathlib import Path

import importer

PACKAGE = Path(importer.__file__).parent
MOST_MODULE_LINES = 400
MOST_CLASS_LINES = 250


def _modules() -> dict[str, ast.Module]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = ast.parse(path.read_text(encoding="utf-8"))
    return found


def test_modules_and_classes_stay_small() -> None:
    too_big = []
    for name, tree in _modules().items():
        lines = max((getattr(node, "end_lineno", 0) or 0) for node in ast.walk(tree))
        if lines > MOST_MODULE_LINES:
            too_big.append(f"{name}: {lines} lines")
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                if size > MOST_CLASS_LINES:
                    too_big.append(f"{name}.{node.name}: {size} lines")
    assert too_big == []


def _imports(tree: ast.Module, modules: set[str]) -> set[str]:
    """The package's modules that ``tree`` imports at module level (not under TYPE_CHECKING
    and not inside functions: those are the deliberate lazy imports)."""
    found = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("importer"):
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in modules else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("importer"))
    return found & modules


def test_no_module_imports_itself_through_others() -> None:
    trees = _modules()
    names = set(trees)
    graph = {name: _imports(tree, names) - {name} for name, tree in trees.items()}
    # An edge into a package is an edge into its __init__, which imports what it re-exports:
    # cycles through a package's front door count too.
    cycles = []
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []
