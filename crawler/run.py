"""Run a crawl of some portals into an archive, and summarise what it found.

``crawl()`` runs Scrapy in this process (its reactor cannot be restarted, so once per process);
``crawl_in_subprocess()`` runs it in a fresh one, for callers that crawl more than once (the demo,
the scheduler, tests). A crawl resumes an interrupted one of the same portals: what that run archived
is served from the archive instead of the network.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

from archive import Archive
from archive.ingest.writer import recover_archive
from crawler import settings as crawl_settings
from spiders.listing import shortfall
from spiders.profiles import PortalProfile

SKIP_REASONS = ("Forbidden by robots.txt", "off-site", "over the budget", "too many")


@dataclass
class PortalResult:
    name: str
    hosts: list[str]
    responses: int = 0
    reports: dict[str, list[str]] = field(default_factory=dict)  # year -> agencies, all the archive holds
    new_reports: int = 0
    documents: dict[str, int] = field(default_factory=dict)  # kind -> count
    unassigned: dict[str, int] = field(default_factory=dict)  # why a document is in no report -> how many
    blocked: list[dict] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)  # no response, or an HTTP error status
    skipped: list[dict] = field(default_factory=list)  # robots.txt, off-site, trap and budget limits
    challenges_passed: int = 0  # pages behind an anti-bot challenge the browser got through
    browser_kept_out: dict[str, int] = field(default_factory=dict)  # other host -> requests the browser was kept from
    browser_redirected_out: dict[str, int] = field(default_factory=dict)  # other host -> server redirects it followed
    lists: list[dict] = field(default_factory=list)  # report lists not read in full, or short of their total
    years_without: list[int] = field(default_factory=list)  # due years, from the first found, with no report

    # hosts that asked the crawl to slow down: {host, answers (429/503), retry_after_max, waited_max,
    # crawl_delay (robots.txt's), floor_s (the least gap the host ended with, None if never raised)}
    throttled: list[dict] = field(default_factory=list)

    @property
    def left_behind(self) -> list[str]:
        """What this portal's crawl left behind, in words (empty when nothing was)."""
        out = []
        if n := sum(1 for x in self.lists if shortfall(x) == "incomplete"):
            out.append(f"{n} list{'s' if n > 1 else ''} whose pager was not (fully) followed")
        if n := sum(1 for x in self.lists if shortfall(x) == "short"):
            out.append(f"{n} list{'s' if n > 1 else ''} shorter than the total it announces")
        if n := sum(self.unassigned.values()):
            out.append(f"{n} document{'s' if n > 1 else ''} in no report")
        if n := len(self.blocked):
            out.append(f"{n} page{'s' if n > 1 else ''} blocked")
        return out


@dataclass
class CrawlSummary:
    run_id: int | None
    status: str
    responses: int
    bytes: int
    new_blobs: int
    new_documents: int
    new_reports: int
    not_modified: int
    seconds: float
    resumed_from_archive: int
    portals: list[PortalResult]
    fetch_seconds: float = 0.0  # first response to last: the crawl's own pace, without start-up and close
    not_rechecked: int = 0  # attachments without validators kept from the archive (page unchanged, capture young)
    # other host -> requests of the crawl's pages in Chromium aborted for leaving their portal's scope
    browser_kept_out: dict[str, int] = field(default_factory=dict)
    browser_redirected_out: dict[str, int] = field(default_factory=dict)  # a server's redirect there, followed
    # Resource use of the crawl process and its parse workers, when it ran in a subprocess (KiB, seconds).
    peak_rss_kb: dict | None = None
    cpu_s: dict | None = None

    @property
    def crawled_anything(self) -> bool:
        return self.responses > 0 or self.resumed_from_archive > 0

    def as_dict(self) -> dict:
        return asdict(self)


