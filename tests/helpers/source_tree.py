"""The project's own modules read as source (AST), for the architecture test: imports and SQL sites."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("archive", "crawler", "spiders")
TOP_MODULES = ("scheduler",)

SQL = re.compile(r"\b(SELECT|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+TABLE)\b")
EXECUTE_CALLS = frozenset({"execute", "executemany"})
CATALOG_INTERNALS = frozenset({"rows", "one", "scalar", "conn", "db"})
FACADE_INTERNALS = frozenset({"catalog", "store"})  # an Archive's parts: the layers above ask the Archive itself


def module_name(path: Path, root: Path = ROOT) -> str:
    """Dotted name of a source file: archive/catalog/db.py is archive.catalog.db, a package's __init__ the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of archive/, crawler/, spiders/ and scheduler.py, by dotted name."""
    files = [p for pkg in PACKAGES for p in sorted((root / pkg).rglob("*.py"))]
    files += [root / f"{m}.py" for m in TOP_MODULES]
    return {module_name(p, root): p for p in files}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _is_main_guard(test: ast.expr) -> bool:
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    return any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides) and \
        any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides)


def runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Import statements anywhere (functions included), except under `if TYPE_CHECKING:` and the __main__ guard."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
            continue
        if isinstance(node, ast.If) and (_is_type_checking(node.test) or _is_main_guard(node.test)):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _known_prefix(name: str, known: set[str]) -> str | None:
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in known:
            return ".".join(parts[:n])
    return None


def imported_modules(module: str, path: Path, known: set[str]) -> set[str]:
    """The project modules one module imports: `from pkg import name` is pkg.name when that is a module, else pkg."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in runtime_imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [_known_prefix(a.name, known) for a in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else _known_prefix(base, known)
                       for a in node.names]
        found.update(t for t in targets if t is not None and t != module)
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the project modules it imports at run time."""
    modules = project_modules(root)
    known = set(modules)
    return {m: imported_modules(m, p, known) for m, p in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted, in sorted order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def example_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One closed path through a component (its first module back to itself), to show how the cycle runs."""
    start, members = component[0], set(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v] & members):
            if w == start:
                return [*paths[v], start]
            if w not in paths:
                paths[w] = [*paths[v], w]
                queue.append(w)
    return component


@dataclass(frozen=True, order=True)
class SqlSite:
    """One place in the source that speaks SQL or reaches into the catalog's connection."""

    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and \
                    isinstance(first.value.value, str):
                ids.add(id(first.value))
    return ids


def _names_catalog(node: ast.expr) -> bool:
    return (isinstance(node, ast.Name) and node.id == "catalog") or \
        (isinstance(node, ast.Attribute) and node.attr == "catalog")


def sql_sites(path: Path, root: Path = ROOT) -> list[SqlSite]:
    """SQL text (str constants and f-strings, docstrings aside), .execute()/.executemany() calls, catalog.rows & co.,
    and reaching into an Archive's catalog or blob store (``a.catalog``, ``a.store``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    rel = str(path.relative_to(root))
    skip = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):  # its literal parts are judged together, not one by one
            skip.update(id(v) for v in node.values)
    sites = set()
    for node in ast.walk(tree):
        text = None
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            text = node.value
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "x" for v in node.values)
        if text is not None and (m := SQL.search(text)):
            sites.add(SqlSite(rel, node.lineno, f"SQL text ({m.group(0)} …)"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in EXECUTE_CALLS:
            sites.add(SqlSite(rel, node.lineno, f".{node.func.attr}() call"))
        elif isinstance(node, ast.Attribute) and node.attr in CATALOG_INTERNALS and _names_catalog(node.value):
            sites.add(SqlSite(rel, node.lineno, f"catalog.{node.attr}"))
        elif isinstance(node, ast.Attribute) and node.attr in FACADE_INTERNALS:
            sites.add(SqlSite(rel, node.lineno, f"{ast.unparse(node)} (the Archive's internals)"))
    return sorted(sites)
