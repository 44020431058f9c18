"""What a fetch hands to the archive: one HTTP exchange (or one local file), as received.

The crawler fills this from Scrapy before content decoding; the archive never imports Scrapy.
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from urllib.parse import urlsplit

from archive.store.body import Body

Headers = list[tuple[str, str]]


def display_name(name: str) -> str:
    """A file name as text. On Linux a name that is not UTF-8 (a Windows zip of 年报 gives GBK bytes) reaches
    Python with its bytes escaped as lone surrogates, which no catalog, JSON or terminal takes: read those
    bytes as GB18030 when they are that, else with replacement characters. The exact bytes stay in the
    file's ``file://`` URL, percent-encoded."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        raw = name.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")


def text_problem(cap: Capture) -> str | None:
    """The first field of a capture that is not storable text, in words (None when all are)."""
    fields = {"url": cap.url, "final_url": cap.final_url, "filename": cap.filename, "link text": cap.link_text,
              "referrer": cap.referrer, "reason": cap.reason, "portal agency": cap.portal_agency,
              "agency given with it": cap.user_agency}
    fields |= {f"header {k!r}": f"{k}: {v}" for k, v in [*cap.headers, *cap.request_headers]}
    for name, value in fields.items():
        if value is None:
            continue
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as e:
            return f"its {name} is not text ({value.encode('utf-8', 'backslashreplace').decode()}: {e.reason})"
    return None


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    """UTC ISO-8601 with microseconds and a Z, the one time format of the catalog."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def header(headers: Headers, name: str) -> str | None:
    """First value of a header, case-insensitively."""
    lname = name.lower()
    for k, v in headers:
        if k.lower() == lname:
            return v
    return None


SITE_ID = re.compile(rb'name=["\']SiteIDCode["\']\s+content=["\']([0-9A-Za-z]+)')


def content_disposition_name(headers: Headers) -> str | None:
    """The file name a ``Content-Disposition`` header gives, decoded (RFC 2231 and plain forms)."""
    from email.message import Message

    value = header(headers, "Content-Disposition")
    if not value:
        return None
    msg = Message()
    msg["content-disposition"] = value
    return msg.get_filename() or None


def site_id_of(body_head: bytes) -> str | None:
    """The portal's SiteIDCode (网站标识码) from the first bytes of a page, if it carries one."""
    if b"SiteIDCode" not in body_head:
        return None
    m = SITE_ID.search(body_head)
    return m.group(1).decode("ascii") if m else None


@dataclass
class RedirectHop:
    """A redirect answered on the way to the final URL."""

    url: str
    status: int
    headers: Headers = field(default_factory=list)


@dataclass
class Capture:
    """One fetched response.

    ``body`` is the file a user would save (content-decoded). ``raw_body`` is the entity body as
    received on the wire before content decoding (gzip/br), with transfer coding already removed;
    leave it None when the body was not content-encoded or the raw bytes are unavailable, and the
    WARC writer will rewrite the headers honestly instead.
    """

    url: str
    body: Body
    status: int = 200
    headers: Headers = field(default_factory=list)
    final_url: str | None = None
    raw_body: Body | None = None
    reason: str | None = None
    protocol: str = "HTTP/1.1"
    method: str = "GET"
    request_headers: Headers = field(default_factory=list)
    request_body: bytes = b""
    fetched_at: datetime = field(default_factory=utcnow)
    referrer: str | None = None
    link_text: str | None = None
    redirects: list[RedirectHop] = field(default_factory=list)
    ip_address: str | None = None
    filename: str | None = None
    site_id: str | None = None  # the portal's SiteIDCode meta (网站标识码), when the page carries one
    portal_agency: str | None = None  # the agency the crawl's portal profile names (a last-resort parse hint)
    # what a user said of a file when ingesting it (``nianbao ingest --agency/--year``): the parser takes them
    # where the document's own text names no agency or year
    user_agency: str | None = None
    user_year: int | None = None
    # "crawl" for HTTP fetches; "ingest" for local files, which are written as WARC resource records
    # and taken as reports on the user's word (crawled pages must read as reports to become documents)
    source: str = "crawl"
    # the WARC-Record-ID this capture was imported from (archive/ingest/warc_import.py), so no import adds it twice
    source_record_id: str | None = None

    def __post_init__(self) -> None:
        self.body = Body.of(self.body)
        if self.raw_body is not None:
            self.raw_body = Body.of(self.raw_body)
        if self.final_url is None:
            self.final_url = self.url

    @property
    def status_reason(self) -> str:
        if self.reason:
            return self.reason
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return "Unknown"

    @property
    def content_type(self) -> str | None:
        return header(self.headers, "Content-Type")

    @property
    def etag(self) -> str | None:
        return header(self.headers, "ETag")

    @property
    def last_modified(self) -> str | None:
        return header(self.headers, "Last-Modified")

    @property
    def host(self) -> str:
        return urlsplit(self.final_url or self.url).hostname or ""


def http_date(dt: datetime) -> str:
    return email.utils.format_datetime(dt.astimezone(UTC), usegmt=True)
