"""Numbers in table cells: reading one cell, and fitting a row's numbers to its columns.

When text extraction glued a row's cells together (``801000081`` for 80, 1, 0, 0, 0, 0, 81), the
split is recovered from the template's own arithmetic: every way of cutting the digit runs into the
row's cells is tried, and only the cuts that satisfy the identity (row total = sum of the others) are
kept. A unique survivor is used and marked ``recovered: "split"``; several survivors are returned for
the caller to decide across rows, or dropped with a warning. No library does this; it is a small
constrained enumeration written here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

BLANK_MARKS = frozenset({"/", "／", "\\", "—", "——", "–", "-", "－", "一", "无", "不适用", "空", "x", "X", "×"})
NUMBER = re.compile(r"^[-−–]?\d+(?:\.\d+)?$")
MAX_CANDIDATES = 64  # more readings of one row than this: the row is not recoverable
MAX_WORK = 200_000  # cuts examined per row before giving up


@dataclass(frozen=True)
class Token:
    """One value-bearing piece of a row: a number as written, a blank mark, or an empty grid cell."""

    raw: str
    kind: str  # "number" | "blank" | "empty"
    col: int | None = None  # grid column, when the source had a grid
    recovered: str | None = None


@dataclass(frozen=True)
class Value:
    value: int | float | None
    raw: str
    recovered: str | None = None


def to_number(raw: str, *, money: bool = False, signed: bool = False) -> int | float | None:
    """A cell's number, or None if the text is not one (money may be decimal, changes negative)."""
    s = unicodedata.normalize("NFKC", raw).strip().replace(",", "").replace(" ", "").replace("−", "-")
    s = s.replace("–", "-")
    for unit in ("万元", "元", "件", "个", "项"):
        s = s.removesuffix(unit)
    if not NUMBER.match(s):
        return None
    if s.startswith("-") and not signed:
        return None
    if "." in s:
        if not money:
            try:
                d = Decimal(s)
            except InvalidOperation:
                return None
            return int(d) if d == d.to_integral_value() else None
        return float(s)
    return int(s)


def classify(text: str) -> str:
    """What a cell holds: "number", "blank" (a written blank mark), "empty" or "text"."""
    s = unicodedata.normalize("NFKC", text).strip()
    if not s:
        return "empty"
    if s in BLANK_MARKS or unicodedata.normalize("NFKC", s) in BLANK_MARKS:
        return "blank"
    t = s.replace(",", "").replace("−", "-").replace("–", "-")
    for unit in ("万元", "元", "件", "个", "项"):
        t = t.removesuffix(unit)
    return "number" if NUMBER.match(t) else "text"


def read(token: Token, column: str, *, money: bool, signed: bool) -> Value:
    """The spec's value for one token: a number, or None with the raw text for blanks."""
    if token.kind == "number":
        v = to_number(token.raw, money=money, signed=signed)
        return Value(v, token.raw, token.recovered)
    return Value(None, token.raw, token.recovered)


def _cuts(run: str, pieces: int) -> Iterator[list[str]]:
    """Every way to cut a digit run into ``pieces`` numbers without leading zeros."""
    if pieces == 1:
        if len(run) == 1 or run[0] != "0":
            yield [run]
        return
    for i in range(1, len(run) - pieces + 2):
        head = run[:i]
        if len(head) > 1 and head[0] == "0":
            break
        for rest in _cuts(run[i:], pieces - 1):
            yield [head, *rest]


def _allocations(lengths: Sequence[int], total: int) -> Iterator[list[int]]:
    """Ways to give each run at least one and at most len(run) pieces, ``total`` in all."""
    if not lengths:
        if total == 0:
            yield []
        return
    first, rest = lengths[0], lengths[1:]
    for k in range(1, min(first, total - len(rest)) + 1):
        for more in _allocations(rest, total - k):
            yield [k, *more]


class TooMany(Exception):
    """More readings than can be told apart."""


def splits(runs: Sequence[str], n: int, ok: Callable[[list[int]], bool] | None) -> list[list[str]]:
    """Readings of glued digit runs as exactly ``n`` numbers that pass ``ok``; raises TooMany."""
    found: list[list[str]] = []
    work = 0
    def expand(alloc: list[int], i: int, acc: list[str]) -> Iterator[list[str]]:
        if i == len(runs):
            yield acc
            return
        for cut in _cuts(runs[i], alloc[i]):
            yield from expand(alloc, i + 1, acc + cut)

    for alloc in _allocations([len(r) for r in runs], n):
        for cand in expand(alloc, 0, []):
            work += 1
            if work > MAX_WORK:
                raise TooMany(f"more than {MAX_WORK} ways to cut the digits")
            if ok is None or ok([int(x) for x in cand]):
                found.append(cand)
                if len(found) > MAX_CANDIDATES:
                    raise TooMany(f"more than {MAX_CANDIDATES} readings fit")
    return found


def drops(values: Sequence[int], n: int, ok: Callable[[list[int]], bool] | None) -> list[list[int]]:
    """Readings of too many values as ``n`` by leaving some out, keeping those that pass ``ok``."""
    from itertools import combinations

    extra = len(values) - n
    if extra <= 0 or ok is None or extra > n:
        return []
    out = []
    for k, gone in enumerate(combinations(range(len(values)), extra)):
        if k > MAX_WORK // 10:
            return []
        kept = [v for i, v in enumerate(values) if i not in gone]
        if ok(kept) and kept not in out:
            out.append(kept)
    return out
