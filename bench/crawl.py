"""Crawl throughput of the full pipeline against Scrapy's own floor, and peak memory as portals grow.

    .venv/bin/python bench/crawl.py [--portals 25,50,100] [--filler 40] [--rounds 1]

100 simulated portals (half plain static sites, a quarter GBK TRS sites, a quarter Hanweb datastore
columns; three years of reports each, every report an HTML page plus a PDF), each on its own loopback
host from 127.0.0.2. For each portal count, in the same run:

- full: ``nianbao crawl`` as users run it (discovery, pagination, scope and challenge checks, archive
  lookup, raw capture, blob + WARC + catalog writes, parsing in background workers), in a fresh archive;
- floor: a fetch-only Scrapy spider that replays exactly the HTTP requests the full crawl made (same
  methods, URLs and POST bodies, redirects not followed, every status accepted), with the same
  politeness settings (robots.txt, 2 per host, the crawl's PoliteThrottle, the same cap in flight) and nothing done with
  the bodies.

The politeness floor is 0 s on both sides, for this benchmark only: every portal's delay, DOWNLOAD_DELAY and
AUTOTHROTTLE_START_DELAY are 0 (checked, and said in the output), so the throttle follows the loopback
servers' latency alone. Real crawls keep each host's delay as a floor (crawler/throttle.py).

pages/s is responses over the time from the first response to the last, in both (start-up, such as
starting the writer and parse processes, and closing are left out of both); the wall time with
start-up and the parse drain is printed beside it. Peak memory is the crawl
process's maximum RSS (and the largest parse worker's). Ratios are full/floor; no absolute time is
asserted anywhere, the machine is shared.

Figures (2 cores shared with other people's test runs: one run each, ratios noisy by +-0.2 between runs),
before and after the crawl changes of this branch (parse workers on idle CPU, parsel's Selector, an offsite
check by set):

    before  25 portals: full  92.8 p/s, floor 183.4 p/s, ratio 0.51; RSS 223 MB (floor 224)
    before 100 portals: full 100.1 p/s, floor 314.7 p/s, ratio 0.32; RSS 227 MB (floor 233)
            (other runs at 100 that day: 0.40 to 0.64)
    after   25 portals: ratio 1.16 and 0.71 (full 300.2 / 226.6 p/s); RSS 226 MB (floor 231-232)
    after  100 portals: ratio 0.71 and 0.63 (full 211.7 / 240.4 p/s); RSS 233-234 MB (floor 241)

Later runs of unchanged code (2026-12-02, same machine) gave 0.99, then 0.69 (median of 3 rounds) at 25
portals, and 0.51 to 0.79 at 100 (0.79 the median of 3 rounds): both sides swing (the floor from 405 to 699
p/s), so one run proves little either way; --rounds 3 or more. In those runs the crawl's reactor thread was
CPU-bound (0.9 of a core against the replay's 0.97-1.0), the spider's parse cost 0.19 ms a page in a replay of
its 2925 pages, and the capture queue's feeder thread 0.4 s in all.

Peak RSS does not grow with the portal count (1.03x for 4x the portals; under the floor's per portal).
The goal of 0.80 at 100 portals is not reached on this machine. Where the rest goes, from py-spy of the
crawl's reactor thread against the replay's in one run at 100 portals: busy 26 s against 14 s; the
spider's own parse 3.1 s (lxml parsing 0.8 s, link extraction 1.0 s), Scrapy's handling of the requests it
yields (spider middlewares, scheduler, fingerprints) about 2.5 s, our downloader middlewares 1.4 s (charset
0.5, raw capture 0.5, challenge 0.2, scope 0.2), the archive extension 0.75 s (capture 0.5, queueing 0.2); the
rest is the same Scrapy work as the replay's, running about 1.5x slower per call (socket reads 5.3 s against
3.3 s) because the crawl shares the two cores with its writer, the portal servers and other processes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler import settings as crawl_settings
from crawler.run import crawl_in_subprocess
from spiders.demo.generator import agency_name, libreoffice_many, to_docx
from spiders.demo.portals import Portal, build, make_reports
from spiders.demo.server import PortalServer
from spiders.profiles import PortalProfile

YEARS = [2021, 2022, 2023]
STYLES = ("static", "trs", "static", "hanweb")  # half static, a quarter each TRS and Hanweb


def build_portals(n: int, filler: int) -> list[Portal]:
    """``n`` portals; static ones carry ``filler`` extra column entries so the total nears 30 pages each."""
    # every PDF in one LibreOffice batch first (one start-up, not one per portal); building then hits the cache
    libreoffice_many([to_docx(r) for i in range(n) for r in make_reports(1000 + i, YEARS, agency_name(1000 + i))],
                     "pdf")
    out = []
    for i in range(n):
        style = STYLES[i % len(STYLES)]
        kw = {"traps": False, "office": False, "filler": filler, "per_page": 10} if style == "static" else {}
        out.append(build(style, 1000 + i, YEARS, **kw))
    return out


def profiles_for(portals: list[Portal], servers: list[PortalServer], delay: float = 0.0) -> list[PortalProfile]:
    return [PortalProfile(name=p.name, agency=p.agency, start_urls=[s.url + "/"], delay=delay, render="never")
            for p, s in zip(portals, servers, strict=True)]


NO_FLOOR = ("politeness floor set to 0 s for this benchmark only (every portal's delay, DOWNLOAD_DELAY and "
            "AUTOTHROTTLE_START_DELAY, in the full crawl and the replay alike); real crawls keep each host's delay")


def check_politeness(settings: dict, delay: float = 0.0) -> None:
    """The bench's promise: the same delay floor for every host (0 unless --delay), and the same throttle
    on both sides."""
    delays = {c["delay"] for c in settings["DOWNLOAD_SLOTS"].values()}
    assert delays <= {delay}, delays
    assert float(settings.get("DOWNLOAD_DELAY", 0.0)) == 0.0 and float(settings["AUTOTHROTTLE_START_DELAY"]) == delay
    assert settings["EXTENSIONS"].get("crawler.throttle.PoliteThrottle") is not None


def replay_requests(portals: list[Portal], servers: list[PortalServer]) -> list[dict]:
    """Every request the servers answered, in order, robots.txt left out (Scrapy asks for it itself)."""
    out = []
    for p, s in zip(portals, servers, strict=True):
        for h in p.site.hits:
            if h.path != "/robots.txt":
                out.append({"method": h.method, "url": s.url + h.path, "body": h.body.decode("latin-1"),
                            "ctype": h.headers.get("content-type")})
    return out


def fetch_only(job_path: str, result_path: str) -> None:
    """The floor (run in its own process): replay the requests with the full crawl's settings, keep nothing."""
    import resource

    import scrapy
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    job = json.loads(Path(job_path).read_text("utf-8"))
    profiles = [PortalProfile(**p) for p in job["profiles"]]
    settings = crawl_settings.build(Path(job["archive"]), profiles, browser=False, resume_runs=[])
    settings.pop("DOWNLOADER_MIDDLEWARES")
    # the same throttle as the full crawl (PoliteThrottle, not Scrapy's AutoThrottle); the archive and display go
    settings["EXTENSIONS"] = {k: v for k, v in settings["EXTENSIONS"].items()
                              if k not in ("crawler.archiving.ArchiveExtension", "crawler.live.LiveProgress")}
    check_politeness(settings, job["delay"])
    settings.update({"REDIRECT_ENABLED": False, "HTTPERROR_ALLOW_ALL": True, "RETRY_ENABLED": False})
    counts = {"responses": 0, "bytes": 0, "opened": 0.0, "closed": 0.0, "first": 0.0, "last": 0.0}

    class FetchOnly(scrapy.Spider):
        name = "fetch-only"

        @classmethod
        def from_crawler(cls, crawler, *args, **kwargs):
            spider = super().from_crawler(crawler, *args, **kwargs)
            crawler.signals.connect(spider.opened, signal=signals.spider_opened)
            crawler.signals.connect(spider.closed_at, signal=signals.spider_closed)
            return spider

        def opened(self, spider) -> None:
            counts["opened"] = time.monotonic()

        def closed_at(self, spider, reason) -> None:
            counts["closed"] = time.monotonic()

        async def start(self):
            for r in job["requests"]:
                headers = {"Content-Type": r["ctype"]} if r["ctype"] else {}
                yield scrapy.Request(r["url"], method=r["method"], body=r["body"].encode("latin-1"),
                                     headers=headers, dont_filter=True, callback=self.parse)

        def parse(self, response):
            counts["last"] = time.monotonic()
            counts["first"] = counts["first"] or counts["last"]
            counts["responses"] += 1
            counts["bytes"] += len(response.body)

    process = CrawlerProcess(settings)
    process.crawl(FetchOnly)
    process.start()
    me = resource.getrusage(resource.RUSAGE_SELF)
    Path(result_path).write_text(json.dumps({**counts, "seconds": counts["last"] - counts["first"],
                                             "peak_rss_kb": me.ru_maxrss, "cpu_s": me.ru_utime + me.ru_stime}))