def crawl(archive_dir: Path | str, portals: list[PortalProfile], *, browser: str = "auto",
          overrides: dict | None = None, progress: bool = True, patience_ms: int = 45_000) -> CrawlSummary:
    """Crawl the portals into the archive; return the summary of the run."""
    from scrapy.crawler import CrawlerProcess

    from crawler.concurrency import raise_open_files_limit
    from spiders.disclosure import DisclosureSpider

    raise_open_files_limit()  # before the settings, which size the crawl's requests in flight to it
    started = time.monotonic()  # the summary's time is the whole command's: start-up, crawl, parsing, index
    archive_dir = Path(archive_dir)
    with Archive.open(archive_dir) as a:
        recover_archive(a)
        resume = a.resumable_runs([p.name for p in portals])
    wants_browser = browser == "always" or (browser == "auto" and any(p.render != "never" for p in portals))
    use_browser = wants_browser and crawl_settings.browser_available()
    if wants_browser and not use_browser and browser == "always":
        raise RuntimeError("a browser was asked for, but neither Debian's chromium nor Playwright's own "
                           "Chromium is installed (`playwright install chromium`)")
    settings = crawl_settings.build(archive_dir, portals, browser=use_browser, resume_runs=resume,
                                    overrides={"NIANBAO_PROGRESS": progress, **(overrides or {})})
    process = CrawlerProcess({**settings, "LOG_INSTALL_ROOT_HANDLER": True})
    crawler = process.create_crawler(DisclosureSpider)
    process.crawl(crawler, portals=portals, browser=use_browser, patience_ms=patience_ms)
    # Starting the crawl put the root logger at NOTSET and filters in the handler: every "Crawled (200)"
    # record and charset-normalizer's per-encoding traces would be built and then dropped (a tenth of the
    # reactor's time). Filter at the loggers instead, after Scrapy has installed its handler.
    logging.root.setLevel(settings["LOG_LEVEL"])
    logging.getLogger("scrapy").setLevel(settings["LOG_LEVEL"])
    for noisy in ("scrapy-playwright", "playwright", "asyncio"):  # their failures are in the summary
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    process.start()
    worker = getattr(crawler.spider, "archive_worker", None)
    if worker is not None and not worker.finished:
        # A forced shutdown (a second Ctrl-C) stops the reactor before the spider closes: close the
        # run here, or the writer process would keep this one from ever exiting.
        worker.finish("interrupted", {"reason": "forced shutdown"}, timeout=60)
    run_id = getattr(worker, "run_id", None)
    with Archive.open(archive_dir) as a:
        a.reindex(only_pending=True)  # what the crawl added becomes searchable
        summary = summarize(a, run_id, portals)
    summary.seconds = round(time.monotonic() - started, 1)
    return summary


def summarize(archive: Archive, run_id: int | None, portals: list[PortalProfile]) -> CrawlSummary:
    """The run's numbers (its row, written where it closed) and, per portal, what it fetched and found."""
    run = archive.run(run_id)
    stats = json.loads(run["stats"] or "{}") if run else {}
    results = []
    for p in portals:
        res = PortalResult(p.name, p.allowed_hosts)
        rows = archive.run_rows(run_id, p.allowed_hosts)
        mine, docs = rows.captures, rows.documents
        res.responses = len(mine)
        res.failed = [{"url": r["final_url"] or r["url"], "reason": f"HTTP {r['status']}"} for r in mine
                      if r["status"] and r["status"] >= 400 and not (r["final_url"] or "").endswith("/robots.txt")]
        for f in stats.get("failed", []):
            if f.get("portal") != p.name or f["reason"].startswith("blocked"):
                continue
            (res.skipped if f["reason"].startswith(SKIP_REASONS) else res.failed).append(
                {"url": f["url"], "reason": f["reason"]})
        blocked = [b for b in stats.get("blocked", []) if b.get("portal") == p.name]
        blocked += [f for f in stats.get("failed", [])
                    if f.get("portal") == p.name and f["reason"].startswith("blocked")]
        res.blocked = list({b["url"]: {"url": b["url"], "reason": b["reason"].removeprefix("blocked: ")}
                            for b in blocked}.values())
        res.throttled = [t for t in stats.get("throttled", []) if t["host"] in p.allowed_hosts]
        res.documents = dict(Counter(d["kind"] for d in docs))
        res.unassigned = dict(Counter(d["unassigned"] for d in docs if d["unassigned"]).most_common())
        years: dict[str, set[str]] = {}
        for d in docs:
            if d["year"] is not None:
                years.setdefault(str(d["year"]), set()).add(d["agency"] or "?")
        res.reports = {y: sorted(a) for y, a in sorted(years.items())}
        if years:
            res.years_without = [y for y in range(min(map(int, years)), last_due_year() + 1) if str(y) not in years]
        res.challenges_passed = len({x["url"] for x in stats.get("passed", []) if x.get("portal") == p.name})
        res.browser_kept_out = _hosts(x for x in stats.get("browser_kept_out", []) if x["portal"] == p.name)
        res.browser_redirected_out = _hosts(x for x in stats.get("browser_redirected_out", []) if x["portal"] == p.name)
        res.lists = [x for x in stats.get("lists", []) if x.get("portal") == p.name and shortfall(x)]
        results.append(res)
    status = run["status"] if run else "not started"
    if status == "ok" and any(r.left_behind for r in results):
        status = "incomplete"  # "ok" only when nothing was left behind (each portal says what)
    return CrawlSummary(
        run_id=run_id, status=status, responses=run["pages"] if run else 0,
        bytes=run["bytes"] if run else 0, new_blobs=run["new_blobs"] if run else 0,
        new_documents=run["new_documents"] if run else 0, new_reports=run["new_reports"] if run else 0,
        not_modified=run["not_modified"] if run else 0, seconds=stats.get("seconds", 0.0),
        fetch_seconds=stats.get("fetch_seconds", 0.0), resumed_from_archive=stats.get("resumed_from_archive", 0),
        not_rechecked=stats.get("not_rechecked", 0), portals=results,
        browser_kept_out=_hosts(stats.get("browser_kept_out", [])),
        browser_redirected_out=_hosts(stats.get("browser_redirected_out", [])))


