"""What the comparison page draws from :meth:`archive.Archive.compare`: the agencies × years table, its
CSV, and small multiples (one small line chart per agency, the same scale) as inline SVG, no script, no CDN."""

from __future__ import annotations

import csv
import html
import io


def pivot(result: dict, sort: str = "agency") -> list[dict]:
    """One dict per agency: name, region, ``cells`` {year: row}; sorted by name, or by a year's value
    (``sort`` "2023", largest first, agencies without it last)."""
    by: dict[str, dict] = {}
    for r in result["rows"]:
        entry = by.setdefault(r["agency_key"] or r["agency"], {"agency": r["agency"], "region": r["region"],
                                                                "cells": {}})
        entry["cells"][r["year"]] = r
    out = list(by.values())
    if sort.isdigit() and int(sort) in result["years"]:
        year = int(sort)
        out.sort(key=lambda e: (year not in e["cells"], -(e["cells"][year]["value"] if year in e["cells"] else 0)))
    else:
        out.sort(key=lambda e: e["agency"] or "")
    return out


def csv_text(result: dict) -> str:
    """The comparison as CSV (UTF-8 with a BOM, as Excel wants it): a line naming the metric, then agency,
    region and a column per year."""
    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([f"# {result['metric']}: {result['label']}" + (f"（{result['unit']}）" if result["unit"] else "")])
    w.writerow(["agency", "region", *result["years"]])
    for entry in pivot(result):
        w.writerow([entry["agency"], entry["region"],
                    *[entry["cells"][y]["value"] if y in entry["cells"] else "" for y in result["years"]]])
    return buf.getvalue()


def xlsx_bytes(result: dict) -> bytes:
    """The comparison as an Excel workbook: the same rows as the CSV, values stored as numbers."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("对比")
    sheet.append([f"{result['metric']}: {result['label']}" + (f"（{result['unit']}）" if result["unit"] else "")])
    sheet.append(["agency", "region", *result["years"]])
    for entry in pivot(result):
        sheet.append([entry["agency"], entry["region"],
                      *[entry["cells"][y]["value"] if y in entry["cells"] else None for y in result["years"]]])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def small_multiples(result: dict, limit: int = 12, width: int = 220, height: int = 110) -> list[str]:
    """A small line chart per agency (the first ``limit`` by name), all on one scale, years on the x-axis;
    each point's value is in its <title> (shown on hover)."""
    years = result["years"]
    values = [r["value"] for r in result["rows"] if isinstance(r["value"], (int, float))]
    if not years or not values:
        return []
    top = max(values) or 1
    left, right, topm, bottom = 34, 8, 18, 20
    w, h = width - left - right, height - topm - bottom

    def x(year: int) -> float:
        i = years.index(year)
        return left + (w * i / (len(years) - 1) if len(years) > 1 else w / 2)

    def y(v: float) -> float:
        return topm + h - h * v / top

    out = []
    for entry in pivot(result)[:limit]:
        pts = sorted((yr, row["value"]) for yr, row in entry["cells"].items() if isinstance(row["value"], (int, float)))
        name = html.escape(entry["agency"] or "")
        parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="multiple" role="img" '
                 f'aria-label="{name}">', f'<text x="{left}" y="12" font-size="11">{name}</text>',
                 f'<line x1="{left}" y1="{topm + h}" x2="{left + w}" y2="{topm + h}" stroke="#888"/>',
                 f'<text x="{left - 4}" y="{topm + 4}" text-anchor="end" font-size="9">{top:g}</text>',
                 f'<text x="{left - 4}" y="{topm + h}" text-anchor="end" font-size="9">0</text>']
        for yr in (years[0], years[-1]) if len(years) > 1 else (years[0],):
            parts.append(f'<text x="{x(yr):.1f}" y="{height - 4}" text-anchor="middle" font-size="9">{yr}</text>')
        if len(pts) > 1:
            d = " ".join(f"{x(yr):.1f},{y(v):.1f}" for yr, v in pts)
            parts.append(f'<polyline fill="none" stroke="#1f6feb" stroke-width="1.5" points="{d}"/>')
        for yr, v in pts:
            parts.append(f'<circle cx="{x(yr):.1f}" cy="{y(v):.1f}" r="2.5" fill="#1f6feb"><title>{yr}：{v:g}'
                         f'{html.escape(result["unit"])}</title></circle>')
        parts.append("</svg>")
        out.append("".join(parts))
    return out
