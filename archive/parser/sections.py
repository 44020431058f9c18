"""Split a report into its numbered top-level sections (一、总体情况 … 六、其他需要报告的事项).

``number`` is the template's section a heading is, decided by its words where they name one: real
reports renumber (prose 一…六, then the tables again as 一、二、三) or leave a heading out (the fifth
part opening with （一）…存在问题的改进情况). Such a section says how it was numbered in ``written``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

NUMERALS = "一二三四五六七八九十"
# Row labels of table 三 look like headings (四、结转下年度继续办理) once a PDF loses the table.
TABLE_LABEL = re.compile(r"申请数量|本年度办理结果|结转")
HEADING = re.compile(r"^[#＃\s]*(?P<num>[一二三四五六七八九十]|[1-9])\s*[、.．]\s*(?P<heading>\S.{0,40}?)\s*$")
# What each section of the template is about: a heading numbered out of turn (5、 for 五、) or a
# missing section is accepted when its words say which one it is.
SECTION_WORDS = {"一": ("总体情况",), "二": ("主动公开",), "三": ("收到和处理", "依申请"),
                 "四": ("行政复议", "行政诉讼"), "五": ("存在的主要问题", "存在问题", "改进"),
                 "六": ("其他需要报告", "其他事项")}
# Words that make a heading one of the template's own, whatever number it carries (a sub-item such
# as 一、加强主动公开 is not: these headings also end the way the template's do).
TEMPLATE_WORDS = (("总体情况",), ("主动公开政府信息",), ("收到和处理", "政府信息公开申请情况"),
                  ("行政复议",), ("存在的主要问题", "存在问题", "主要问题"), ("其他需要报告",))
TEMPLATE_END = re.compile(r"(?:情况|事项|措施|统计表?)[）)]?[:：]?$")
# The fifth part without its 五、: a bare heading, or its first sub-part (（一）2024年工作中存在问题的改进情况).
FIFTH_PART = re.compile(r"^[#＃\s]*(?P<num>[（(]一[）)])?\s*(?P<heading>[^。，,；;：:]{0,30}?(?:存在的?(?:主要)?问题|"
                        r"主要问题)[^。，,；;：:]{0,16}?(?:情况|措施))\s*$")


def template_section(heading: str) -> int | None:
    """The template section (0 for 一) whose heading this is by its words, or None."""
    h = re.sub(r"\s+", "", heading)
    if not TEMPLATE_END.search(h):
        return None
    for k, words in enumerate(TEMPLATE_WORDS):
        if any(w in h for w in words):
            if k == 3 and "诉讼" not in h:
                continue
            return k
    return None


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


def headings(lines: list[str]) -> Iterator[tuple[int, int, str, str]]:
    """(line index, template section, heading as written, numbering as written) of each section start.

    A numeral in turn starts its section (a report numbering its own parts 一…七 keeps them), unless it
    names a later closing part (五、其他需要报告的事项 where 五 was left out); one out of turn whose
    words name a template section is that section (the tables numbered 一、二、三 after the prose), and
    once the numbering has jumped only such headings count. The fifth part may also start unnumbered.
    """
    expected = 0
    restarted = False
    for i, line in enumerate(lines):
        if "\t" in line:
            continue
        stripped = line.strip()
        if not stripped:
            continue
        m = HEADING.match(stripped)
        if m and not TABLE_LABEL.search(m.group("heading")):
            heading = m.group("heading").strip()
            raw = m.group("num")
            named = template_section(heading) if not raw.isdigit() else None
            number = None if restarted else _number(m, expected)
            if named is not None and number is None:
                restarted = restarted or named != expected
                number = named
            elif named in (4, 5) and number is not None and named > number:  # a part left out before it
                number = named
            if number is not None:
                written = raw if raw.isdigit() or NUMERALS.index(raw) != number else NUMERALS[number]
                yield i, number, heading, written
                expected = number + 1
                continue
        if 2 <= expected <= 4 and "问题" in stripped and (f := FIFTH_PART.match(stripped)):
            yield i, 4, f.group("heading").strip(), f.group("num") or ""
            expected = 5


def split_sections(text: str) -> list[dict]:
    """Sections in document order, each with the template's number and its heading as written."""
    lines = text.splitlines()
    sections: list[dict] = []
    starts = list(headings(lines))
    for k, (i, number, heading, written) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(lines)
        sec = {"number": NUMERALS[number], "heading": heading, "text": "\n".join(lines[i + 1:end]).strip()}
        if written != NUMERALS[number] and not written.isdigit():
            sec["written"] = written
        sections.append(sec)
    return sections
