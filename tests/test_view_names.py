"""One set of names for a cell and a check in the SQL views, the CSV/XLSX export and the parsed JSON (issue 15):
the views carry the CSV's names in the CSV's order, and the same values as the JSON; a catalog from before
migration 15 gets them when it is migrated, and, opened read-only, as views of its connection."""

from __future__ import annotations

import csv
import io

import pytest
import sqlite_utils

from archive import Archive
from archive.catalog.db import Catalog
from archive.catalog.export import CSV_COLUMNS
from archive.catalog.migrations import LATEST, MIGRATIONS
from archive.parser import layout as L
from helpers.captures import http_capture
from spiders.demo.generator import generate, to_html

HOST = "127.0.0.94"
COMPUTED = {"region", "table_label", "group", "row_label", "column_label"}  # the CSV's words beside the ids


def columns(a: Archive, view: str) -> list[str]:
    return [d[0] for d in a.catalog.conn.execute(f"SELECT * FROM {view} LIMIT 0").description]


@pytest.fixture(scope="module")
def archive_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("names") / "a"
    with Archive.open(path) as a, a.writer() as w:
        for i, year in enumerate((2020, 2021)):
            w.add(http_capture(f"http://{HOST}/{year}.html", to_html(generate(
                8300 + i, year=year, breaks=("balance:total",) if year == 2021 else ()))))
    return path


def test_the_views_carry_the_csv_names_in_its_order_and_the_json_keys(archive_dir):
    with Archive.open(archive_dir, readonly=True) as a:
        cells = columns(a, "report_cells")
        assert cells == [c for c in CSV_COLUMNS if c in cells]  # the CSV's names, in the CSV's order
        assert set(CSV_COLUMNS) - set(cells) == COMPUTED
        buf = io.StringIO()
        a.export("csv", buf)
        header = next(csv.reader(io.StringIO(buf.getvalue()[1:])))
        assert header == CSV_COLUMNS
        checks = columns(a, "report_checks")
        assert checks == ["report_id", "agency", "year", "template", "rule", "ok", "detail", "sha256",
                          "parser_version"]
        for rep in a.reports():
            shown = a.show(rep["id"])
            assert shown["cells"] and shown["checks"]
            for cell in shown["cells"]:
                assert set(cell) <= set(cells), set(cell) - set(cells)  # each JSON key is a column of the view
            for check in shown["checks"]:
                assert {"rule", "ok", "detail"} <= set(check) and set(check) - {"explanation"} <= set(checks)
            key = ("table", "row", "column")
            json_cells = {tuple(c[k] for k in key): (c.get("value"), c.get("raw")) for c in shown["cells"]}
            view_cells = {(r["table"], r["row"], r["column"]): (r["value"], r["raw"]) for r in a.catalog.rows(
                'SELECT "table", "row", "column", value, raw FROM report_cells WHERE report_id = ?', (rep["id"],))}
            assert view_cells == json_cells
            view_checks = {r["rule"]: (bool(r["ok"]), r["detail"]) for r in a.catalog.rows(
                "SELECT rule, ok, detail FROM report_checks WHERE report_id = ?", (rep["id"],))}
            assert view_checks == {c["rule"]: (c["ok"], c["detail"]) for c in shown["checks"]}
        failed = a.catalog.scalar("SELECT count(*) FROM report_checks WHERE ok = 0 AND year = 2021")
        assert failed >= 1  # the broken report's failure is there, by the JSON's name


def test_the_api_pages_of_cells_use_the_same_names(archive_dir):
    with Archive.open(archive_dir, readonly=True) as a:
        page = a.cells(table="applications", row="1", column="total")
        assert len(page) == 2 and all((c["table"], c["row"], c["column"]) == ("applications", "1", "total")
                                      for c in page)
        assert set(page[0]) <= set(CSV_COLUMNS)
        assert a.count_cells(table="applications", row="1") == 2 * len(L.APPLICATION_COLUMNS)


def _catalog_at_13(path):
    """A catalog as nianbao wrote it before migration 15 (the views with table_id, row_id, column_id)."""
    db = sqlite_utils.Database(path)
    db["_migrations"].create({"version": int, "name": str, "applied_at": str}, pk="version")
    for version, name, fn in MIGRATIONS:
        if version > 13:
            break
        fn(db)
        db["_migrations"].insert({"version": version, "name": name, "applied_at": "2025-01-01T00:00:00Z"})
    db.conn.execute("PRAGMA journal_mode=WAL")
    db["reports"].insert({"id": 1, "agency": "某市信访局", "agency_key": "某市信访局", "year": 2021,
                          "current_revision_id": 1, "template": "2021"})
    db["blobs"].insert({"sha256": "a" * 64, "size": 1, "stored_size": 1, "encoding": "raw", "first_seen": "x"})
    db["documents"].insert({"id": 1, "sha256": "a" * 64, "report_id": 1, "revision_id": 1, "template": "2021"})
    db["revisions"].insert({"id": 1, "report_id": 1, "number": 1, "primary_document_id": 1})
    db["cells"].insert({"document_id": 1, "table_id": "applications", "row_id": "1", "column_id": "total",
                        "value": 7, "raw": "7"})
    db["checks"].insert({"document_id": 1, "rule": "applications.balance.total", "ok": 0, "detail": "7 ≠ 6"})
    assert "table_id" in db["report_cells"].columns_dict
    db.close()


def test_migration_15_renames_the_columns_of_an_old_catalogs_views(tmp_path):
    _catalog_at_13(tmp_path / "catalog.db")
    cat = Catalog(tmp_path / "catalog.db")
    assert cat.version() == LATEST >= 15
    assert list(cat.rows("SELECT * FROM report_cells")) == [{
        "report_id": 1, "agency": "某市信访局", "year": 2021, "template": "2021", "table": "applications",
        "row": "1", "column": "total", "value": 7, "raw": "7", "label": None, "recovered": None,
        "sha256": "a" * 64, "parser_version": None}]
    assert list(cat.rows("SELECT template, rule, ok FROM report_checks")) == [
        {"template": "2021", "rule": "applications.balance.total", "ok": 0}]
    cat.close()


def test_an_old_catalog_opened_read_only_answers_by_the_new_names(tmp_path):
    """Read-only never migrates; without the connection's own views, '"table" = ?' would compare the string
    'table' (SQLite's reading of an unknown double-quoted name) and find nothing, silently."""
    _catalog_at_13(tmp_path / "catalog.db")
    with Archive.open(tmp_path, readonly=True) as a:
        assert a.catalog.version() == 13
        assert [(c["table"], c["row"], c["column"], c["value"]) for c in a.cells(table="applications")] == [
            ("applications", "1", "total", 7)]
        assert a.agency("某市信访局")["cells"][0]["column"] == "total"
    stored = sqlite_utils.Database(tmp_path / "catalog.db")
    assert "table_id" in stored["report_cells"].columns_dict  # the file itself was not changed
    assert stored.execute("SELECT max(version) FROM _migrations").fetchone()[0] == 13
    stored.close()
