"""Politeness that holds, measured at the simulated portals' servers: the gaps between requests to a host
never go under its floor (the profile's delay, or robots.txt's Crawl-delay when longer), a Retry-After is
waited out before the retry, and a recrawl does not download again attachments that cannot say whether
they changed, until the profile's recheck_days have passed."""

from __future__ import annotations

import io
from itertools import pairwise

import pytest
from rich.console import Console

from archive import Archive
from crawler.demo import summary_from
from crawler.run import crawl_in_subprocess
from crawler.summary import print_crawl_summary
from spiders.demo.polite import build_crawl_delay, build_download_jsp, build_retry_after
from spiders.demo.server import PortalServer, Site
from spiders.profiles import PortalProfile

pytestmark = pytest.mark.slow  # every test runs crawls of simulated portals

FAST = {"browser": "never", "progress": False, "overrides": {"AUTOTHROTTLE_START_DELAY": 0.0}}
SLACK = 0.05  # seconds: a request's arrival at the server is timed a little after it was sent


def gaps(site: Site) -> list[float]:
    """Seconds between consecutive requests to the site, as they arrived."""
    at = sorted(h.at for h in site.hits)
    return [b - a for a, b in pairwise(at)]


def found(summary: dict) -> dict[str, set[tuple[str, int]]]:
    return {p["name"]: {(a, int(y)) for y, ags in p["reports"].items() for a in ags} for p in summary["portals"]}


def said(summary: dict) -> str:
    console = Console(record=True, width=400, file=io.StringIO())  # read, not shown
    print_crawl_summary(console, summary_from(summary))
    return console.export_text()


def test_crawl_delay_and_the_profile_delay_are_each_hosts_own_floor(tmp_path):
    asks = build_crawl_delay(60, [2022, 2023], crawl_delay=1)
    plain = build_crawl_delay(61, [2022, 2023])
    with PortalServer(asks.site, host="127.0.0.60") as a, PortalServer(plain.site, host="127.0.0.61") as b:
        profiles = [PortalProfile(name=asks.name, start_urls=[a.url + "/"], delay=0.2),
                    PortalProfile(name=plain.name, start_urls=[b.url + "/"], delay=0.5)]
        summary = crawl_in_subprocess(tmp_path / "a", profiles, **FAST)
    assert found(summary) == {asks.name: asks.expected, plain.name: plain.expected}
    assert asks.site.hits[0].path == "/robots.txt"  # nothing went out before robots.txt was read
    assert len(asks.site.hits) >= 5 and min(gaps(asks.site)) >= 1.0 - SLACK, gaps(asks.site)
    assert len(plain.site.hits) >= 5 and min(gaps(plain.site)) >= 0.5 - SLACK, gaps(plain.site)
    throttled = {p["name"]: p["throttled"] for p in summary["portals"]}
    assert throttled[plain.name] == []  # the other host's floor was its own
    assert throttled[asks.name] == [{"host": "127.0.0.60", "answers": 0, "retry_after_max": None,
                                     "waited_max": None, "crawl_delay": 1.0, "floor_s": 1.0}]
    assert "127.0.0.60's robots.txt asks 1 s between requests: obeyed" in said(summary)


def test_retry_after_is_waited_out_and_a_host_that_keeps_asking_is_backed_off(tmp_path):
    portal = build_retry_after(62, [2022, 2023], times=2, retry_after="2")
    busy_path = next(path for path, page in portal.site.pages.items() if callable(page))
    with PortalServer(portal.site, host="127.0.0.62") as server:
        profiles = [PortalProfile(name=portal.name, start_urls=[server.url + "/"], delay=0.3)]
        summary = crawl_in_subprocess(tmp_path / "a", profiles, **FAST)
    hits = sorted(portal.site.hits, key=lambda h: h.at)
    busy = [h for h in hits if h.path == busy_path]
    assert [h.status for h in busy] == [429, 429, 200]  # retried, and served in the end
    for told in busy[:2]:
        after = [h for h in hits if h.at > told.at]
        assert after[0].at - told.at >= 2.0, (told, after[0])  # nothing at all went to the host before then
    assert min(gaps(portal.site)) >= 0.3 - SLACK
    assert found(summary)[portal.name] == portal.expected
    with Archive.open(tmp_path / "a", readonly=True) as a:
        assert a.catalog.scalar("SELECT count(*) FROM captures WHERE url LIKE ? AND status = 200",
                                (f"%{busy_path}",)) == 1
    assert summary["portals"][0]["throttled"] == [{"host": "127.0.0.62", "answers": 2, "retry_after_max": 2.0,
                                                   "waited_max": 2.0, "crawl_delay": None, "floor_s": 1.0}]
    assert ("127.0.0.62 answered 429/503 2 times; waited as asked (Retry-After up to 2 s); delay raised to 1 s"
            in said(summary))


def test_attachments_without_validators_are_downloaded_again_only_after_recheck_days(tmp_path):
    portal = build_download_jsp(63, [2022, 2023])
    archive_dir = tmp_path / "a"

    def downloads() -> list[str]:
        return [h.path for h in portal.site.hits if h.path.startswith("/download.jsp")]

    with PortalServer(portal.site, host="127.0.0.63") as server:
        profile = PortalProfile(name=portal.name, start_urls=[server.url + "/"], delay=0.0)
        first = crawl_in_subprocess(archive_dir, [profile], **FAST)
        sent_first, files = portal.site.bytes_sent(), sorted(downloads())
        assert len(files) == 2 and found(first)[portal.name] == portal.expected

        portal.site.hits.clear()
        again = crawl_in_subprocess(archive_dir, [profile], **FAST)
        assert downloads() == []  # their pages came back 304: the archived copies stand
        assert portal.site.bytes_sent() < 0.1 * sent_first, (portal.site.bytes_sent(), sent_first)
        assert again["not_rechecked"] == 2 and again["new_blobs"] == 0
        assert "2 attachments without ETag/Last-Modified kept from the archive" in said(again)
        with Archive.open(archive_dir, readonly=True) as a:
            rows = list(a.catalog.rows("SELECT url, filename, etag, last_modified FROM captures "
                                       "WHERE url LIKE '%/download.jsp%'"))
        assert len(rows) == 2  # no capture for what was not downloaded
        assert all(r["etag"] is None and r["last_modified"] is None for r in rows)  # nothing to ask with
        assert {r["filename"] for r in rows} == {f"{r.title}.docx" for r in portal.reports}  # filename*=UTF-8''

        portal.site.hits.clear()
        profile.recheck_days = 0  # past recheck_days: fetched again
        third = crawl_in_subprocess(archive_dir, [profile], **FAST)
        assert sorted(downloads()) == files
        assert not any("if-none-match" in h.headers or "if-modified-since" in h.headers
                       for h in portal.site.hits if h.path in files)  # fetched whole: no way to ask
        assert third["not_rechecked"] == 0 and third["new_blobs"] == 0
