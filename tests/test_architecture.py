"""The package's layering: no import loop between modules, nor between folders.

Every ``import`` counts, also those inside functions: a lazy import still ties two modules
together, and a loop hidden behind one is a loop a reader must untangle.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import scaler

PACKAGE = Path(scaler.__file__).parent


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: Iterable[str]) -> set[str]:
    """The scaler modules that ``name`` imports (a name imported from a package counts as
    that package's module when it is one)."""
    known = set(known)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package
                for _ in range(node.level - 1):
                    anchor = anchor.rpartition(".")[0]
                base = f"{anchor}.{base}" if base else anchor
            names = {f"{base}.{alias.name}" for alias in node.names}
            targets.update(names & known or {base, *names})
    found = set()
    for target in targets:
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target not in (name, "scaler"):
            found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports(name, path, found) for name, path in found.items()}


def folder(module: str) -> str:
    """``scaler.curriculum.scheduler`` -> ``scaler.curriculum``; a top-level module is its own."""
    return ".".join(module.split(".")[:2])


def cycles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
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


def test_the_cycle_finder_finds_a_loop() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_lazy_and_relative_imports() -> None:
    edges = graph()
    assert "scaler.model" in edges["scaler.pool"]
    assert "scaler.sandbox.jobs" in edges["scaler.sandbox.pool"]


def test_no_module_imports_itself_through_others() -> None:
    assert cycles(graph()) == []


def test_no_folder_imports_itself_through_others() -> None:
    folders: dict[str, set[str]] = {}
    for module, targets in graph().items():
        folders.setdefault(folder(module), set()).update(
            folder(target) for target in targets if folder(target) != folder(module)
        )
    assert cycles(folders) == []


ARCHITECTURE = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"


def documented() -> dict[str, set[str] | None]:
    """docs/architecture.md's module table: module -> what it may import (None: anything).

    A row's first cell names one or more modules (paths under ``scaler/``); its last cell the
    scaler modules they may import: dotted names, ``folder.*`` for a whole folder, ``nothing``
    or ``anything``; text in parentheses is commentary.
    """
    table: dict[str, set[str] | None] = {}
    for line in ARCHITECTURE.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        paths = re.findall(r"`([\w/]+\.py)`", cells[0])
        allowed_text = re.sub(r"\([^)]*\)", "", cells[-1])
        tokens = {token.strip() for token in allowed_text.split(",") if token.strip()}
        allowed: set[str] | None = None if "anything" in tokens else tokens - {"nothing"}
        for path in paths:
            name = "scaler." + path.removesuffix(".py").replace("/", ".")
            assert name not in table, f"{path} is in the table twice"
            table[name] = allowed
    return table


def test_the_module_table_lists_every_module_and_no_other() -> None:
    present = {name for name, path in modules().items() if path.name != "__init__.py"}
    listed = set(documented())
    assert sorted(present - listed) == [], "modules missing from docs/architecture.md"
    assert sorted(listed - present) == [], "docs/architecture.md lists modules that are gone"


def test_every_module_imports_only_what_the_table_allows() -> None:
    edges = graph()
    wrong = []
    for module, allowed in documented().items():
        if allowed is None:
            continue
        for target in sorted(edges.get(module, ())):
            relative = target.removeprefix("scaler.")
            folders = {f"{relative.rpartition('.')[0]}.*"} if "." in relative else set()
            if module.startswith(target + ".") or relative in allowed or folders & allowed:
                continue
            wrong.append(f"{module} imports {target}")
    assert wrong == []
