"""``nianbao demo``: simulated portals on loopback, crawled into a fresh archive, twice.

Nine portals in the styles real ones are built in (a plain static site with traps, a GBK TRS site, a
Hanweb datastore column, a list filled by script from a JSON API, a site behind a 412 challenge, a TRS
集约化 column paged through its search API, an older Hanweb column whose records are a script array, a
广东 gkmlpt app addressed by fragment, a list paged by a script pager that only a browser can click),
each on its own host from 127.0.0.2, with reports as HTML pages and PDF, DOCX, DOC and scanned-PDF
attachments. The first crawl finds and archives them; the second asks again with If-None-Match and
stores nothing new.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from rich.console import Console

from archive import Archive
from crawler.portals import scopes
from crawler.run import CrawlSummary, PortalResult, crawl_in_subprocess
from crawler.summary import print_crawl_summary
from spiders.demo.platforms import BUILDERS as PLATFORMS
from spiders.demo.portals import Portal, build
from spiders.demo.scripted import build_pager
from spiders.demo.server import PortalServer
from spiders.profiles import PortalProfile

DEMO_PORT = 8802  # fixed, so a second `nianbao demo` revisits the same URLs
PORTALS = (("static", 1, [2019, 2020, 2021, 2022, 2023], {"scanned": True}),
           ("trs", 2, [2020, 2021, 2022, 2023], {}), ("hanweb", 3, [2021, 2022, 2023], {}),
           ("jsonapi", 4, [2021, 2022, 2023], {}), ("challenge", 5, [2022, 2023], {}),
           ("trsapi", 6, [2021, 2022, 2023], {}), ("jpage", 7, [2022, 2023], {}),
           ("gkmlpt", 8, [2021, 2022, 2023], {}), ("pager", 9, [2022, 2023], {}))


def demo_portals(small: bool = False) -> list[Portal]:
    """The demo's portals (``small``: fewer years and no scanned PDF, for quick tests)."""
    out = []
    for style, seed, years, kw in PORTALS:
        if small:
            years, kw = years[-2:], {}
        maker = PLATFORMS.get(style) or (build_pager if style == "pager" else None)
        out.append(maker(seed, years, **kw) if maker else build(style, seed, years, **kw))
    return out


def serve(portals: list[Portal], first_host: int = 2, port: int = DEMO_PORT) -> list[PortalServer]:
    servers = []
    for i, p in enumerate(portals):
        host = f"127.0.0.{first_host + i}"
        try:
            servers.append(PortalServer(p.site, host=host, port=port).start())
        except OSError:  # the port is taken on this host: any free one will do
            servers.append(PortalServer(p.site, host=host, port=0).start())
    return servers


def summary_from(data: dict) -> CrawlSummary:
    return CrawlSummary(**{**data, "portals": [PortalResult(**p) for p in data["portals"]]})


def run_demo(archive_dir: Path, *, console: Console | None = None, browser: str = "auto",
             small: bool = False, progress: bool = True) -> dict:
    console = console or Console()
    console.print("building the simulated portals (the first time, LibreOffice makes their PDF and DOC files; "
                  "they are cached afterwards)…")
    portals = demo_portals(small)
    servers = serve(portals)
    try:
        profiles = [PortalProfile(name=p.name, agency=p.agency, start_urls=[s.url + "/"], delay=0.1)
                    for p, s in zip(portals, servers, strict=True)]
        for p, s in zip(portals, servers, strict=True):
            console.print(f"  {p.name:<14} {s.url}/  ({p.style}, {len(p.reports)} reports)")
        console.print(f"crawling into [bold]{archive_dir}[/bold]…")
        kw = {"browser": browser, "progress": progress, "patience_ms": 30_000,
              "overrides": {"AUTOTHROTTLE_START_DELAY": 0.1}}
        first = summary_from(crawl_in_subprocess(archive_dir, profiles, **kw))
        print_crawl_summary(console, first)
        bytes_first = sum(p.site.bytes_sent() for p in portals)
        for p in portals:
            p.site.hits.clear()
        console.print("crawling again: unchanged pages answer 304 and nothing new is stored…")
        second = summary_from(crawl_in_subprocess(archive_dir, profiles, **kw))
        bytes_second = sum(p.site.bytes_sent() for p in portals)
        console.print(f"second crawl: {second.responses} responses, {second.not_modified} not modified, "
                      f"{second.new_blobs} new originals; {bytes_second:,} bytes transferred against "
                      f"{bytes_first:,} the first time")
        with Archive.open(archive_dir) as a:
            stats, ok = a.stats(), a.verify().ok
            verdicts = a.coverage(scopes(profiles))
        found = {(r.agency, r.year) for p in portals for r in p.reports}
        console.print(f"verify: {'OK' if ok else 'PROBLEMS'}; the archive holds {stats['reports']} reports "
                      f"({len(found)} published), {stats['documents']} documents, {stats['captures']} captures")
        counts = Counter(v.status for v in verdicts)
        console.print("compliance (was each year's report published by its deadline?): "
                      + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
        where = archive_dir
        console.print("next:\n"
                      f"  nianbao reports --archive {where}          # one line per report\n"
                      f"  nianbao show 1 --archive {where}           # a report's tables, checks, documents\n"
                      f"  nianbao export --format csv --archive {where} -o cells.csv\n"
                      f"  nianbao portals add URL --archive {where}  # then `nianbao schedule start` harvests it\n"
                      f"  datasette serve {where}/catalog.db         # browse and query it in a web page")
        return {"first": first.as_dict(), "second": second.as_dict(), "bytes_first": bytes_first,
                "bytes_second": bytes_second, "stats": stats, "verify_ok": ok,
                "expected": sorted(found), "portals": portals, "coverage": [v.as_dict() for v in verdicts]}
    finally:
        for s in servers:
            s.stop()
