"""Search the archive: full text (exact for Chinese terms of two or more characters), facets, and
structured conditions on table cells and checks. ``nianbao search`` and ``/api/search`` are this::

    with Archive.open("nianbao-archive", readonly=True) as a:
        res = a.search("依申请 复议", year=2021, cells=["applications.1.total>100"], failed_checks=True)
        for hit in res.hits:
            print(hit.agency, hit.year, hit.snippet)

By default one hit per report: its current primary document (``all_documents`` searches every
rendition and every earlier revision too). Terms are ANDed; ``"…"`` keeps a phrase with spaces.
:mod:`archive.search.compile` turns the query into SQL (pure); this module runs it on the catalog.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass, field

from archive.errors import QueryError
from archive.search.compile import CellCondition, CompiledQuery, Filters, compile_query
from archive.search.facets import COUNTED
from archive.search.text import contains, snippet

__all__ = ["CellCondition", "Hit", "SearchResult", "search"]

MAX_VERIFY = 20_000  # candidates checked against their text for the rare terms the index cannot decide
RANK_LIMIT = 20_000  # matches ranked by bm25; more are ordered newest year first


@dataclass
class Hit:
    report_id: int | None
    document_id: int
    agency: str | None
    region: str | None
    year: int | None
    template: str | None
    kind: str | None
    title: str | None
    failed_checks: int
    current: bool
    sha256: str
    snippet: str = ""
    score: float | None = None


@dataclass
class SearchResult:
    query: str
    total: int
    page: int
    per_page: int
    hits: list[Hit] = field(default_factory=list)
    facets: dict[str, list[dict]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    notes_zh: list[str] = field(default_factory=list)  # the same notes in Chinese, for the web pages
    order: str = "newest"  # "relevance" (bm25) or "newest" (year, then the newest document)

    def note(self, en: str, zh: str) -> None:
        self.notes.append(en)
        self.notes_zh.append(zh)
    took_ms: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def search(archive, query: str = "", *, agency: str | None = None, region: str | None = None,
           year: int | None = None, template: str | None = None, kind: str | None = None,
           failed_checks: bool = False, failed_rule: str | None = None, cells: list[str] | tuple = (),
           all_documents: bool = False, page: int = 1, per_page: int = 20, facets: bool = True) -> SearchResult:
    """Ranked hits with highlighted snippets, the total, and facet counts over every match."""
    t0 = time.perf_counter()
    if page < 1 or not 1 <= per_page <= 200:
        raise QueryError("page starts at 1, and per_page is 1 to 200")
    q = compile_query(query, Filters(agency=agency, region=region, year=year, template=template, kind=kind,
                                     failed_checks=failed_checks, failed_rule=failed_rule, cells=cells,
                                     all_documents=all_documents))
    res = SearchResult(query=query, total=0, page=page, per_page=per_page)
    if q.scan:
        res.note(f"single characters ({'、'.join(q.scan)}) are found by reading every text: slower",
                 f"单个汉字（{'、'.join(q.scan)}）需逐篇读取全文查找，较慢")
    c = archive.catalog
    matches = c.scalar(*q.count()) or 0
    # bm25 costs about 1 µs a match; past RANK_LIMIT matches a term is in so many reports that its
    # weight hardly tells them apart, so the newest years come first instead (the rowid order).
    ranked = q.indexed and matches <= RANK_LIMIT
    if ranked:
        res.order = "relevance"
    elif q.indexed:
        res.note(f"more than {RANK_LIMIT:,} matches: newest year first",
                 f"匹配超过 {RANK_LIMIT:,} 篇，按年份从新到旧排列")
    offset = (page - 1) * per_page
    if q.direct:
        res.total = matches
        page_rows = _direct_page(c, q, ranked, per_page, offset)
        if facets:
            res.facets = _facets_sql(c, q)
    elif q.verify:
        page_rows = _verified_page(c, q, ranked, res, offset, facets)
    else:
        res.total = c.scalar(*q.total(ranked)) or 0
        page_rows = list(c.rows(*q.page(ranked, per_page, offset)))
        if facets:
            res.facets = _facets_sql(c, q)
    res.hits = _hits(c, page_rows, q.words)
    res.took_ms = round((time.perf_counter() - t0) * 1000, 2)
    return res


def _direct_page(c, q: CompiledQuery, ranked: bool, per_page: int, offset: int) -> list[dict]:
    """One page of a query the FTS table answers alone: its rowids first, then their rows."""
    found = list(c.rows(*q.direct_page(ranked, per_page, offset)))
    docs = _docs(c, [f["fid"] for f in found])
    return [{**docs[f["fid"]], "score": f["score"]} for f in found if f["fid"] in docs]


def _verified_page(c, q: CompiledQuery, ranked: bool, res: SearchResult, offset: int, facets: bool) -> list[dict]:
    """Rare: terms the index narrows but cannot decide. Check every candidate's text, in order."""
    rows = list(c.rows(*q.page(ranked, MAX_VERIFY + 1)))
    if len(rows) > MAX_VERIFY:
        res.note(f"more than {MAX_VERIFY:,} candidates; only the first {MAX_VERIFY:,} were checked",
                 f"候选超过 {MAX_VERIFY:,} 篇，只核对了前 {MAX_VERIFY:,} 篇")
        rows = rows[:MAX_VERIFY]
    texts = _texts(c, [r["document_id"] for r in rows])
    rows = [r for r in rows if all(contains(texts.get(r["document_id"], ""), w) for w in q.verify)]
    res.total = len(rows)
    if facets:
        res.facets = _facets_of(rows)
    return rows[offset:offset + res.per_page]


