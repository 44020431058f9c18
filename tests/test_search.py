"""Full-text search: exact for every term of two or more characters (checked against reading every
text), filters, cell conditions, failed checks, and an index that follows revisions and reparses."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from archive import Archive
from archive.errors import QueryError
from archive.search.text import normalize
from crawler.cli import cli
from helpers.captures import http_capture
from spiders.demo.generator import generate, to_html

QUERIES = ["复议", "信访", "财政", "诉讼", "政府信息公开", "依申请公开", "行政复议决定", "维持", "主动公开政府信息",
           "2021", "网站", "不予公开", "收到和处理政府信息公开申请情况", "信息 复议", "财政局 2021"]


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """24 generated reports as HTML pages, some with broken arithmetic, one agency a 财政局."""
    path = tmp_path_factory.mktemp("search") / "a"
    reports = []
    for i in range(24):
        breaks = ("balance:total",) if i % 5 == 0 else ()
        agency = "安康市财政局" if i == 3 else None
        rep = generate(4000 + i, year=2019 + i % 5, agency=agency, breaks=breaks)
        reports.append(rep)
    with Archive.open(path) as a:
        with a.writer() as w:
            for i, rep in enumerate(reports):
                w.add(http_capture(f"http://127.0.0.2/nb/{i}.html", to_html(rep)))
        a.reindex(only_pending=True)
    return path


def brute(a: Archive, words: list[str], **where) -> set[int]:
    """Reports whose current primary document contains every word: read every text."""
    rows = a.catalog.rows("""SELECT r.id, r.year, d.text, d.failed_checks FROM reports r
        JOIN revisions v ON v.id = r.current_revision_id JOIN documents d ON d.id = v.primary_document_id""")
    out = set()
    for r in rows:
        if where.get("year") and r["year"] != where["year"]:
            continue
        if where.get("failed") and not r["failed_checks"]:
            continue
        if all(normalize(w) in normalize(r["text"]) for w in words):
            out.add(r["id"])
    return out


def test_every_query_matches_exactly_what_reading_every_text_finds(filled):
    with Archive.open(filled) as a:
        assert a.stats()["reports"] == 24
        for q in QUERIES:
            res = a.search(q, per_page=200)
            got = {h.report_id for h in res.hits}
            assert res.total == len(got), q
            assert got == brute(a, q.split()), q
        # the word inside a longer word, which jieba's segmentation misses
        assert "安康市财政局" in {h.agency for h in a.search("财政", per_page=200).hits}
        assert a.search("不存在的词语组合").total == 0


def test_filters_facets_and_snippets(filled):
    with Archive.open(filled) as a:
        res = a.search("复议", year=2021, per_page=200)
        assert {h.report_id for h in res.hits} == brute(a, ["复议"], year=2021)
        assert all(h.year == 2021 for h in res.hits)
        failed = a.search("", failed_checks=True, per_page=200)
        assert {h.report_id for h in failed.hits} == brute(a, [], failed=True) and failed.total == 5
        by_rule = a.search("", failed_rule="applications.balance", per_page=200)
        assert {h.report_id for h in by_rule.hits} == {h.report_id for h in failed.hits}
        full = a.search("复议", per_page=1)
        years = {f["value"]: f["count"] for f in full.facets["year"]}
        assert sum(years.values()) == full.total and set(years) <= {2019, 2020, 2021, 2022, 2023}
        assert {f["value"] for f in full.facets["failed"]} <= {"有", "无"}
        hit = a.search("行政复议").hits[0]
        assert "<mark>行政复议</mark>" in hit.snippet and "<script" not in hit.snippet


def test_cell_conditions_match_the_cells(filled):
    with Archive.open(filled) as a:
        totals = {r["report_id"]: r["value"] for r in a.catalog.rows(
            """SELECT report_id, value FROM report_cells WHERE "table" = 'applications' AND "row" = '1' """
            """AND "column" = 'total'""")}
        cut = sorted(totals.values())[len(totals) // 2]
        want = {rid for rid, v in totals.items() if v > cut}
        got = {h.report_id for h in a.search("", cells=[f"applications.1.total>{cut}"], per_page=200).hits}
        assert got == want and 0 < len(got) < 24
        both = a.search("", cells=[f"applications.1.total>{cut}", f"applications.1.natural_person<={cut}"],
                        per_page=200)
        assert {h.report_id for h in both.hits} <= want
        with pytest.raises(QueryError, match=r"TABLE\.ROW\.COLUMN"):
            a.search("", cells=["applications total > 3"])


def test_the_index_follows_new_revisions_and_rebuilds_to_the_same_answers(tmp_path):
    rep = generate(4100, year=2022)
    first = to_html(rep)
    changed = first.replace("持续优化门户网站栏目".encode(), "新增信访事项专栏建设".encode())
    assert changed != first
    with Archive.open(tmp_path / "a") as a:
        with a.writer() as w:
            w.add(http_capture("http://127.0.0.2/nb/1.html", first))
        assert a.search("持续优化门户网站").total == 1
        with a.writer() as w:
            w.add(http_capture("http://127.0.0.2/nb/1.html", changed))  # a corrected re-upload
        assert a.show(1)["revision"] == 2
        assert a.search("新增信访事项专栏").total == 1
        assert a.search("持续优化门户网站").total == 0  # the replaced revision is not a current hit …
        old = a.search("持续优化门户网站", all_documents=True)
        assert old.total == 1 and not old.hits[0].current  # … but stays findable, marked
        before = {q: a.search(q, all_documents=True).total for q in QUERIES}
        a.reindex()
        assert {q: a.search(q, all_documents=True).total for q in QUERIES} == before
        assert a.catalog.scalar("SELECT count(*) FROM search_retired") == 0
        indexed = a.catalog.scalar("SELECT count(*) FROM search_docs")
        assert indexed == a.catalog.scalar("SELECT count(*) FROM documents")


def test_the_command_line(filled):
    res = CliRunner().invoke(cli, ["search", "复议", "--year", "2021", "--archive", str(filled), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["total"] >= 1 and all(h["year"] == 2021 for h in data["hits"])
    res = CliRunner().invoke(cli, ["search", "--cell", "applications.1.total>1", "--archive", str(filled)])
    assert res.exit_code == 0 and "report(s)" in res.output
    res = CliRunner().invoke(cli, ["reindex", "--archive", str(filled), "--json"])
    assert res.exit_code == 0 and json.loads(res.output)["indexed"] == 24


def test_a_text_changed_in_place_leaves_no_trace_and_a_lost_text_rebuilds(tmp_path):
    """A reparse that changes a document's text: the old words stop matching, the trigger-kept text is
    used up; if that text was lost (triggers dropped by hand), the index rebuilds itself."""
    with Archive.open(tmp_path / "a") as a:
        with a.writer() as w:
            for i in range(3):
                w.add(http_capture(f"http://127.0.0.2/nb/{i}.html", to_html(generate(4200 + i, year=2021))))
        a.reindex(only_pending=True)
        doc = a.catalog.scalar("SELECT min(id) FROM documents")
        with a.catalog.transaction():
            a.catalog.conn.execute("UPDATE documents SET text = text || '新增词语甲乙丙丁' WHERE id = ?", (doc,))
        assert a.catalog.scalar("SELECT count(*) FROM search_retired") == 1
        assert a.search("甲乙丙丁").total == 1
        assert a.catalog.scalar("SELECT count(*) FROM search_retired") == 0
        with a.catalog.transaction():
            a.catalog.conn.execute("DROP TRIGGER search_doc_retire_upd")
            a.catalog.conn.execute("UPDATE documents SET text = replace(text, '甲乙丙丁', '戊己庚辛') WHERE id = ?",
                                   (doc,))
        assert a.search("戊己庚辛").total == 1 and a.search("甲乙丙丁").total == 0
        assert a.search("复议").total == 3


def test_past_the_rank_limit_the_newest_years_come_first(filled, monkeypatch):
    import archive.search.query as S

    with Archive.open(filled) as a:
        assert a.search("复议").order == "relevance"
        monkeypatch.setattr(S, "RANK_LIMIT", 5)
        res = a.search("复议", per_page=200)
        assert res.order == "newest" and res.notes_zh and res.total == 24
        years = [h.year for h in res.hits]
        assert years == sorted(years, reverse=True) and years[0] == 2023
        assert {h.report_id for h in res.hits} == brute(a, ["复议"])  # the same set, in another order
