"""Split a report into its numbered top-level sections (一、总体情况 … 六、其他需要报告的事项)."""

from __future__ import annotations

import re

NUMERALS = "一二三四五六七八九十"
# Row labels of table 三 look like headings (四、结转下年度继续办理) once a PDF loses the table.
TABLE_LABEL = re.compile(r"申请数量|本年度办理结果|结转")
HEADING = re.compile(r"^[#＃\s]*(?P<num>[一二三四五六七八九十]|[1-9])\s*[、.．]\s*(?P<heading>\S.{0,40}?)\s*$")
# What each section of the template is about: a heading numbered out of turn (5、 for 五、) or a
# missing section is accepted when its words say which one it is.
SECTION_WORDS = {"一": ("总体情况",), "二": ("主动公开",), "三": ("收到和处理", "依申请"),
                 "四": ("行政复议", "行政诉讼"), "五": ("存在的主要问题", "存在问题", "改进"),
                 "六": ("其他需要报告", "其他事项")}


def _number(m: re.Match, expected: int) -> int | None:
    """Which section a heading starts: the next one in order, or a later one its words name."""
    raw = m.group("num")
    n = int(raw) - 1 if raw.isdigit() else NUMERALS.index(raw)
    heading = m.group("heading")

    def names(k: int) -> bool:
        return any(w in heading for w in SECTION_WORDS.get(NUMERALS[k], ()))

    if n == expected and (not raw.isdigit() or names(n)):
        return n
    if expected < n <= 5 and names(n):  # a section skipped or missing before this one
        return n
    return None


def split_sections(text: str) -> list[dict]:
    """Headings must come in order (一, 二, 三 …); a numeral out of sequence is body text."""
    sections: list[dict] = []
    expected = 0
    body: list[str] = []
    for line in text.splitlines():
        m = HEADING.match(line.strip())
        number = _number(m, expected) if m and "\t" not in line and not TABLE_LABEL.search(m.group("heading")) \
            else None
        if number is not None:
            if sections:
                sections[-1]["text"] = "\n".join(body).strip()
            sections.append({"number": NUMERALS[number], "heading": m.group("heading").strip(), "text": ""})
            body = []
            expected = number + 1
            continue
        if sections:
            body.append(line)
    if sections:
        sections[-1]["text"] = "\n".join(body).strip()
    return sections
