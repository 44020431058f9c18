"""The layering the redesign settled on, read from the source tree: no import cycles, SQL only behind the archive,
a small archive/ top level, a parser that loads no database, and a docstring on every archive package."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys

import pytest

from helpers.source_tree import ROOT, SqlSite, cycles, example_cycle, import_graph, sql_sites

MAX_ARCHIVE_TOP_MODULES = 6
HEAVY = ("sqlite_utils", "archive.catalog")
NO_SQL = ("crawler", "spiders", "scheduler.py", "archive/web")  # they ask the Archive, which owns the catalog


def test_no_import_cycle_between_the_project_modules():
    """Imports anywhere in a module count (functions too), except under `if TYPE_CHECKING:` and the __main__ guard."""
    graph = import_graph()
    found = cycles(graph)
    report = []
    for component in found:
        edges = "; ".join(f"{m} -> {', '.join(sorted(graph[m] & set(component)))}" for m in component)
        report.append(f"{' -> '.join(example_cycle(graph, component))}   (all edges: {edges})")
    assert not found, "import cycles:\n" + "\n".join(report)


def test_the_cycle_finder_sees_function_level_imports_and_skips_type_checking(tmp_path):
    """The check above can fail: a cycle through a function-level import is found, one under TYPE_CHECKING is not."""
    pkg = tmp_path / "archive"
    pkg.mkdir()
    (pkg / "__init__.py").write_text('"""x"""\n')
    (pkg / "a.py").write_text("from archive import b\n")
    (pkg / "b.py").write_text("def f():\n    from archive.a import g\n")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from archive import a\n"
                              "from . import d\n")
    (pkg / "d.py").write_text("import archive.c\nif __name__ == '__main__':\n    import archive.a\n")
    for name in ("crawler", "spiders"):
        (tmp_path / name).mkdir()
    (tmp_path / "scheduler.py").write_text("import archive.a\n")
    graph = import_graph(tmp_path)
    assert graph["archive.a"] == {"archive.b"}
    assert graph["archive.c"] == {"archive.d"}
    assert cycles(graph) == [["archive.a", "archive.b"], ["archive.c", "archive.d"]]
    assert example_cycle(graph, ["archive.a", "archive.b"]) == ["archive.a", "archive.b", "archive.a"]


def test_no_sql_outside_the_archive():
    """The crawler, spiders, scheduler and web pages neither write SQL nor reach into the catalog's connection."""
    paths = [ROOT / part for part in NO_SQL]
    files = [f for p in paths for f in ([p] if p.is_file() else sorted(p.rglob("*.py")))]
    sites = [str(s) for f in files for s in sql_sites(f)]
    assert not sites, "SQL outside the archive's catalog (ask the Archive instead):\n" + "\n".join(sites)


def test_the_sql_finder_sees_strings_fstrings_execute_and_catalog_internals(tmp_path):
    """The check above can fail, and prose or docstrings that mention SQL words do not trip it."""
    src = tmp_path / "m.py"
    src.write_text('''"""Module doc: SELECT x FROM y is fine here."""
def f(a, cat, t):
    """Nor here: DELETE FROM t."""
    note = "select the report you want, then update it"
    a.catalog.rows("SELECT 1")
    cat.one(f"UPDATE {t} SET x = 1")
    cat.conn.execute("PRAGMA foreign_keys")
    catalog.db["harvests"].exists()
    a.store.read("x")
    return (
        "INSERT INTO t "
        "VALUES (1)"
    )
''')
    assert sql_sites(src, tmp_path) == [
        SqlSite("m.py", 5, "SQL text (SELECT …)"), SqlSite("m.py", 5, "a.catalog (the Archive's internals)"),
        SqlSite("m.py", 5, "catalog.rows"),
        SqlSite("m.py", 6, "SQL text (UPDATE x SET …)"), SqlSite("m.py", 7, ".execute() call"),
        SqlSite("m.py", 8, "catalog.db"), SqlSite("m.py", 9, "a.store (the Archive's internals)"),
        SqlSite("m.py", 11, "SQL text (INSERT INTO …)")]


def test_archive_keeps_at_most_six_modules_at_its_top_level():
    """archive/ is sub-system folders plus a few shared names (facade, errors, value types), not a flat heap."""
    top = sorted(p.name for p in (ROOT / "archive").glob("*.py") if p.name != "__init__.py")
    assert len(top) <= MAX_ARCHIVE_TOP_MODULES, top


@pytest.mark.parametrize("module", ["archive.parser", "archive.extract"])
def test_the_parser_loads_no_database(module):
    """A parse worker imports the parser alone: sqlite-utils and the catalog stay unloaded (archive/ is lazy)."""
    code = (f"import json, sys\nimport {module}\nheavy = {HEAVY!r}\n"
            "print(json.dumps(sorted(m for m in sys.modules if any(m == h or m.startswith(h + '.') for h in heavy))))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_every_archive_package_says_what_it_is_for():
    missing = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "archive").rglob("__init__.py"))
               if not ast.get_docstring(ast.parse(p.read_text(encoding="utf-8")))]
    assert not missing, missing


# What each archive sub-system may import of the others (docs/architecture.md draws the same table). The low
# layers are the point: extract and parser stay pure, store and warc know nothing of the catalog.
LAYERS = {
    "errors": set(),
    "extract": {"errors"},
    "parser": {"errors", "extract"},
    "store": {"errors", "capture"},
    "capture": {"store"},
    "warc": {"errors", "capture", "store"},
    "catalog": {"errors", "capture", "store", "warc", "extract", "parser"},
    "search": {"errors", "capture", "catalog", "parser"},
    # a service process's entry point opens the Archive itself (parse_service, write_service)
    "examine": {"errors", "capture", "store", "catalog", "extract", "parser", "archive"},
    "ingest": {"errors", "capture", "store", "warc", "catalog", "extract", "parser", "examine", "archive"},
    "web": {"errors", "parser", "search", ""},  # "" is the package's lazy names (`from archive import Archive`)
}


def _subsystem(module: str) -> str | None:
    parts = module.split(".")
    return None if parts[0] != "archive" else (parts[1] if len(parts) > 1 else "")


def test_each_archive_subsystem_imports_only_the_layers_below_it():
    graph = import_graph()
    wrong = []
    for module, deps in graph.items():
        mine = _subsystem(module)
        if mine not in LAYERS:
            continue
        for dep in deps:
            theirs = _subsystem(dep)
            if theirs is None:
                wrong.append(f"{module} -> {dep} (the archive never imports the crawler, spiders or scheduler)")
            elif theirs != mine and theirs not in LAYERS[mine]:
                wrong.append(f"{module} -> {dep}")
    assert not wrong, "imports across layers:\n" + "\n".join(sorted(wrong))
