"""Live progress of a crawl on stderr: pages, originals, reports found, per host; a line every 30 s
when stderr is not a terminal (logs, CI)."""

from __future__ import annotations

import sys
import time

from rich.console import Console
from rich.live import Live
from rich.table import Table
from scrapy import signals
from twisted.internet import task

from crawler.archiving import PER_HOST, WRITER_STATS

LOG_EVERY = 30.0


class LiveProgress:
    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.enabled = crawler.settings.getbool("NIANBAO_PROGRESS", True)
        self.console = Console(stderr=True)
        self.live: Live | None = None
        self.loop: task.LoopingCall | None = None
        self.started = time.monotonic()
        self.last_log = 0.0
        self.spider = None

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler)
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def opened(self, spider) -> None:
        if not self.enabled:
            return
        self.spider = spider
        if self.console.is_terminal:
            self.live = Live(self.render(), console=self.console, auto_refresh=False, transient=True)
            self.live.start()
        self.loop = task.LoopingCall(self.tick)
        self.loop.start(1.0, now=False)

    def closed(self, spider, reason) -> None:
        if self.loop and self.loop.running:
            self.loop.stop()
        if self.live:
            self.live.stop()

    def numbers(self) -> dict:
        """All from the stats collector: Scrapy's own counts, and the archive's (see crawler.archiving)."""
        stats = self.crawler.stats
        every = stats.get_stats()
        return {"seconds": time.monotonic() - self.started,
                "requests": stats.get_value("downloader/request_count", 0),
                "responses": stats.get_value("downloader/response_count", 0),
                "archived": stats.get_value(WRITER_STATS["captures"], 0),
                "new originals": stats.get_value(WRITER_STATS["new_blobs"], 0),
                "not modified": stats.get_value(WRITER_STATS["not_modified"], 0),
                "reports": stats.get_value(WRITER_STATS["reports"], 0),
                "queued": max(0, stats.get_value("scheduler/enqueued", 0) - stats.get_value("scheduler/dequeued", 0)),
                "per_host": {k.removeprefix(PER_HOST): v for k, v in every.items() if k.startswith(PER_HOST)}}

    def render(self) -> Table:
        n = self.numbers() if self.spider else {"per_host": {}}
        t = Table(title="nianbao crawl", show_header=False, title_justify="left")
        for key in ("seconds", "requests", "responses", "archived", "new originals", "not modified", "reports",
                    "queued"):
            if key in n:
                t.add_row(key, f"{n[key]:.0f}" if key == "seconds" else f"{n[key]:,}")
        for host, count in sorted(n["per_host"].items(), key=lambda kv: -kv[1])[:8]:
            t.add_row(f"  {host}", f"{count:,}")
        return t

    def tick(self) -> None:
        """Refresh the display; a failure here must never touch the crawl."""
        try:
            self._tick()
        except Exception as e:  # progress is cosmetic: never let it touch the crawl
            self.enabled = False
            if self.loop and self.loop.running:
                self.loop.stop()
            print(f"[nianbao] progress display stopped: {e}", file=sys.stderr)

    def _tick(self) -> None:
        if self.live:
            self.live.update(self.render(), refresh=True)
        elif time.monotonic() - self.last_log >= LOG_EVERY:
            self.last_log = time.monotonic()
            n = self.numbers()
            print(f"[nianbao] {n['seconds']:.0f}s: {n['responses']} responses, {n['archived']} archived, "
                  f"{n['new originals']} new originals, {n['reports']} reports", file=sys.stderr, flush=True)
