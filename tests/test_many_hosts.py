"""Many hosts at once: a crawl keeps about one or two requests in flight per host, not 16 in all, and each
host's floor delay still holds, measured at the simulated portals' servers."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from archive.errors import SettingError
from crawler import concurrency
from crawler import settings as crawl_settings
from crawler.run import crawl_in_subprocess
from spiders.demo.polite import build_brief
from spiders.demo.server import ManyPortalServers, loopback_hosts
from spiders.profiles import PortalProfile

SLACK = 0.05  # seconds: a request's arrival at the server is timed a little after it was sent (below only)


def profiles(n: int, *, delay: float = 1.0, concurrency: int = 2) -> list[PortalProfile]:
    return [PortalProfile(name=f"p{i}", start_urls=[f"http://h{i}.example.gov.cn/"], delay=delay,
                          concurrency=concurrency) for i in range(n)]


def built(portals: list[PortalProfile], overrides: dict | None = None) -> dict:
    return crawl_settings.build(Path("unused"), portals, browser=False, resume_runs=[], overrides=overrides)


@pytest.fixture
def roomy(monkeypatch):
    """No ceiling from the environment, and room for plenty of open files (whatever this machine's limit)."""
    monkeypatch.delenv(concurrency.CEILING_ENV, raising=False)
    monkeypatch.setattr(concurrency, "open_files_limit", lambda: 65_536)


def test_in_flight_is_every_hosts_own_concurrency_between_16_and_the_ceiling(roomy):
    assert built(profiles(1))["CONCURRENT_REQUESTS"] == 16  # a crawl of few hosts keeps Scrapy's 16
    assert built(profiles(12))["CONCURRENT_REQUESTS"] == 24  # two each
    assert built(profiles(200, concurrency=1))["CONCURRENT_REQUESTS"] == 200  # the profile's own, one each
    many = built(profiles(400))
    assert many["CONCURRENT_REQUESTS"] == concurrency.ceiling(None) == 512  # the ceiling, not 800
    assert many["CONCURRENT_REQUESTS_PER_DOMAIN"] == 2 and len(many["DOWNLOAD_SLOTS"]) == 400
    assert {s["concurrency"] for s in many["DOWNLOAD_SLOTS"].values()} == {2}  # each host's own cap untouched
    assert {s["delay"] for s in many["DOWNLOAD_SLOTS"].values()} == {1.0}  # and its floor
    assert many["SCHEDULER_PRIORITY_QUEUE"] == "scrapy.pqueues.DownloaderAwarePriorityQueue"
    assert many["REACTOR_THREADPOOL_MAXSIZE"] == 64 and built(profiles(1))["REACTOR_THREADPOOL_MAXSIZE"] == 10
    assert built(profiles(6000))["DNSCACHE_SIZE"] == 12_000 and many["DNSCACHE_SIZE"] == 10_000


def test_the_ceiling_is_a_setting_an_environment_variable_and_the_open_file_limit(roomy, monkeypatch):
    assert built(profiles(400), {"NIANBAO_MAX_IN_FLIGHT": 100})["CONCURRENT_REQUESTS"] == 100
    assert built(profiles(400), {"NIANBAO_MAX_IN_FLIGHT": 8})["CONCURRENT_REQUESTS"] == 8  # below 16 if asked
    fixed = built(profiles(400), {"CONCURRENT_REQUESTS": 16, "REACTOR_THREADPOOL_MAXSIZE": 3})
    assert fixed["CONCURRENT_REQUESTS"] == 16 and fixed["REACTOR_THREADPOOL_MAXSIZE"] == 3  # asked outright: kept
    monkeypatch.setenv(concurrency.CEILING_ENV, "300")
    assert built(profiles(400))["CONCURRENT_REQUESTS"] == 300
    assert built(profiles(400), {"NIANBAO_MAX_IN_FLIGHT": 1000})["CONCURRENT_REQUESTS"] == 800  # the setting wins
    assert concurrency.ceiling(2000, open_files=1024) == (1024 - concurrency.FDS_RESERVED) // 2
    with pytest.raises(SettingError, match="NIANBAO_MAX_IN_FLIGHT must be a whole number of requests, at least 1"):
        concurrency.ceiling(0)
    monkeypatch.setenv(concurrency.CEILING_ENV, "lots")
    with pytest.raises(SettingError, match="not 'lots'"):
        built(profiles(2))


def test_the_open_file_limit_is_raised_to_the_hard_limit_when_it_can_be(monkeypatch):
    asked = []
    monkeypatch.setattr(concurrency.resource, "getrlimit", lambda which: (1024, 4096))
    monkeypatch.setattr(concurrency.resource, "setrlimit", lambda which, limits: asked.append(limits))
    assert concurrency.raise_open_files_limit() == 4096 and asked == [(4096, 4096)]

    def refused(which, limits):
        raise ValueError("not allowed")

    monkeypatch.setattr(concurrency.resource, "setrlimit", refused)
    assert concurrency.raise_open_files_limit() == 1024  # kept, and the ceiling follows it


@pytest.mark.slow
def test_200_hosts_in_one_crawl_each_hosts_floor_held_and_more_than_16_in_flight(tmp_path, monkeypatch):
    """200 small portals on 127.0.16.1 … 127.0.16.200 (robots.txt, the front page, the column and two
    brief report pages each), every answer 0.2 s late, a floor of 0.5 s per host."""
    monkeypatch.delenv(concurrency.CEILING_ENV, raising=False)
    floor, latency = 0.5, 0.2
    portals = [build_brief(16_000 + i, [2022, 2023]) for i in range(200)]
    for p in portals:
        p.site.delay = latency
    with ManyPortalServers([p.site for p in portals], loopback_hosts(200, 16)) as servers:
        profiles = [PortalProfile(name=p.name, start_urls=[u + "/"], delay=floor, render="never")
                    for p, u in zip(portals, servers.urls, strict=True)]
        summary = crawl_in_subprocess(tmp_path / "a", profiles, browser="never", progress=False, timeout=120)
    for p in portals:  # every page of every host, once
        assert sorted(h.path for h in p.site.hits) == sorted(p.site.pages), p.name
    assert summary["responses"] == 200 * 5 and all(r["responses"] == 5 for r in summary["portals"])
    least = {p.name: min(b - a for a, b in pairwise(sorted(h.at for h in p.site.hits))) for p in portals}
    assert min(least.values()) >= floor - SLACK, sorted(least.items(), key=lambda kv: kv[1])[:5]
    # in flight at once, at the servers. With a fixed 16 (checked by hand: NIANBAO_MAX_IN_FLIGHT=16) the
    # servers never answered more than 16 at once, and 15 hosts were reached in the first floor's time.
    assert servers.max_active > 16, servers.max_active
    first = min(h.at for p in portals for h in p.site.hits)
    early = {p.name for p in portals if any(h.at < first + floor for h in p.site.hits)}
    assert len(early) > 16, len(early)  # more than 16 hosts reached within the first floor's time
