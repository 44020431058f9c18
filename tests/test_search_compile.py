"""The query compiler alone (no archive): what a search's text and filters become in SQL, and that the
filters ask for exactly the tokens the index writes (archive/search/facets.py)."""

from __future__ import annotations

import sqlite3

import pytest

from archive.errors import QueryError
from archive.search.compile import CellCondition, Filters, compile_query
from archive.search.facets import COUNTED, meta_tokens


def test_terms_go_to_the_match_expression_and_the_default_is_primary_documents():
    q = compile_query("复议 政府信息公开")
    assert q.match == 'body:"复议" AND quad:"政府信息 府信息公 信息公开" AND meta:zqzp1'
    assert q.words == ["复议", "政府信息公开"] and q.indexed and q.direct
    assert (q.where, q.params, q.verify, q.scan) == ([], [], [], [])
    assert q.count() == ("SELECT count(*) FROM search_fts WHERE search_fts MATCH ?", (q.match,))


def test_value_filters_are_quoted_meta_tokens_and_need_no_join():
    q = compile_query("复议", Filters(year=2021, template="2021", kind="PDF", region="安康市", failed_checks=True,
                                    all_documents=True))
    assert q.match == ('body:"复议" AND meta:zqzall AND meta:"zqzy2021" AND meta:"zqzt2021" AND meta:"zqzkpdf" '
                       'AND meta:"zqzr安康市" AND meta:zqzf1')
    assert q.direct and q.params == []


def test_empty_filters_ask_for_nothing():
    assert compile_query("", Filters(year=None, region="", kind=None)).match == "meta:zqzp1"
    q = compile_query("")
    assert not q.indexed and q.words == []


def test_an_agency_name_is_a_meta_phrase_and_one_character_falls_back_to_like():
    q = compile_query("", Filters(agency="财政局"))
    assert q.match == 'meta:zqzp1 AND meta:"财政 政局"' and q.direct
    q = compile_query("", Filters(agency="局"))
    assert q.where == ["s.agency LIKE ?"] and q.params == ["%局%"] and not q.direct


def test_conditions_come_with_their_parameters_in_order():
    cells = ["applications.1.total>100", CellCondition("active", "2", "count", "<=", 3)]
    q = compile_query("复议 信", Filters(agency="局", failed_rule="balance", cells=cells))
    assert q.params == ["%局%", "balance%", "applications", "1", "total", 100.0, "active", "2", "count", 3, "信"]
    assert len(q.where) == 5 and q.where[0] == "s.agency LIKE ?"
    assert "k.rule LIKE ?" in q.where[1] and "x.value > ?" in q.where[2] and "x.value <= ?" in q.where[3]
    assert "instr(text, ?)" in q.where[4] and q.scan == ["信"]
    assert q.cond == " AND ".join(q.where)
    sql, params = q.page(True, 20, 40)
    assert sql.count("?") == len(params) and params == (q.match, *q.params, 20, 40)
    assert "ORDER BY f.score, s.fts_rowid DESC LIMIT ? OFFSET ?" in sql
    sql, params = q.total(False)
    assert sql.count("?") == len(params) and "NULL FROM search_fts" in sql


def test_a_term_the_index_cannot_decide_is_verified_and_a_lone_character_is_scanned():
    q = compile_query("12号文")
    assert q.verify == ["12号文"] and q.indexed and not q.direct
    q = compile_query("信")
    assert q.scan == ["信"] and not q.indexed and q.match == "meta:zqzp1"
    assert compile_query("？！").match == "meta:zqzp1"  # nothing searchable: no term at all


@pytest.mark.parametrize("cell", ["applications.1.total>>100", "nope", "applications.1.total>x", "other.1.total>1"])
def test_a_cell_condition_it_cannot_read_raises_query_error(cell):
    with pytest.raises(QueryError):
        compile_query("复议", Filters(cells=[cell]))


def test_every_filter_token_is_one_the_index_writes():
    doc = {"is_primary": 1, "current": 1, "failed_checks": 2, "year": 2021, "template": "2021", "kind": "pdf",
           "region": "安康市", "agency": "安康市财政局"}
    written = set(meta_tokens(doc).split())
    q = compile_query("", Filters(year=2021, template="2021", kind="pdf", region="安康市", failed_checks=True))
    asked = {part.removeprefix("meta:").strip('"') for part in q.match.split(" AND ")}
    assert asked <= written
    other_year = compile_query("", Filters(year=2020)).match.split(" AND ")[-1]
    assert other_year == 'meta:"zqzy2020"' and "zqzy2020" not in written


def test_the_compiled_sql_runs_on_the_index_schema():
    """Every statement is valid SQL with as many parameters as marks (on an empty index of the real shape)."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE search_fts USING fts5(body, quad, meta, content='')")
    db.execute("CREATE TABLE search_docs (fts_rowid INTEGER, document_id INTEGER, agency TEXT, region TEXT, "
               "year INTEGER, template TEXT, kind TEXT, failed_checks INTEGER)")
    db.execute("CREATE TABLE checks (document_id INTEGER, ok INTEGER, rule TEXT)")
    db.execute("CREATE TABLE cells (document_id INTEGER, table_id TEXT, row_id TEXT, column_id TEXT, value REAL)")
    db.execute("CREATE TABLE documents (id INTEGER, text TEXT)")
    q = compile_query("复议 信", Filters(agency="局", failed_rule="b", cells=["applications.1.total>1"]))
    for sql, params in (q.count(), q.direct_page(True, 5, 0), q.page(True, 5), q.page(False, 5, 5), q.total(True),
                        q.facet_counts()):
        assert db.execute(sql, params).fetchall() in ([], [(0,)])
    names = [d[0] for d in db.execute(*q.facet_counts()).description]
    assert names == [f.name for f in COUNTED] + ["n"]
