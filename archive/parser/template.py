"""Which national template a report follows: 2021, 2019, pre-2019 free form, or unknown."""

from __future__ import annotations

import re


def spaced(*words: str) -> re.Pattern[str]:
    """Match any of the words with stray whitespace between characters (本年度办 理结果)."""
    return re.compile("|".join(r"\s*".join(map(re.escape, w)) for w in words))


T2021 = spaced("本年制发件数", "本年废止件数", "现行有效件数", "逾期不补正")
T2019 = spaced("本年新制作数量", "对外公开总数量", "第二十条第（九）项", "第二十条第(九)项", "政府集中采购")


def detect_template(text: str, year: int | None) -> str:
    """Decide from the table wording first; the year only separates legacy reports."""
    # A 2019 report may keep a 2021 heading, and vice versa, so count evidence both ways.
    n2021 = len(T2021.findall(text))
    n2019 = len(T2019.findall(text))
    if n2021 or n2019:
        return "2021" if n2021 >= n2019 else "2019"
    if year is not None and year < 2019:
        return "legacy"
    return "unknown"
