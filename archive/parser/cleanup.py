"""Text as extracted, cleared of what converters leave between a report's rows: page footers and
Word's conditional-comment list markers.

A PDF's text carries its page footers (``- 4 -``, ``— 4 —``, ``第 4 页 共 9 页``, ``4/9``), on a line of
their own or run into a table row, where they would become extra values of that row; pages saved from
Word carry ``<!--[if !supportLists]-->7、<!--[endif]-->`` around list numbers. A bare number is a cell
value, and ``- 4 -`` can be three cells (blank, 4, blank): a dashed number away from a line of its own
is taken for a footer only when the page numbers count up through it (a neighbouring footer of the
same shape numbers the page before or after). Written here because no extraction library knows the
shapes of Chinese page footers.
"""

from __future__ import annotations

import re

SPACES = " \t\u3000\u00a0"
DASHES = "-‐‑–—―－─━"
SPACE = f"[{SPACES}]"
DASH = f"[{DASHES}]"
# A page number between two equal dashes: "- 4 -", "—4—", "－ 4 －", "—— 4 ——".
# (no tab inside: a tab separates cells, so "—\t3\t—" is three cells, not a footer)
DASHED = re.compile(rf"(?P<d>{DASH}{{1,2}})[ \u3000\u00a0]*(?P<n>\d{{1,3}})[ \u3000\u00a0]*(?P=d)")
# "第 4 页 共 9 页", "第4页/共9页", "共9页 第4页": unmistakable wherever they are.
PAGE_OF = re.compile(rf"第{SPACE}*\d{{1,3}}{SPACE}*页{SPACE}*[,，/／]?{SPACE}*共{SPACE}*\d{{1,3}}{SPACE}*页"
                     rf"|共{SPACE}*\d{{1,3}}{SPACE}*页{SPACE}*[,，/／]?{SPACE}*第{SPACE}*\d{{1,3}}{SPACE}*页")
# Footers that are a whole line: "第 4 页", "4/9", "4 / 9", "Page 4 of 9".
FOOTER_LINE = re.compile(rf"^{SPACE}*(?:第{SPACE}*\d{{1,3}}{SPACE}*页"
                         rf"|(?P<n>\d{{1,3}}){SPACE}*[/／]{SPACE}*(?P<m>\d{{1,3}})"
                         rf"|[Pp]age{SPACE}*\d{{1,3}}(?:{SPACE}*of{SPACE}*\d{{1,3}})?){SPACE}*$")
# Word's conditional comments, as saved ("<!--[if !supportLists]-->"), escaped ("&lt;!--[endif]--&gt;"),
# down-level ("<![if !vml]>") or with the comment marks already stripped ("[if !supportLists]").
WORD_MARKER = re.compile(r"(?:<|&lt;)!(?:--)?\[(?:if\s[^\]]{1,40}|endif)\](?:--)?(?:>|&gt;)"
                         r"|\[(?:if\s+!?\w+[^\]]{0,30}|endif)\]")


YEAR_BEFORE = re.compile(rf"(?<!\d)(?:19|20)\d{{2}}{SPACE}*$")  # not the end of a run of glued cells: 0002002
FOOTER_CHARS = 40  # longer than any whole-line footer, spaces included
ANY_DASH = re.compile(DASH)


def clean_text(text: str) -> str:
    """The text with page footers and Word list markers removed; every other character kept in place."""
    if "[" in text:
        text = WORD_MARKER.sub("", text)
    lines = [_without_page_of(line) for line in text.split("\n") if not _footer_line(line)]
    lines = [line for line in lines if line is not None]
    return "\n".join(_without_dashed(lines))


def _without_page_of(line: str) -> str | None:
    """The line without its 第…页共…页 footers, or None if that was all it held."""
    if "页" not in line:
        return line
    out = PAGE_OF.sub(" ", line)
    if out == line:
        return line
    return out.rstrip(SPACES) if out.strip() else None


def _footer_line(line: str) -> bool:
    """Whether the whole line is a footer that has no dashes to tell it (第 4 页, 4/9 with 4 <= 9)."""
    if len(line) > FOOTER_CHARS:  # most lines: no regex at all
        return False
    m = FOOTER_LINE.match(line)
    if m is None:
        return False
    return m.group("n") is None or 1 <= int(m.group("n")) <= int(m.group("m"))


def _without_dashed(lines: list[str]) -> list[str]:
    """Lines with dashed page numbers removed: a line that is only one, or one inside a line (set apart
    by spaces, unless its dashes are long) whose page follows or precedes another of the same dashes."""
    found: list[tuple[int, re.Match, bool]] = []  # (line, match, alone on its line)
    for i, line in enumerate(lines):
        if not ANY_DASH.search(line):
            continue
        at = 0
        while m := DASHED.search(line, at):
            before, after = line[:m.start()], line[m.end():]
            # ASCII hyphens touching other text are dates and ranges (2023-3-5); long dashes are not
            long_dash = m.group("d")[0] not in "-‐‑–"
            apart = long_dash or ((not before or before[-1] in SPACES) and (not after or after[0] in SPACES)
                                  and not YEAR_BEFORE.search(before))  # 2023 - 1 - 1 is a date
            if apart and int(m.group("n")) >= 1 and not (before and before[-1] in DASHES) \
                    and not (after and after[0] in DASHES):
                found.append((i, m, not before.strip() and not after.strip()))
                at = m.end()
            else:  # its closing dash may open a footer: "195-10 - 2 -" is 195, -10 and page 2
                at = m.start() + 1
    if not found:
        return lines
    first: dict[tuple[str, int], int] = {}  # (dashes, page) -> where it first and last occurs
    last: dict[tuple[str, int], int] = {}
    for k, (_, m, _) in enumerate(found):
        key = (m.group("d"), int(m.group("n")))
        first.setdefault(key, k)
        last[key] = k
    footers: dict[int, list[re.Match]] = {}
    for k, (i, m, alone) in enumerate(found):
        n, d = int(m.group("n")), m.group("d")
        prev_ok = first.get((d, n - 1), k) < k
        next_ok = last.get((d, n + 1), k) > k
        if alone or prev_ok or next_ok:
            footers.setdefault(i, []).append(m)
    out = []
    for i, line in enumerate(lines):
        if i not in footers:
            out.append(line)
            continue
        for m in reversed(footers[i]):
            left, right = line[:m.start()], line[m.end():]
            gap = left[len(left.rstrip(SPACES)):] + right[:len(right) - len(right.lstrip(SPACES))]
            line = left.rstrip(SPACES) + ("\t" if "\t" in gap else " ") + right.lstrip(SPACES)
        if line.strip():
            out.append(line.rstrip(SPACES))
    return out
