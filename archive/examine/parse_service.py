"""Parse originals while a writer commits them, in a process of its own.

A crawl hands this the work of turning new blobs into documents and reports. Parsing is CPU work and
placing the results is Python work on the catalog; in a thread of the crawling process either would
take the interpreter lock from the crawl (bench/crawl.py measured the placement thread at half the
reactor's own time). Here it runs in a separate, lower-priority process with its own parse workers,
told by the writer when a batch is committed. Whatever it has not parsed when stopped stays pending
in the catalog and is parsed by the next run (or ``nianbao reparse``).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from archive.examine.pipeline import examine, pending
from archive.examine.workers import die_with_parent, parser_pool

CHUNK = 32  # blobs placed between looks at the pipe, so a stop is heard within one chunk


class ParseService:
    """The parent's handle: ``start()``, ``committed()`` after each batch, ``finish()`` for the counts."""

    def __init__(self, archive_dir: Path | str, jobs: int = 1, nice: int = 10, drain_jobs: int | None = None) -> None:
        """``jobs`` workers while the crawl runs (leave it a core), ``drain_jobs`` once it has ended."""
        ctx = multiprocessing.get_context("spawn")  # never fork a process that holds the WARC lock
        self._conn, child = ctx.Pipe()
        self._child = child
        args = (str(archive_dir), jobs, max(jobs, drain_jobs or jobs), nice, child, os.getpid())
        self._proc = ctx.Process(target=_serve, args=args,
                                 name="nianbao-parse")
        self._seen: set[int] = set()
        self._counts: Counter[str] = Counter()
        self._final: dict | None = None

    def start(self) -> None:
        self._proc.start()
        self._child.close()

    def committed(self) -> None:
        """New blobs are in the catalog: look for them now rather than at the next poll."""
        with contextlib.suppress(BrokenPipeError, OSError):  # it ended: finish() brings back its error
            self._conn.send("committed")

    def progress(self) -> dict:
        """What it has found so far (reports, documents), without waiting: for a live display."""
        with contextlib.suppress(BrokenPipeError, EOFError, OSError):
            while self._conn.poll():
                msg = self._conn.recv()
                if isinstance(msg, dict) and msg.get("progress"):
                    self._seen.update(msg["reports"])
                    self._counts.update({k: msg[k] for k in ("parsed", "new_documents", "new_reports")})
                else:
                    self._final = msg
        return {**self._counts, "reports": sorted(self._seen)}

    def finish(self, drain: bool = True, timeout: float | None = None,
               on_progress: Callable[[dict], None] | None = None) -> dict:
        """Stop after parsing what is pending (``drain``) or after the current chunk; return the counts.
        ``on_progress`` gets the counts so far while it drains (OCR and LibreOffice can take minutes)."""
        result: dict = {"new_documents": 0, "new_reports": 0, "reports": [], "parsed": 0,
                        "error": "the parse process ended without reporting"}
        try:
            self._conn.send("drain" if drain else "stop")
            while self._final is None and self._conn.poll(timeout):
                found = self.progress()
                if on_progress is not None and self._final is None:
                    on_progress(found)
            if self._final is not None:
                result = self._final
        except (BrokenPipeError, EOFError, OSError):
            pass
        end_process(self._proc, grace=5)
        return result


def end_process(proc, grace: float) -> None:
    """Wait ``grace`` seconds for a service process that was told to stop, then kill it."""
    proc.join(grace)
    if proc.is_alive():
        proc.kill()
        proc.join()


def _serve(archive_dir: str, jobs: int, drain_jobs: int, nice: int, conn, parent: int) -> None:
    """The service's main loop (in the child process)."""
    from archive.archive import Archive

    die_with_parent(parent, nice)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the crawl's to handle; it tells us to stop
    counts: Counter[str] = Counter()
    reports: set[int] = set()
    mode, error = "run", None
    draining = False
    archive = Archive.open(archive_dir)
    # While the crawl runs, the workers parse on CPU time the crawl, its writer and the servers it talks to
    # do not want (a nice value alone still took a tenth of a busy core from the crawl, and parsing is
    # several times the crawl's own CPU); once it has ended they parse at the service's nice value.
    pool = parser_pool(jobs, idle=True)
    idle = False
    tried: set[str] = set()  # a parse that failed is tried again on a later run, not again and again in this one
    left: set[str] = set()  # not parsed by the idle pool (its time ran out, it broke): the draining pool tries them
    try:
        while True:
            if conn.poll(2.0 if idle and mode == "run" else 0):  # wait only when there is nothing to do
                while conn.poll():
                    msg = conn.recv()
                    if msg in ("drain", "stop"):
                        mode = msg
                if mode == "drain" and not draining:  # the crawl is over: every core for the rest
                    draining = True
                    pool.shutdown()
                    pool, jobs = parser_pool(drain_jobs), drain_jobs
                    tried -= left
            if mode == "stop":
                break
            todo = [sha for sha in pending(archive.catalog) if sha not in tried][:CHUNK]
            tried.update(todo)
            idle = not todo
            if idle:
                if mode == "drain":
                    break
                continue
            found: set[int] = set()
            left.update(todo)
            for placed in examine(archive.catalog, archive.store, todo, pool=pool, batch=8):
                left.discard(placed.sha256)
                counts["parsed"] += 1
                if placed.report_id is not None:
                    found.add(placed.report_id)
                counts["new_documents"] += int(placed.new_document)
                counts["new_reports"] += int(placed.new_report)
            reports |= found
            conn.send({"progress": True, **counts, "reports": sorted(found)})  # totals, and this chunk's reports
    except Exception as e:  # reported to the parent, which records it in the run's summary
        error = f"parsing stopped: {type(e).__name__}: {e}"
    finally:
        pool.shutdown(cancel_futures=True)
        archive.close()
    conn.send({**counts, "reports": sorted(reports), "error": error})
