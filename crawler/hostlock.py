"""Per-host locks in Redis, so that across any number of machines one host is crawled by one task at a
time (politeness is per host; Heritrix and StormCrawler partition by host for the same reason).

A lock is redis-py's :class:`redis.lock.Lock` with a time-to-live that a heartbeat thread keeps
extending while its task runs: a worker that dies (kill -9, a machine lost) lets go within the TTL,
and never holds a host forever.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable

import redis
from redis.exceptions import LockError, RedisError

log = logging.getLogger(__name__)
PREFIX = "nianbao:host:"


def lock_ttl() -> float:
    """Seconds a dead holder keeps a host (``NIANBAO_HOST_LOCK_TTL``, default 60)."""
    return float(os.environ.get("NIANBAO_HOST_LOCK_TTL", "60"))


class HostLocks:
    """All of a portal's hosts, taken together (in sorted order, so two tasks cannot deadlock)."""

    def __init__(self, client: redis.Redis, hosts: list[str], owner: str, ttl: float | None = None) -> None:
        self.client = client
        self.hosts = sorted(set(hosts))
        self.owner = owner
        self.ttl = ttl or lock_ttl()
        self.locks: list = []
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def holders(self) -> dict[str, str]:
        """Who holds each host that is taken (their task ids)."""
        out = {}
        for h in self.hosts:
            v = self.client.get(PREFIX + h)
            if v is not None:
                out[h] = v.decode() if isinstance(v, bytes) else str(v)
        return out

    def try_acquire(self) -> bool:
        taken = []
        for h in self.hosts:
            lock = self.client.lock(PREFIX + h, timeout=self.ttl, blocking=False, thread_local=False)
            if not lock.acquire(blocking=False, token=self.owner):
                for t in taken:
                    _release(t)
                return False
            taken.append(lock)
        self.locks = taken
        self._stop.clear()
        self._beat = threading.Thread(target=self._heartbeat, name="nianbao-host-locks", daemon=True)
        self._beat.start()
        return True

    def acquire(self, *, poll: float = 1.0, give_up: Callable[[], bool] | None = None,
                deadline: float | None = None) -> bool:
        """Wait until every host is free and take them; False if ``give_up()`` says so first (another
        run of the same task finished meanwhile) or the deadline passes."""
        while not self.try_acquire():
            if give_up is not None and give_up():
                return False
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(poll)
        return True

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            for lock in self.locks:
                try:
                    lock.extend(self.ttl, replace_ttl=True)
                except (LockError, RedisError) as e:  # lost it (Redis restarted): say so, keep crawling
                    log.warning("could not keep the lock on %s: %s", lock.name, e)

    def release(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join(5)
        for lock in self.locks:
            _release(lock)
        self.locks = []

    def __enter__(self) -> HostLocks:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _release(lock) -> None:
    with contextlib.suppress(LockError, RedisError):  # expired meanwhile: nothing to give back
        lock.release()
