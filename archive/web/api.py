"""The JSON API under ``/api``: the same names as the Python API and the command line."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import Response, StreamingResponse

from archive import Archive
from archive.errors import NotFound, QueryError

router = APIRouter(prefix="/api", tags=["api"])
SHA256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the original, lower-case hex")]
PerPage = Annotated[int, Query(ge=1, le=200)]
Page = Annotated[int, Query(ge=1, le=100_000)]
Year = Annotated[int | None, Query(ge=1990, le=2100)]
MEDIA = {"pdf": "application/pdf", "html": "text/html; charset=utf-8", "docx":
         "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "doc": "application/msword",
         "wps": "application/vnd.ms-works", "text": "text/plain; charset=utf-8", "image": "application/octet-stream"}


def get_archive(request: Request) -> Iterator[Archive]:
    yield from request.app.state.archive()


ArchiveDep = Annotated[Archive, Depends(get_archive)]


@router.get("/reports", summary="Reports, newest year first")
def reports(a: ArchiveDep, year: Year = None, agency: Annotated[str | None, Query(max_length=100)] = None,
            page: Page = 1, per_page: PerPage = 50) -> dict[str, Any]:
    rows = a.reports(year=year, agency=agency)
    return {"total": len(rows), "page": page, "per_page": per_page,
            "reports": rows[(page - 1) * per_page: page * per_page]}


@router.get("/reports/{report_id}", summary="One report: the parsed structure with cells, checks, documents")
def report(a: ArchiveDep, report_id: Annotated[int, Path(ge=1, le=2**62)]) -> dict[str, Any]:
    try:
        return a.show(report_id)
    except NotFound as e:
        raise HTTPException(404, str(e)) from e


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
    where, params = [], []
    for col, val in (("year", year), ("table_id", table), ("row_id", row), ("column_id", column)):
        if val is not None:
            where.append(f"{col} = ?")
            params.append(val)
    if agency:
        where.append("agency LIKE ?")
        params.append(f"%{agency}%")
    cond = ("WHERE " + " AND ".join(where)) if where else ""
    total = a.catalog.scalar(f"SELECT count(*) FROM report_cells {cond}", tuple(params))
    rows = list(a.catalog.rows(
        f"SELECT report_id, agency, year, template, table_id, row_id, column_id, value, raw, recovered, sha256 "
        f"FROM report_cells {cond} ORDER BY report_id, table_id, row_id, column_id LIMIT ? OFFSET ?",
        (*params, per_page, (page - 1) * per_page)))
    return {"total": total, "page": page, "per_page": per_page, "cells": rows}


@router.get("/agencies", summary="Agencies with the years the archive holds")
def agencies(a: ArchiveDep) -> list[dict[str, Any]]:
    return [{"agency": r["agency"], "agency_key": r["agency_key"], "years": json.loads(r["years"])}
            for r in a.catalog.rows("""SELECT agency_key, max(agency) AS agency, json_group_array(year) AS years
                                       FROM (SELECT agency_key, agency, year FROM reports ORDER BY year)
                                       GROUP BY agency_key ORDER BY agency_key""")]


@router.get("/coverage", summary="Per portal, agency and year: on time, late or missing")
def coverage(request: Request, a: ArchiveDep, year: Year = None) -> list[dict[str, Any]]:
    return [v.as_dict() for v in a.coverage(request.app.state.portals, year=year)]


@router.get("/blobs/{sha256}", summary="An original, byte for byte, as a download",
            response_class=Response, responses={200: {"content": {"application/octet-stream": {}}}})
def blob(a: ArchiveDep, sha256: SHA256) -> Response:
    row = a.catalog.one("SELECT kind FROM blobs WHERE sha256 = ?", (sha256,))
    if row is None:
        raise HTTPException(404, f"no original with SHA-256 {sha256}")
    return Response(a.read_blob(sha256), media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{sha256[:16]}.{row["kind"] or "bin"}"'})


@router.get("/export/cells.csv", summary="Every cell as CSV, streamed", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}}})
def export_cells(request: Request, year: Year = None) -> StreamingResponse:
    access = request.app.state.archive

    def rows() -> Iterator[str]:
        for a in access():  # its own connection: the response outlives the request's dependencies
            buf = io.StringIO()
            w = csv.writer(buf)
            w.writerow(["report_id", "agency", "year", "template", "table", "row", "column", "value", "raw", "sha256"])
            sql = ("SELECT report_id, agency, year, template, table_id, row_id, column_id, value, raw, sha256 "
                   "FROM report_cells" + (" WHERE year = ?" if year else "") + " ORDER BY report_id")
            for i, r in enumerate(a.catalog.rows(sql, (year,) if year else ()), 1):
                w.writerow(list(r.values()))
                if i % 1000 == 0:
                    yield buf.getvalue()
                    buf.seek(0)
                    buf.truncate()
            yield buf.getvalue()

    return StreamingResponse(rows(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="cells.csv"'})


@router.get("/export/reports.jsonl", summary="Every report's parsed structure, one JSON object per line, streamed",
            response_class=StreamingResponse, responses={200: {"content": {"application/x-ndjson": {}}}})
def export_reports(request: Request, year: Year = None) -> StreamingResponse:
    access = request.app.state.archive

    def lines() -> Iterator[str]:
        for a in access():
            sql = "SELECT id FROM reports" + (" WHERE year = ?" if year else "") + " ORDER BY id"
            ids = [r["id"] for r in a.catalog.rows(sql, (year,) if year else ())]
            for rid in ids:
                yield json.dumps(a.show(rid), ensure_ascii=False, default=str) + "\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson",
                             headers={"Content-Disposition": 'attachment; filename="reports.jsonl"'})
