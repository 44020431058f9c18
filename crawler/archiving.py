"""The bridge from Scrapy to the archive: every response becomes a capture, written off the reactor.

An extension (wired by settings) turns each response into a :class:`archive.Capture`, using the raw
status, headers and body :class:`crawler.middlewares.raw.RawResponseMiddleware` kept, and queues it
for :class:`archive.ingest.write_service.WriteService`: a writer process, which runs a lower-priority parse
process, so neither disk I/O nor parsing (CPU work, OCR) stalls the crawl or takes its interpreter
lock.
"""

from __future__ import annotations

import logging
import os
import sys
import time

from scrapy import signals
from scrapy.http import Request, Response
from twisted.internet import task

from archive import Capture, RedirectHop
from archive.capture import content_disposition_name, site_id_of
from archive.ingest.write_service import WriteService
from crawler.middlewares.browser_scope import FOLLOWED, kept_out
from crawler.middlewares.lookup import NOT_RECHECKED
from crawler.throttle import throttled_hosts

log = logging.getLogger(__name__)
# The crawl's numbers live in Scrapy's stats collector, under these names: what the writer process
# reports (its totals, by the names it gives them), and what the crawl counts itself.
WRITER_STATS = {"captures": "nianbao/archived", "new_blobs": "nianbao/new_originals",
                "not_modified": "nianbao/not_modified", "new_documents": "nianbao/new_documents",
                "new_reports": "nianbao/new_reports", "errors": "nianbao/errors", "reports": "nianbao/reports"}
PER_HOST = "nianbao/archived/"  # + host
RESUMED = "nianbao/resumed_from_archive"
NOT_RECHECKED_STAT = "nianbao/attachments_not_rechecked"  # kept from the archive: no validators, page unchanged
PULL_EVERY = 1.0  # seconds between looks at the writer's totals


def to_capture(response: Response, request: Request) -> Capture:
    """The exchange as the archive wants it: raw status and headers, the body before and after
    content decoding, the redirect hops, where the link was found and what it said."""
    raw = request.meta.get("nianbao_raw") or {}
    headers = raw.get("headers") or [(k.decode("latin-1"), v.decode("latin-1"))
                                      for k, vs in response.headers.items() for v in vs]
    status = raw.get("status", response.status)
    raw_body = raw.get("body")
    hops = [RedirectHop(h["url"], h["status"], h["headers"]) for h in request.meta.get("nianbao_hops", [])]
    first = request.meta.get("redirect_urls", [request.url])[0]
    referrer = request.headers.get("Referer")
    site_id = site_id_of(response.body[:8192])
    return Capture(
        site_id=site_id, url=first, final_url=response.url, body=b"" if status == 304 else response.body,
        raw_body=raw_body if raw_body is not None and raw_body is not response.body and raw_body != response.body
        and status != 304 else None,
        status=status, headers=headers, protocol=raw.get("protocol") or "HTTP/1.1", method=request.method,
        request_headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, vs in request.headers.items() for v in vs],
        request_body=request.body or b"", referrer=referrer.decode("latin-1") if referrer else None,
        link_text=request.meta.get("link_text"), redirects=hops, ip_address=raw.get("ip"),
        filename=content_disposition_name(headers), portal_agency=request.meta.get("portal_agency"))


