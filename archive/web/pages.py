"""The HTML pages: search, a report, an agency, coverage, and originals shown safely."""

from __future__ import annotations

import itertools
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from archive.errors import QueryError
from archive.parser import layout as L
from archive.web.compare_view import pivot, small_multiples
from archive.web.deps import (
    MEDIA,
    ORIGINAL_CSP,
    PDF_CSP,
    SHA256,
    ArchiveDep,
    Years,
    archived_html_csp,
    attachment,
)
from archive.web.report_view import SERIES, cell_changes, chart_svg, grids, text_diff

router = APIRouter(include_in_schema=False)
FILTERS = ("agency", "region", "year", "template", "kind", "failed_checks")


def render(request: Request, name: str, **context) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(request, name, context)


@router.get("/", response_class=HTMLResponse)
def search_page(request: Request, a: ArchiveDep, q: Annotated[str, Query(max_length=200)] = "",
                agency: Annotated[str | None, Query(max_length=100)] = None,
                region: Annotated[str | None, Query(max_length=50)] = None,
                year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
                template: Annotated[str | None, Query(pattern="^(2019|2021|legacy|unknown)$")] = None,
                kind: Annotated[str | None, Query(pattern="^[a-z]{2,8}$")] = None, failed_checks: bool = False,
                page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> HTMLResponse:
    chosen = {"agency": agency, "region": region, "year": year, "template": template, "kind": kind,
              "failed_checks": failed_checks or None}
    error = None
    try:
        res = a.search(q, agency=agency, region=region, year=year, template=template, kind=kind,
                       failed_checks=failed_checks, page=page, per_page=20)
    except QueryError as e:
        res, error = None, str(e)

    def link(**change) -> str:
        params = {"q": q, **chosen, **change}
        return "/?" + urlencode({k: v for k, v in params.items() if v not in (None, "", False)})

    pending = a.pending_index() if a.readonly else 0
    return render(request, "search.html", q=q, res=res, error=error, chosen=chosen, link=link,
                  mark=lambda s: Markup(s), pending=pending, stats=a.stats())


@router.get("/report/{agency}/{year}", response_class=HTMLResponse)
def report_permalink(request: Request, a: ArchiveDep, agency: Annotated[str, Path(max_length=100)],
                     year: Annotated[int, Path(ge=1990, le=2100)]) -> HTMLResponse:
    """A report by its agency and year: the address to cite, whichever revision is current."""
    return report_page(request, a, a.report(f"{agency}/{year}")["id"])


@router.get("/report/{report_id}", response_class=HTMLResponse)
def report_page(request: Request, a: ArchiveDep, report_id: Annotated[int, Path(ge=1, le=2**62)]) -> HTMLResponse:
    rep = a.show(report_id)
    failed = [c for c in rep["checks"] if not c["ok"]]
    primaries = {v["number"]: v["primary_sha256"] for v in rep["revisions"] if v["primary_sha256"]}
    found = a.texts(primaries.values())
    texts = {number: found.get(sha, "") for number, sha in primaries.items()}
    diffs = []
    numbers = sorted(texts)
    by_revision = a.revision_cells(report_id) if len(numbers) > 1 else {}
    for old, new in itertools.pairwise(numbers):
        diffs.append({"old": old, "new": new, "lines": text_diff(texts[old], texts[new])[:400],
                      "cells": cell_changes(by_revision.get(old, {}), by_revision.get(new, {}))})
    primary = next((d for d in rep["documents"] if d["sha256"] == rep["source_sha256"]), None)
    cross = rep.get("cross_year_checks", [])
    return render(request, "report.html", rep=rep, grids=grids(rep), failed=failed, cross=cross, diffs=diffs,
                  primary=primary,
                  agency_key=a.report(report_id)["agency_key"])


@router.get("/agency/{agency}", response_class=HTMLResponse)
def agency_page(request: Request, a: ArchiveDep, agency: Annotated[str, Path(max_length=100)],
                column: Annotated[str, Query(max_length=20)] = "total") -> HTMLResponse:
    """An agency's years side by side (tables 二, 三, 四, changes marked), its documents, its compliance."""
    from archive.web.agency_view import year_grids

    found = a.agency(agency)
    if column not in L.APPLICATION_COLUMNS:
        column = "total"
    points: dict[int, dict] = {r["year"]: {} for r in found["reports"]}
    for c in found["cells"]:
        points[c["year"]][(c["table"], c["row"], c["column"])] = c["value"]
    table = [{"year": y, "values": [points[y].get(s[:3]) for s in SERIES]} for y in sorted(points)]
    years = sorted(y for y in points if y is not None)
    verdicts = a.coverage(request.app.state.portals, agency=found["agency_key"])
    others = [n for n in dict.fromkeys([*found.get("names", []), *found.get("aliases", [])]) if n != found["agency"]]
    return render(request, "agency.html", agency=found["agency"], reports=found["reports"], others=others,
                  chart=Markup(chart_svg(points)), series=[s[3] for s in SERIES], table=table, years=years,
                  grids=year_grids(years, found["cells"], column), column=column,
                  columns=[(c, L.COLUMN_NAMES[c]) for c in L.APPLICATION_COLUMNS],
                  documents=found["documents"], verdicts=verdicts)


@router.get("/compare", response_class=HTMLResponse)
def compare_page(request: Request, a: ArchiveDep, metric: Annotated[str, Query(max_length=80)] = "applications/1/total",
                 agency: Annotated[str | None, Query(max_length=100)] = None,
                 region: Annotated[str | None, Query(max_length=50)] = None,
                 year: Years = None,
                 sort: Annotated[str, Query(max_length=10)] = "agency") -> HTMLResponse:
    """Agencies × years for one metric, sortable, with links to each report, CSV/XLSX and small multiples."""
    error = None
    try:
        result = a.compare(metric, agency=agency, region=region, years=year or [])
    except QueryError as e:
        result, error = {"metric": metric, "label": "", "unit": "", "years": [], "agencies": [], "rows": []}, str(e)
    query = {k: v for k, v in (("metric", metric), ("agency", agency), ("region", region)) if v}
    params = urlencode([*query.items(), *(("year", y) for y in year or [])])
    return render(request, "compare.html", result=result, table=pivot(result, sort), metrics=a.compare_metrics(),
                  metric=metric, agency=agency or "", region=region or "", years=year or [], sort=sort, error=error,
                  params=params, charts=[Markup(svg) for svg in small_multiples(result)])


COVERAGE_ROWS = 500  # verdicts listed on the page; the CSV has them all


@router.get("/coverage", response_class=HTMLResponse)
def coverage_page(request: Request, a: ArchiveDep,
                  year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
                  region: Annotated[str | None, Query(max_length=50)] = None,
                  status: Annotated[str | None, Query(max_length=20)] = None) -> HTMLResponse:
    """The region × year matrix (agencies on time of those due), then the verdicts, filtered."""
    verdicts = a.coverage(request.app.state.portals, year=year, region=region)
    grid = a.coverage_matrix(verdicts=verdicts)
    years = sorted({r["year"] for r in grid})
    regions = list(dict.fromkeys(r["region"] for r in grid))
    listed = [v for v in verdicts if not status or v.status == status]
    params = urlencode([(k, v) for k, v in (("year", year), ("region", region)) if v])
    return render(request, "coverage.html", verdicts=listed[:COVERAGE_ROWS], shown=min(len(listed), COVERAGE_ROWS),
                  total=len(listed), judged=len(verdicts), year=year, region=region or "", status=status or "",
                  years=years, regions=regions, grid={(r["region"], r["year"]): r for r in grid},
                  portals=request.app.state.portals, params=params)


CaptureId = Annotated[int | None, Query(ge=1, le=2**62, description="which capture of these bytes to name")]
INLINE = ("html", "text", "pdf")


def _view_url(held, content: bool = False) -> str:
    """The archived copy of a link's target: its view page (with its banner), or its bytes for an image."""
    return f"/original/{held.sha256}" + ("/content" if content else "") + f"?capture={held.capture_id}"


@router.get("/original/{sha256}", response_class=HTMLResponse)
def original(request: Request, a: ArchiveDep, sha256: SHA256, capture: CaptureId = None) -> HTMLResponse:
    """An original as an archived copy: a banner in our own page (存档副本, its source URL and capture time,
    SHA-256, its report, a download), and the original below it in a sandboxed frame. The banner is ours, not
    injected into the archived page, so nothing the page holds (its CSS, a fake banner) can hide or restyle it."""
    orig = a.original(sha256)
    cap = orig.capture(capture)
    others = [c for c in orig.captures if cap is None or c["id"] != cap["id"]]
    query = f"?capture={cap['id']}" if cap and capture else ""
    return render(request, "original.html", orig=orig, cap=cap, others=others, query=query,
                  inline=(orig.kind or "") in INLINE, size=len(orig.data))


@router.get("/original/{sha256}/content")
def original_content(request: Request, a: ArchiveDep, sha256: SHA256, capture: CaptureId = None) -> Response:
    """The original's bytes, never as part of our origin: HTML (its links to what the archive holds pointed at
    the archived copies, the stored bytes untouched) and text get a CSP sandbox (a unique origin, no script);
    PDFs are shown by the browser's viewer; other formats are downloads named ``<机关>_<年度>_<sha8>.<ext>``."""
    orig = a.original(sha256)
    kind, data = orig.kind or "bin", orig.data
    if kind == "pdf":
        return Response(data, media_type=MEDIA["pdf"], headers={"Content-Security-Policy": PDF_CSP})
    if kind == "html":
        page = a.archived_page(orig, capture_id=capture, href_for=_view_url,
                               img_for=lambda held: _view_url(held, content=True))
        origin = str(request.base_url).rstrip("/")
        return Response(page.html, media_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": archived_html_csp(origin),
                                 "X-Archived-Links": f"{page.archived} archived, {page.live} live"})
    if kind == "text":
        charset = orig.charset
        return Response(data, media_type=f"text/plain; charset={charset}" if charset else "text/plain",
                        headers={"Content-Security-Policy": ORIGINAL_CSP})
    return Response(data, media_type=MEDIA.get(kind, "application/octet-stream"),
                    headers={"Content-Disposition": attachment(orig.download_name),
                             "Content-Security-Policy": ORIGINAL_CSP})
