"""Split a report into its numbered top-level sections (一、总体情况 … 六、其他需要报告的事项)."""

from __future__ import annotations

import re

NUMERALS = "一二三四五六七八九十"
# Row labels of table 三 look like headings (四、结转下年度继续办理) once a PDF loses the table.
TABLE_LABEL = re.compile(r"申请数量|本年度办理结果|结转")
HEADING = re.compile(r"^[#＃\s]*(?P<num>[一二三四五六七八九十])\s*[、.．]\s*(?P<heading>\S.{0,40}?)\s*$")


def split_sections(text: str) -> list[dict]:
    """Headings must come in order (一, 二, 三 …); a numeral out of sequence is body text."""
    sections: list[dict] = []
    expected = 0
    body: list[str] = []
    for line in text.splitlines():
        m = HEADING.match(line.strip())
        if m and "\t" not in line and not TABLE_LABEL.search(m.group("heading")) \
                and NUMERALS.index(m.group("num")) == expected:
            if sections:
                sections[-1]["text"] = "\n".join(body).strip()
            sections.append({"number": m.group("num"), "heading": m.group("heading").strip(), "text": ""})
            body = []
            expected += 1
            continue
        if sections:
            body.append(line)
    if sections:
        sections[-1]["text"] = "\n".join(body).strip()
    return sections
