"""What was known of a document where it was found, handed to the parser in one object.

The archive captures this once (the capture row, the referring page's examined facts) and carries it
forward: the parser does not go back to the originals of other documents for it, and neither does
anything that reads the parse result later.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields


@dataclass
class ParseContext:
    """Everything but the bytes: how the document was met and what the page linking it said.

    ``kind`` is the format the archive decided when it stored the bytes; the parser trusts it.
    ``link_date`` is the date the referring page printed for the document (beside the link, else its
    own), with ``link_date_source`` saying which and where (e.g. "date beside the link of http://…").
    """

    kind: str | None = None
    content_type: str | None = None
    filename: str | None = None
    url: str | None = None
    title: str | None = None
    link_text: str | None = None
    referrer: str | None = None
    referrer_title: str | None = None
    referrer_meta: dict[str, str] = field(default_factory=dict)
    link_date: str | None = None
    link_date_source: str | None = None
    portal_agency: str | None = None  # the agency the crawl's portal profile names (below what the page says)
    # what the user said of the file when ingesting it (``nianbao ingest --agency --year``): below what the
    # document's own text says, above what its context (link text, page <title>, site, portal) suggests
    user_agency: str | None = None
    user_year: int | None = None

    def to_dict(self) -> dict:
        """JSON-ready, only what is known (so a stored context stays small)."""
        return {k: v for k, v in asdict(self).items() if v not in (None, {}, "")}

    @classmethod
    def from_dict(cls, data: dict | None) -> ParseContext:
        """The inverse of :meth:`to_dict`; keys it does not know (a hint's others) are ignored."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in names and v is not None})
