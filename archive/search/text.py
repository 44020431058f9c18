"""Text as the search index sees it: pure functions from report text to index pieces, and from a
query to an FTS5 expression that matches exactly the documents containing it.

SQLite's own tokenizers fail Chinese (shared/reference/extraction-toolchain.md §4): ``unicode61``
makes a whole CJK run one token, ``trigram`` matches nothing under three characters, and jieba
misses words inside longer words (财政 in 财政局). So the index holds overlapping two-character
pieces of every CJK run (信访局 → 信访 访局) and ASCII words and numbers whole; a query of two or
three characters becomes the phrase of its pieces, which FTS5 matches only at consecutive positions,
i.e. exactly where the text contains it. A boundary token between runs keeps a phrase from matching
across punctuation. Longer terms use a second column of overlapping four-character pieces
(政府信息公开 → 政府信息 府信息公 信息公开): the same exactness with fewer, rarer tokens to check
position by position, which halved the time of a phrase found in every report (bench/search.py).
This tokenizer is ours (a few lines) because no maintained FTS5 tokenizer for Chinese is on PyPI.
"""

from __future__ import annotations

import html
import re
import unicodedata
from operator import add

from archive.parser.names import region_of  # noqa: F401 - where the index and its callers take it

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
RUN = re.compile(rf"[{CJK}]+|[0-9a-z]+")
GAP_IN_CJK = re.compile(rf"(?<=[{CJK}])\s+(?=[{CJK}])")
BOUNDARY = "zqz"  # between runs: no real text has it, so no phrase spans two runs


def normalize(text: str) -> str:
    """Width-folded, lower-case, and without the spaces PDF extraction puts between Chinese characters."""
    return GAP_IN_CJK.sub("", unicodedata.normalize("NFKC", text).lower())


QUAD_MIN = 4  # terms of this many characters or more are looked up in the four-character column


def _run_pieces(run: str, n: int = 2) -> list[str]:
    return [run] if run.isascii() or len(run) < n else [run[i:i + n] for i in range(len(run) - n + 1)]


def pieces(text: str) -> str:
    """The text as two-character index tokens, space-separated (the FTS5 ``body`` column)."""
    out = [run if run.isascii() or len(run) == 1 else " ".join(map(add, run, run[1:]))
           for run in RUN.findall(normalize(text))]
    return f" {BOUNDARY} ".join(out)


def quads(text: str) -> str:
    """The CJK runs of four characters or more as overlapping four-character tokens (the ``quad`` column)."""
    out = [" ".join(run[i:i + 4] for i in range(len(run) - 3))
           for run in RUN.findall(normalize(text)) if not run.isascii() and len(run) >= QUAD_MIN]
    return f" {BOUNDARY} ".join(out)


def terms(query: str) -> list[str]:
    """The query's terms: whitespace separates them, double quotes keep a phrase with spaces together."""
    found = re.findall(r'"([^"]+)"|(\S+)', query or "")
    return [t for pair in found for t in pair if t and t.strip()]


def match_expression(term: str, column: str | None = None) -> tuple[str | None, bool]:
    """(FTS5 expression for a term, whether it alone is exact). ``(None, …)`` when the index cannot
    answer: no searchable characters, or a single Chinese character (no piece holds one alone; the
    caller scans the text). A term of several runs ("12号文") is the AND of its runs, verified
    against the text by the caller. Each phrase names its column: ``body`` (two-character pieces),
    ``quad`` for runs of four characters or more, or the ``column`` asked for (two-character pieces)."""
    runs = [m.group() for m in RUN.finditer(normalize(term))]
    if not runs or any(len(r) == 1 and not r.isascii() for r in runs):
        return None, False
    phrases = []
    for r in runs:
        quad = column is None and not r.isascii() and len(r) >= QUAD_MIN
        phrases.append(f'{column or ("quad" if quad else "body")}:"' + " ".join(_run_pieces(r, 4 if quad else 2)) + '"')
    return " AND ".join(phrases), len(runs) == 1


def contains(text: str, term: str) -> bool:
    """Whether ``text`` contains ``term`` as search defines it (normalised, punctuation-blind between
    runs only where the index is)."""
    return normalize(term) in normalize(text)


def snippet(text: str, words: list[str], width: int = 60) -> str:
    """HTML: the text around the first hit, every hit of every term in ``<mark>``, everything else escaped."""
    if not text:
        return ""
    pats = [r"\s*".join(re.escape(ch) for ch in w if not ch.isspace()) for w in words if w.strip()]
    rx = re.compile("|".join(f"(?:{p})" for p in pats), re.IGNORECASE) if pats else None
    m = rx.search(text) if rx else None
    start = max(0, (m.start() if m else 0) - width // 2)
    end = min(len(text), start + width * 2)
    part = text[start:end]
    out, pos = [], 0
    for hit in (rx.finditer(part) if rx else []):
        out.append(html.escape(part[pos:hit.start()]))
        out.append(f"<mark>{html.escape(hit.group())}</mark>")
        pos = hit.end()
    out.append(html.escape(part[pos:]))
    body = re.sub(r"\s+", " ", "".join(out)).strip()
    return ("…" if start else "") + body + ("…" if end < len(text) else "")
