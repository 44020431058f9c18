"""The crawler against simulated portals on loopback hosts: every report, no look-alike, bounded
traps, robots.txt, politeness, a browser where needed, a cheap recrawl."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from archive import Archive
from crawler.run import crawl_in_subprocess
from spiders.demo.portals import build
from spiders.demo.server import PortalServer
from spiders.profiles import PortalProfile

pytestmark = pytest.mark.slow  # every test runs a crawl of simulated portals

FAST = {"progress": False, "patience_ms": 20_000, "overrides": {"AUTOTHROTTLE_START_DELAY": 0.0}}


def profiles(portals, servers):
    return [PortalProfile(name=p.name, start_urls=[s.url + "/"], delay=0.0)
            for p, s in zip(portals, servers, strict=True)]


def found(summary: dict) -> dict[str, set[tuple[str, int]]]:
    return {p["name"]: {(a, int(y)) for y, ags in p["reports"].items() for a in ags} for p in summary["portals"]}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Seven portals (static with traps, GBK TRS, Hanweb, JSON-API, 412 challenge, a slow host, per-year
    sub-columns with a numbered pager and script shells), crawled once into a fresh archive."""
    portals = [build("static", 31, [2021, 2022, 2023]), build("trs", 32, [2022, 2023]),
               build("hanweb", 33, [2021, 2022, 2023]), build("jsonapi", 34, [2022, 2023]),
               build("challenge", 35, [2023]), build("static", 36, [2022, 2023], traps=False, delay=0.3),
               build("yearly", 37, [2021, 2022, 2023])]
    portals[5].name = "slow-36"
    servers = [PortalServer(p.site, host=f"127.0.0.{10 + i}").start() for i, p in enumerate(portals)]
    archive_dir = tmp_path_factory.mktemp("crawl") / "archive"
    summary = crawl_in_subprocess(archive_dir, profiles(portals, servers), browser="auto", **FAST)
    yield {"portals": portals, "servers": servers, "archive": archive_dir, "summary": summary}
    for s in servers:
        s.stop()


@pytest.mark.browser
@pytest.mark.libreoffice
def test_every_report_is_found_with_its_agency_and_year(site):
    got = found(site["summary"])
    for p in site["portals"]:
        assert got[p.name] == p.expected, p.name
    behind = {p["name"]: (p["lists"], p["unassigned"], p["blocked"]) for p in site["summary"]["portals"]
              if p["lists"] or p["unassigned"] or p["blocked"]}
    assert site["summary"]["status"] == "ok", behind


@pytest.mark.browser
@pytest.mark.libreoffice
def test_report_files_are_documents_of_one_report(site):
    with Archive.open(site["archive"], readonly=True) as a:
        rows = a.reports()
        assert len(rows) == sum(len(p.reports) for p in site["portals"])
        static = [r for r in rows if r["agency"] == site["portals"][0].agency]
        # each year: the HTML page and its PDF, plus a DOCX or DOC where published: one report
        assert all(r["documents"] >= 2 and r["revisions"] == 1 for r in static)
        kinds = {k for r in static for k in r["kinds"].split(",")}
        assert kinds >= {"html", "pdf", "docx", "doc"}


@pytest.mark.browser
@pytest.mark.libreoffice
def test_no_lookalike_is_archived_as_a_report(site):
    static = site["portals"][0]
    with Archive.open(site["archive"], readonly=True) as a:
        for path in (*static.lookalikes, "/zwgk/zn/", f"/uploads/{31}/broken.pdf"):
            caps = list(a.catalog.rows("SELECT sha256 FROM captures WHERE final_url LIKE ?", (f"%{path}",)))
            assert caps, f"{path} was not even fetched"
            assert not any(a.catalog.scalar("SELECT 1 FROM documents WHERE sha256 = ?", (c["sha256"],)) for c in caps)


@pytest.mark.browser
@pytest.mark.libreoffice
def test_traps_are_bounded(site):
    hits = [h.path for h in site["portals"][0].site.hits]
    assert sum(h.startswith("/zwgk/cal") for h in hits) <= 31  # the calendar never ends; the crawl does
    assert sum(h.startswith("/zwgk/old") for h in hits) <= 6  # a redirect loop
    assert not any("jsessionid" in h for h in hits)  # session ids stripped, so no duplicate column
    assert len(hits) < 150


@pytest.mark.browser
@pytest.mark.libreoffice
def test_robots_txt_is_honoured(site):
    static = site["portals"][0]
    hits = [h.path for h in static.site.hits]
    assert "/robots.txt" in hits
    assert not any(h in static.forbidden for h in hits)
    result = next(p for p in site["summary"]["portals"] if p["name"] == static.name)
    assert any("robots.txt" in s["reason"] for s in result["skipped"])


@pytest.mark.browser
@pytest.mark.libreoffice
def test_politeness_user_agent_and_two_requests_per_host(site):
    for p in site["portals"]:
        agents = {h.headers.get("user-agent", "") for h in p.site.hits}
        assert agents and all(a.startswith("nianbao/") and "+http" in a for a in agents), (p.name, agents)
        assert p.site.max_active <= 2, (p.name, p.site.max_active)


