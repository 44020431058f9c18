"""The search facets in one place: each one's name (a :func:`~archive.search.query.search` filter and a facet
count), its column in ``search_docs`` and its token in the index's ``meta`` column. The index writes these
tokens (:mod:`archive.search.index`) and the query compiler asks for them (:mod:`archive.search.compile`), so
the two cannot drift apart. A token is ``zqz`` + a letter + the value (``zqzy2021``, ``zqzp1``): one FTS
token that no report text holds, so a filter is answered inside FTS5 without a join.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from archive.search.text import BOUNDARY, CJK, pieces

EVERY = "zqzall"  # every indexed document holds it: the query of all_documents
AGENCY_MARK = BOUNDARY  # between the facet tokens and the agency's pieces: no agency phrase spans into a token


def token(value) -> str:
    """A facet value as part of one FTS token (unicode61 keeps letters, digits and CJK together)."""
    return re.sub(rf"[^0-9a-z{CJK}]", "", str(value).lower()) or "none"


@dataclass(frozen=True)
class Facet:
    """One facet: ``name`` is the filter's and the count's, ``column`` the ``search_docs`` column it comes from."""

    name: str
    column: str
    prefix: str  # of its meta token
    yes_no: bool = False  # counted as 有/无 and indexed as 1/0, not by value
    missing: object = ""  # what an absent value is indexed as ("" becomes "none")

    def token(self, value) -> str:
        """The meta token of a document whose facet has this value."""
        if self.yes_no:
            return f"{self.prefix}{int(bool(value))}"
        return f"{self.prefix}{token(self.missing if value is None or value == '' else value)}"

    def sql(self) -> str:
        """The facet's value in a facet count, over ``search_docs s``."""
        if self.yes_no:
            return f"CASE WHEN s.{self.column} > 0 THEN '有' ELSE '无' END AS {self.name}"
        return f"s.{self.column} AS {self.name}"

    def value(self, row: dict):
        """The facet's value in one ``search_docs`` row, as :meth:`sql` counts it."""
        if self.yes_no:
            return "有" if row[self.column] else "无"
        return row[self.column]


YEAR = Facet("year", "year", "zqzy", missing=0)
REGION = Facet("region", "region", "zqzr")
TEMPLATE = Facet("template", "template", "zqzt")
KIND = Facet("kind", "kind", "zqzk")
FAILED = Facet("failed", "failed_checks", "zqzf", yes_no=True)
PRIMARY = Facet("primary", "is_primary", "zqzp", yes_no=True)  # the current primary document of its report
CURRENT = Facet("current", "current", "zqzc", yes_no=True)  # of its report's current revision

COUNTED = (YEAR, REGION, TEMPLATE, KIND, FAILED)  # SearchResult.facets, in this order
FILTERED = (YEAR, TEMPLATE, KIND, REGION)  # search() filters that take a value, as the compiler asks for them
INDEXED = (PRIMARY, CURRENT, FAILED, YEAR, TEMPLATE, KIND, REGION)  # the meta column's tokens, in this order


def meta_tokens(doc: dict) -> str:
    """The ``meta`` column of one ``search_docs`` row: facet tokens, then the agency's pieces (for its filter):
    of each of its names when it was merged under several (``agency_names``), so any of them finds it."""
    toks = [EVERY, *(f.token(doc[f.column]) for f in INDEXED)]
    names = [n for n in dict.fromkeys([doc.get("agency"), *(doc.get("agency_names") or [])]) if n]
    return " ".join(toks) + (f" {AGENCY_MARK} " + pieces(" ".join(names)) if names else "")