class DrainProgress:
    """The parsing that goes on after the last page was fetched, on stderr: OCR and LibreOffice can
    take minutes, and a crawl that says nothing then looks hung. A line a second on a terminal (one
    rewritten in place), one every 30 s in a log."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.terminal = sys.stderr.isatty()
        self.last = 0.0
        self.shown = False

    def __call__(self, counts: dict) -> None:
        now = time.monotonic()
        if now - self.last < (1.0 if self.terminal else 30.0):
            return
        self.last, self.shown = now, True
        line = (f"[nianbao] {now - self.started:.0f}s: fetching done; parsing what it fetched: "
                f"{counts.get('parsed', 0):,} parsed, {counts.get('new_reports', 0):,} new reports so far")
        print(f"\r{line}" if self.terminal else line, end="" if self.terminal else "\n", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.shown and self.terminal:
            print(file=sys.stderr, flush=True)


class ArchiveExtension:
    """Scrapy extension: opens the archive's writer process with the spider, queues every response to it,
    closes it (a crawl that was stopped leaves unparsed originals pending, so Ctrl-C is not kept waiting).

    It keeps the crawl's numbers in the stats collector (its own, and the writer's totals as they come);
    the run's row gets the writer's totals and, from the stats, the pages resumed from the archive, the
    attachments not downloaded again, and the hosts that asked the crawl to slow down."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.archive_dir = crawler.settings.get("NIANBAO_ARCHIVE")
        # parse workers during the crawl: all cores but one, which the reactor keeps; all of them after it
        cores = os.cpu_count() or 2
        self.jobs = crawler.settings.getint("NIANBAO_PARSE_JOBS", max(1, cores - 1))
        self.drain_jobs = max(self.jobs, cores)
        self.worker: WriteService | None = None
        self.blocked: list[tuple[str, str | None, str]] = []
        self.passed: list[tuple[str, str | None, str]] = []  # challenges the browser got through
        self.pulling: task.LoopingCall | None = None
        self.started = time.monotonic()
        self.first_response = self.last_response = 0.0

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.response_received, signal=signals.response_received)
        return ext

    def spider_opened(self, spider) -> None:
        self.worker = WriteService(self.archive_dir, sorted(spider.portals), jobs=self.jobs, drain_jobs=self.drain_jobs)
        self.worker.start()
        spider.archive_worker = self.worker
        self.pulling = task.LoopingCall(self.pull)
        self.pulling.start(PULL_EVERY, now=False)

    def pull(self) -> None:
        """Bring the writer's totals so far into the stats (the live display reads them there)."""
        if self.worker is not None:
            self._record(self.worker.progress())

    def _record(self, counts: dict) -> None:
        for key, name in WRITER_STATS.items():
            self.stats.set_value(name, counts.get(key, 0))
        for host, n in (self.worker.per_host if self.worker else {}).items():
            self.stats.set_value(PER_HOST + host, n)

    def response_received(self, response: Response, request: Request, spider) -> None:
        self.last_response = time.monotonic()
        self.first_response = self.first_response or self.last_response
        if request.meta.get("nianbao_from_archive") == "resumed":
            self.stats.inc_value(RESUMED)
            return
        if request.meta.get("nianbao_from_archive") == NOT_RECHECKED:
            self.stats.inc_value(NOT_RECHECKED_STAT)
            return
        if request.meta.get("nianbao_blocked"):
            self.blocked.append((response.url, request.meta.get("portal"), request.meta["nianbao_blocked"]))
        elif request.meta.get("nianbao_challenge"):  # retried in the browser, and it got through
            self.passed.append((response.url, request.meta.get("portal"), request.meta["nianbao_challenge"]))
        if self.worker is not None:
            self.worker.put(to_capture(response, request))

    def spider_closed(self, spider, reason: str) -> None:
        if self.pulling is not None and self.pulling.running:
            self.pulling.stop()
        if self.worker is None:
            return
        status = "ok" if reason == "finished" else ("interrupted" if reason == "shutdown" else reason)
        for url, portal, why in getattr(spider, "failures", []):
            if "blocked" in why:
                self.blocked.append((url, portal, why))
        drain = DrainProgress(self.started) if self.crawler.settings.getbool("NIANBAO_PROGRESS", True) else None
        result = self.worker.finish(status, {
            "blocked": [{"url": u, "portal": p, "reason": r} for u, p, r in self.blocked],
            "passed": [{"url": u, "portal": p, "reason": r} for u, p, r in self.passed],
            "failed": [{"url": u, "portal": p, "reason": r} for u, p, r in getattr(spider, "failures", [])],
            "lists": spider.ledger.as_list() if hasattr(spider, "ledger") else [],
            "resumed_from_archive": self.stats.get_value(RESUMED, 0), "reason": reason,
            "not_rechecked": self.stats.get_value(NOT_RECHECKED_STAT, 0),
            "throttled": throttled_hosts(self.stats.get_stats()),
            "browser_kept_out": kept_out(self.stats.get_stats()),
            "browser_redirected_out": kept_out(self.stats.get_stats(), FOLLOWED),
            "seconds": round(time.monotonic() - self.started, 1),
            "fetch_seconds": round(self.last_response - self.first_response, 3)}, on_progress=drain)
        if drain is not None:
            drain.done()
        self._record({**result.get("counts", {}), "reports": len(result.get("reports", []))})
        if result.get("error"):
            log.error("%s", result["error"])
