"""Placing a document reads what it needs through indexes (migration 20): its revision's documents and the
reports of its year by name, so a national archive's millionth report is placed as fast as its first
(bench/handovers.py measures the rate); ``Catalog.set`` writes rows as sqlite-utils would."""

from __future__ import annotations

import difflib
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from archive import Archive

REVISION_DOCS = "SELECT id, kind, cells_count, first_seen, text_sha256 FROM documents WHERE revision_id = ?"
NAMED_REPORTS = """SELECT id FROM reports WHERE year = :y AND agency_key IS NOT NULL
                   AND (agency_key = :k OR instr(agency_key, :k) > 0 OR instr(:k, agency_key) > 0) LIMIT 50"""


def _plan(a: Archive, sql: str, params) -> str:
    return " | ".join(r[3] for r in a.catalog.conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))


def test_the_placement_lookups_read_indexes_not_tables(tmp_path):
    with Archive.open(tmp_path / "a") as a:
        plan = _plan(a, REVISION_DOCS, (1,))
        assert "SCAN" not in plan and "revision_id" in plan, plan
        plan = _plan(a, NAMED_REPORTS, {"y": 2023, "k": "某县财政局"})
        assert "COVERING INDEX" in plan and "year" in plan, plan


def test_set_updates_one_row_and_stores_lists_and_mappings_as_json(tmp_path):
    with Archive.open(tmp_path / "a") as a, a.catalog.transaction():
        a.catalog.conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT)")
        a.catalog.conn.executemany("INSERT INTO t (id, a) VALUES (?, ?)", [(1, "x"), (2, "y")])
        a.catalog.set("t", "id", 2, {"a": "z", "b": {"年": [2023]}})
        rows = a.catalog.conn.execute("SELECT id, a, b FROM t ORDER BY id").fetchall()
    assert rows[0] == (1, "x", None) and rows[1][:2] == (2, "z") and json.loads(rows[1][2]) == {"年": [2023]}


NAMES = st.text(alphabet="安康市汉中县财政民局审计人民政府办公室区", min_size=1, max_size=14)


@settings(max_examples=400, deadline=None)
@given(NAMES, NAMES)
def test_the_cheap_bound_on_agency_names_decides_as_difflib_does(a, b):
    from archive.examine.identity import AGENCY_RATIO, agencies_compatible

    assert agencies_compatible(a, b) == (a in b or b in a or
                                         difflib.SequenceMatcher(None, a, b).ratio() >= AGENCY_RATIO)
