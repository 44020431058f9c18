"""Simulated portals that ask a crawler to be polite, for the tests of :mod:`crawler.throttle` and
:mod:`crawler.middlewares.backoff` (shared/reference/real-publishing.md: keep the per-host delay as a
floor, obey ``Crawl-delay``, back off on 429/503; re-check attachments without validators slowly).

- :func:`build_crawl_delay`: a small report column whose robots.txt may say ``Crawl-delay``;
- :func:`build_retry_after`: the same, one page of which answers 429 with ``Retry-After`` a few times
  before it is served;
- :func:`build_download_jsp`: report pages whose attachments sit behind ``download.jsp?id=N``, sent with
  only ``Content-Disposition: attachment; filename*=UTF-8''…``, no ETag nor Last-Modified, and no 304;
- :func:`build_brief`: the same column, its report pages a title and a line (hundreds of hosts in one
  test crawl, and nothing for the parse workers to spend minutes on).

They are small on purpose (a front page, a column, a report page per year): a test measures the gaps
between requests, so every page costs a floor's worth of seconds. Report texts come from the generator;
the attachments are DOCX (no LibreOffice needed). Not in :data:`spiders.demo.portals.BUILDERS`.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from urllib.parse import quote

from spiders.demo.generator import GenReport, agency_name, report_html, to_docx
from spiders.demo.portals import Portal, _article, _page, make_reports
from spiders.demo.server import Page, Request, Site

Links = Callable[[Site, GenReport, int], list[tuple[str, str]]]  # a report page's attachments: (href, text)


def _column(style: str, seed: int, years: list[int], robots: str,
            attachments: Links | None = None) -> tuple[Portal, list[str]]:
    """A front page, a 年报 column and a report page per year (``attachments(site, rep, i)`` gives each
    page's (href, text) links); return the portal and the report pages' paths."""
    agency = agency_name(seed)
    site = Site(name=f"{style}-{seed}")
    p = Portal(f"{style}-{seed}", style, agency, site, make_reports(seed, years, agency))
    site.add("/robots.txt", Page(robots.encode(), "text/plain"))
    site.add("/", Page(_page(f"{agency}门户网站", '<div class="nav"><a href="/zwgk/nb/">政府信息公开年报</a></div>')))
    paths, items = [], []
    for i, rep in enumerate(p.reports):
        path = f"/zwgk/nb/{rep.year + 1}/c{seed}{rep.year}.html"
        links = attachments(site, rep, i) if attachments else []
        site.add(path, Page(_page(rep.title, _article(rep, links, 'class="article-content"', report_html(rep)))))
        paths.append(path)
        items.append(f'<li><a href="{path}">{html.escape(rep.title)}</a><span>{rep.year + 1}-01-20</span></li>')
    site.add("/zwgk/nb/", Page(_page("政府信息公开年报", f'<ul class="list">{"".join(items)}</ul>')))
    return p, paths


def build_crawl_delay(seed: int, years: list[int], *, crawl_delay: float | None = None) -> Portal:
    """A report column whose robots.txt asks every user agent for ``crawl_delay`` seconds between
    requests (None: robots.txt asks nothing)."""
    robots = "User-agent: *\nDisallow: /private/\n" + (f"Crawl-delay: {crawl_delay:g}\n" if crawl_delay else "")
    return _column("crawl-delay", seed, years, robots)[0]


def build_retry_after(seed: int, years: list[int], *, times: int = 2, retry_after: str = "2",
                      status: int = 429) -> Portal:
    """A report column whose first report page answers ``status`` with ``Retry-After: retry_after`` to
    its first ``times`` requests, then is served as usual."""
    p, paths = _column("retry-after", seed, years, "User-agent: *\nDisallow: /private/\n")
    page = p.site.pages[paths[0]]
    lock, asked = threading.Lock(), [0]

    def busy(req: Request) -> Page:
        with lock:
            asked[0] += 1
            n = asked[0]
        if n <= times:
            return Page("<html><body><h1>访问过于频繁，请稍后再试</h1></body></html>".encode(), status=status,
                        headers=[("Retry-After", retry_after)], conditional=False)
        return page

    p.site.add(paths[0], busy)
    return p


def build_download_jsp(seed: int, years: list[int]) -> Portal:
    """Report pages (with ETag and Last-Modified) whose attachments are ``/download.jsp?id=N``: named only
    by ``Content-Disposition``'s ``filename*``, without validators, never answering 304."""
    def attachments(site: Site, rep: GenReport, i: int) -> list[tuple[str, str]]:
        name = f"{rep.title}.docx"
        href = f"/download.jsp?id={seed * 100 + i}"
        site.add(href, Page(to_docx(rep), "application/octet-stream", validators=False, headers=[
            ("Content-Disposition", f"attachment; filename*=UTF-8''{quote(name)}")]))
        return [(href, name)]

    return _column("download-jsp", seed, years, "User-agent: *\nDisallow: /private/\n", attachments)[0]


def build_brief(seed: int, years: list[int]) -> Portal:
    """A report column whose report pages carry the report's title and one line, no report: the spider
    follows them as reports, the archive makes none of them (``expected`` still names what was linked)."""
    p, paths = _column("brief", seed, years, "User-agent: *\nDisallow: /private/\n")
    for path, rep in zip(paths, p.reports, strict=True):
        p.site.add(path, Page(_page(rep.title, f"<h1>{html.escape(rep.title)}</h1><p>全文见附件。</p>")))
    return p
