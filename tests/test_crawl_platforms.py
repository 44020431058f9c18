"""The crawler on portals built like the platforms whose lists are paged by script (issue 13): a TRS 集约化
column read through its search API, an older Hanweb column read from its script array, a gkmlpt app
addressed by fragment — all without a browser, every report found once with its agency, every list's
announced total met."""

from __future__ import annotations

import pytest

from archive import Archive
from crawler.run import crawl_in_subprocess
from spiders.demo.platforms import BUILDERS
from spiders.demo.scripted import build_pager
from spiders.demo.server import PortalServer
from spiders.profiles import PortalProfile

pytestmark = [pytest.mark.slow, pytest.mark.libreoffice]


def found(summary: dict) -> dict[str, set[tuple[str, int]]]:
    return {p["name"]: {(a, int(y)) for y, ags in p["reports"].items() for a in ags} for p in summary["portals"]}


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    portals = [BUILDERS["trsapi"](41, [2021, 2022, 2023]), BUILDERS["jpage"](42, [2022, 2023]),
               BUILDERS["gkmlpt"](43, [2021, 2022, 2023]), build_pager(44, [2022, 2023])]
    servers = [PortalServer(p.site, host=f"127.0.0.{40 + i}").start() for i, p in enumerate(portals)]
    profiles = [PortalProfile(name=p.name, agency=p.agency, start_urls=[s.url + "/"], delay=0.0)
                for p, s in zip(portals, servers, strict=True)]
    archive_dir = tmp_path_factory.mktemp("platforms") / "archive"
    summary = crawl_in_subprocess(archive_dir, profiles, browser="never", progress=False,
                                  overrides={"AUTOTHROTTLE_START_DELAY": 0.0})
    yield {"portals": portals, "servers": servers, "summary": summary, "archive": archive_dir}
    for s in servers:
        s.stop()


def test_every_report_is_found_once_with_its_agency(crawled):
    got = found(crawled["summary"])
    for p in crawled["portals"][:3]:
        assert got[p.name] == p.expected, p.name
    with Archive.open(crawled["archive"], readonly=True) as a:
        assert len(a.reports()) >= sum(len(p.reports) for p in crawled["portals"][:3])


def test_the_trs_search_api_is_asked_for_the_pages_the_static_html_lacks(crawled):
    trs = crawled["portals"][0]
    posts = [h for h in trs.site.hits if h.path == "/fjdzapp/search"]
    assert posts and all(h.method == "POST" and h.status == 200 for h in posts)
    assert sorted(int(dict(x.split("=") for x in h.body.decode().split("&"))["page"]) for h in posts) == [2, 3]


def test_report_pages_naming_no_agency_take_the_portal_profiles(crawled):
    trs = crawled["portals"][0]
    with Archive.open(crawled["archive"], readonly=True) as a:
        docs = list(a.catalog.rows("SELECT agency, agency_from FROM documents d JOIN captures c ON c.sha256 = d.sha256 "
                                   "WHERE c.host = ?", (crawled["servers"][0].host,)))
    assert docs and {d["agency"] for d in docs} == {trs.agency}
    assert {d["agency_from"] for d in docs} == {"portal"}


def test_attachments_resolve_against_base_href(crawled):
    jpage = crawled["portals"][1]
    paths = [h.path for h in jpage.site.hits]
    assert sum(p.startswith("/module/download/download.jsp?id=") for p in paths) == len(jpage.reports)
    assert not any("/art/" in p and "download.jsp" in p for p in paths)  # never resolved against the page


def test_the_gkmlpt_column_is_read_from_its_api_page_by_page(crawled):
    g = crawled["portals"][2]
    calls = [h.path for h in g.site.hits if "/gkmlpt/api/all/" in h.path]
    assert calls and all("/api/all/2629?" in c for c in calls)  # the report column only
    # 10 a page: 3 reports and 10 other items are 2 pages, the second asked once the first told the total
    assert sorted(c.split("page=")[1][0] for c in calls) == ["1", "2"]


def test_no_list_the_adapters_read_is_left_incomplete_or_short_and_no_app_is_blocked(crawled):
    for p in crawled["summary"]["portals"][:3]:
        assert p["lists"] == [] and p["blocked"] == [], p["name"]


def test_a_script_pager_left_unfollowed_is_named_in_the_summary(crawled):
    """Browser off: the pager portal's list runs by script; the run says so, and is not "ok"."""
    import io

    from rich.console import Console

    from crawler.run import CrawlSummary, PortalResult
    from crawler.summary import print_crawl_summary

    summary = crawled["summary"]
    pager = next(p for p in summary["portals"] if p["name"] == crawled["portals"][3].name)
    assert [x["complete"] for x in pager["lists"]] == [False]
    assert "drawn by its script" in pager["lists"][0]["why"] and "without a browser" in pager["lists"][0]["why"]
    assert summary["status"] == "incomplete"
    out = io.StringIO()
    result = CrawlSummary(**{**summary, "portals": [PortalResult(**p) for p in summary["portals"]]})
    print_crawl_summary(Console(file=out, width=200), result)
    text = out.getvalue()
    assert "crawl incomplete" in text and f"{pager['name']} left reports behind" in text
    assert "list whose pager was not (fully) followed" in text and "list not read in full" in text
    assert "/zwgk/gknb/" in text
