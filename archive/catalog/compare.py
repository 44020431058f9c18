"""Agencies × years for one metric: any table cell (``applications/1/total``, as the CSV names a cell) or a
named share derived from cells (不予公开 / 总计, 予以公开率, 复议纠错率), with the report behind each value.

Read from the cells of each report's current primary document, in one query for all the cells a metric
needs; no original is opened.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from archive.catalog import aliases
from archive.errors import QueryError
from archive.parser import names
from archive.parser.names import region_of

if TYPE_CHECKING:
    from archive.archive import Archive

CELL = re.compile(r"^(active|applications|review_litigation)/([a-z0-9_.]+)/([a-z_]+)$")


@dataclass(frozen=True)
class Share:
    """A derived metric: the sum of ``top`` cells over the sum of ``bottom`` cells, as a percentage."""

    label: str
    top: tuple[str, ...]
    bottom: tuple[str, ...]


WITHHELD = tuple(f"applications/3.3.{i}/total" for i in range(1, 9))
SHARES = {
    "withheld_share": Share("不予公开占比（三、（三）不予公开 ÷ （七）总计）", WITHHELD, ("applications/3.7/total",)),
    "disclosed_rate": Share("予以公开率（三、（一）予以公开 ÷ （七）总计）", ("applications/3.1/total",),
                            ("applications/3.7/total",)),
    "review_corrected_rate": Share("行政复议纠错率（结果纠正 ÷ 总计）", ("review_litigation/review/corrected",),
                                   ("review_litigation/review/total",)),
}
# what the comparison page offers first; any cell can be asked by its name
COMMON = ("applications/1/total", "applications/2/total", "applications/3.1/total", "applications/3.7/total",
          "applications/4/total", "review_litigation/review/total", "review_litigation/litigation_direct/total",
          *SHARES)


def metric_label(metric: str) -> str:
    """The metric in the template's Chinese (``三、收到和处理… · 一、本年新收… · 总计``)."""
    if metric in SHARES:
        return SHARES[metric].label
    table, row, column = _cell(metric)
    return " · ".join(x for x in (names.table_label(table), names.group_label(table, row),
                                  names.row_label(table, row), names.column_label(column)) if x)


def _cell(metric: str) -> tuple[str, str, str]:
    m = CELL.match(metric or "")
    if not m:
        raise QueryError(f"unknown metric {metric!r}: name a cell as TABLE/ROW/COLUMN (applications/1/total) "
                         f"or a share ({', '.join(SHARES)})")
    return m.group(1), m.group(2), m.group(3)


def _values(archive: Archive, cells: Iterable[str], where: str, params: list) -> dict[int, dict]:
    """report_id -> {"report": its agency, agency_key and year, "cells": {cell name: value}} for the named
    cells of the current reports matching ``where`` (on ``r``, the reports), in one query (no list of ids
    sent back, which SQLite's bound on parameters would refuse at national scale). From the cells by their
    key, then to the revision and report they are current for (migration 13 indexes both steps): starting
    from the reports, SQLite read every document's cell of that key for each report (2.4 s at 1,000
    reports in bench/compare.py)."""
    out: dict[int, dict] = {}
    keys = [_cell(c) for c in cells]
    ors = " OR ".join("(k.table_id = ? AND k.row_id = ? AND k.column_id = ?)" for _ in keys)
    flat = [x for k in keys for x in k]
    for r in archive.catalog.rows(f"""SELECT r.id AS report_id, r.agency, r.agency_key, r.year,
                                             k.table_id, k.row_id, k.column_id, k.value
                                      FROM cells k CROSS JOIN revisions v CROSS JOIN reports r
                                      WHERE ({ors}) AND v.primary_document_id = k.document_id
                                        AND r.current_revision_id = v.id{where}""", [*flat, *params]):
        if isinstance(r["value"], (int, float)):
            entry = out.setdefault(r["report_id"], {"report": {k: r[k] for k in ("agency", "agency_key", "year")},
                                                    "cells": {}})
            entry["cells"][f"{r['table_id']}/{r['row_id']}/{r['column_id']}"] = r["value"]
    return out


def compare(archive: Archive, metric: str, *, agency: str | None = None, region: str | None = None,
            years: Iterable[int] | None = None) -> dict:
    """One row per agency and year (value, report id, ``named``: the name that year's report gives), the years and
    agencies present, and the label; an agency merged under several names is one agency (``agency_key`` its id)."""
    label = metric_label(metric)
    where, params = "", []
    years = sorted(set(years or []))
    if bad := [y for y in years if not 1990 <= y <= 2100]:
        raise QueryError(f"no report year can be {bad[0]}: give years from 1990 to 2100")
    if years:
        where += f" AND r.year IN ({','.join('?' * len(years))})"
        params += years
    merged = aliases.groups(archive.catalog)
    if agency:  # a name any of its reports or of its merged names contains
        also = [k for k, g in merged.items() if any(agency in n for n in g["names"])]
        where += f" AND (r.agency LIKE ?{' OR r.agency_key IN (' + ','.join('?' * len(also)) + ')' if also else ''})"
        params += [f"%{agency}%", *also]
    share = SHARES.get(metric)
    values = _values(archive, (*share.top, *share.bottom) if share else (metric,), where, params)
    rows = []
    for rid, entry in values.items():
        rep, got = entry["report"], entry["cells"]
        # an agency merged under several names is shown, and placed, under the name it was merged under
        shown = merged[rep["agency_key"]]["name"] if rep["agency_key"] in merged else rep["agency"]
        where_ = region_of(shown) or ""
        if region and where_ != region:
            continue
        if share:
            if not all(c in got for c in (*share.top, *share.bottom)) or not sum(got[c] for c in share.bottom):
                continue
            value = round(100 * sum(got[c] for c in share.top) / sum(got[c] for c in share.bottom), 2)
        else:
            value = got[metric]
        rows.append({"agency": shown, "agency_key": rep["agency_key"], "region": where_,
                     "year": rep["year"], "value": value, "report_id": rid, "named": rep["agency"]})
    rows.sort(key=lambda r: (r["agency_key"] or "", r["year"] or 0))
    unit = "%" if share else ("件" if metric.startswith(("applications/", "review_litigation/")) else "")
    return {"metric": metric, "label": label, "unit": unit,
            "years": sorted({r["year"] for r in rows}), "agencies": sorted({r["agency"] for r in rows}),
            "rows": rows}


def metrics() -> list[tuple[str, str]]:
    """(metric, its Chinese label) of the metrics offered first."""
    return [(m, metric_label(m)) for m in COMMON]
