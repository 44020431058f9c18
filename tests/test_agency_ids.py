"""The stable agency id from the registry (issue 16): a report that names itself with or without its place
(洪泽区人民政府) on the portal registered for 淮安市洪泽区人民政府, or on a site whose SiteIDCode a registry row
holds, is filed under the registry's agency; a department's report on that portal keeps its own; 鼓楼区人民政府 on
福州市's portal and on 南京市's are two agencies; a pair a person unmerged stays apart; the ids are in
``portals list --json``."""

from __future__ import annotations

import json

from click.testing import CliRunner

from archive import Archive
from crawler.cli import cli
from helpers.captures import http_capture
from spiders.demo.generator import generate, to_html

LONG, SHORT = "淮安市洪泽区人民政府", "洪泽区人民政府"
DEPT = "淮安市洪泽区财政局"
SITE = "3208290001"


def _report(w, n: int, agency: str, year: int, **kw) -> None:
    w.add(http_capture(f"http://127.0.0.98/{n}.html", to_html(generate(7100 + n, year=year, agency=agency)), **kw))


def test_a_report_on_the_registered_portal_takes_the_registry_agency_id(tmp_path):
    with Archive.open(tmp_path / "a") as a:
        with a.writer(portals=["hongze"]) as w:
            _report(w, 1, SHORT, 2023, portal_agency=LONG)
            _report(w, 2, LONG, 2024, portal_agency=LONG)
            _report(w, 3, DEPT, 2024, portal_agency=LONG)  # a department's report on its government's portal
        by_year = {r["year"]: r for r in a.agency(LONG)["reports"]}
        assert sorted(by_year) == [2023, 2024]
        assert a.report(by_year[2023]["id"])["agency_key"] == a.agency_id(LONG)
        assert a.report(by_year[2023]["id"])["agency"] == SHORT  # shown under the name it was written under
        how = json.loads(a.catalog.scalar("SELECT identity FROM documents WHERE report_id = ?", (by_year[2023]["id"],)))
        assert LONG in how["agency_id"] and "portal" in how["agency_id"]
        assert a.agency_aliases() == []  # the registry's word is for this document, not for the name everywhere
        assert a.agency_id(DEPT) != a.agency_id(LONG) and [r["year"] for r in a.agency(DEPT)["reports"]] == [2024]
        judged = {(v.agency_key, v.year) for v in a.coverage() if v.report_id}
        assert {(a.agency_id(LONG), 2023), (a.agency_id(LONG), 2024)} <= judged


def test_a_site_whose_siteidcode_is_registered_gives_the_id_without_a_portal_crawl(tmp_path):
    with Archive.open(tmp_path / "a") as a:
        a.import_portals([{"name": "hongze", "agency": LONG, "url": "http://127.0.0.98/", "region": "淮安市",
                           "level": "县", "parent": None, "site_id": SITE, "profile": None}])
        with a.writer() as w:  # a URL crawl: no portal named, the page's SiteIDCode meta says whose site it is
            _report(w, 4, SHORT, 2023, site_id=SITE)
            _report(w, 5, SHORT, 2022, site_id="9999999999")  # a site the registry does not know: its own name
        assert [r["year"] for r in a.agency(LONG)["reports"]] == [2023]
        assert [r["year"] for r in a.agency(SHORT)["reports"]] == [2022]
        how = json.loads(a.catalog.scalar("SELECT d.identity FROM documents d JOIN reports r ON r.id = d.report_id "
                                          "WHERE r.year = 2023"))
        assert SITE in how["agency_id"]


def test_one_short_name_on_two_cities_portals_is_two_agencies(tmp_path):
    fuzhou, nanjing, short = "福州市鼓楼区人民政府", "南京市鼓楼区人民政府", "鼓楼区人民政府"
    with Archive.open(tmp_path / "a") as a:
        with a.writer(portals=["fuzhou", "nanjing"]) as w:
            _report(w, 6, short, 2023, portal_agency=fuzhou)
            _report(w, 7, short, 2023, portal_agency=nanjing)
        with a.writer() as w:  # met elsewhere, with no portal: the name alone
            _report(w, 8, short, 2022)
        assert [r["year"] for r in a.agency(fuzhou)["reports"]] == [2023]
        assert [r["year"] for r in a.agency(nanjing)["reports"]] == [2023]
        assert [r["year"] for r in a.agency(short)["reports"]] == [2022]
        assert len({a.agency_id(n) for n in (fuzhou, nanjing, short)}) == 3


def test_a_pair_a_person_unmerged_is_not_joined_by_the_registry(tmp_path):
    with Archive.open(tmp_path / "a") as a:
        a.merge_agencies(LONG, SHORT)
        a.unmerge_agency(SHORT)  # the person says: two agencies
        with a.writer(portals=["hongze"]) as w:
            _report(w, 9, SHORT, 2023, portal_agency=LONG)
            _report(w, 10, LONG, 2024, portal_agency=LONG)
        assert [r["year"] for r in a.agency(SHORT)["reports"]] == [2023]
        assert [r["year"] for r in a.agency(LONG)["reports"]] == [2024]
        assert not any(s["alias"] == SHORT for s in a.suggest_merges())  # nor proposed
        a.merge_agencies(LONG, SHORT)  # a person's merge overrides their unmerge
        assert [r["year"] for r in a.agency(LONG)["reports"]] == [2023, 2024]


def test_portals_list_gives_each_portal_its_agency_id(tmp_path):
    with Archive.open(tmp_path / "a") as a:
        a.import_portals([{"name": "hongze", "agency": SHORT, "url": "http://127.0.0.98/", "region": "淮安市",
                           "level": "县", "parent": None, "site_id": None, "profile": None}])
        a.merge_agencies(LONG, SHORT)
    res = CliRunner().invoke(cli, ["portals", "list", "--json", "--archive", str(tmp_path / "a")])
    assert res.exit_code == 0, res.output
    rows = {p["name"]: p for p in json.loads(res.output)}
    with Archive.open(tmp_path / "a", readonly=True) as a:
        assert rows["hongze"]["agency_id"] == a.agency_id(LONG) != rows["hongze"]["agency"]
    assert all("agency_id" in p for p in rows.values())
