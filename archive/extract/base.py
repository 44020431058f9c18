"""The result every extractor returns, and the error it raises on input it cannot read."""

from __future__ import annotations

from dataclasses import dataclass, field

from archive.extract.grid import Grid


@dataclass
class Extracted:
    """Plain text in reading order (one block per line, table cells tab-separated) and what is known."""

    text: str
    title_hint: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    tables: list[Grid] = field(default_factory=list)  # every table found, as grids, in document order
    # How the text was obtained, e.g. "lxml #zoom", "pdfplumber", "python-docx".
    method: str = ""
    # What an HTML page says of itself and its links (title, site meta, printed date, dated links), so
    # the archive reads it once at examine time; see :func:`archive.extract.html.page_facts`.
    page: dict = field(default_factory=dict)
