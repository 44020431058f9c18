"""From what a search asks (its text, filters, cell and check conditions) to the SQL that answers it.
Pure, no database: what a query asks for can be checked without an archive; :mod:`archive.search.query`
runs it. Terms go to the FTS5 ``MATCH`` expression, filters to tokens of the index's ``meta`` column
(:mod:`archive.search.facets`), and what the index cannot answer to conditions on ``search_docs s``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from archive.errors import QueryError
from archive.search.facets import COUNTED, EVERY, FAILED, FILTERED, PRIMARY
from archive.search.text import match_expression, terms

CELL = re.compile(r"^\s*(active|applications|review_litigation)[./]([\w.]+?)[./]([a-z_]+)\s*(>=|<=|!=|=|>|<)\s*"
                  r"(-?\d+(?:\.\d+)?)\s*$")
OPS = {">", "<", ">=", "<=", "=", "!="}

Sql = tuple[str, tuple]  # a statement and its parameters


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
class Filters:
    """What a search narrows to besides its text: the keywords of :func:`~archive.search.query.search`."""

    agency: str | None = None
    region: str | None = None
    year: int | None = None
    template: str | None = None
    kind: str | None = None
    failed_checks: bool = False
    failed_rule: str | None = None
    cells: list[str | CellCondition] | tuple = ()
    all_documents: bool = False


@dataclass
class CompiledQuery:
    """A search as SQL: one FTS5 ``MATCH`` expression, conditions on ``search_docs s`` with their
    parameters, and the terms the index narrows but cannot decide (each candidate's text is read)."""

    words: list[str]  # the query's terms, for the snippets
    match: str  # the terms the index answers, ANDed with the filters' meta tokens
    indexed: bool  # some term is in the index, so bm25 can rank the matches
    where: list[str] = field(default_factory=list)
    params: list = field(default_factory=list)
    verify: list[str] = field(default_factory=list)  # in every candidate's text, checked after the SQL
    scan: list[str] = field(default_factory=list)  # single Chinese characters, found by reading every text

    @property
    def cond(self) -> str:
        return " AND ".join(self.where)

    @property
    def direct(self) -> bool:
        """Answered by the FTS table alone: nothing joins ``search_docs`` and no text needs reading."""
        return not self.where and not self.verify

    def count(self) -> Sql:
        """How many documents the ``MATCH`` expression matches."""
        return "SELECT count(*) FROM search_fts WHERE search_fts MATCH ?", (self.match,)

    def direct_page(self, ranked: bool, limit: int, offset: int) -> Sql:
        """One page of FTS rowids (``fid``) and scores, for a :attr:`direct` query."""
        order = "rank" if ranked else "rowid DESC"
        return (f"SELECT rowid AS fid, {'rank' if ranked else 'NULL'} AS score FROM search_fts "
                f"WHERE search_fts MATCH ? ORDER BY {order} LIMIT ? OFFSET ?", (self.match, limit, offset))

    def page(self, ranked: bool, limit: int, offset: int | None = None) -> Sql:
        """``search_docs`` rows meeting the conditions, with their score, best (or newest) first."""
        order = "f.score, s.fts_rowid DESC" if ranked else "s.fts_rowid DESC"
        select = f"{self._matches(ranked)}SELECT s.*, f.score AS score {self._joined()} ORDER BY {order} LIMIT ?"
        if offset is None:
            return select, (self.match, *self.params, limit)
        return f"{select} OFFSET ?", (self.match, *self.params, limit, offset)

    def total(self, ranked: bool) -> Sql:
        """How many matches meet the conditions too."""
        return f"{self._matches(ranked)}SELECT count(*) {self._joined()}", (self.match, *self.params)

    def facet_counts(self) -> Sql:
        """Matches grouped by every counted facet, with their number ``n`` (the marginals are summed by the caller)."""
        cols = ", ".join(f.sql() for f in COUNTED)
        groups = ", ".join(str(i) for i in range(1, len(COUNTED) + 1))
        return ("WITH f(fid) AS MATERIALIZED (SELECT rowid FROM search_fts WHERE search_fts MATCH ?) "
                f"SELECT {cols}, count(*) AS n FROM f JOIN search_docs s ON s.fts_rowid = f.fid "
                f"WHERE {self.cond or '1'} GROUP BY {groups}", (self.match, *self.params))

    def _matches(self, ranked: bool) -> str:
        return (f"WITH f(fid, score) AS MATERIALIZED (SELECT rowid, {'rank' if ranked else 'NULL'} FROM search_fts "
                "WHERE search_fts MATCH ?) ")

    def _joined(self) -> str:
        return f"FROM f JOIN search_docs s ON s.fts_rowid = f.fid WHERE {self.cond or '1'}"


def compile_query(query: str, filters: Filters | None = None) -> CompiledQuery:
    """The SQL of a search; :class:`QueryError` for a condition it cannot read."""
    f = filters or Filters()
    words = terms(query)
    body, verify, scan = _split_terms(words)
    meta, where, params = _meta(f)
    _conditions(f, scan, where, params)
    match = " AND ".join([*body, *(m if m.startswith("meta:") else f"meta:{m}" for m in meta)])
    return CompiledQuery(words=words, match=match, indexed=bool(body), where=where, params=params,
                         verify=verify, scan=scan)


def _split_terms(words: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(FTS5 expressions, terms to check in the text, single characters to scan the texts for)."""
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
    return body, verify, scan


def _meta(f: Filters) -> tuple[list[str], list[str], list]:
    """The filters as meta tokens (answered inside FTS5, no join), and the agency as a condition when
    its name is not exact in the index."""
    meta = [PRIMARY.token(True) if not f.all_documents else EVERY]
    for facet in FILTERED:
        val = getattr(f, facet.name)
        if val is not None and val != "":
            meta.append(f'"{facet.token(val)}"')
    if f.failed_checks:
        meta.append(FAILED.token(True))
    where, params = [], []
    if f.agency:
        expr, exact = match_expression(f.agency, column="meta")
        if expr is not None and exact:
            meta.append(expr)
        else:
            where.append("s.agency LIKE ?")
            params.append(f"%{f.agency}%")
    return meta, where, params


def _conditions(f: Filters, scan: list[str], where: list[str], params: list) -> None:
    """Append the check, cell and single-character conditions (on ``search_docs s``) and their parameters."""
    if f.failed_rule:
        where.append("EXISTS (SELECT 1 FROM checks k WHERE k.document_id = s.document_id AND k.ok = 0 "
                     "AND k.rule LIKE ?)")
        params.append(f"{f.failed_rule}%")
    for text in f.cells:
        c = text if isinstance(text, CellCondition) else CellCondition.parse(text)
        where.append("EXISTS (SELECT 1 FROM cells x WHERE x.document_id = s.document_id AND x.table_id = ? "
                     f"AND x.row_id = ? AND x.column_id = ? AND x.value {c.op} ?)")
        params += [c.table, c.row, c.column, c.value]
    for w in scan:
        where.append("s.document_id IN (SELECT id FROM documents WHERE instr(text, ?) > 0)")
        params.append(w)
