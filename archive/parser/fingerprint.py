"""Format-independent evidence that two documents are the same report: their numbers, in order.

Byte hashes never match across formats and text hashes break on PDF and OCR copies. The sequence of
digit runs in reading order survives conversion: 3-grams of it gave Jaccard >= 0.61 for every
same-report pair (PDF, OCR, DOC, HTML) and <= 0.13 for every other pair, same-template reports of
other agencies included (shared/reference/extraction-toolchain.md, near-duplicates).
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata

DIGITS = re.compile(r"\d+")
KEEP = re.compile(r"[\W_]+", re.UNICODE)
SAME_REPORT = 0.5  # between the two measured clusters (>= 0.61 same, <= 0.13 different)
SAME_CONTENT = 0.9  # cross-format copies of one version score >= 0.97
MIN_SHINGLES = 8  # fewer distinct 3-grams (an all-zero table, a two-line page) prove nothing
BANDS = 16  # candidate bins: P(two documents share one) ~ 1 - (1 - J)^16, 0.99998 at Jaccard 0.5


def normalise(text: str) -> str:
    """NFKC, then letters, CJK and digits only: the text compared across formats."""
    return KEEP.sub("", unicodedata.normalize("NFKC", text))


def text_sha256(text: str) -> str:
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()


def numbers(text: str) -> list[str]:
    """Digit runs in reading order, leading zeros dropped, as strings (no size limit)."""
    return [d.lstrip("0") or "0" for d in DIGITS.findall(unicodedata.normalize("NFKC", text))]


def shingles(nums: list[str], k: int = 3) -> set[tuple[str, ...]]:
    return {tuple(nums[i : i + k]) for i in range(len(nums) - k + 1)}


def jaccard(a: set, b: set) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def informative(sh: set) -> bool:
    return len(sh) >= MIN_SHINGLES


@functools.lru_cache(maxsize=8192)
def _shingle_set(nums: tuple[str, ...]) -> frozenset:
    return frozenset(shingles(list(nums)))


def similarity(a: list[str], b: list[str]) -> float | None:
    """Number 3-gram Jaccard, or None when either side has too few numbers to tell."""
    sa, sb = _shingle_set(tuple(a)), _shingle_set(tuple(b))
    if not (informative(sa) and informative(sb)):
        return None
    return jaccard(sa, sb)


def lsh_bands(nums: list[str]) -> list[str]:
    """Band keys of a one-permutation MinHash of the number 3-grams; documents sharing a key are
    candidates (then confirmed by :func:`similarity`).

    One hash per 3-gram, split into BANDS bins by value, the minimum kept per bin: the chance that
    two documents share a bin's minimum is their Jaccard similarity, as with classic MinHash, at a
    sixteenth of the hashing (Li, Owen & Zhang, "One Permutation Hashing", 2012).
    """
    sh = shingles(nums)
    if not informative(sh):
        return []
    mins: dict[int, int] = {}
    for g in sh:
        h = int.from_bytes(hashlib.blake2b(" ".join(g).encode(), digest_size=8).digest(), "little")
        b = h % BANDS
        if h < mins.get(b, 1 << 64):
            mins[b] = h
    return [f"{b}:{h:016x}" for b, h in sorted(mins.items())]
