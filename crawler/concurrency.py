"""How many requests a crawl keeps in flight at once: enough for every host to have its one or two, so a
crawl of many portals is bounded by each host's floor delay and by the CPU, not by a fixed global cap.

Scrapy's global cap (``CONCURRENT_REQUESTS``, 16 by default) counts a request from the moment it enters the
downloader, so a request waiting in its host's slot for the host's delay holds one of the 16: with a 1 s
floor per host a crawl of 50, 200 or 400 loopback hosts stayed at 32 to 55 pages a second (bench/hosts.py),
and about 10 against real portals, which take longer to answer (issue 16). Here
the cap is the sum of the hosts' own concurrency (``DOWNLOAD_SLOTS``), at least Scrapy's 16, at most a
ceiling: ``NIANBAO_MAX_IN_FLIGHT`` (the setting, else the environment variable, else 512), and what the
process's open-file limit allows (a socket per request, and the connection pool keeps about as many idle
ones). The per-host floor is untouched: each host still has its own slot, delay and concurrency
(crawler/throttle.py). Scrapy's DownloaderAwarePriorityQueue hands the next request to the host with the
fewest in the downloader, so no one large portal fills the cap while the others wait.

The caps that grow with it: Twisted's thread pool (DNS lookups run there, one thread each) and Scrapy's
DNS cache (one entry per host; the default 10,000 would evict hosts of a larger crawl mid-crawl).
"""

from __future__ import annotations

import os
import resource

from archive.errors import SettingError

LEAST = 16  # Scrapy's default: a crawl of a few hosts keeps it
CEILING = 512  # a 2-core machine parses a few hundred pages a second: more in flight only waits in the reactor
CEILING_ENV = "NIANBAO_MAX_IN_FLIGHT"
FDS_RESERVED = 256  # the archive's files, pipes to the writer and parse workers, Chromium, the DNS threads
THREADS_LEAST, THREADS_MOST = 10, 64  # Twisted's thread pool (Scrapy's default is 10)
DNS_CACHE_LEAST = 10_000  # Scrapy's default


def raise_open_files_limit() -> int:
    """Raise this process's soft limit on open files to the hard one (a crawl of hundreds of hosts holds
    hundreds of sockets; many systems start processes at 1,024); return the limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 65_536)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def open_files_limit() -> int:
    """This process's soft limit on open files (what the sockets of the requests in flight count against)."""
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


def ceiling(setting: int | str | None = None, *, open_files: int | None = None) -> int:
    """The most requests in flight: ``setting`` (``NIANBAO_MAX_IN_FLIGHT``; else the environment's, else
    :data:`CEILING`), and no more than the open-file limit leaves room for (two sockets a request)."""
    asked = setting if setting not in (None, "") else os.environ.get(CEILING_ENV) or CEILING
    try:
        most = int(asked)
    except (TypeError, ValueError):
        most = 0
    if most < 1:
        raise SettingError(f"{CEILING_ENV} must be a whole number of requests, at least 1, not {asked!r}")
    files = open_files if open_files is not None else open_files_limit()
    return max(1, min(most, (files - FDS_RESERVED) // 2))


def in_flight(slots: dict[str, dict], most: int) -> int:
    """The crawl's global cap: every host's own concurrency at once, at least :data:`LEAST`, at most ``most``."""
    wanted = sum(int(conf.get("concurrency") or 1) for conf in slots.values())
    return min(max(wanted, LEAST), most)


def sized(slots: dict[str, dict], most: int) -> dict:
    """Scrapy settings for a crawl of the hosts in ``slots`` (``DOWNLOAD_SLOTS``): the global cap, the
    thread pool that resolves their names, and a DNS cache that holds them all."""
    cap = in_flight(slots, most)
    return {"CONCURRENT_REQUESTS": cap,
            "REACTOR_THREADPOOL_MAXSIZE": min(max(cap // 8, THREADS_LEAST), THREADS_MOST),
            "DNSCACHE_SIZE": max(DNS_CACHE_LEAST, 2 * len(slots))}
