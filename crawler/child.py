"""A crawl in a child process (Scrapy's reactor runs once per process): started, bounded in time, ended
gracefully, and judged by how it ended. The harvest, a worker's crawl task, the demo and the tests all
run their crawls through :func:`run_crawl_process`."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path

from spiders.profiles import PortalProfile

log = logging.getLogger("nianbao.harvest")
GRACE_S = 120.0  # after SIGTERM: Scrapy finishes the requests in flight and the archive commits


def run_crawl_process(archive_dir: Path | str, portals: list[PortalProfile], kwargs: dict,
                      log_path: Path | None = None, *, timeout: float | None = None, grace: float = GRACE_S,
                      stop: threading.Event | None = None, pass_fds: list[int] | None = None,
                      stderr_to_log: bool = True) -> tuple[int | None, str | None, dict | None]:
    """Run :func:`crawler.run.crawl` in a child process that stops with us, ended gracefully at the time
    limit or on ``stop``; return its exit status, what ended it, and the result it reported (or None).

    Its output goes to ``log_path`` (stderr too with ``stderr_to_log``), else to ours.
    """
    with tempfile.TemporaryDirectory(prefix="nianbao-crawl-") as tmp, \
            (open(log_path, "ab") if log_path else contextlib.nullcontext()) as log_file:
        job, result = Path(tmp, "job.json"), Path(tmp, "result.json")
        job.write_text(json.dumps({"archive": str(archive_dir), "portals": [asdict(p) for p in portals],
                                   "kwargs": kwargs}, ensure_ascii=False), "utf-8")
        cmd = [sys.executable, "-m", "crawler.run", "--job", str(job), "--result", str(result),
               "--parent", str(os.getpid())]
        # Its own session: a time-out can end the crawl and the writer and parsers it started, together.
        proc = subprocess.Popen(cmd, stdout=log_file, stderr=log_file if stderr_to_log else None,
                                stdin=subprocess.DEVNULL, start_new_session=True, pass_fds=pass_fds or [])
        log.info("crawl of %s started (pid %d, log %s)", ", ".join(p.name for p in portals), proc.pid,
                 log_path or "stderr")
        ended_by = wait_or_end(proc, timeout, grace, stop)
        data = json.loads(result.read_text("utf-8")) if result.exists() else None
    return proc.returncode, ended_by, data


def wait_or_end(proc: subprocess.Popen, timeout: float | None, grace: float,
                stop: threading.Event | None) -> str | None:
    """Wait for the crawl; on time-out or stop, SIGTERM it, then SIGKILL its group after ``grace``."""
    start = time.monotonic()
    ended_by = None
    while proc.poll() is None:
        try:
            if ended_by is None:
                if stop is not None and stop.is_set():
                    ended_by = "stop"
                elif timeout is not None and time.monotonic() - start > timeout:
                    ended_by = "timeout"
                if ended_by:
                    log.warning("ending the crawl (pid %d): %s", proc.pid,
                                "asked to stop" if ended_by == "stop" else f"time limit of {timeout:.0f} s")
                    _signal(proc, signal.SIGTERM, group=False)
                    term_at = time.monotonic()
            elif time.monotonic() - term_at > grace:
                log.warning("the crawl (pid %d) did not stop within %.0f s; killing it", proc.pid, grace)
                _signal(proc, signal.SIGKILL, group=True)
                proc.wait()
                break
            time.sleep(0.2)
        except KeyboardInterrupt:  # Ctrl-C at a terminal: the crawl is in its own session, so pass it on
            if ended_by is not None:  # a second Ctrl-C: do not wait out the grace period
                _signal(proc, signal.SIGKILL, group=True)
                proc.wait()
                break
            ended_by = "stop"
            _signal(proc, signal.SIGTERM, group=False)
            term_at = time.monotonic()
    # Its writer and parsers end with it (PDEATHSIG); sweep any that remain in its session.
    _signal(proc, signal.SIGKILL, group=True)
    return ended_by


def _signal(proc: subprocess.Popen, sig: int, group: bool) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig) if group else proc.send_signal(sig)


def judge(rc: int | None, ended_by: str | None, data: dict | None, timeout: float | None,
           log_path: Path) -> tuple[str, str | None, dict | None]:
    """(outcome, reason in plain words, crawl summary) from how the crawl process ended."""
    summary = data.get("summary") if data and data.get("ok") else None
    if ended_by == "stop":
        return "stopped", "stopped on request; what was fetched is saved and the next run resumes it", summary
    if ended_by == "timeout":
        return "timeout", (f"still running after the time limit of {timeout / 60:.0f} min; ended, what was "
                           f"fetched is saved and the next run resumes it"), summary
    if data is not None and not data.get("ok"):
        return "failed", data.get("error") or "the crawl reported an error", None
    if data is None:
        if rc is not None and rc < 0:
            try:
                name = signal.Signals(-rc).name
            except ValueError:
                name = f"signal {-rc}"
            why = f"the crawl process was killed by {name}"
        else:
            why = f"the crawl process exited with status {rc} before reporting"
        return "crashed", f"{why}; its log: {log_path}{_tail(log_path)}", None
    return "ok", None, summary


def _tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text("utf-8", "replace").strip().splitlines()[-lines:]
    except OSError:
        return ""
    return (" — last lines: " + " / ".join(t.strip() for t in text)) if text else ""
