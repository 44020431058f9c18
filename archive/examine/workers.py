"""Worker processes for parsing: spawned, lowered in priority, and ended with the process that started them."""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor


def die_with_parent(parent: int, nice: int = 0, sig: int = signal.SIGKILL, idle: bool = False) -> None:
    """Worker initializer: end this worker when the process that started it dies, even by kill -9;
    ``nice`` lowers its CPU priority so background parsing yields to a crawl on the same cores, and
    ``idle`` lowers it further, to CPU time nothing else wants (Linux's SCHED_IDLE).

    ProcessPoolExecutor has no such guard; an orphaned worker would linger holding pipes open.
    A crawl process asks for SIGTERM instead, so that it stops gracefully and saves what it fetched.
    """
    if nice:
        os.nice(nice)
    if idle:
        run_when_idle()
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(sig))  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def run_when_idle() -> None:
    """Take only CPU time that no other process wants (SCHED_IDLE; a nice value still gets a tenth of a
    busy core). Where the policy does not exist, the nice value is all there is."""
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def parser_pool(jobs: int, nice: int = 0, idle: bool = False) -> ProcessPoolExecutor:
    """Worker processes for parsing. spawn, not fork: a forked worker would inherit the writer's WARC
    file lock and hold it after a kill -9 of the writer; workers also end with their parent. ``idle``
    workers run only on CPU time nothing else wants (they hold no lock another process waits for)."""
    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=die_with_parent, initargs=(os.getpid(), nice, signal.SIGKILL, idle))
