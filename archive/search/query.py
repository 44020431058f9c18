"""Search the archive: full text (exact for Chinese terms of two or more characters), facets, and
structured conditions on table cells and checks. ``nianbao search`` and ``/api/search`` are this::

    with Archive.open("nianbao-archive", readonly=True) as a:
        res = a.search("依申请 复议", year=2021, cells=["applications.1.total>100"], failed_checks=True)
        for hit in res.hits:
            print(hit.agency, hit.year, hit.snippet)

By default one hit per report: its current primary document (``all_documents`` searches every
rendition and every earlier revision too). Terms are ANDed; ``"…"`` keeps a phrase with spaces.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field

from archive.errors import QueryError
from archive.search.index import token
from archive.search.text import contains, match_expression, snippet, terms

FACETS = ("year", "region", "template", "kind", "failed")
CELL = re.compile(r"^\s*(active|applications|review_litigation)[./]([\w.]+?)[./]([a-z_]+)\s*(>=|<=|!=|=|>|<)\s*"
                  r"(-?\d+(?:\.\d+)?)\s*$")
OPS = {">", "<", ">=", "<=", "=", "!="}
MAX_VERIFY = 20_000  # candidates checked against their text for the rare terms the index cannot decide
RANK_LIMIT = 20_000  # matches ranked by bm25; more are ordered newest year first


@dataclass
class CellCondition:
    """``applications.1.total>100``: table, row and column ids of docs/report-structure.md, an operator, a number."""

    table: str
    row: str
    column: str
    op: str
    value: float

    @classmethod
    def parse(cls, text: str) -> CellCondition:
        m = CELL.match(text)
        if not m:
            raise QueryError(f"cannot read the cell condition {text!r}; write TABLE.ROW.COLUMN OP NUMBER, "
                             f"e.g. applications.1.total>100 or review_litigation.review.total>=1")
        t, r, c, op, v = m.groups()
        return cls(t, r, c, op, float(v))


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
    words = terms(query)
    body, verify, scan = [], [], []
    for w in words:
        expr, exact = match_expression(w)
        if expr is None:
            if any(ch.isalnum() for ch in w):
                scan.append(w)  # one Chinese character: no index piece holds it alone
            continue
        body.append(expr)
        if not exact:
            verify.append(w)
    # Facets are tokens of the index's meta column (archive/search_index.py): filters cost no join.
    meta = ["zqzp1" if not all_documents else "zqzall"]
    for prefix, val in (("zqzy", year), ("zqzt", template), ("zqzk", kind), ("zqzr", region)):
        if val is not None and val != "":
            meta.append(f'"{prefix}{token(val)}"')
    if failed_checks:
        meta.append("zqzf1")
    where, params = [], []
    if agency:
        expr, exact = match_expression(agency, column="meta")
        if expr is not None and exact:
            meta.append(expr)
        else:
            where.append("s.agency LIKE ?")
            params.append(f"%{agency}%")
    if failed_rule:
        where.append("EXISTS (SELECT 1 FROM checks k WHERE k.document_id = s.document_id AND k.ok = 0 "
                     "AND k.rule LIKE ?)")
        params.append(f"{failed_rule}%")
    for text in cells:
        c = text if isinstance(text, CellCondition) else CellCondition.parse(text)
        where.append("EXISTS (SELECT 1 FROM cells x WHERE x.document_id = s.document_id AND x.table_id = ? "
                     f"AND x.row_id = ? AND x.column_id = ? AND x.value {c.op} ?)")
        params += [c.table, c.row, c.column, c.value]
    for w in scan:
        where.append("s.document_id IN (SELECT id FROM documents WHERE instr(text, ?) > 0)")
        params.append(w)
    match = " AND ".join([*body, *(m if m.startswith("meta:") else f"meta:{m}" for m in meta)])
    res = SearchResult(query=query, total=0, page=page, per_page=per_page)
    if scan:
        res.note(f"single characters ({'、'.join(scan)}) are found by reading every text: slower",
                 f"单个汉字（{'、'.join(scan)}）需逐篇读取全文查找，较慢")
    c = archive.catalog
    matches = c.scalar("SELECT count(*) FROM search_fts WHERE search_fts MATCH ?", (match,)) or 0
    # bm25 costs about 1 µs a match; past RANK_LIMIT matches a term is in so many reports that its
    # weight hardly tells them apart, so the newest years come first instead (the rowid order).
    ranked = bool(body) and matches <= RANK_LIMIT
    if ranked:
        res.order = "relevance"
    elif body:
        res.note(f"more than {RANK_LIMIT:,} matches: newest year first",
                 f"匹配超过 {RANK_LIMIT:,} 篇，按年份从新到旧排列")
    offset = (page - 1) * per_page
    if not where and not verify:
        res.total = matches
        order = "rank" if ranked else "rowid DESC"
        found = list(c.rows(f"SELECT rowid AS fid, {'rank' if ranked else 'NULL'} AS score FROM search_fts "
                            f"WHERE search_fts MATCH ? ORDER BY {order} LIMIT ? OFFSET ?", (match, per_page, offset)))
        docs = _docs(c, [f["fid"] for f in found])
        page_rows = [{**docs[f["fid"]], "score": f["score"]} for f in found if f["fid"] in docs]
        if facets:
            res.facets = _facets_sql(c, match, "", [])
    else:
        cte = (f"WITH f(fid, score) AS MATERIALIZED (SELECT rowid, {'rank' if ranked else 'NULL'} FROM search_fts "
               "WHERE search_fts MATCH ?) ")
        cond = " AND ".join(where) or "1"
        order = "f.score, s.fts_rowid DESC" if ranked else "s.fts_rowid DESC"
        select = f"{cte}SELECT s.*, f.score AS score FROM f JOIN search_docs s ON s.fts_rowid = f.fid WHERE {cond}"
        if verify:
            # Rare: terms the index narrows but cannot decide. Check every candidate's text, in order.
            rows = list(c.rows(f"{select} ORDER BY {order} LIMIT ?", (match, *params, MAX_VERIFY + 1)))
            if len(rows) > MAX_VERIFY:
                res.note(f"more than {MAX_VERIFY:,} candidates; only the first {MAX_VERIFY:,} were checked",
                         f"候选超过 {MAX_VERIFY:,} 篇，只核对了前 {MAX_VERIFY:,} 篇")
                rows = rows[:MAX_VERIFY]
            texts = _texts(c, [r["document_id"] for r in rows])
            rows = [r for r in rows if all(contains(texts.get(r["document_id"], ""), w) for w in verify)]
            res.total = len(rows)
            page_rows = rows[offset:offset + per_page]
            if facets:
                res.facets = _facets_of(rows)
        else:
            res.total = c.scalar(f"{cte}SELECT count(*) FROM f JOIN search_docs s ON s.fts_rowid = f.fid "
                                 f"WHERE {cond}", (match, *params)) or 0
            page_rows = list(c.rows(f"{select} ORDER BY {order} LIMIT ? OFFSET ?", (match, *params, per_page, offset)))
            if facets:
                res.facets = _facets_sql(c, match, cond, params)
    texts = _texts(c, [r["document_id"] for r in page_rows])
    ids = ",".join(str(int(r["document_id"])) for r in page_rows) or "NULL"
    shas = {r["id"]: r["sha256"] for r in c.rows(f"SELECT id, sha256 FROM documents WHERE id IN ({ids})")}
    for r in page_rows:
        res.hits.append(Hit(
            report_id=r["report_id"], document_id=r["document_id"], agency=r["agency"], region=r["region"],
            year=r["year"], template=r["template"], kind=r["kind"], title=r["title"],
            failed_checks=r["failed_checks"] or 0, current=bool(r["current"]), sha256=shas.get(r["document_id"], ""),
            snippet=snippet(texts.get(r["document_id"], ""), words) if words else "",
            score=round(-r["score"], 3) if r["score"] is not None else None))
    res.took_ms = round((time.perf_counter() - t0) * 1000, 2)
    return res


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


def _facet_value(row: dict, name: str):
    return ("有" if row["failed_checks"] else "无") if name == "failed" else row[name]


def _facets_of(rows: list[dict]) -> dict[str, list[dict]]:
    from collections import Counter

    out = {}
    for name in FACETS:
        counts = Counter(_facet_value(r, name) for r in rows)
        out[name] = [{"value": v, "count": n} for v, n in counts.most_common() if v is not None]
    return out


_FACET_CACHE: dict[tuple, dict[str, list[dict]]] = {}
FACET_CACHE_SIZE = 64


def _facets_sql(c, match: str, cond: str, params: list) -> dict[str, list[dict]]:
    """Facet counts over every match, remembered while the catalog is unchanged: counting a term found
    in 100,000 reports takes a third of a second, and paging through its results asks again each time."""
    # data_version moves when another connection commits; total_changes when this one does
    state = (str(c.path), c.conn.execute("PRAGMA data_version").fetchone()[0], c.conn.total_changes)
    key = (*state, match, cond, tuple(params))
    if key not in _FACET_CACHE:
        if len(_FACET_CACHE) >= FACET_CACHE_SIZE:
            _FACET_CACHE.pop(next(iter(_FACET_CACHE)))
        _FACET_CACHE[key] = _count_facets(c, match, cond, params)
    return _FACET_CACHE[key]


def _count_facets(c, match: str, cond: str, params: list) -> dict[str, list[dict]]:
    """Facet counts over every match, in one grouped pass (the marginals are summed here)."""
    from collections import Counter

    rows = c.rows(
        "WITH f(fid) AS MATERIALIZED (SELECT rowid FROM search_fts WHERE search_fts MATCH ?) "
        "SELECT s.year, s.region, s.template, s.kind, CASE WHEN s.failed_checks > 0 THEN '有' ELSE '无' END AS failed, "
        f"count(*) AS n FROM f JOIN search_docs s ON s.fts_rowid = f.fid WHERE {cond or '1'} "
        "GROUP BY 1, 2, 3, 4, 5", (match, *params))
    counts: dict[str, Counter] = {name: Counter() for name in FACETS}
    for r in rows:
        for name in FACETS:
            counts[name][r[name]] += r["n"]
    return {name: [{"value": v, "count": n} for v, n in sorted(cnt.items(), key=lambda kv: (-kv[1], str(kv[0])))
                   if v is not None] for name, cnt in counts.items()}
