"""Which national template a report follows: 2021, 2019, pre-2019 free form, or unknown.

The year decides first (reports on 2018 or earlier are free form whatever their prose mentions; on
2019–2020 the 2019 template; on 2021 onwards the 2021 one); the tables' own wording overrides the year
only when it clearly names the other template (three or more of its distinct table words, more than
the year's template shows).
"""

from __future__ import annotations

import re

CLEAR = 3  # distinct table words that say a template beyond doubt


def spaced(*words: str) -> re.Pattern[str]:
    """Match any of the words with stray whitespace between characters (本年度办 理结果)."""
    return re.compile("|".join(r"\s*".join(map(re.escape, w)) for w in words))


T2021 = spaced("本年制发件数", "本年废止件数", "现行有效件数", "逾期不补正")
T2019 = spaced("本年新制作数量", "对外公开总数量", "第二十条第（九）项", "第二十条第(九)项", "政府集中采购")


def _distinct(pattern: re.Pattern[str], text: str) -> tuple[int, int]:
    """(occurrences, distinct words) of a template's table words, spaces and bracket width ignored."""
    found = [re.sub(r"\s+", "", m).replace("(", "（").replace(")", "）") for m in pattern.findall(text)]
    return len(found), len(set(found))


def by_year(year: int) -> str:
    return "legacy" if year <= 2018 else "2019" if year <= 2020 else "2021"


def detect_template(text: str, year: int | None) -> str:
    """The year's template unless the tables clearly say otherwise; the words alone when no year."""
    n2021, d2021 = _distinct(T2021, text)
    n2019, d2019 = _distinct(T2019, text)
    words = ("2021" if n2021 >= n2019 else "2019") if n2021 or n2019 else None
    if year is None:
        return words or "unknown"
    expected = by_year(year)
    if words is not None and words != expected:
        mine, other = (d2021, d2019) if words == "2021" else (d2019, d2021)
        if mine >= CLEAR and mine > other:
            return words
    return expected
