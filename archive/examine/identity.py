"""Which report a document belongs to, and which revision of it: the archive's identity rule.

The rule reads only agency, year and the number sequence, all from the parser's one entry point,
so a better parser changes what it reads but never how documents are grouped.

Report (one per agency and year):
  1. No year: the one report that holds its page or its attachment (the crawl saw the link), else no
     report: the document is kept, unassigned, and listed as such.
  2. A report with the same agency (compared width-folded, without spaces or punctuation) and the
     same year is that report.
  3. Otherwise, when the document names no agency, the one report of its year that holds its page or
     its attachment (the crawl saw the link: the page and its attachment are one publication).
  4. Otherwise a report of the same year whose agency is compatible (one name contains the other,
     e.g. ``信访局`` / ``汝州市信访局``; or they differ by a character or two, e.g.
     ``安康市行政审批服务局`` / ``安康市行政审批局``) or unknown on either side, *and* whose documents'
     numbers agree (number 3-gram Jaccard >= 0.5 with enough numbers to tell): the best such report.
     Names alone never merge two agencies' reports: agencies copy each other's text, not numbers.
  5. Otherwise a new report if the agency is known, else unassigned.

A name only the site gives (the parser read it from SiteName, the footer's 主办单位 or the site part of
the page's <title>: a department's page on a county portal carries the county's name) counts as no
name for rules 2 to 5: the page joins the report its link leads to or one whose numbers agree, never
the site's own report by name alone, and never makes a report under the site's name; otherwise it
stays unassigned and says why.

An unassigned document is tried again when a document of its year is placed beside its page or its
attachment, or with numbers it shares (see :meth:`archive.examine.placement.Placer.assign`), and by
``nianbao reparse``: whichever of a page and its PDF is examined first, they end in one report.

Revision (a version of the report's content; older ones are kept):
  - the same normalised text as a document of a revision: that revision (a re-generated file);
  - a format the revision does not have yet, with numbers that agree (Jaccard >= 0.9) or too few
    numbers to tell: that revision (the PDF attachment of an HTML page);
  - otherwise a new revision: a rendition whose text changed (a corrected re-upload).
  Text is matched against every revision first, then formats newest revision first.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from archive.parser.fingerprint import SAME_CONTENT, SAME_REPORT, similarity
from archive.parser.hints import SITE_SOURCES

AGENCY_RATIO = 0.8
# Why a document is in no report, in words: what `nianbao reports` and a crawl's summary print.
NO_YEAR = "no year found, and no report holds its page or attachment"
NO_AGENCY = "no agency found, and no report of its year holds its page or attachment or has numbers that agree"
WEAK_ONLY = ("its agency is only the name of the site it is on (SiteName, 主办单位), which publishes other "
             "agencies' reports too: it joins the report of its page or attachment, or one whose numbers agree")
ASSUMED_CLASH = ("its agency is only the portal profile's, and that agency's report of the year is another "
                 "document whose numbers do not agree (a department's report on its government's portal?)")
# parser provenance values that name the site, not the document
# (a <title>'s suffix is the site's name in CMS templates: ``标题_站点名``)
WEAK_SOURCES = SITE_SOURCES


@dataclass
class DocPrint:
    """What the rule knows of a document."""

    kind: str
    agency_key: str | None
    year: int | None
    numbers: list[str]
    text_sha256: str | None = None
    id: int | None = None
    agency_weak: bool = False  # the name is only the site's (SiteName, footer 主办单位), not the document's
    agency_assumed: bool = False  # the name is the portal profile's: it may found a report, never join one by name


@dataclass
class ReportCandidate:
    id: int
    agency_key: str | None
    year: int
    documents: list[DocPrint] = field(default_factory=list)
    link: str | None = None  # how the report holds the document's page or attachment, e.g. "its page <url>"
    agency_weak: bool = False  # every name its documents give is only their site's


@dataclass
class RevisionCandidate:
    id: int
    number: int
    documents: list[DocPrint] = field(default_factory=list)


@dataclass(frozen=True)
class Decision:
    """``target`` is an existing id, or None with ``create`` telling whether to make a new one."""

    target: int | None
    create: bool
    reason: str
    similarity: float | None = None


def agencies_compatible(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return True
    if a in b or b in a:
        return True
    return _shared_chars(a, b) * 2 >= AGENCY_RATIO * (len(a) + len(b)) and (
        difflib.SequenceMatcher(None, a, b).ratio() >= AGENCY_RATIO)


def _shared_chars(a: str, b: str) -> int:
    """The characters two names share, counted with repeats: difflib's ``quick_ratio`` bound on the ratio,
    without building its matcher (most pairs a national archive compares fail on it)."""
    left: dict[str, int] = {}
    for ch in a:
        left[ch] = left.get(ch, 0) + 1
    shared = 0
    for ch in b:
        if left.get(ch, 0) > 0:
            left[ch] -= 1
            shared += 1
    return shared


def best_similarity(doc: DocPrint, others: list[DocPrint]) -> float | None:
    """The highest number similarity to any of ``others`` (None if none could be told)."""
    scores = [s for o in others if (s := similarity(doc.numbers, o.numbers)) is not None]
    return max(scores) if scores else None


def decide_report(doc: DocPrint, candidates: list[ReportCandidate]) -> Decision:
    """Apply the report rule to a document and the reports that could hold it."""
    if doc.year is None:  # the one report its page or attachment is in, else none
        linked = {c.id: c for c in candidates if c.link}
        if len(linked) == 1:
            (c,) = linked.values()
            return Decision(c.id, False, f"no year found, {c.link} is in this report ({c.year})")
        return Decision(None, False, NO_YEAR)
    for c in candidates:
        if (doc.agency_key and c.agency_key == doc.agency_key and c.year == doc.year and not doc.agency_weak
                and not doc.agency_assumed):
            return Decision(c.id, False, "same agency and year")
    linked = {c.id: c for c in candidates if c.link and c.year == doc.year}
    if len(linked) == 1:
        (c,) = linked.values()
        if not doc.agency_key:
            return Decision(c.id, False, f"same year, unknown agency, {c.link} is in this report")
        if doc.agency_weak or c.agency_weak:  # a county portal's name on a department's page, say
            return Decision(c.id, False, f"same year, the agency only named by the site, {c.link} is in this report")
    mine = None if doc.agency_weak else doc.agency_key
    best: tuple[float, ReportCandidate] | None = None
    for c in candidates:
        if c.year != doc.year or not agencies_compatible(mine, None if c.agency_weak else c.agency_key):
            continue
        sim = best_similarity(doc, c.documents)
        if sim is not None and sim >= SAME_REPORT and (best is None or sim > best[0]):
            best = (sim, c)
    if best:
        sim, c = best
        how = "unknown agency" if not doc.agency_key or not c.agency_key else "compatible agency"
        return Decision(c.id, False, f"same year, {how}, numbers agree ({sim:.2f})", sim)
    if doc.agency_key and doc.agency_weak:  # never a report of its own under the site's name
        return Decision(None, False, WEAK_ONLY)
    if doc.agency_assumed and any(c.agency_key == doc.agency_key and c.year == doc.year for c in candidates):
        return Decision(None, False, ASSUMED_CLASH)
    if doc.agency_key:
        return Decision(None, True, "new agency and year")
    return Decision(None, False, NO_AGENCY)


def decide_revision(doc: DocPrint, revisions: list[RevisionCandidate]) -> Decision:
    """Apply the revision rule within one report."""
    newest_first = sorted(revisions, key=lambda r: -r.number)
    for rev in newest_first:
        if doc.text_sha256 and any(d.text_sha256 == doc.text_sha256 for d in rev.documents):
            return Decision(rev.id, False, "same text as a document of this revision")
    for rev in newest_first:
        if doc.kind not in {d.kind for d in rev.documents}:
            sim = best_similarity(doc, rev.documents)
            if sim is None or sim >= SAME_CONTENT:
                detail = "too few numbers to tell" if sim is None else f"numbers agree ({sim:.2f})"
                return Decision(rev.id, False, f"another format of this revision, {detail}", sim)
    if not revisions:
        return Decision(None, True, "first revision")
    return Decision(None, True, "text changed: new revision")