def run_floor(archive: Path, profiles: list[PortalProfile], requests: list[dict], delay: float = 0.0) -> dict:
    from dataclasses import asdict

    with tempfile.TemporaryDirectory(prefix="nianbao-bench-") as tmp:
        job, result = Path(tmp, "job.json"), Path(tmp, "result.json")
        job.write_text(json.dumps({"archive": str(archive), "profiles": [asdict(p) for p in profiles],
                                   "requests": requests, "delay": delay}))
        subprocess.run([sys.executable, __file__, "--fetch-only", str(job), str(result)], check=True)
        return json.loads(result.read_text())


def measure(n: int, portals: list[Portal], servers: list[PortalServer], root: Path, round_: int,
            delay: float = 0.0) -> dict:
    mine, sv = portals[:n], servers[:n]
    for p in mine:
        p.site.hits.clear()
    profiles = profiles_for(mine, sv, delay)
    archive = root / f"archive-{n}-{round_}"
    # what crawl() builds
    check_politeness(crawl_settings.build(archive, profiles, browser=False, resume_runs=[]), delay)
    t0 = time.monotonic()
    full = crawl_in_subprocess(archive, profiles, browser="never", progress=False)
    wall = time.monotonic() - t0
    requests = replay_requests(mine, sv)
    attachments = sum(1 for p in mine for h in p.site.hits if h.path.endswith(".pdf") or "/attach/" in h.path)
    reports = sum(len(ys) for r in full["portals"] for ys in r["reports"].values())
    floor = run_floor(root / "unused", profiles, requests, delay)
    return {"portals": n, "responses": full["responses"], "attachments": attachments, "reports_found": reports,
            "reports_published": sum(len(p.reports) for p in mine), "full_s": full["fetch_seconds"],
            "full_wall_s": wall,
            "full_rate": full["responses"] / full["fetch_seconds"], "floor_responses": floor["responses"],
            "floor_s": floor["seconds"], "floor_rate": floor["responses"] / floor["seconds"],
            "rss_mb": full["peak_rss_kb"]["crawler"] / 1024, "parser_rss_mb": full["peak_rss_kb"]["parsers"] / 1024,
            "floor_rss_mb": floor["peak_rss_kb"] / 1024,
            "cpu_ms": 1000 * full["cpu_s"]["crawler"] / full["responses"],
            "parse_cpu_ms": 1000 * full["cpu_s"]["parsers"] / full["responses"],
            "floor_cpu_ms": 1000 * floor["cpu_s"] / floor["responses"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--portals", default="25,50,100", help="portal counts to measure (comma-separated)")
    ap.add_argument("--filler", type=int, default=40, help="extra column entries per static portal")
    ap.add_argument("--rounds", type=int, default=1, help="repeat each count; the median is reported")
    ap.add_argument("--delay", type=float, default=0.0,
                    help="per-host politeness floor in seconds for both sides (default 0: the crawl bound by CPU; "
                         "1-2 s is what real crawls keep)")
    ap.add_argument("--fetch-only", nargs=2, metavar=("JOB", "RESULT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.fetch_only:
        fetch_only(*args.fetch_only)
        return
    counts = sorted(int(x) for x in args.portals.split(","))
    if counts[-1] > 250:
        raise SystemExit("at most 250 portals: each needs its own loopback address 127.0.0.2 … 127.0.0.251")
    t0 = time.monotonic()
    print(f"building {counts[-1]} portals (LibreOffice makes their PDFs the first time; cached afterwards)…",
          flush=True)
    portals = build_portals(counts[-1], args.filler)
    print(f"  built in {time.monotonic() - t0:.0f} s", flush=True)
    print(NO_FLOOR if args.delay == 0 else
          f"politeness floor {args.delay:g} s per host on both sides (profiles' delay and AUTOTHROTTLE_START_DELAY)",
          flush=True)
    servers = [PortalServer(p.site, host=f"127.0.0.{2 + i}", port=0).start() for i, p in enumerate(portals)]
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="nianbao-bench-crawl-") as tmp:
            for n in counts:
                runs = [measure(n, portals, servers, Path(tmp), r, args.delay) for r in range(args.rounds)]
                row = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                rows.append(row)
                print(f"{n:>4} portals: {row['responses']:.0f} responses ({row['attachments']:.0f} attachments), "
                      f"reports {row['reports_found']:.0f}/{row['reports_published']:.0f}; "
                      f"full {row['full_rate']:.1f} pages/s ({row['full_s']:.1f} s, "
                      f"{row['full_wall_s']:.1f} s with start-up and parse drain); "
                      f"floor {row['floor_rate']:.1f} pages/s ({row['floor_responses']:.0f} in "
                      f"{row['floor_s']:.1f} s); ratio {row['full_rate'] / row['floor_rate']:.2f}; "
                      f"peak RSS crawl {row['rss_mb']:.0f} MB, parse worker {row['parser_rss_mb']:.0f} MB, "
                      f"floor {row['floor_rss_mb']:.0f} MB; CPU per page: crawl process {row['cpu_ms']:.1f} ms "
                      f"(floor {row['floor_cpu_ms']:.1f} ms), parse workers {row['parse_cpu_ms']:.1f} ms",
                      flush=True)
    finally:
        for s in servers:
            s.stop()
    print("\nsummary")
    print(f"{'portals':>8} {'pages':>6} {'full p/s':>9} {'floor p/s':>10} {'ratio':>6} {'RSS MB':>7} "
          f"{'floor MB':>9} {'MB/portal over floor':>21}")
    for r in rows:
        print(f"{r['portals']:>8.0f} {r['responses']:>6.0f} {r['full_rate']:>9.1f} {r['floor_rate']:>10.1f} "
              f"{r['full_rate'] / r['floor_rate']:>6.2f} {r['rss_mb']:>7.0f} {r['floor_rss_mb']:>9.0f} "
              f"{(r['rss_mb'] - r['floor_rss_mb']) / r['portals']:>21.2f}")
    if len(rows) > 1:
        growth = rows[-1]["rss_mb"] / rows[0]["rss_mb"]
        print(f"peak RSS grew {growth:.2f}x while portals grew {rows[-1]['portals'] / rows[0]['portals']:.0f}x")


if __name__ == "__main__":
    main()
