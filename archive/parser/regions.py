"""Where each statistical table's text is: found by what the table is, not only by the section number.

A report may number its table sections out of turn, leave a heading out or print none at all; the
table is still there, with its header rows and row labels. The section of the template's number is
kept when it holds the table (the outputs of well-formed reports do not move); otherwise the text
from the table's first header row up to the next table or section heading is its region.
"""

from __future__ import annotations

import re
from functools import lru_cache

from archive.parser.sections import headings

# Words of each table's header rows and first labels, after spaces are taken out.
SIGNS = {
    "二": ("第二十条第", "信息内容", "本年制发件数", "本年新制作数量", "处理决定数量"),
    "三": ("申请人情况", "勾稽关系", "本年新收政府信息公开申请数量"),
    "四": ("结果维持", "未经复议直接起诉", "复议后起诉", "尚未审结"),
}
# Row labels that only the table itself prints (prose says 予以公开 or 行政复议 too, but not these together).
ROW_SIGNS = {
    "二": ("规章", "规范性文件", "行政许可", "行政处罚", "行政强制", "行政事业性收费"),
    "三": ("本年度办理结果", "结转下年度继续办理", "上年结转政府信息公开申请数量", "本机关不掌握相关政府信息",
          "没有现成信息需要另行制作", "其他处理"),
    "四": ("结果维持", "结果纠正", "其他结果", "尚未审结", "未经复议直接起诉", "复议后起诉"),
}
TABLES = tuple(SIGNS)
LOOKAHEAD = 8  # lines after a 行政复议 line in which table 四's other header words must appear
SPACE = re.compile(r"\s+")


def _bare(text: str) -> str:
    return SPACE.sub("", text)


def holds(number: str, text: str) -> bool:
    """Whether this text holds table ``number`` (二, 三 or 四): its header rows or first labels."""
    words = SIGNS[number]
    if any(w in text for w in words):
        return True
    bare = _bare(text)
    return any(w in bare for w in words)


def _starts(bare: list[str], number: str) -> int | None:
    """The first line of table ``number``'s header: a line (not a sentence) with its words; for
    table 四 also a 行政复议 line followed closely by 行政诉讼 and a result column."""
    for i, b in enumerate(bare):
        if not b or "。" in b:
            continue
        if any(w in b for w in SIGNS[number]):
            return i
        if number == "四" and "行政复议" in b:
            ahead = "".join(bare[i:i + LOOKAHEAD])
            if "行政诉讼" in ahead and ("维持" in ahead or "纠正" in ahead):
                return i
    return None


@lru_cache(maxsize=4)
def located(text: str) -> dict[str, str]:
    """Each table's region found by content alone: from its first header line to the next table's
    first line or the next section heading, whichever comes first."""
    lines = text.splitlines()
    bare = [_bare(line) for line in lines]
    starts = {n: s for n in TABLES if (s := _starts(bare, n)) is not None}
    bounds = sorted({*starts.values(), *(i for i, *_ in headings(lines))})
    out: dict[str, str] = {}
    for n, s in starts.items():
        end = next((b for b in bounds if b > s), len(lines))
        out[n] = "\n".join(lines[s:end])
    return out


def table_region(sections: list[dict], number: str, text: str) -> str:
    """The text table ``number`` is read from: the section of that number that holds it, else the table
    found by its header rows, else the section of that number, else all the text."""
    mine = [s for s in sections if s["number"] == number]
    regions = [f"{s['heading']}\n{s['text']}" for s in mine]
    held = next((r for r in regions if holds(number, r)), None)
    if held is not None:
        return held
    if number in SIGNS and (found := located(text).get(number)) is not None:
        return found
    if regions:
        return regions[0]
    # No section and no header: all the text, but only if the table's row labels are there (a report whose
    # tables are images, or an excerpt, must not have its prose read as table rows).
    bare = _bare(text)
    return text if sum(w in bare for w in ROW_SIGNS.get(number, ())) >= 2 else ""

