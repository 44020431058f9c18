"""The report parser's one entry point: any published form of a report to the parsed structure.

:func:`parse` is a pure function from bytes to :class:`ParseResult`; the archive reads agency, year
and numbers only through it, so re-parsing old originals with a newer parser is one call per blob.
The structure follows shared/spec/report-structure.md (``schema: nianbao.report/1``).

Extraction (one module per format, :mod:`archive.extract`) gives text and grids; then one
template-aware reader finds agency, year, template, sections, the three tables and the checks.

Imports only archive.extract and archive.errors: never the catalog or sqlite-utils (parse workers stay light).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from archive.errors import ExtractionError
from archive.extract import extract
from archive.extract.formats import REPORT_KINDS, sniff
from archive.parser import fingerprint, hints
from archive.parser.checks import evaluate
from archive.parser.cleanup import clean_text
from archive.parser.context import ParseContext
from archive.parser.regions import table_region
from archive.parser.sections import split_sections
from archive.parser.tables import read_active, read_applications, read_review
from archive.parser.template import detect_template
from archive.parser.title import agency_key, find_title

PARSER_VERSION = "1.0.0"
SCHEMA = "nianbao.report/1"
MIN_REPORT_CHARS = 1500
SECTION_WORDS = ("总体情况", "主动公开政府信息情况", "收到和处理政府信息公开申请情况", "行政复议", "存在的主要问题")

__all__ = ["PARSER_VERSION", "SCHEMA", "ParseContext", "ParseResult", "agency_key", "parse"]


@dataclass
class ParseResult:
    """The parsed structure plus what the archive needs to place the document.

    ``report`` is the structure ``nianbao parse --json`` prints; the rest rides beside it: ``context``
    (how the document was met, if the caller said), ``published`` (ISO date the portal printed for it)
    with ``published_source`` ("meta PubDate", "page info line", "date beside the link of …"), and
    ``page`` (an HTML page's title, site meta, own printed date and dated links).
    """

    kind: str
    report: dict
    is_report: bool
    text: str = ""
    numbers: list[str] = field(default_factory=list)
    text_sha256: str | None = None
    error: str | None = None
    parser_version: str = PARSER_VERSION
    context: ParseContext | None = None
    published: str | None = None
    published_source: str | None = None
    page: dict = field(default_factory=dict)

    @property
    def agency(self) -> str | None:
        return self.report.get("agency")

    @property
    def year(self) -> int | None:
        return self.report.get("year")

    def to_dict(self) -> dict:
        """JSON-ready data: what a worker hands back, and what a hand-over's metadata record carries."""
        return {"kind": self.kind, "report": self.report, "is_report": self.is_report, "text": self.text,
                "numbers": self.numbers, "text_sha256": self.text_sha256, "error": self.error,
                "parser_version": self.parser_version,
                "context": self.context.to_dict() if self.context is not None else None,
                "published": self.published, "published_source": self.published_source, "page": self.page}

    @classmethod
    def from_dict(cls, data: dict) -> ParseResult:
        """The inverse of :meth:`to_dict` (also reads results written before context and dates existed)."""
        ctx = data.get("context")
        return cls(kind=data["kind"], report=data["report"], is_report=bool(data["is_report"]),
                   text=data.get("text") or "", numbers=list(data.get("numbers") or []),
                   text_sha256=data.get("text_sha256"), error=data.get("error"),
                   parser_version=data.get("parser_version") or PARSER_VERSION,
                   context=ParseContext.from_dict(ctx) if ctx is not None else None,
                   published=data.get("published"), published_source=data.get("published_source"),
                   page=dict(data.get("page") or {}))


def empty_report() -> dict:
    return {"schema": SCHEMA, "agency": None, "year": None, "template": "unknown", "title": None,
            "sections": [], "cells": [], "checks": [], "warnings": [], "provenance": {}}


def _region(sections: list[dict], number: str, text: str) -> str:
    """The text a table is read from: its section if that holds it, else where its header rows are."""
    return table_region(sections, number, text)


def parse(data: bytes, *, kind: str | None = None, content_type: str | None = None,
          filename: str | None = None, url: str | None = None, title: str | None = None,
          docx: bytes | None = None, context: ParseContext | None = None) -> ParseResult:
    """Parse one document; never raises on bad input (the reason is in ``error`` and ``warnings``).

    ``title`` is a hint such as the link text the document was found under; ``url`` where it was
    found. Both help when the document itself names no agency or year. ``docx`` is a DOC or WPS
    document already converted (LibreOffice converts many per call; see :mod:`archive.examine.pipeline`).
    ``context`` says all of that in one object (a keyword given here wins over it), plus how the
    document was met; it is kept on the result, and its ``kind`` is trusted (no second sniffing).
    """
    ctx = context or ParseContext()
    kind, content_type = kind or ctx.kind, content_type or ctx.content_type
    filename, url, title = filename or ctx.filename, url or ctx.url, title or ctx.title
    kind = kind or sniff(data[:65536], content_type=content_type, filename=filename or url, data=data)
    report = empty_report()
    if kind not in REPORT_KINDS:
        report["warnings"].append(f"a {kind} file is not a report format")
        return _dated(ParseResult(kind=kind, report=report, is_report=False), context)
    try:
        if docx is not None and kind in ("doc", "wps"):
            ext = extract(docx, "docx")
            ext.method = "libreoffice+python-docx"
        else:
            ext = extract(data, kind, content_type)
    except ExtractionError as e:
        report["warnings"].append(str(e))
        return _dated(ParseResult(kind=kind, report=report, is_report=False, error=str(e)), context)
    except Exception as e:  # a library failing on hostile input must not take the caller down
        msg = (f"reading the {kind} needed more than the {_memory_ceiling()} a parse may use (NIANBAO_PARSE_MEMORY_MB)"
               if isinstance(e, MemoryError) else f"the {kind} could not be read ({type(e).__name__}: {e})")
        report["warnings"].append(msg)
        return _dated(ParseResult(kind=kind, report=report, is_report=False, error=msg), context)
    res = read_report(ext, kind, report, replace(ctx, url=url, title=title))
    res.page = ext.page
    return _dated(res, context)


def _memory_ceiling() -> str:
    """This process's address-space ceiling in words (the parse worker's RLIMIT_AS)."""
    import resource

    soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    return "memory" if soft == resource.RLIM_INFINITY else f"{soft // 2**20} MB"


def _dated(res: ParseResult, context: ParseContext | None) -> ParseResult:
    """Keep the context on the result, and the date the portal printed: the page's own, else the one
    the referring page printed for it."""
    res.context = context
    own = res.page.get("published")
    if own:
        res.published, res.published_source = own
        res.report["provenance"]["published"] = "page"
    elif context is not None and context.link_date:
        res.published, res.published_source = context.link_date, context.link_date_source
        res.report["provenance"]["published"] = "referrer"
    return res


def read_report(ext, kind: str, report: dict, ctx: ParseContext) -> ParseResult:
    """The template-aware part, shared by every format once its text and grids are extracted; ``ctx`` is
    how the document was met, the caller's keywords (title, url) already in it."""
    report["warnings"].extend(ext.warnings)
    text = clean_text(ext.text)  # footers and list markers out; the archive keeps ext.text as extracted
    this_year = datetime.now(UTC).year
    provenance = identify(report, text, ext, ctx, this_year)
    sections = split_sections(text)
    report["sections"] = sections
    evidence = sum(w in text for w in SECTION_WORDS)
    body = len(sections) >= 2 or evidence >= 2 or len(text) >= MIN_REPORT_CHARS
    not_report = document_kind(text) if provenance.get("title") != "title" else None
    is_report = not not_report and (("title" in provenance and body) or evidence >= 3)
    report["template"] = detect_template(text, report["year"]) if is_report or not_report is None else "unknown"
    if report["template"] != "legacy":  # pre-2019 reports have no fixed tables: none are invented
        active = read_active(ext.tables, _region(sections, "二", text), report["template"])
        apps = read_applications(ext.tables, _region(sections, "三", text))
        review = read_review(ext.tables, _region(sections, "四", text))
        report["cells"] = active.cells + apps.cells + review.cells
        for res in (active, apps, review):
            report["warnings"].extend(res.warnings)
        found = {"active": active.found, "applications": apps.found, "review_litigation": review.found}
    else:
        found = {}
    report["checks"] = evaluate(report["cells"], sections, report["template"], found)
    if is_report and provenance.get("agency") != "title":
        report["warnings"].append("no title line naming the agency and year was found" if not provenance.get("agency")
                                  else f"the title names no agency: {report['agency']} is read from "
                                       f"{hints.SOURCE_WORDS[provenance['agency']]}")
    if is_report and report["template"] == "unknown":
        report["warnings"].append("the tables of neither national template were recognised")
    if not_report:
        report["warnings"].append(f"not a report: {not_report}")
    report["provenance"] = provenance
    return ParseResult(kind=kind, report=report, is_report=is_report, text=ext.text,
                       numbers=fingerprint.numbers(ext.text), text_sha256=fingerprint.text_sha256(ext.text))


def identify(report: dict, text: str, ext, ctx: ParseContext, this_year: int) -> dict:
    """Set title, agency and year from the document's title, else its own text, else its context;
    return where each came from (the report's ``provenance``)."""
    provenance: dict[str, str] = {}
    found, source = find_title(text, hint=ext.title_hint, max_year=this_year), "title"
    for other, raw in (("link_text", ctx.link_text), ("link_text", ctx.title),
                       ("page_title", (ext.page or {}).get("title"))):
        if found is None and raw:
            found, source = find_title(raw, max_year=this_year), other
    if found:
        report.update(title=found.title, agency=found.agency, year=found.year)
        provenance["title"] = source
        if found.year:
            provenance["year"] = source
        if found.agency:
            provenance["agency"] = source
    if report["agency"] is None:
        page = ext.page or {}
        hint = hints.first(hints.with_portal(
            itertools.chain(hints.own_agency(text), hints.context_agency(ctx, page, this_year)), ctx.portal_agency))
        if hint is not None:
            report["agency"], provenance["agency"] = hint.value, hint.source
    elif hints.PLACELESS.match(report["agency"]):  # 市人民政府办公室 in the title, 天门市人民政府办公室 below it
        fuller = hints.first(hints.own_agency(text), lambda h: h.value.endswith(report["agency"])
                             and len(h.value) > len(report["agency"]))
        if fuller is not None:
            report["agency"], provenance["agency"] = fuller.value, fuller.source
    if report["year"] is None:
        hint = hints.first(hints.year_hints(text, ctx, ext.page or {}, this_year))
        if hint is not None:
            report["year"], provenance["year"] = hint.value, hint.source
    user_hints(report, provenance, ctx)
    return provenance


def user_hints(report: dict, provenance: dict, ctx: ParseContext) -> None:
    """The agency and year a user gave with the file (``nianbao ingest --agency --year``): they fill what the
    document's own text leaves open and win over its context (whose files they are, a user knows better than a
    page's site name or link text), but not over its own title, header, signature or opening; where the two
    differ, a warning says which was kept."""
    words = hints.SOURCE_WORDS
    given = (ctx.user_agency or "").strip() if isinstance(ctx.user_agency, str) else ""
    if given:
        have, src = report["agency"], provenance.get("agency")
        if have and src in hints.OWN_AGENCY_SOURCES:
            if hints.PLACELESS.match(have) and (agency_key(given) or "").endswith(agency_key(have) or "\0"):
                report["agency"], provenance["agency"] = given, "user"  # 市人民政府办公室 in the title: whose
            elif not _same_agency(have, given):
                report["warnings"].append(f"the agency given with the file ({given}) is not the one "
                                          f"{words.get(src, src)} names: {have} is kept")
        else:
            if have and not _same_agency(have, given):
                report["warnings"].append(f"the agency given with the file ({given}) is used, not {have} from "
                                          f"{words.get(src, src)}")
            report["agency"], provenance["agency"] = given, "user"
    year = ctx.user_year
    if isinstance(year, int) and not isinstance(year, bool):
        have, src = report["year"], provenance.get("year")
        if have and src in hints.OWN_YEAR_SOURCES:
            if have != year:
                report["warnings"].append(f"the year given with the file ({year}) is not the one "
                                          f"{words.get(src, src)} names: {have} is kept")
        else:
            if have and have != year:
                report["warnings"].append(f"the year given with the file ({year}) is used, not {have} from "
                                          f"{words.get(src, src)}")
            report["year"], provenance["year"] = year, "user"


def _same_agency(a: str, b: str) -> bool:
    """One agency named twice (compared width-folded; one name may be the other with its place)."""
    ka, kb = agency_key(a) or a, agency_key(b) or b
    return ka == kb or ka in kb or kb in ka


def document_kind(text: str) -> str | None:
    """What a document that is not a report is, from its title line: a letter, a notice, a guide …"""
    for line in [ln.strip() for ln in text.splitlines() if ln.strip()][:8]:
        # a title line about a report (not a nav line 规章制度, a heading 健全工作制度, a sentence 本报告根据…规定)
        if len(line) > 80 or not KIND_TITLE.search(line) or KIND_NOT_TITLE.search(line):
            continue
        for word, what in NOT_REPORT_KINDS:
            if re.search(word, line):
                return f"{what} ({line[:40]})"
    return None


KIND_TITLE = re.compile(r"报告|年报|公开")
KIND_NOT_TITLE = re.compile(r"[，,。；;]|^(?:本|根据|按照|依据|为|现将)")
NOT_REPORT_KINDS = ((r"的函$|^关于.*函$", "a letter"), (r"通知$", "a notice"), (r"编制指南|编写指南|指引$", "a guide"),
                    (r"请示$", "a request"), (r"批复$", "a reply"), (r"制度(?:[（(]试行[）)])?$|办法$|规定$", "a rule"),
                    (r"^(?:一图读懂|图解|图说|文字解读|政策解读|解读)", "an explanation of a report"))