def _hits(c, rows: list[dict], words: list[str]) -> list[Hit]:
    """The page's rows as hits, with the blob they came from and a snippet of their text."""
    texts = _texts(c, [r["document_id"] for r in rows])
    ids = ",".join(str(int(r["document_id"])) for r in rows) or "NULL"
    shas = {r["id"]: r["sha256"] for r in c.rows(f"SELECT id, sha256 FROM documents WHERE id IN ({ids})")}
    return [Hit(
        report_id=r["report_id"], document_id=r["document_id"], agency=r["agency"], region=r["region"],
        year=r["year"], template=r["template"], kind=r["kind"], title=r["title"],
        failed_checks=r["failed_checks"] or 0, current=bool(r["current"]), sha256=shas.get(r["document_id"], ""),
        snippet=snippet(texts.get(r["document_id"], ""), words) if words else "",
        score=round(-r["score"], 3) if r["score"] is not None else None) for r in rows]


def _docs(c, rowids: list[int]) -> dict[int, dict]:
    if not rowids:
        return {}
    return {r["fts_rowid"]: r for r in c.rows(
        f"SELECT * FROM search_docs WHERE fts_rowid IN ({','.join('?' * len(rowids))})", tuple(rowids))}


def _texts(c, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    out = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        out.update({r["id"]: r["text"] or "" for r in c.rows(
            f"SELECT id, text FROM documents WHERE id IN ({','.join('?' * len(chunk))})", tuple(chunk))})
    return out


def _ordered(name: str, counts: Counter) -> list[dict]:
    """A facet's values: years newest first (a list of years read in year order), the others by count."""
    if name == "year":
        items = sorted(counts.items(), key=lambda kv: -(kv[0] or 0))
    else:
        items = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    return [{"value": v, "count": n} for v, n in items if v is not None]


def _facets_of(rows: list[dict]) -> dict[str, list[dict]]:
    return {facet.name: _ordered(facet.name, Counter(facet.value(r) for r in rows)) for facet in COUNTED}


_FACET_CACHE: dict[tuple, dict[str, list[dict]]] = {}
FACET_CACHE_SIZE = 64


def _facets_sql(c, q: CompiledQuery) -> dict[str, list[dict]]:
    """Facet counts over every match, remembered while the catalog is unchanged: counting a term found
    in 100,000 reports takes a third of a second, and paging through its results asks again each time."""
    # data_version moves when another connection commits; total_changes when this one does
    state = (str(c.path), c.conn.execute("PRAGMA data_version").fetchone()[0], c.conn.total_changes)
    key = (*state, *q.facet_counts())
    if key not in _FACET_CACHE:
        if len(_FACET_CACHE) >= FACET_CACHE_SIZE:
            _FACET_CACHE.pop(next(iter(_FACET_CACHE)))
        _FACET_CACHE[key] = _count_facets(c, q)
    return _FACET_CACHE[key]


def _count_facets(c, q: CompiledQuery) -> dict[str, list[dict]]:
    """Facet counts over every match, in one grouped pass (the marginals are summed here)."""
    counts: dict[str, Counter] = {f.name: Counter() for f in COUNTED}
    for r in c.rows(*q.facet_counts()):
        for f in COUNTED:
            counts[f.name][r[f.name]] += r["n"]
    return {name: _ordered(name, cnt) for name, cnt in counts.items()}
