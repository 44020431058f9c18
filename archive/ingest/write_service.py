"""Write captures into the archive from a process of its own, and parse them from another.

A crawl produces captures on its event-loop thread. Writing them (hashing, compression, WARC
records, catalog rows) is Python work; in a thread of the crawling process it takes the interpreter
lock from the crawl (bench/crawl.py measured the writer thread at an eighth of the reactor's time).
Here the crawl only queues each capture; this process writes them in group-committed batches and
runs a :class:`archive.examine.parse_service.ParseService` (a further, lower-priority process) that turns
new originals into reports. Both end with the crawl, even on kill -9; what was committed stays, and
what was not parsed is pending for the next run.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from archive.capture import Capture
from archive.examine.parse_service import ParseService, end_process
from archive.examine.workers import die_with_parent

if TYPE_CHECKING:
    from archive.ingest.writer import RunStats

STOP = "stop"
# A little below the crawl: the writer's work can wait a moment (the queue holds it), the crawl's
# event loop should not. The parse process sits lower still (nice 10).
WRITER_NICE = 5


class WriteService:
    """The crawl's handle: ``start()`` (returns the run id), ``put()``, ``progress()``, ``finish()``."""

    def __init__(self, archive_dir: Path | str, portals: list[str], *, jobs: int = 1, drain_jobs: int | None = None,
                 batch_seconds: float = 2.0, maxsize: int = 256) -> None:
        ctx = multiprocessing.get_context("spawn")  # never fork a process that may hold the WARC lock
        self._inbox = ctx.Queue(maxsize=maxsize)  # back-pressure on the crawl if the disks lag
        self._outbox = ctx.Queue()
        args = (str(archive_dir), portals, jobs, drain_jobs, batch_seconds, self._inbox, self._outbox, os.getpid())
        self._proc = ctx.Process(target=_serve, args=args, name="nianbao-writer")
        self.counts: Counter[str] = Counter()
        self.reports: set[int] = set()
        self.per_host: dict[str, int] = {}
        self.run_id: int | None = None
        self._final: dict | None = None
        self.finished = False

    def start(self, timeout: float = 60) -> int:
        self._proc.start()
        try:
            msg = self._outbox.get(timeout=timeout)
        except queue.Empty:
            msg = {"error": "the archive writer did not start"}
        if msg.get("error"):
            self._proc.join(5)
            raise RuntimeError(msg["error"])
        self.run_id = msg["run_id"]
        return self.run_id

    def put(self, capture: Capture) -> None:
        """Queue a capture (a feeder thread pickles and sends it; this blocks only when the queue is full)."""
        self._inbox.put(capture)

    def progress(self) -> dict:
        """Counts so far (captures, new blobs, reports found), without waiting."""
        with contextlib.suppress(queue.Empty, OSError, EOFError):
            while True:
                self._take(self._outbox.get_nowait())
        return {**self.counts, "reports": len(self.reports)}

    def _take(self, msg: dict) -> None:
        if msg.get("final"):
            self._final = msg
        for k, v in msg.get("counts", {}).items():
            self.counts[k] = v  # totals, not increments
        self.per_host = msg.get("per_host", self.per_host)
        self.reports.update(msg.get("reports", []))

    def finish(self, status: str = "ok", extra: dict | None = None, timeout: float | None = None,
               on_progress: Callable[[dict], None] | None = None) -> dict:
        """Write what is queued, close the run with ``status``; parse what is pending if it ended ok.
        ``on_progress`` gets the counts (``parsed``, ``new_reports`` …) while the parsing drains."""
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            self._inbox.put((STOP, status, extra or {}))
            while self._final is None:
                try:
                    msg = self._outbox.get(timeout=1.0)
                    self._take(msg)
                    if msg.get("draining") and on_progress is not None:
                        on_progress({**self.counts, "reports": len(self.reports)})
                except queue.Empty:  # a writer that died says nothing more: do not wait for it forever
                    if not self._proc.is_alive() or (deadline is not None and time.monotonic() > deadline):
                        break
        except (OSError, EOFError, ValueError):
            pass
        end_process(self._proc, grace=10)
        self.finished = True
        self._inbox.close()
        if self._final is None:
            self._inbox.cancel_join_thread()  # nobody reads what is left in the pipe
        else:
            self._inbox.join_thread()
        if self._final is None:
            return {"counts": dict(self.counts), "reports": sorted(self.reports),
                    "error": "the archive writer ended without reporting"}
        return self._final


