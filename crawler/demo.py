"""``nianbao demo``: serve the bundled demo portal on loopback, harvest it twice, show the archive.

The first pass fetches every page and attachment; the second asks again with If-None-Match and
stores nothing new. Until the Scrapy spider lands (the crawler issue), the fetching here is a plain
breadth-first walk with http.client, which hands the archive the bytes exactly as received.
"""

from __future__ import annotations

import gzip
import http.client
from collections import deque
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import lxml.html
from rich.console import Console
from rich.table import Table

from archive.archive import Archive
from archive.capture import Capture, Headers, RedirectHop
from archive.writer import ArchiveWriter
from spiders.demo.server import PortalServer
from spiders.demo.sites import demo_site

USER_AGENT = "nianbao-demo/0.1 (+https://github.com/nianbao)"
MAX_REDIRECTS = 5


def fetch(url: str, extra: Headers | None = None) -> Capture:
    """One GET with redirects followed by hand, so every hop and the raw body are kept."""
    hops: list[RedirectHop] = []
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        req: Headers = [("Host", parts.netloc), ("User-Agent", USER_AGENT), ("Accept", "*/*"),
                        ("Accept-Encoding", "gzip"), *(extra or [])]
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=20)
        try:
            conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers=dict(req))
            resp = conn.getresponse()
            raw = resp.read()
            headers = resp.getheaders()
        finally:
            conn.close()
        if resp.status in (301, 302, 303, 307, 308) and resp.getheader("Location"):
            hops.append(RedirectHop(url, resp.status, headers))
            url = urljoin(url, resp.getheader("Location"))
            continue
        decoded = gzip.decompress(raw) if resp.getheader("Content-Encoding") == "gzip" else raw
        return Capture(url=hops[0].url if hops else url, final_url=url, body=decoded,
                       raw_body=raw if decoded is not raw else None, status=resp.status, reason=resp.reason,
                       headers=headers, request_headers=req, redirects=hops, ip_address=parts.hostname)
    raise OSError(f"more than {MAX_REDIRECTS} redirects from {url}")


def links(cap: Capture) -> list[tuple[str, str]]:
    if "html" not in (cap.content_type or "") or not cap.body.read().strip():
        return []
    root = lxml.html.document_fromstring(cap.body.read())
    out = []
    for a in root.iter("a"):
        href = a.get("href")
        if href and not href.startswith(("javascript:", "mailto:", "#")):
            out.append((urldefrag(urljoin(cap.final_url, href))[0], " ".join(a.text_content().split())))
    return out


def harvest(writer: ArchiveWriter, start: str, *, conditional: dict[str, Headers] | None = None) -> int:
    """Breadth-first over one host; returns the number of responses."""
    host = urlsplit(start).netloc
    queue: deque[tuple[str, str | None, str | None]] = deque([(start, None, None)])
    seen = {start}
    n = 0
    while queue:
        url, referrer, text = queue.popleft()
        cap = fetch(url, (conditional or {}).get(url))
        cap.referrer, cap.link_text = referrer, text
        added = writer.add(cap)
        n += 1
        if cap.status == 304:
            if not added.sha256:
                continue
            # Not modified: walk the links of the copy we already hold.
            cap = Capture(url=cap.url, final_url=cap.final_url, body=writer.store.read(added.sha256),
                          headers=[("Content-Type", "text/html")] if added.kind == "html" else [])
        for link, link_text in links(cap):
            if urlsplit(link).netloc == host and link not in seen:
                seen.add(link)
                queue.append((link, url, link_text))
    return n


def validators(archive: Archive) -> dict[str, Headers]:
    """If-None-Match / If-Modified-Since per URL from the last capture."""
    out: dict[str, Headers] = {}
    for r in archive.catalog.rows("""SELECT final_url, etag, last_modified FROM captures WHERE id IN
                                     (SELECT max(id) FROM captures WHERE status = 200 GROUP BY final_url)"""):
        h: Headers = []
        if r["etag"]:
            h.append(("If-None-Match", r["etag"]))
        if r["last_modified"]:
            h.append(("If-Modified-Since", r["last_modified"]))
        out[r["final_url"]] = h
    return out


DEMO_PORT = 8802  # fixed, so a second `nianbao demo` revisits the same URLs


def run_demo(archive_dir: Path, *, host: str = "127.0.0.2", port: int = DEMO_PORT,
             console: Console | None = None) -> dict:
    console = console or Console()
    site = demo_site()
    try:
        server = PortalServer(site, host=host, port=port)
    except OSError:  # the port is taken: any free one will do
        server = PortalServer(site, host=host, port=0)
    with server, Archive.open(archive_dir) as archive:
        console.print(f"demo portal at [bold]{server.url}/[/bold]; archive in [bold]{archive.path}[/bold]")
        with archive.writer(kind="crawl", portals=[server.url]) as w:
            first = harvest(w, server.url + "/")
        s1 = w.stats
        console.print(f"first harvest: {first} responses, {s1.new_blobs} new originals, "
                      f"{s1.new_documents} new documents, {s1.new_reports} new reports")
        bytes_first = sum(h.bytes for h in site.hits)
        site.hits.clear()
        with archive.writer(kind="crawl", portals=[server.url]) as w:
            second = harvest(w, server.url + "/", conditional=validators(archive))
        s2 = w.stats
        bytes_second = sum(h.bytes for h in site.hits)
        console.print(f"second harvest (conditional): {second} responses, {s2.not_modified} not modified, "
                      f"{s2.new_blobs} new originals; {bytes_second:,} bytes transferred vs {bytes_first:,}")
        rows = archive.reports()
        t = Table(title="reports in the archive")
        for col in ("id", "agency", "year", "template", "documents", "kinds", "revisions"):
            t.add_column(col)
        for r in rows:
            t.add_row(str(r["id"]), r["agency"] or "?", str(r["year"]), r["template"], str(r["documents"]),
                      r["kinds"], str(r["revisions"]))
        console.print(t)
        res = archive.verify()
        stats = archive.stats()
        console.print(f"verify: {'OK' if res.ok else 'PROBLEMS'} ({res.blobs_checked} blobs re-hashed); "
                      f"{stats['captures']} captures, {stats['blobs']} blobs, {stats['warc_files']} WARC file(s)")
        console.print(f"next: [bold]nianbao show 1 --archive {archive.path}[/bold], "
                      f"[bold]nianbao export --format csv --archive {archive.path}[/bold]")
        return {"first": first, "second": second, "reports": len(rows), "verify_ok": res.ok, "stats": stats,
                "bytes_first": bytes_first, "bytes_second": bytes_second, "new_blobs_second": s2.new_blobs}