def _hosts(rows) -> dict[str, int]:
    """Requests per host, most first, from ``{host, requests}`` rows (crawler/middlewares/browser_scope.py)."""
    out: Counter[str] = Counter()
    for r in rows:
        out[r["host"]] += r["requests"]
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))


def last_due_year(today: date | None = None) -> int:
    """The latest year whose report is due by now (the regulation's deadline: 31 January of the next year)."""
    today = today or date.today()
    return today.year - 1 if (today.month, today.day) > (1, 31) else today.year - 2


def summarize_runs(archive: Archive, runs: list[tuple[int | None, PortalProfile]], *, status: str = "ok",
                   seconds: float = 0.0) -> CrawlSummary:
    """One summary of several runs, each of one portal or a batch (what a distributed crawl imports)."""
    by_run: dict[int | None, list[PortalProfile]] = {}
    for run_id, p in runs:
        by_run.setdefault(run_id, []).append(p)
    # a batch's portals share one run: summarised together, so its totals count once
    parts = []
    for run_id, ps in by_run.items():
        parts += [summarize(archive, run_id, ps)] if run_id is not None else [summarize(archive, None, [p]) for p in ps]
    total = CrawlSummary(run_id=None, status=status, responses=0, bytes=0, new_blobs=0, new_documents=0,
                         new_reports=0, not_modified=0, seconds=seconds, resumed_from_archive=0, portals=[])
    for s in parts:
        for k in ("responses", "bytes", "new_blobs", "new_documents", "new_reports", "not_modified",
                  "resumed_from_archive", "not_rechecked"):
            setattr(total, k, getattr(total, k) + getattr(s, k))
        total.portals += s.portals
        for k in ("browser_kept_out", "browser_redirected_out"):
            setattr(total, k, _hosts({"host": h, "requests": n} for x in (total, s) for h, n in getattr(x, k).items()))
        total.fetch_seconds = max(total.fetch_seconds, s.fetch_seconds)
    if total.status == "ok" and any(r.left_behind for r in total.portals):
        total.status = "incomplete"
    return total


def crawl_in_subprocess(archive_dir: Path | str, portals: list[PortalProfile], *, timeout: float | None = None,
                        **kwargs) -> dict:
    """Run :func:`crawl` in a fresh Python process (Scrapy's reactor runs once per process); return its
    summary as a dict. Progress goes to this process's stderr. Ctrl-C stops the crawl gracefully (what it
    fetched is saved), then raises KeyboardInterrupt here; past ``timeout`` it raises TimeoutExpired."""
    import subprocess

    from crawler.child import run_crawl_process

    rc, ended_by, data = run_crawl_process(archive_dir, portals, kwargs, timeout=timeout)
    if ended_by == "stop":
        raise KeyboardInterrupt
    if ended_by == "timeout":
        raise subprocess.TimeoutExpired([sys.executable, "-m", "crawler.run"], timeout)
    if data is None:
        raise RuntimeError(f"the crawl process ended with status {rc} before reporting")
    if not data["ok"]:
        raise RuntimeError(data["error"])
    return {**data["summary"], "peak_rss_kb": data.get("peak_rss_kb"), "cpu_s": data.get("cpu_s")}


def _stop_with_parent(parent: int) -> None:
    """Stop gracefully, once, when ``parent`` dies. The kernel's parent-death signal can come several
    times (once per thread of a multi-threaded parent as they exit), and a second SIGTERM makes Scrapy
    force an unclean shutdown; so it is SIGHUP here, turned into one SIGTERM to ourselves."""
    import signal

    from archive.examine.workers import die_with_parent

    fired = []

    def on_hup(signum, frame) -> None:
        if not fired:
            fired.append(True)
            os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGHUP, on_hup)
    die_with_parent(parent, sig=signal.SIGHUP)


def _main(argv: list[str]) -> int:
    """``python -m crawler.run --job JOB.json --result RESULT.json`` (what :mod:`crawler.child` runs)."""
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--job", required=True)
    ap.add_argument("--result", required=True)
    ap.add_argument("--parent", type=int, help="Stop gracefully (SIGTERM) when this process dies.")
    args = ap.parse_args(argv)
    if args.parent:
        _stop_with_parent(args.parent)
    job = json.loads(Path(args.job).read_text("utf-8"))
    try:
        summary = crawl(job["archive"], [PortalProfile(**p) for p in job["portals"]], **job["kwargs"])
        import resource

        # ru_maxrss is in KiB on Linux; CHILDREN is the largest reaped child (a parse worker).
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        out = {"ok": True, "summary": summary.as_dict(),
               "peak_rss_kb": {"crawler": me.ru_maxrss, "parsers": kids.ru_maxrss},
               "cpu_s": {"crawler": me.ru_utime + me.ru_stime, "parsers": kids.ru_utime + kids.ru_stime}}
    except Exception as e:  # reported to the parent in plain words
        out = {"ok": False, "error": f"{type(e).__name__}: {e}"}
    Path(args.result).write_text(json.dumps(out, ensure_ascii=False), "utf-8")
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
