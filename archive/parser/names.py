"""The template's own Chinese wording for a cell's ids (table, group, row, column), for outputs people read
beside the ids: ``applications/3.3.1/natural_person`` is 三、收到和处理政府信息公开申请情况 ·
三、本年度办理结果（三）不予公开 · 1.属于国家秘密 · 自然人."""

from __future__ import annotations

import re
import unicodedata

from archive.parser import layout as L

REGION = re.compile(r"^(.{2,8}?(?:自治区|特别行政区|省|自治州|地区|盟|市|州|县|区|旗))")
CENTRAL = ("国务院", "国家", "中国", "中华人民共和国", "全国", "中央")

TABLE_LABELS = {"active": "二、主动公开政府信息情况", "applications": "三、收到和处理政府信息公开申请情况",
                "review_litigation": "四、政府信息公开行政复议、行政诉讼情况"}
_ROWS = {"applications": {r.id: r.label for r in (*L.APPLICATION_ROWS_HEAD, L.APPLICATION_ROW_2019_OTHER,
                                                  *L.APPLICATION_ROWS_2021_OTHER, *L.APPLICATION_ROWS_TAIL)},
         "active": {r.id: r.label for rows in L.ACTIVE_ROWS.values() for r in rows},
         "review_litigation": dict(L.REVIEW_LABELS)}
# table 三's groups by row-id prefix, most specific first
_GROUPS = (("3.3.", "三、本年度办理结果（三）不予公开"), ("3.4.", "三、本年度办理结果（四）无法提供"),
           ("3.5.", "三、本年度办理结果（五）不予处理"), ("3.6.", "三、本年度办理结果（六）其他处理"),
           ("3.", "三、本年度办理结果"))
_REVIEW_GROUPS = {"review": "行政复议", "litigation_direct": "行政诉讼", "litigation_after_review": "行政诉讼"}


def table_label(table: str) -> str:
    return TABLE_LABELS.get(table, table)


def row_label(table: str, row: str) -> str:
    """The template's wording of the row (the 2021 wording where the templates differ)."""
    return _ROWS.get(table, {}).get(row, row)


def group_label(table: str, row: str) -> str:
    """The group a row sits in (``三、本年度办理结果（三）不予公开``), or "" for a row of no group."""
    if table == "applications":
        return next((label for prefix, label in _GROUPS if row.startswith(prefix)), "")
    if table == "review_litigation":
        return _REVIEW_GROUPS.get(row, "")
    return ""


def column_label(column: str) -> str:
    return L.COLUMN_NAMES.get(column, column)


def region_of(agency: str | None) -> str | None:
    """The first administrative unit in an agency's name (安康市信访局 → 安康市), or 中央."""
    if not agency:
        return None
    name = unicodedata.normalize("NFKC", agency).strip()
    if name.startswith(CENTRAL):
        return "中央"
    m = REGION.match(name)
    return m.group(1) if m else None
