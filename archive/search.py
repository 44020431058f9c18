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

from archive.search_text import QueryError, contains, match_expression, snippet, terms

FACETS = ("year", "region", "template", "kind", "failed")
CELL = re.compile(r"^\s*(active|applications|review_litigation)[./]([\w.]+?)[./]([a-z_]+)\s*(>=|<=|!=|=|>|<)\s*"
                  r"(-?\d+(?:\.\d+)?)\s*$")
OPS = {">", "<", ">=", "<=", "=", "!="}
MAX_VERIFY = 20_000  # candidates checked against their text for the rare terms the index cannot decide


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
    exprs, verify, scan = [], [], []
    for w in words:
        expr, exact = match_expression(w)
        if expr is None:
            if any(ch.isalnum() for ch in w):
                scan.append(w)  # one Chinese character: no index piece holds it alone
            continue
        exprs.append(expr)
        if not exact:
            verify.append(w)
    where, params = ["s.stale = 0"], []
    if not all_documents:
        where.append("s.is_primary = 1")
    if agency:
        where.append("s.agency LIKE ?")
        params.append(f"%{agency}%")
    for col, val in (("region", region), ("year", year), ("template", template), ("kind", kind)):
        if val is not None and val != "":
            where.append(f"s.{col} = ?")
            params.append(val)
    if failed_checks:
        where.append("s.failed_checks > 0")
    if failed_rule:
        where.append("EXISTS (SELECT 1 FROM checks k WHERE k.document_id = s.document_id AND k.ok = 0 "
                     "AND k.rule LIKE ?)")
        params.append(f"{failed_rule}%")
    for text in cells:
        c = text if isinstance(text, CellCondition) else CellCondition.parse(text)
        where.append(f"EXISTS (SELECT 1 FROM cells x WHERE x.document_id = s.document_id AND x.table_id = ? "
                     f"AND x.row_id = ? AND x.column_id = ? AND x.value {c.op} ?)")
        params += [c.table, c.row, c.column, c.value]
    for w in scan:
        where.append("s.document_id IN (SELECT id FROM documents WHERE instr(text, ?) > 0)")
        params.append(w)
    if exprs:
        # The FTS query runs once, materialised, and drives the join. Joined directly, SQLite's planner
        # may walk search_docs and re-run the MATCH for every row (seconds instead of milliseconds).
        fts = "WITH f(fid, score) AS MATERIALIZED (SELECT rowid, {} FROM search_fts WHERE search_fts MATCH ?) "
        ranked, plain = fts.format("bm25(search_fts)"), fts.format("NULL")
        params.insert(0, " AND ".join(exprs))
        source, order, score = "f JOIN search_docs s ON s.id = f.fid", "f.score, s.id", "f.score"
    else:
        ranked = plain = ""
        source, order, score = "search_docs s", "s.year DESC, s.agency, s.id", "NULL"
    cond = " AND ".join(where)
    res = SearchResult(query=query, total=0, page=page, per_page=per_page)
    if scan:
        res.notes.append(f"single characters ({'、'.join(scan)}) are found by reading every text: slower")
    c = archive.catalog
    if verify:
        # Rare: terms the index narrows but cannot decide. Check every candidate's text, in rank order.
        rows = list(c.rows(f"{ranked}SELECT s.*, {score} AS score FROM {source} WHERE {cond} ORDER BY {order} "
                           f"LIMIT ?", (*params, MAX_VERIFY + 1)))
        if len(rows) > MAX_VERIFY:
            res.notes.append(f"more than {MAX_VERIFY:,} candidates; only the best {MAX_VERIFY:,} were checked")
            rows = rows[:MAX_VERIFY]
        texts = _texts(c, [r["document_id"] for r in rows])
        rows = [r for r in rows if all(contains(texts.get(r["document_id"], ""), w) for w in verify)]
        res.total = len(rows)
        page_rows = rows[(page - 1) * per_page: page * per_page]
        if facets:
            res.facets = _facets_of(rows)
    else:
        res.total = c.scalar(f"{plain}SELECT count(*) FROM {source} WHERE {cond}", tuple(params)) or 0
        page_rows = list(c.rows(f"{ranked}SELECT s.*, {score} AS score FROM {source} WHERE {cond} ORDER BY {order} "
                                f"LIMIT ? OFFSET ?", (*params, per_page, (page - 1) * per_page)))
        if facets:
            res.facets = _facets_sql(c, plain, source, cond, params)
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


def _facets_sql(c, prefix: str, source: str, cond: str, params: list) -> dict[str, list[dict]]:
    out = {}
    for name in FACETS:
        expr = "CASE WHEN s.failed_checks > 0 THEN '有' ELSE '无' END" if name == "failed" else f"s.{name}"
        out[name] = [{"value": r["v"], "count": r["n"]} for r in c.rows(
            f"{prefix}SELECT {expr} AS v, count(*) AS n FROM {source} WHERE {cond} GROUP BY v ORDER BY n DESC, v",
            tuple(params)) if r["v"] is not None]
    return out
