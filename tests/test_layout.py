"""The package keeps the shape that lets a reader find things: small modules, no cycles."""

from __future__ import annotations

import ast
from pathlib import Path

import importer

PACKAGE = Path(importer.__file__).parent
MOST_MODULE_LINES = 400
MOST_CLASS_LINES = 250
MOST_FUNCTION_LINES = 60


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
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                if size > MOST_FUNCTION_LINES:
                    too_big.append(f"{name}.{node.name}(): {size} lines")
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


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _drawn_house() -> dict[str, set[str]]:
    """The package drawing in docs/architecture.md: ``a → b, c`` (a imports b and c)."""
    text = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = text.split("```house\n", 1)[1].split("```", 1)[0]
    drawn = {}
    for line in block.strip().splitlines():
        source, _, targets = line.partition("→")
        drawn[source.strip()] = {t.strip() for t in targets.split(",") if t.strip()}
    return drawn


def test_the_house_drawn_in_the_architecture_document_is_the_real_one() -> None:
    """Every arrow drawn is an import, and every import between packages is drawn
    (module-level imports; the lazy ones inside functions are deliberate and not drawn)."""
    trees = _modules()
    real: dict[str, set[str]] = {}
    for name, tree in trees.items():
        source = _package(name)
        if source in ("", "__main__"):
            continue
        targets = {_package(t) for t in _imports(tree, set(trees))} - {source, ""}
        real.setdefault(source, set()).update(targets)
    drawn = _drawn_house()
    assert {k: sorted(v) for k, v in real.items() if v} == {
        k: sorted(v) for k, v in drawn.items() if v
    }
