"""The spec's checks (勾稽关系) over one report's cells and prose. A failed check is data, not an error.

A rule is evaluated only when every cell it names holds a number; blank cells are reported by
``structure.blank_cells.<table>`` instead. Text rules compare counts stated in sentences with the table.
"""

from __future__ import annotations

import re
import unicodedata

from archive.parser import layout as L

TABLES = ("active", "applications", "review_litigation")
_UNIT = r"(?:件|份|宗|条|个(?!工作))"
# "收到政府信息公开申请12件", "共受理 0 件依申请公开"; not "收到申请之日起20个工作日内".
RECEIVED = (
    re.compile(r"(?:收到|受理|接收|新收)[^。；;，,日]{0,20}?申请[^。；;，,\d日]{0,8}?(\d+)\s*" + _UNIT),
    re.compile(r"(?:收到|受理|接收|新收)[^。；;，,\d日]{0,6}?(\d+)\s*" + _UNIT + r"[^。；;，,]{0,8}?申请"),
)
NONE_RECEIVED = re.compile(r"(?:没有|未|无)(?:收到|受理)[^。；;]{0,12}?(?:政府信息公开|依申请公开)?申请")
COLUMN_IDENTITY = "column identity"  # cells the parser derived from the outcomes rule (tables.py)
CARRIED = re.compile(r"上年(?:度)?结转[^。；;，,\d]{0,12}?(\d+)\s*件")


def _grid(cells: list[dict], table: str) -> dict[tuple[str, str], dict]:
    return {(c["row"], c["column"]): c for c in cells if c["table"] == table}


def _num(grid: dict, row: str, col: str):
    c = grid.get((row, col))
    v = c["value"] if c else None
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _check(rule: str, left: list, right: list, text: str) -> dict | None:
    if any(v is None for v in left + right):
        return None
    ok = sum(left) == sum(right)
    return {"rule": rule, "ok": ok, "detail": text}


def _fmt(values: list) -> str:
    return " + ".join(str(v) for v in values)


def evaluate(cells: list[dict], sections: list[dict], template: str, found: dict[str, bool]) -> list[dict]:
    """Every check of the spec that can be evaluated on this report."""
    out: list[dict] = []
    apps = _grid(cells, "applications")
    outcome_rows = [r for r in (L.OUTCOME_ROWS_2021 if any(k[0].startswith("3.6.") for k in apps) else
                                L.OUTCOME_ROWS_2019)]
    for col in L.APPLICATION_COLUMNS:
        left = [_num(apps, "1", col), _num(apps, "2", col)]
        right = [_num(apps, "3.7", col), _num(apps, "4", col)]
        if (c := _check(f"applications.balance.{col}", left, right,
                        f"{_fmt(left)} = {_fmt(right)}" if None not in left + right else "")) is not None:
            c["detail"] = f"{_fmt(left)} {'=' if c['ok'] else '≠'} {_fmt(right)}"
            out.append(c)
    derived = any(apps.get((r, "total"), {}).get("recovered") == COLUMN_IDENTITY for r in outcome_rows)
    for col in L.APPLICATION_COLUMNS:
        parts = [_num(apps, r, col) for r in outcome_rows]
        total = _num(apps, "3.7", col)
        if total is not None and parts and None not in parts and not derived:  # a derived row proves nothing
            ok = sum(parts) == total
            out.append({"rule": f"applications.outcomes.{col}", "ok": ok,
                        "detail": f"sum of outcomes {sum(parts)} {'=' if ok else '≠'} (七)总计 {total}"})
    rows_seen = sorted({r for r, _ in apps}, key=lambda r: [int(x) for x in r.split(".")])
    for row in rows_seen:
        parts = [_num(apps, row, c) for c in L.APPLICANT_COLUMNS]
        total = _num(apps, row, "total")
        if total is not None and None not in parts:
            ok = sum(parts) == total
            out.append({"rule": f"applications.row_total.{row}", "ok": ok,
                        "detail": f"{_fmt(parts)} = {sum(parts)} {'=' if ok else '≠'} 总计 {total}"})
    review = _grid(cells, "review_litigation")
    for row in L.REVIEW_ROWS:
        parts = [_num(review, row, c) for c in L.REVIEW_COLUMNS[:4]]
        total = _num(review, row, "total")
        if total is not None and None not in parts:
            ok = sum(parts) == total
            out.append({"rule": f"review_litigation.total.{row}", "ok": ok,
                        "detail": f"{_fmt(parts)} = {sum(parts)} {'=' if ok else '≠'} 总计 {total}"})
    out += text_checks(apps, sections)
    if template in ("2019", "2021"):
        for table in TABLES:
            out.append({"rule": f"structure.table.{table}", "ok": bool(found.get(table)),
                        "detail": "present" if found.get(table) else "not found in the document"})
        for table in TABLES:
            mine = [c for c in cells if c["table"] == table]
            if not mine:
                continue
            blank = [c for c in mine if c["value"] is None]
            out.append({"rule": f"structure.blank_cells.{table}", "ok": not blank,
                        "detail": f"{len(blank)} of {len(mine)} cells blank or written as /, —, 无"})
        five = next((s for s in sections if s["number"] == "五"), None)
        body = re.sub(r"\W", "", unicodedata.normalize("NFKC", five["text"])) if five else ""
        substantive = bool(five) and body not in ("", "无", "无无") and len(body) > 2
        out.append({"rule": "content.section_5", "ok": substantive,
                    "detail": "present" if substantive else ("says only 无" if five else "section 五 is missing")})
    return out


def text_checks(apps: dict, sections: list[dict]) -> list[dict]:
    """Counts stated in the prose of 一、总体情况 against table 三."""
    prose = next((s["text"] for s in sections if s["number"] == "一"), "")
    prose = unicodedata.normalize("NFKC", prose)
    out = []
    total1, total2 = _num(apps, "1", "total"), _num(apps, "2", "total")
    stated = None
    for sentence in re.split(r"[。；;]", prose):
        m = next((m for p in RECEIVED if (m := p.search(sentence))), None)
        if m:
            stated = int(m.group(1))
            break
    if stated is None and NONE_RECEIVED.search(prose):
        stated = 0
    if stated is not None and total1 is not None:
        ok = stated == total1 or (total2 is not None and stated == total1 + total2)
        out.append({"rule": "text.applications_received", "ok": ok,
                    "detail": f"prose says {stated}; table 三 row 1 total {total1}"
                              + (f" (with row 2: {total1 + total2})" if total2 is not None else "")})
    if (m := CARRIED.search(prose)) and total2 is not None:
        stated = int(m.group(1))
        out.append({"rule": "text.carried_over", "ok": stated == total2,
                    "detail": f"prose says {stated}; table 三 row 2 total {total2}"})
    return out
