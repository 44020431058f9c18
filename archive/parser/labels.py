"""Normalise table labels so that the wording agencies actually use matches the template's.

Full-width and half-width brackets, 合计 and 总计, spaces inside words (本年度办 理结果), labels broken
over lines or page breaks, stray quotes: all compare equal after :func:`normalise`. Matching is by
key phrases of the template row (most specific first), then by the label being a large enough piece of
the template's own wording.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from functools import lru_cache

from archive.parser.layout import RowSpec

# Item numbering that starts a label: 一、 （一） (1) 1. 1、 ①
NUMBERING = re.compile(r"^(?:[（(]?[一二三四五六七八九十]+[）)、.．]|[（(]\d{1,2}[）)]|\d{1,2}\s*[.．、]|[①-⑩])+")
MIN_PIECE = 4  # a label fragment this long or longer may match the template wording it is part of


@lru_cache(maxsize=65536)
def normalise(text: str) -> str:
    """NFKC, then letters, digits and CJK only: 「（二）部分公开 （区分…）」 -> 「二部分公开区分…」."""
    s = unicodedata.normalize("NFKC", text or "")
    return "".join(ch for ch in s if ch.isalnum())


@lru_cache(maxsize=65536)
def strip_numbering(text: str) -> str:
    """The label without its leading item numbers (一、 （三） 1.), normalised."""
    s = unicodedata.normalize("NFKC", text or "").strip()
    s = NUMBERING.sub("", s.replace(" ", ""))
    return normalise(s)


@lru_cache(maxsize=4096)
def _template_words(label: str) -> str:
    return strip_numbering(label)


def key_match(spec: RowSpec, label: str) -> bool:
    """Whether a normalised label names this row by one of its key phrases."""
    return any(k in label for k in spec.keys)


def piece_match(spec: RowSpec, label: str, *, expected: bool = False) -> bool:
    """Whether a label is a piece of the row's template wording (a label cut by a line or page break):
    a large piece anywhere, or, for the row expected next, even a short beginning of it (要求行)."""
    bare = strip_numbering(label) if label else ""
    words = _template_words(spec.label)
    if expected and len(bare) >= 2 and words.startswith(bare):
        return True
    if len(bare) < MIN_PIECE:
        return False
    return bare in words


FUZZY = 0.75


def fuzzy_match(spec: RowSpec, label: str) -> bool:
    """Whether a label reads as the row's template wording with a few characters lost or misread
    (OCR dropping 部事 from 属于三类内部事务信息); used only for the row expected next."""
    bare = strip_numbering(label)
    if len(bare) < MIN_PIECE:
        return False
    return difflib.SequenceMatcher(None, bare, _template_words(spec.label)).ratio() >= FUZZY


def find_header(words: tuple[tuple[str, tuple[str, ...]], ...], text: str) -> str | None:
    """The first column id whose header words occur in ``text`` (normalised)."""
    norm = normalise(text)
    for col, keys in words:
        if any(k in norm for k in keys):
            return col
    return None
