"""The stable agency id from the registry (issue 16): a report that names itself with or without its place
(洪泽区人民政府) on the portal registered for 淮安市洪泽区人民政府, or on a site whose SiteIDCode a registry row
holds, is filed under the registry's agency; a department's report on that portal keeps its own; a person's
unmerge is not undone by the registry; the ids are in ``portals list --json``."""

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
        assert a.report(by_year[2023]["id"])["agency_key"] == a.agency_id(LONG) == a.agency_id(SHORT)
        (alias,) = a.agency_aliases()
        assert (alias["alias_name"], alias["canonical_name"], alias["merged_by"]) == (SHORT, LONG, "registry")
        assert LONG in alias["reason"]
        assert a.agency_id(DEPT) != a.agency_id(LONG) and [r["year"] for r in a.agency(DEPT)["reports"]] == [2024]
        judged = {(v.agency_key, v.year) for v in a.coverage() if v.report_id}
        assert {(a.agency_id(LONG), 2023), (a.agency_id(LONG), 2024)} <= judged
    saved = json.loads((tmp_path / "a" / "agency-aliases.json").read_text("utf-8"))
    assert [r["alias_name"] for r in saved["aliases"]] == [SHORT]  # a recovery files them alike


def test_a_site_whose_siteidcode_is_registered_vouches_without_a_portal_crawl(tmp_path):
    with Archive.open(tmp_path / "a") as a:
        a.import_portals([{"name": "hongze", "agency": LONG, "url": "http://127.0.0.98/", "region": "淮安市",
                           "level": "县", "parent": None, "site_id": SITE, "profile": None}])
        with a.writer() as w:  # a URL crawl: no portal named, the page's SiteIDCode meta says whose site it is
            _report(w, 4, SHORT, 2023, site_id=SITE)
            _report(w, 5, "洪泽区人民政府办公室", 2023, site_id="9999999999")  # another site: its own agency
        (alias,) = a.agency_aliases()
        assert alias["alias_name"] == SHORT and SITE in alias["reason"]
        assert [r["year"] for r in a.agency(LONG)["reports"]] == [2023]


def test_two_names_each_with_a_report_of_one_year_are_left_to_a_person(tmp_path):
    with Archive.open(tmp_path / "a") as a:
        with a.writer() as w:
            _report(w, 6, SHORT, 2023)  # first met on its own
        with a.writer(portals=["hongze"]) as w:
            _report(w, 7, LONG, 2023, portal_agency=LONG)
            _report(w, 8, SHORT, 2023, portal_agency=LONG)  # another rendition, but the archive has SHORT/2023
        assert a.agency_aliases() == []
        assert any(s["alias"] == SHORT and s["clash_years"] == [2023] for s in a.suggest_merges())


def test_a_person_unmerging_a_registry_alias_keeps_the_two_apart(tmp_path):
    with Archive.open(tmp_path / "a") as a:
        with a.writer(portals=["hongze"]) as w:
            _report(w, 9, SHORT, 2022, portal_agency=LONG)
            _report(w, 10, LONG, 2024, portal_agency=LONG)
        assert len(a.agency_aliases()) == 1
        a.unmerge_agency(SHORT)
        with a.writer(portals=["hongze"]) as w:  # the registry's word again: not taken over the person's
            _report(w, 11, SHORT, 2023, portal_agency=LONG)
        assert a.agency_aliases() == [] and a.agency_id(SHORT) != a.agency_id(LONG)
        assert [r["year"] for r in a.agency(SHORT)["reports"]] == [2022, 2023]
        assert not any(s["alias"] == SHORT for s in a.suggest_merges())  # nor proposed
        a.merge_agencies(LONG, SHORT)  # a person's merge overrides their unmerge
        assert a.agency_id(SHORT) == a.agency_id(LONG)
        assert [r["year"] for r in a.agency(LONG)["reports"]] == [2022, 2023, 2024]


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
