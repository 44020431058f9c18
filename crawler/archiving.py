"""The bridge from Scrapy to the archive: every response becomes a capture, written off the reactor.

An extension (wired by settings) turns each response into a :class:`archive.Capture`, using the raw
status, headers and body :class:`crawler.middlewares.raw.RawResponseMiddleware` kept, and hands it
to a writer thread. New originals are parsed and placed by :class:`archive.parse_service.ParseService`
in a lower-priority process of its own, so neither disk I/O nor parsing (CPU work, OCR) stalls the
crawl or takes its interpreter lock.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import threading
import time
from collections import Counter
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.http import Request, Response

from archive import Archive, Capture, RedirectHop
from archive.capture import header
from archive.parse_service import ParseService

log = logging.getLogger(__name__)
STOP = object()
SITE_ID = re.compile(rb'name=["\']SiteIDCode["\']\s+content=["\']([0-9A-Za-z]+)')


def content_disposition_name(headers: list[tuple[str, str]]) -> str | None:
    from email.message import Message

    value = header(headers, "Content-Disposition")
    if not value:
        return None
    msg = Message()
    msg["content-disposition"] = value
    name = msg.get_filename()
    return name or None


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
    site_id = None
    if b"SiteIDCode" in response.body[:8192]:
        m = SITE_ID.search(response.body[:8192])
        site_id = m.group(1).decode("ascii") if m else None
    return Capture(
        site_id=site_id, url=first, final_url=response.url, body=b"" if status == 304 else response.body,
        raw_body=raw_body if raw_body is not None and raw_body is not response.body and raw_body != response.body
        and status != 304 else None,
        status=status, headers=headers, protocol=raw.get("protocol") or "HTTP/1.1", method=request.method,
        request_headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, vs in request.headers.items() for v in vs],
        request_body=request.body or b"", referrer=referrer.decode("latin-1") if referrer else None,
        link_text=request.meta.get("link_text"), redirects=hops, ip_address=raw.get("ip"),
        filename=content_disposition_name(headers))


class ArchiveWorker:
    """A writer thread (captures -> archive) and a parse process (new originals -> reports)."""

    def __init__(self, archive_dir: str, portals: list[str], jobs: int = 1, drain_jobs: int | None = None) -> None:
        self.archive_dir = archive_dir
        self.portals = portals
        self.queue: queue.Queue = queue.Queue(maxsize=128)  # back-pressure on the reactor if disks lag
        self.ready = threading.Event()
        self.counts: Counter[str] = Counter()
        self.per_host: Counter[str] = Counter()
        self.reports: set[int] = set()
        self.run_id: int | None = None
        self.error: str | None = None
        self.extra: dict = {}
        self.status = "ok"
        self.parser = ParseService(archive_dir, jobs=jobs, drain_jobs=drain_jobs)
        self._writer_thread = threading.Thread(target=self._write, name="nianbao-writer", daemon=True)

    def start(self) -> None:
        self._writer_thread.start()
        self.ready.wait(60)
        if self.error:
            raise RuntimeError(self.error)
        self.parser.start()

    def progress(self) -> None:
        """Bring in the parse process's findings so far (reports found), for the live display."""
        found = self.parser.progress()
        self.reports.update(found["reports"])

    def put(self, capture: Capture) -> None:
        self.queue.put(capture)

    def finish(self, status: str, extra: dict) -> None:
        """Write what is queued, then let parsing finish (a crawl that was stopped leaves the rest pending
        for the next run, so Ctrl-C is not kept waiting)."""
        self.status = status
        self.extra = extra
        self.queue.put(STOP)
        self._writer_thread.join()
        parsed = self.parser.finish(drain=status == "ok")
        if parsed.get("error"):
            log.error("%s", parsed["error"])
        self.reports.update(parsed.get("reports", []))
        for key in ("new_documents", "new_reports", "parsed"):
            self.counts[key] += parsed.get(key, 0)
        if self.run_id is not None:  # parsing happened beside the writer: record what it found
            with Archive.open(self.archive_dir) as archive, archive.catalog.transaction() as db:
                db["runs"].update(self.run_id, {"new_documents": self.counts["new_documents"],
                                                "new_reports": self.counts["new_reports"]})

    def _write(self) -> None:
        try:
            archive = Archive.open(self.archive_dir)
            writer = archive.writer(kind="crawl", portals=self.portals, examine=False, batch_seconds=2.0)
        except Exception as e:  # reported to the caller of start()
            self.error = f"cannot open the archive {self.archive_dir}: {e}"
            self.ready.set()
            return
        self.run_id = writer.run_id
        self.ready.set()
        with archive:
            while True:
                try:
                    item = self.queue.get(timeout=1.0)
                except queue.Empty:
                    if writer._captures:
                        writer.commit()
                        self.parser.committed()
                    continue
                if item is STOP:
                    break
                try:
                    added = writer.add(item)
                    self.counts["captures"] += 1
                    self.counts["new_blobs"] += int(added.new_blob)
                    self.counts["not_modified"] += int(item.status == 304)
                    self.per_host[urlsplit(item.final_url or item.url).netloc] += 1
                except Exception as e:  # one capture failing must not lose the others
                    self.counts["errors"] += 1
                    log.error("could not archive %s: %s", item.url, e)
                if not writer._captures:  # the batch was just committed
                    self.parser.committed()
            writer.stats.extra.update(self.extra)
            writer.stats.blocked = len(self.extra.get("blocked", []))
            writer.stats.errors += self.counts["errors"]
            writer.close(status=self.status, error=None if self.status == "ok" else self.status)


class ArchiveExtension:
    """Scrapy extension: opens the worker with the spider, feeds it every response, closes it."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.archive_dir = crawler.settings.get("NIANBAO_ARCHIVE")
        # parse workers during the crawl: all cores but one, which the reactor keeps; all of them after it
        cores = os.cpu_count() or 2
        self.jobs = crawler.settings.getint("NIANBAO_PARSE_JOBS", max(1, cores - 1))
        self.drain_jobs = max(self.jobs, cores)
        self.worker: ArchiveWorker | None = None
        self.blocked: list[tuple[str, str | None, str]] = []
        self.resumed = 0
        self.started = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.response_received, signal=signals.response_received)
        return ext

    def spider_opened(self, spider) -> None:
        self.worker = ArchiveWorker(self.archive_dir, sorted(spider.portals), self.jobs, self.drain_jobs)
        self.worker.start()
        spider.archive_worker = self.worker

    def response_received(self, response: Response, request: Request, spider) -> None:
        if request.meta.get("nianbao_from_archive") == "resumed":
            self.resumed += 1
            return
        if request.meta.get("nianbao_blocked"):
            self.blocked.append((response.url, request.meta.get("portal"), request.meta["nianbao_blocked"]))
        if self.worker is not None:
            self.worker.put(to_capture(response, request))

    def spider_closed(self, spider, reason: str) -> None:
        if self.worker is None:
            return
        status = "ok" if reason == "finished" else ("interrupted" if reason == "shutdown" else reason)
        for url, portal, why in getattr(spider, "failures", []):
            if "blocked" in why:
                self.blocked.append((url, portal, why))
        self.worker.finish(status, {
            "blocked": [{"url": u, "portal": p, "reason": r} for u, p, r in self.blocked],
            "failed": [{"url": u, "portal": p, "reason": r} for u, p, r in getattr(spider, "failures", [])],
            "resumed_from_archive": self.resumed, "reason": reason,
            "seconds": round(time.monotonic() - self.started, 1)})
