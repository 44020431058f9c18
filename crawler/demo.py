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

DEMO_DIR = Path("nianbao-demo")
# The demo writes only an archive it made itself: this file marks one (a user's real archive has none).
DEMO_MARK = "NIANBAO-DEMO"
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


class NotDemoArchive(Exception):
    """The directory given to the demo holds something else (a real archive, other files): left untouched."""


def claim(archive_dir: Path) -> None:
    """Make ``archive_dir`` the demo's own, or refuse: the demo crawls simulated portals, and their
    reports must never land in a user's real archive (``$NIANBAO_ARCHIVE`` is not read for the demo)."""
    mark = archive_dir / DEMO_MARK
    if archive_dir.exists() and not archive_dir.is_dir():
        raise NotDemoArchive(f"{archive_dir} is a file, not a directory the demo can use")
    if archive_dir.is_dir() and any(archive_dir.iterdir()) and not mark.exists() and not _demo_made(archive_dir):
        raise NotDemoArchive(f"{archive_dir} is not empty and was not made by `nianbao demo` (it has no "
                             f"{DEMO_MARK} file); the demo writes only its own archive: give it a new directory "
                             f"with --archive, or leave --archive out to use ./{DEMO_DIR}")
    archive_dir.mkdir(parents=True, exist_ok=True)
    mark.write_text("An archive made by `nianbao demo` from simulated portals: its reports are not real.\n",
                    encoding="utf-8")


def _demo_made(archive_dir: Path) -> bool:
    """An archive an earlier demo made before it marked its archives: its captures are all from loopback
    hosts, with at least one."""
    try:
        with Archive.open(archive_dir, readonly=True) as a:
            hosts = a.hosts()
    except Exception:  # not an archive at all (or not one we can read): not the demo's
        return False
    return bool(hosts) and all(h.split(":")[0].startswith("127.") for h in hosts)


def example_report(archive_dir: Path) -> str:
    """A report the archive holds, as `nianbao show` takes it (机关/年度), for the hints printed after the demo."""
    with Archive.open(archive_dir, readonly=True) as a:
        rows = a.reports()
    best = max(rows, key=lambda r: (r["year"] or 0, r["agency"] or ""), default=None)
    return f"{best['agency']}/{best['year']}" if best and best["agency"] and best["year"] else "1"


def run_demo(archive_dir: Path = DEMO_DIR, *, console: Console | None = None, browser: str = "auto",
             small: bool = False, progress: bool = True) -> dict:
    console = console or Console()
    claim(archive_dir)
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
        where, example = archive_dir, example_report(archive_dir)
        console.print("next:\n"
                      f"  nianbao reports --archive {where}          # one line per report\n"
                      f"  nianbao show {example} --archive {where}   # a report's tables, checks, documents\n"
                      f"  nianbao export --format csv --archive {where} -o cells.csv\n"
                      f"  nianbao portals add URL --archive {where}  # then `nianbao schedule start` harvests it\n"
                      f"  datasette serve {where}/catalog.db         # browse and query it in a web page")
        return {"first": first.as_dict(), "second": second.as_dict(), "bytes_first": bytes_first,
                "bytes_second": bytes_second, "stats": stats, "verify_ok": ok,
                "expected": sorted(found), "portals": portals, "coverage": [v.as_dict() for v in verdicts]}
    finally:
        for s in servers:
            s.stop()