def _serve(archive_dir: str, portals: list[str], jobs: int, drain_jobs: int | None, batch_seconds: float,
           inbox, outbox, parent: int) -> None:
    """The writer's main loop (in the child process)."""
    from archive.archive import Archive

    die_with_parent(parent, nice=WRITER_NICE)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the crawl's to handle; it tells us to stop
    try:
        archive = Archive.open(archive_dir)
        writer = archive.writer(kind="crawl", portals=portals, examine=False, batch_seconds=batch_seconds)
    except Exception as e:  # reported to the caller of start()
        outbox.put({"error": f"cannot open the archive {archive_dir}: {e}"})
        return
    parser = ParseService(archive_dir, jobs=jobs, drain_jobs=drain_jobs)
    parser.start()
    outbox.put({"run_id": writer.run_id})
    per_host: Counter[str] = Counter()
    status, extra, error = "interrupted", {}, None
    with archive:
        while True:
            try:
                item = inbox.get(timeout=1.0)
            except queue.Empty:
                if writer._captures:
                    writer.commit()
                    parser.committed()
                _report(parser, outbox, writer.stats, per_host)  # idle: still bring the parse process's findings
                continue
            if isinstance(item, tuple) and item and item[0] == STOP:
                _, status, extra = item
                break
            try:
                writer.add(item)
                per_host[urlsplit(item.final_url or item.url).netloc] += 1
            except Exception as e:  # one capture failing must not lose the others
                writer.stats.errors += 1
                error = f"could not archive {item.url}: {e}"
            if not writer._captures:  # the batch was just committed
                parser.committed()
                _report(parser, outbox, writer.stats, per_host)
        writer.stats.extra.update(extra)
        writer.stats.blocked = len(extra.get("blocked", []))
        writer.close(status=status, error=None if status == "ok" else status)
        told = [0.0]

        def draining(found: dict) -> None:  # the crawl's display says the parsing goes on, once a second
            if time.monotonic() - told[0] >= 1.0:
                told[0] = time.monotonic()
                parsed = {k: found.get(k, 0) for k in ("new_documents", "new_reports", "parsed")}
                outbox.put({"counts": {**_counts(writer.stats), **parsed}, "reports": found["reports"],
                            "per_host": dict(per_host), "draining": True})

        parsed = parser.finish(drain=status == "ok", on_progress=draining)
        stats = writer.stats  # parsing happened beside the writer: record what it found
        stats.new_documents, stats.new_reports = parsed.get("new_documents", 0), parsed.get("new_reports", 0)
        with archive.catalog.transaction() as db:
            db["runs"].update(writer.run_id, {"new_documents": stats.new_documents, "new_reports": stats.new_reports})
    outbox.put({"final": True, "run_id": writer.run_id, "counts": {**_counts(stats), "parsed": parsed.get("parsed", 0)},
                "per_host": dict(per_host), "reports": parsed.get("reports", []),
                "error": parsed.get("error") or error})


def _counts(stats: RunStats) -> dict:
    """The run's numbers as the crawl's display names them (one count, the writer's own)."""
    return {"captures": stats.pages, "new_blobs": stats.new_blobs, "not_modified": stats.not_modified,
            "errors": stats.errors, "new_documents": stats.new_documents, "new_reports": stats.new_reports}


def _report(parser, outbox, stats: RunStats, per_host: Counter) -> None:
    """Totals so far, for the crawl's live display."""
    found = parser.progress()
    parsed = {k: found.get(k, 0) for k in ("new_documents", "new_reports", "parsed")}
    outbox.put({"counts": {**_counts(stats), **parsed}, "per_host": dict(per_host), "reports": found["reports"]})
