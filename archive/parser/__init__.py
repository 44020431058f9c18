"""The report parser's one entry point: any published form of a report to the parsed structure.

:func:`parse` is a pure function from bytes to :class:`ParseResult`; the archive reads agency, year
and numbers only through it, so re-parsing old originals with a newer parser is one call per blob.
The structure follows shared/spec/report-structure.md (``schema: nianbao.report/1``).

This version reads the title line, template and sections; the statistical tables and their checks
arrive with the full parser, and until then every report carries a warning saying so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from archive import fingerprint
from archive.extract import ExtractionError, extract
from archive.formats import REPORT_KINDS, sniff
from archive.parser.sections import split_sections
from archive.parser.template import detect_template
from archive.parser.title import agency_key, find_title

PARSER_VERSION = "0.1.0-title"
SCHEMA = "nianbao.report/1"
MIN_REPORT_CHARS = 1500
SECTION_WORDS = ("总体情况", "主动公开政府信息情况", "收到和处理政府信息公开申请情况", "行政复议", "存在的主要问题")

__all__ = ["PARSER_VERSION", "SCHEMA", "ParseResult", "agency_key", "parse"]


@dataclass
class ParseResult:
    """The parsed structure plus what the archive needs to place the document."""

    kind: str
    report: dict
    is_report: bool
    text: str = ""
    numbers: list[str] = field(default_factory=list)
    text_sha256: str | None = None
    error: str | None = None
    parser_version: str = PARSER_VERSION

    @property
    def agency(self) -> str | None:
        return self.report.get("agency")

    @property
    def year(self) -> int | None:
        return self.report.get("year")


def empty_report() -> dict:
    return {"schema": SCHEMA, "agency": None, "year": None, "template": "unknown", "title": None,
            "sections": [], "cells": [], "checks": [], "warnings": []}


def parse(data: bytes, *, kind: str | None = None, content_type: str | None = None,
          filename: str | None = None, url: str | None = None) -> ParseResult:
    """Parse one document; never raises on bad input (the reason is in ``error`` and ``warnings``)."""
    kind = kind or sniff(data[:65536], content_type=content_type, filename=filename or url, data=data)
    report = empty_report()
    if kind not in REPORT_KINDS:
        report["warnings"].append(f"a {kind} file is not a report format")
        return ParseResult(kind=kind, report=report, is_report=False)
    try:
        ext = extract(data, kind, content_type)
    except ExtractionError as e:
        report["warnings"].append(str(e))
        return ParseResult(kind=kind, report=report, is_report=False, error=str(e))
    report["warnings"].extend(ext.warnings)
    text = ext.text
    title = find_title(text, hint=ext.title_hint, max_year=datetime.now(UTC).year)
    if title:
        report.update(agency=title.agency, year=title.year, title=title.title)
    report["template"] = detect_template(text, report["year"])
    report["sections"] = split_sections(text)
    # A title alone is not enough: list pages and news items carry report titles too.
    evidence = sum(w in text for w in SECTION_WORDS)
    body = len(report["sections"]) >= 2 or evidence >= 2 or len(text) >= MIN_REPORT_CHARS
    is_report = (bool(title) and body) or evidence >= 3
    if is_report:
        if report["template"] in ("2019", "2021"):
            report["warnings"].append(
                f"statistical tables are not read by parser {PARSER_VERSION}: cells and checks are absent")
        if not title:
            report["warnings"].append("no title line naming the agency and year was found")
    return ParseResult(kind=kind, report=report, is_report=is_report, text=text,
                       numbers=fingerprint.numbers(text), text_sha256=fingerprint.text_sha256(text))
