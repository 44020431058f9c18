"""Datasette-ready (issue 15): ``Archive.datasette_metadata()`` / ``nianbao export --datasette`` describe every
public table, view and column of the catalog in Chinese and English and hide the internal tables, found in the
live schema; Datasette itself serves an archive's catalog.db with that metadata, read-only."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive import Archive
from archive.catalog.descriptions import QUERIES, TABLES
from archive.errors import CatalogError
from crawler.cli import cli
from helpers.captures import http_capture
from spiders.demo.generator import generate, to_html

HOST = "127.0.0.95"
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{2}")
INTERNAL = {"_migrations", "document_bands", "search_docs", "search_dirty", "search_retired", "search_fts",
            "search_fts_data", "search_fts_idx", "search_fts_docsize", "search_fts_config"}


def live_schema(a: Archive) -> dict[str, list[str]]:
    """Every table and view of the catalog with its columns, read here, not through the code under test."""
    names = [r[0] for r in a.catalog.conn.execute(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")]
    return {n: [c[1] for c in a.catalog.conn.execute(f"PRAGMA table_info([{n}])")] for n in names}


def catalog_tables(meta: dict) -> dict[str, dict]:
    assert list(meta["databases"]) == ["catalog"]  # Datasette names a database by its file's stem
    return meta["databases"]["catalog"]["tables"]


def test_every_column_of_every_public_table_and_view_of_a_fresh_catalog_is_described(archive):
    meta = archive.datasette_metadata()
    assert CJK.search(meta["title"]) and LATIN.search(meta["title"])
    tables = catalog_tables(meta)
    schema = live_schema(archive)
    assert set(tables) == set(schema)  # every table and view is either hidden or described
    hidden = {name for name, t in tables.items() if t.get("hidden")}
    assert hidden == INTERNAL
    public = set(schema) - hidden
    assert {"report_cells", "report_checks", "reports", "documents", "cells", "captures"} <= public
    for name in public:
        t = tables[name]
        for text in (t["title"], t["description"]):
            assert CJK.search(text) and LATIN.search(text), (name, text)  # in Chinese and English
        missing = [c for c in schema[name] if not t["columns"].get(c)]
        assert not missing, f"{name}: columns without a description (add them to archive/catalog/descriptions.py)"
        assert list(t["columns"]) == schema[name]
    # and nothing described that the catalog does not have (a renamed column, a typo)
    for name, spec in TABLES.items():
        assert name in public and set(spec["columns"]) == set(schema[name]), name
        for key in ("sort_desc", "label_column"):
            assert spec.get(key) in (None, *schema[name])
        assert set(spec.get("facets", [])) <= set(schema[name])


def test_internal_tables_are_found_in_the_live_schema_when_asked(archive):
    """A table added after this code was written is hidden by what it is: a virtual table and its shadows."""
    with archive.catalog.transaction() as db:
        db.execute("CREATE VIRTUAL TABLE notes_fts USING fts5(body)")
        db.execute("CREATE VIRTUAL TABLE old_fts4 USING fts4(body)")
    tables = catalog_tables(archive.datasette_metadata())
    hidden = {name for name, t in tables.items() if t.get("hidden")}
    shadows = {n for n in live_schema(archive) if n.startswith(("notes_fts_", "old_fts4_"))}
    assert {"notes_fts_data", "notes_fts_idx", "old_fts4_segments", "old_fts4_segdir"} <= shadows
    assert hidden == INTERNAL | {"notes_fts", "old_fts4"} | shadows


def test_a_catalog_not_yet_migrated_is_refused_in_words(archive):
    from archive.catalog.migrations import LATEST, MIGRATIONS

    with archive.catalog.transaction() as db:
        db.execute("DELETE FROM _migrations WHERE version = ?", [LATEST])
    previous = MIGRATIONS[-2][0]  # numbers are handed out to parallel branches, so one may be missing
    with pytest.raises(CatalogError, match=rf"schema version {previous}, older .*`nianbao reindex --pending`"):
        archive.datasette_metadata()


def test_the_command_line_writes_it_and_takes_no_data_format(archive, tmp_path):
    archive.close()
    where = ["--archive", str(archive.path)]
    runner = CliRunner()
    res = runner.invoke(cli, ["export", "--datasette", "-o", str(tmp_path / "metadata.json"), *where])
    assert res.exit_code == 0, res.output
    assert "hid 10" in res.output and f"datasette {archive.path / 'catalog.db'} -m" in res.output
    written = json.loads((tmp_path / "metadata.json").read_text(encoding="utf-8"))
    to_stdout = runner.invoke(cli, ["export", "--datasette", *where])
    assert json.loads(to_stdout.stdout) == written
    with Archive.open(archive.path, readonly=True) as a:
        assert written == a.datasette_metadata()
    both = runner.invoke(cli, ["export", "--datasette", "--format", "csv", *where])
    assert both.exit_code == 2 and "neither --format, --year nor --report" in both.output
    neither = runner.invoke(cli, ["export", *where])
    assert neither.exit_code == 2 and "--format" in neither.output and "--datasette" in neither.output


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """An archive of four reports (one breaking a check), closed, and its metadata from the command line."""
    path = tmp_path_factory.mktemp("ds") / "a"
    with Archive.open(path) as a, a.writer() as w:
        for i, (year, agency) in enumerate(((2020, "甲市民政局"), (2021, "甲市民政局"), (2021, "乙县信访局"),
                                            (2022, "乙县信访局"))):
            w.add(http_capture(f"http://{HOST}/{i}.html", to_html(generate(
                8400 + i, year=year, agency=agency, breaks=("balance:total",) if i == 2 else ()))))
    out = path.parent / "metadata.json"
    res = CliRunner().invoke(cli, ["export", "--datasette", "-o", str(out), "--archive", str(path)])
    assert res.exit_code == 0, res.output
    return path, json.loads(out.read_text(encoding="utf-8"))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_datasette_serves_the_catalog_with_the_metadata(served):
    from datasette.app import Datasette

    path, meta = served
    catalog = path / "catalog.db"
    with Archive.open(path, readonly=True) as a:
        view_columns = list(live_schema(a)["report_cells"])
        cells = a.cells()
        received = {(c["agency"], c["year"]): c["value"] for c in a.cells(table="applications", row="1",
                                                                          column="total")}
    before = _digest(catalog)

    async def ask() -> dict:
        # a mutable database: Datasette reads it with mode=ro (and adds to the metadata it is given: a copy)
        ds = Datasette([str(catalog)], metadata=json.loads(json.dumps(meta)))
        got = {}
        for name, url in (
                ("metadata", "/-/metadata.json"), ("database", "/catalog.json"),
                ("cells", "/catalog/report_cells.json?_shape=array&_size=max"),
                ("by_agency", "/catalog/applications_by_agency_and_year.json?_shape=array&year=&agency="),
                ("by_agency_2021", "/catalog/applications_by_agency_and_year.json?_shape=array&year=2021&agency="),
                ("one_agency", "/catalog/applications_by_agency_and_year.json?_shape=array&year=&agency=信访"),
                ("by_year", "/catalog/applications_by_year.json?_shape=array"),
                ("failed", "/catalog/failed_checks_by_rule.json?_shape=array"),
                ("reports_page", "/catalog/reports"), ("cells_page", "/catalog/report_cells")):
            r = await ds.client.get(url)
            assert r.status_code == 200, (url, r.text[:500])
            got[name] = r.text if name.endswith("_page") else r.json()
        return got

    got = asyncio.run(ask())
    assert got["metadata"] == meta
    db = got["database"]
    hidden = {t["name"] for t in db["tables"] if t["hidden"]}
    assert hidden == {name for name, t in catalog_tables(meta).items() if t.get("hidden")} and hidden >= INTERNAL
    assert {t["name"] for t in db["tables"] if not t["hidden"]} == set(TABLES) - {"report_cells", "report_checks"}
    assert {v["name"] for v in db["views"]} == {"report_cells", "report_checks"}
    assert {q["name"] for q in db["queries"]} == set(QUERIES)
    # report_cells by the CSV's and JSON's names, every cell of the current reports
    assert len(got["cells"]) == len(cells) and list(got["cells"][0]) == view_columns
    assert {"table", "row", "column", "value", "raw"} <= set(view_columns)
    assert {(c["report_id"], c["table"], c["row"], c["column"]) for c in got["cells"]} == {
        (c["report_id"], c["table"], c["row"], c["column"]) for c in cells}
    # the canned queries run, and agree with the archive's own reading
    assert {(r["agency"], r["year"]): r["received"] for r in got["by_agency"]} == received
    assert [(r["agency"], r["year"]) for r in got["by_agency"]] == sorted(received)
    assert {(r["agency"], r["year"]) for r in got["by_agency_2021"]} == {k for k in received if k[1] == 2021}
    assert {r["agency"] for r in got["one_agency"]} == {"乙县信访局"}
    assert {r["year"]: (r["reports"], r["received"]) for r in got["by_year"]} == {
        y: (sum(1 for k in received if k[1] == y), sum(v for k, v in received.items() if k[1] == y))
        for y in (2020, 2021, 2022)}
    assert {"rule": "applications.balance.total", "failed": 1} in got["failed"]
    # the pages show the words, and the file was only read
    assert "归一化的机关名（用于匹配）" in got["reports_page"]
    assert "表格：active 主动公开" in got["cells_page"]
    assert _digest(catalog) == before
