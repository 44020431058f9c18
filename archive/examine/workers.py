"""Worker processes for parsing: spawned, lowered in priority, ended with the process that started them, and
bounded: each document is parsed under a memory ceiling and a time limit, so one hostile file (a PDF of
millions of drawing operators, a ZIP that lies about its sizes) costs its own parse and nothing more.

pebble's pool, not ``concurrent.futures``: it times out one task, kills the worker running it and starts
another, and tells a worker that died (a segfault, the kernel's OOM killer) from a task that raised.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import multiprocessing
import os
import resource
import signal
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

import pebble


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


def default_memory_mb() -> int:
    """Half the machine's memory, at least 2 GB (address space: OCR's threads reserve more than they use),
    at most 8 GB (the operator bomb of issue 14 took 11 GB)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    except (ValueError, OSError, AttributeError):
        total = 8192
    return max(2048, min(8192, total // 2))


@dataclass(frozen=True)
class ParseLimits:
    """What one document's parse may take: address space (RLIMIT_AS of its worker), and seconds, scaled by
    its size (a scanned PDF for OCR is large and slow for good reasons). Set by environment variables."""

    memory_mb: int = field(default_factory=default_memory_mb)
    seconds: float = 60.0
    seconds_per_mb: float = 20.0
    attempts: int = 3  # parses of one original that failed, across runs, before it is left until ``reparse --failed``

    @classmethod
    def from_env(cls) -> ParseLimits:
        env = os.environ.get
        return cls(memory_mb=int(env("NIANBAO_PARSE_MEMORY_MB", 0)) or default_memory_mb(),
                   seconds=float(env("NIANBAO_PARSE_SECONDS", cls.seconds)),
                   seconds_per_mb=float(env("NIANBAO_PARSE_SECONDS_PER_MB", cls.seconds_per_mb)),
                   attempts=int(env("NIANBAO_PARSE_ATTEMPTS", cls.attempts)))

    def seconds_for(self, size: int | None) -> float:
        return self.seconds + self.seconds_per_mb * (size or 0) / 1e6


def _bounded_worker(parent: int, nice: int, sig: int, idle: bool, memory_mb: int) -> None:
    die_with_parent(parent, nice, sig, idle)
    if memory_mb > 0:
        ceiling = memory_mb * 1024 * 1024
        with contextlib.suppress(ValueError, OSError):  # a hard limit already lower stays as it is
            resource.setrlimit(resource.RLIMIT_AS, (ceiling, resource.getrlimit(resource.RLIMIT_AS)[1]))


class ParserPool:
    """Worker processes for parsing. spawn, not fork: a forked worker would inherit the writer's WARC
    file lock and hold it after a kill -9 of the writer; workers also end with their parent. ``idle``
    workers run only on CPU time nothing else wants (they hold no lock another process waits for).

    The pool mends itself: pebble gives up on a pool whose worker died while it had no task (the kernel's
    OOM killer), so the next ``submit`` starts a new one instead of failing every document after it."""

    def __init__(self, jobs: int, nice: int = 0, idle: bool = False, limits: ParseLimits | None = None) -> None:
        self.limits = limits or ParseLimits.from_env()
        self.jobs, self.nice, self.idle = jobs, nice, idle
        self.restarts = 0
        self._lock = threading.Lock()
        self._closed = False
        self._keeper: threading.Event | None = None
        self._pool = self._start()

    def _start(self) -> pebble.ProcessPool:
        pool = pebble.ProcessPool(max_workers=self.jobs, context=multiprocessing.get_context("spawn"),
                                  initializer=_bounded_worker,
                                  initargs=(os.getpid(), self.nice, signal.SIGKILL, self.idle, self.limits.memory_mb))
        # pebble starts the first workers from the thread that first schedules a task, and a worker's
        # parent-death signal (prctl) fires when that *thread* ends: start them from a thread that lives
        # as long as the pool, not from a caller's short-lived one (a web request, a scheduler job).
        self._keeper = keep = threading.Event()
        started = threading.Event()

        def keeper() -> None:
            with contextlib.suppress(RuntimeError):
                pool.schedule(os.getpid)
            started.set()
            keep.wait()

        threading.Thread(target=keeper, name="nianbao-parser-pool", daemon=True).start()
        started.wait()
        return pool

    @property
    def broken(self) -> bool:
        return not self._closed and not self._pool.active

    def submit(self, fn: Callable, *args, size: int | None = None) -> Future:
        """Run ``fn(*args)`` in a worker, stopped (and the worker replaced) past the limit for ``size`` bytes."""
        with self._lock:
            if self.broken:
                self._stop_keeper()
                self._pool.stop()
                self._pool = self._start()
                self.restarts += 1
            return self._pool.schedule(fn, args=args, timeout=self.limits.seconds_for(size))

    def _stop_keeper(self) -> None:
        if self._keeper is not None:
            self._keeper.set()

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        with self._lock:
            self._closed = True
            self._stop_keeper()
            if cancel_futures:
                self._pool.stop()
            else:
                self._pool.close()
        if wait:
            self._pool.join()


def parser_pool(jobs: int, nice: int = 0, idle: bool = False, limits: ParseLimits | None = None) -> ParserPool:
    return ParserPool(jobs, nice, idle, limits)


_SHARED: dict[tuple[int, ParseLimits], ParserPool] = {}
_SHARED_LOCK = threading.Lock()


def shared_pool(jobs: int) -> ParserPool:
    """A pool kept for the life of the process, for callers that parse a few documents now and then (each
    ingest, each test): starting workers costs about half a second. One per worker count and limits."""
    key = (jobs, ParseLimits.from_env())
    with _SHARED_LOCK:
        if key not in _SHARED:
            if not _SHARED:
                atexit.register(_close_shared)
            _SHARED[key] = parser_pool(jobs, limits=key[1])
        return _SHARED[key]


def _close_shared() -> None:
    for pool in _SHARED.values():
        pool.shutdown(cancel_futures=True)
    _SHARED.clear()