@pytest.mark.browser
@pytest.mark.libreoffice
def test_script_filled_list_is_read_through_chromium(site):
    jsonapi = site["portals"][3]
    assert any(h.path.startswith("/api/ndbg") for h in jsonapi.site.hits)  # a browser ran the list's script
    assert found(site["summary"])[jsonapi.name] == jsonapi.expected


@pytest.mark.browser
@pytest.mark.libreoffice
def test_challenge_page_passes_in_the_browser_and_is_never_a_report(site):
    challenge = site["portals"][4]
    assert any(h.status == 412 for h in challenge.site.hits)
    result = next(p for p in site["summary"]["portals"] if p["name"] == challenge.name)
    assert result["challenges_passed"] >= 1 and result["blocked"] == []  # the summary says it got through
    assert found(site["summary"])[challenge.name] == challenge.expected
    with Archive.open(site["archive"], readonly=True) as a:
        for sha in (r["sha256"] for r in a.catalog.rows("SELECT sha256 FROM captures WHERE status = 412")):
            assert not a.catalog.scalar("SELECT 1 FROM documents WHERE sha256 = ?", (sha,))


@pytest.mark.browser
@pytest.mark.libreoffice
def test_gbk_site_and_provenance(site):
    trs = site["portals"][1]
    with Archive.open(site["archive"], readonly=True) as a:
        ids = {r["site_id"] for r in a.catalog.rows("SELECT site_id FROM captures WHERE host = ?",
                                                    (site["servers"][1].host,)) if r["site_id"]}
    assert ids == {"61" + f"{32:08d}"}
    assert found(site["summary"])[trs.name] == trs.expected


@pytest.mark.browser
@pytest.mark.libreoffice
def test_year_sub_columns_numbered_pages_and_script_shells(site):
    yearly = site["portals"][6]
    hits = {h.path for h in yearly.site.hits}
    assert {"/zfxxgk/gzbg/2021n/", "/zfxxgk/gzbg/2023n/"} <= hits  # named only by "2021年度"
    assert {"/zfxxgk/gzbg/2021n/?page=3", "/zfxxgk/gzbg/gknb2022/?page=3"} <= hits  # "1 2 3 尾页", no 下一页
    assert {f"/content/{y}/37{i}.html" for i, y in enumerate([2021, 2022, 2023])} <= hits  # behind location.replace
    assert found(site["summary"])[yearly.name] == yearly.expected


def test_profile_hints_find_what_the_heuristics_miss(tmp_path):
    portal = build("hidden", 43, [2022, 2023])
    with PortalServer(portal.site, host="127.0.0.33") as server:
        plain = profiles([portal], [server])
        without = crawl_in_subprocess(tmp_path / "a", plain, browser="never", **FAST)
        plain[0].hints = {"url_patterns": [r"/special/list/$"], "list_selector": "div.special-list li"}
        hinted = crawl_in_subprocess(tmp_path / "b", plain, browser="never", **FAST)
    assert found(without)[portal.name] == set()
    assert found(hinted)[portal.name] == portal.expected


@pytest.mark.browser
@pytest.mark.libreoffice
def test_recrawl_fetches_little_and_stores_nothing_new(site):
    portals = site["portals"]
    first = sum(p.site.bytes_sent() for p in portals)
    for p in portals:
        p.site.hits.clear()
    again = crawl_in_subprocess(site["archive"], profiles(portals, site["servers"]), browser="auto", **FAST)
    second = sum(p.site.bytes_sent() for p in portals)
    assert again["new_blobs"] == 0
    assert second < 0.1 * first, (second, first)
    assert again["not_modified"] > 0 and found(again) == found(site["summary"])


def test_without_a_browser_challenges_are_reported_blocked(tmp_path):
    portal = build("challenge", 41, [2023])
    with PortalServer(portal.site, host="127.0.0.30") as server:
        summary = crawl_in_subprocess(tmp_path / "a", profiles([portal], [server]), browser="never", **FAST)
    result = summary["portals"][0]
    assert result["reports"] == {}
    assert result["blocked"] and "Ruishu" in result["blocked"][0]["reason"]


def test_crawl_command_with_a_profile(tmp_path):
    portal = build("hanweb", 42, [2022, 2023])
    with PortalServer(portal.site, host="127.0.0.31") as server:
        archive_dir = tmp_path / "a"
        nianbao = [sys.executable, "-m", "crawler.cli"]
        subprocess.run([*nianbao, "portals", "add", server.url + "/", "--name", "hw", "--archive", str(archive_dir)],
                       check=True, capture_output=True)
        done = subprocess.run([*nianbao, "crawl", "--portal", "hw", "--browser", "never", "--json", "--archive",
                               str(archive_dir)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert {(a, int(y)) for y, ags in summary["portals"][0]["reports"].items() for a in ags} == portal.expected


def test_crawl_command_fails_only_when_nothing_could_be_crawled(tmp_path):
    done = subprocess.run([sys.executable, "-m", "crawler.cli", "crawl", "http://127.0.0.32:9/", "--browser",
                           "never", "--archive", str(tmp_path / "a")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert "failed" in done.stdout
