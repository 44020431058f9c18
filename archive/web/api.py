"""The JSON API under ``/api``: the same names as the Python API and the command line."""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import Response, StreamingResponse

from archive.errors import QueryError
from archive.web.deps import SHA256, ArchiveDep, Page, PerPage, Year, Years, attachment

router = APIRouter(prefix="/api", tags=["api"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WACZ = "application/zip"  # a WACZ is a zip; replayweb.page goes by the .wacz name


@router.get("/reports", summary="Reports, newest year first")
def reports(a: ArchiveDep, year: Year = None, agency: Annotated[str | None, Query(max_length=100)] = None,
            page: Page = 1, per_page: PerPage = 50) -> dict[str, Any]:
    return {"total": a.count_reports(year=year, agency=agency), "page": page, "per_page": per_page,
            "reports": a.reports(year=year, agency=agency, limit=per_page, offset=(page - 1) * per_page)}


@router.get("/reports/{report_id}", summary="One report: the parsed structure with cells, checks, documents")
def report(a: ArchiveDep, report_id: Annotated[int, Path(ge=1, le=2**62)]) -> dict[str, Any]:
    return a.show(report_id)


@router.get("/search", summary="Full-text search with filters, facets and cell conditions")
def search(a: ArchiveDep, q: Annotated[str, Query(max_length=200)] = "",
           agency: Annotated[str | None, Query(max_length=100)] = None,
           region: Annotated[str | None, Query(max_length=50)] = None, year: Year = None,
           template: Annotated[str | None, Query(pattern="^(2019|2021|legacy|unknown)$")] = None,
           kind: Annotated[str | None, Query(pattern="^[a-z]{2,8}$")] = None, failed_checks: bool = False,
           failed_rule: Annotated[str | None, Query(max_length=100)] = None,
           cell: Annotated[list[str] | None, Query(max_length=10)] = None, all_documents: bool = False,
           page: Page = 1, per_page: PerPage = 20) -> dict[str, Any]:
    try:
        res = a.search(q, agency=agency, region=region, year=year, template=template, kind=kind,
                       failed_checks=failed_checks, failed_rule=failed_rule, cells=cell or [],
                       all_documents=all_documents, page=page, per_page=per_page)
    except QueryError as e:
        raise HTTPException(422, str(e)) from e
    return res.as_dict()


@router.get("/cells", summary="Table cells as tidy rows (each report's current primary document)")
def cells(a: ArchiveDep, year: Year = None, agency: Annotated[str | None, Query(max_length=100)] = None,
          table: Annotated[str | None, Query(pattern="^(active|applications|review_litigation)$")] = None,
          row: Annotated[str | None, Query(max_length=20)] = None,
          column: Annotated[str | None, Query(max_length=30)] = None,
          page: Page = 1, per_page: Annotated[int, Query(ge=1, le=5000)] = 1000) -> dict[str, Any]:
    filters = {"year": year, "agency": agency, "table": table, "row": row, "column": column}
    total = a.count_cells(**filters)
    rows = a.cells(**filters, limit=per_page, offset=(page - 1) * per_page)
    return {"total": total, "page": page, "per_page": per_page, "cells": rows}


@router.get("/agencies", summary="Agencies with the years the archive holds")
def agencies(a: ArchiveDep) -> list[dict[str, Any]]:
    return a.agencies()


Region = Annotated[str | None, Query(max_length=50)]


@router.get("/coverage", summary="Per agency and year, every report however it arrived: on time, late, missing")
def coverage(request: Request, a: ArchiveDep, year: Year = None, region: Region = None) -> list[dict[str, Any]]:
    return [v.as_dict() for v in a.coverage(request.app.state.portals, year=year, region=region)]


@router.get("/coverage.csv", summary="The coverage verdicts as CSV (UTF-8 with a BOM)",
            response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def coverage_csv(request: Request, a: ArchiveDep, year: Year = None, region: Region = None) -> Response:
    return _csv(a.coverage_csv(request.app.state.portals, year=year, region=region), "nianbao-coverage.csv")


@router.get("/coverage/matrix", summary="Region × year: agencies judged, how many of each status, on-time share")
def coverage_matrix(request: Request, a: ArchiveDep, year: Year = None, region: Region = None) -> list[dict[str, Any]]:
    return a.coverage_matrix(request.app.state.portals, year=year, region=region)


@router.get("/coverage/matrix.csv", summary="The region × year matrix as CSV (UTF-8 with a BOM)",
            response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def coverage_matrix_csv(request: Request, a: ArchiveDep, year: Year = None, region: Region = None) -> Response:
    return _csv(a.coverage_csv(request.app.state.portals, matrix=True, year=year, region=region),
                "nianbao-coverage-matrix.csv")


def _csv(text: str, name: str) -> Response:
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/blobs/{sha256}", summary="An original, byte for byte, as a download",
            response_class=Response, responses={200: {"content": {"application/octet-stream": {}}}})
def blob(a: ArchiveDep, sha256: SHA256) -> Response:
    orig = a.original(sha256)
    return Response(orig.data, media_type="application/octet-stream",
                    headers={"Content-Disposition": attachment(orig.download_name)})


def compared(a: ArchiveDep, metric: Annotated[str, Query(max_length=80)] = "applications/1/total",
             agency: Annotated[str | None, Query(max_length=100)] = None,
             region: Annotated[str | None, Query(max_length=50)] = None,
             year: Years = None) -> dict[str, Any]:
    """The comparison the JSON, CSV and XLSX answers share (a wrong metric or year is a 422 in words)."""
    try:
        return a.compare(metric, agency=agency, region=region, years=year or [])
    except QueryError as e:
        raise HTTPException(422, str(e)) from e


Compared = Annotated[dict, Depends(compared)]


@router.get("/compare", summary="One metric for agencies × years: a cell (TABLE/ROW/COLUMN) or a named share")
def compare(result: Compared) -> dict[str, Any]:
    return result


@router.get("/compare.csv", summary="The comparison as CSV (agencies × years, UTF-8 with a BOM)",
            response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def compare_csv(result: Compared) -> Response:
    from archive.web.compare_view import csv_text

    return _csv(csv_text(result), "nianbao-compare.csv")


@router.get("/compare.xlsx", summary="The comparison as an Excel workbook (agencies × years, numbers as numbers)",
            response_class=Response, responses={200: {"content": {XLSX: {}}}})
def compare_xlsx(result: Compared) -> Response:
    from archive.web.compare_view import xlsx_bytes

    return Response(xlsx_bytes(result), media_type=XLSX,
                    headers={"Content-Disposition": 'attachment; filename="nianbao-compare.xlsx"'})


@router.get("/export/cells.csv", summary="Every cell as CSV (UTF-8 with a BOM, as Excel wants it), streamed",
            response_class=StreamingResponse, responses={200: {"content": {"text/csv": {}}}})
def export_cells(request: Request, year: Year = None) -> StreamingResponse:
    access = request.app.state.archive

    def chunks() -> Iterator[str]:
        for a in access():  # its own connection: the response outlives the request's dependencies
            yield from a.csv_chunks(year=year)

    name = f"nianbao-cells-{year}.csv" if year else "nianbao-cells.csv"
    return StreamingResponse(chunks(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/reports/{report_id}/cells.csv", summary="One report's cells as CSV (the export's columns)",
            response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def report_cells_csv(a: ArchiveDep, report_id: Annotated[int, Path(ge=1, le=2**62)]) -> Response:
    rep = a.report(report_id)  # 404 for a report the archive does not hold
    name = f"{rep['agency'] or 'report'}_{rep['year'] or ''}_cells.csv"
    return Response("".join(a.csv_chunks(report_id=report_id)), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": attachment(name)})


@router.get("/reports/{report_id}/captures.wacz",
            summary="One report's captures as a WACZ (open it in replayweb.page): its WARC records, index and pages",
            response_class=StreamingResponse, responses={200: {"content": {WACZ: {}}}})
def report_wacz(a: ArchiveDep, report_id: Annotated[int, Path(ge=1, le=2**62)]) -> StreamingResponse:
    fh = tempfile.TemporaryFile()  # noqa: SIM115 - closed when the response has been sent
    try:
        res = a.wacz(report_id, fh)  # NotFound (404) for no such report, or one with no WARC record
    except BaseException:
        fh.close()
        raise
    fh.seek(0)

    def chunks() -> Iterator[bytes]:
        with fh:
            while data := fh.read(1 << 20):
                yield data

    name = f"{res['agency'] or 'report'}_{res['year'] or ''}_captures.wacz"
    return StreamingResponse(chunks(), media_type=WACZ, headers={"Content-Disposition": attachment(name)})


@router.get("/export/cells.xlsx", summary="Every cell as an Excel workbook, a sheet per table",
            response_class=Response, responses={200: {"content": {XLSX: {}}}})
def export_cells_xlsx(a: ArchiveDep, year: Year = None) -> Response:
    buf = io.BytesIO()
    a.export("xlsx", buf, year=year)
    name = f"nianbao-cells-{year}.xlsx" if year else "nianbao-cells.xlsx"
    return Response(buf.getvalue(), media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/export/reports.jsonl", summary="Every report's parsed structure, one JSON object per line, streamed",
            response_class=StreamingResponse, responses={200: {"content": {"application/x-ndjson": {}}}})
def export_reports(request: Request, year: Year = None) -> StreamingResponse:
    access = request.app.state.archive

    def lines() -> Iterator[str]:
        for a in access():
            for rep in a.iter_reports(year=year, order=("id",)):
                yield json.dumps(rep, ensure_ascii=False, default=str) + "\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson",
                             headers={"Content-Disposition": 'attachment; filename="reports.jsonl"'})
