"""One agency under two names (issue 16): ``merge_agencies`` records an alias that the agency page, previous and
next year, the cross-year checks, the comparison, coverage and search follow; ``unmerge_agency`` restores what
was; merging into itself, a cycle and a year both names hold are refused in words; the real 洪泽区 reports of
2023 and 2024 become one agency's consecutive years."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive import Archive
from archive.errors import AliasError
from crawler.cli import cli
from helpers.captures import http_capture
from spiders.demo.generator import generate, to_html

REAL = Path(__file__).resolve().parents[2] / "shared" / "real"
LONG, SHORT = "汉中市南郑区人民政府", "南郑区人民政府"  # one agency: the short name in 2022 and 2023, the long in 2024
OLD = "南郑县人民政府"  # the county before it became a district: another name, shares the site's SiteIDCode
DEPT = "汉中市南郑区审计局"  # a department on the same site, the same year: never suggested
OTHER = "安康市审计局"
SITE = "6107210001"
BUILT = [(SHORT, 2022, 5122), (SHORT, 2023, 5123), (LONG, 2024, 5124), (OLD, 2019, 5119), (DEPT, 2024, 5224),
         (OTHER, 2023, 5323), (OTHER, 2024, 5324)]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("aliases") / "a"
    with Archive.open(where) as a:
        with a.writer() as w:
            for name, year, seed in BUILT:
                site = SITE if name in (SHORT, LONG, OLD, DEPT) else None
                w.add(http_capture(f"http://127.0.0.97/{seed}.html", to_html(generate(seed, year=year, agency=name)),
                                   site_id=site))
        a.reindex(only_pending=True)
    return where


@pytest.fixture
def arch(built, tmp_path):
    """A copy of the built archive per test: merges change it."""
    shutil.copytree(built, tmp_path / "a")
    with Archive.open(tmp_path / "a") as a:
        yield a


def _view(a: Archive) -> dict:
    """Everything a merge should change, as plain data."""
    show = a.show(f"{LONG}/2024")
    rows = a.compare("applications/1/total")["rows"]
    verdicts = [v for v in a.coverage() if v.report_id]
    return {
        "short_years": [r["year"] for r in a.agency(SHORT)["reports"]],
        "long_years": [r["year"] for r in a.agency(LONG)["reports"]],
        "previous": show["neighbours"]["previous"], "cross_year": [c["rule"] for c in show["cross_year_checks"]],
        "compare_keys": sorted({r["agency_key"] for r in rows if r["named"] in (SHORT, LONG)}),
        "coverage_keys": sorted({v.agency_key for v in verdicts if v.report_id and v.agency in (SHORT, LONG)}),
        "agencies": len(a.agencies()),
        "search": a.search("", agency=LONG).total,
        "reports": sorted((r["id"], a.report(r["id"])["agency_key"]) for r in a.reports()),
    }


def test_a_merge_is_followed_by_the_agency_page_years_compare_coverage_and_search(arch):
    before = _view(arch)
    assert before["short_years"] == [2022, 2023] and before["long_years"] == [2024]
    assert before["previous"] is None and before["cross_year"] == []
    assert len(before["compare_keys"]) == 2

    res = arch.merge_agencies(LONG, SHORT, reason="撤县设区后同一政府")
    assert (res["agency_id"], res["reports_moved"], res["years"]) == (LONG, 2, [2022, 2023, 2024])
    r2023, r2024 = arch.report(f"{SHORT}/2023"), arch.report(f"{LONG}/2024")
    assert arch.report(f"{LONG}/2023")["id"] == r2023["id"]  # either name finds either year
    assert arch.agency_id(SHORT) == arch.agency_id(LONG) == LONG == r2023["agency_key"]

    # the agency page of either name: every year, shown under the name it was merged under
    for name in (SHORT, LONG):
        page = arch.agency(name)
        assert [r["year"] for r in page["reports"]] == [2022, 2023, 2024]
        assert page["agency"] == LONG and page["names"] == [SHORT, LONG] and page["aliases"] == [SHORT]
        assert {c["year"] for c in page["cells"]} == {2022, 2023, 2024}
    # previous and next year, and the cross-year checks against the previous report
    shown = arch.show(f"{LONG}/2024")
    assert shown["neighbours"] == {"previous": r2023["id"], "next": None} and shown["agency_id"] == LONG
    checks = shown["cross_year_checks"]
    assert checks and all(f"(report {r2023['id']})" in c["detail"] for c in checks)
    assert arch.show(f"{SHORT}/2023")["neighbours"]["next"] == r2024["id"]
    # the comparison: one agency, one row per year
    cmp = arch.compare("applications/1/total", agency=LONG)
    assert [(r["agency"], r["year"]) for r in cmp["rows"]] == [(LONG, 2022), (LONG, 2023), (LONG, 2024)]
    assert [r["named"] for r in cmp["rows"]] == [SHORT, SHORT, LONG] and cmp["agencies"] == [LONG]
    assert {r["region"] for r in cmp["rows"]} == {"汉中市"}
    assert [r["year"] for r in arch.compare("applications/1/total", region="汉中市")["rows"]
            if r["agency_key"] == LONG] == [2022, 2023, 2024]
    # coverage: one history with every year
    history = arch.coverage(agency=SHORT)
    assert {v.agency_key for v in history} == {LONG} and {v.agency for v in history} == {LONG}
    assert {v.year for v in history if v.report_id} == {2022, 2023, 2024}
    assert [v.year for v in history] == sorted({v.year for v in history})  # each year judged once
    # search: either name finds both names' documents, and they count as one region
    for name in (SHORT, LONG):
        found = arch.search("", agency=name)
        assert found.total == 3, name
        assert found.facets["region"] == [{"value": "汉中市", "count": 3}]
    assert len(arch.agencies()) == len({n for n, _, _ in BUILT}) - 1
    listed = next(r for r in arch.agencies() if r["agency_key"] == LONG)
    assert (listed["agency"], listed["years"], listed["aliases"]) == (LONG, [2022, 2023, 2024], [SHORT])
    (alias,) = arch.agency_aliases()
    assert (alias["alias_name"], alias["canonical_name"], alias["agency_id"], alias["reason"]) == (
        SHORT, LONG, LONG, "撤县设区后同一政府")
    assert alias["merged_by"] and alias["merged_at"]

    # unmerge: everything as it was
    back = arch.unmerge_agency(SHORT)
    assert sorted(back["reports_moved"]) == sorted([r2023["id"], arch.report(f"{SHORT}/2022")["id"]])
    assert _view(arch) == before and arch.agency_aliases() == []


def test_later_reports_of_either_name_are_filed_under_the_agency_and_a_reparse_keeps_the_merge(arch):
    arch.merge_agencies(LONG, SHORT)
    with arch.writer() as w:
        w.add(http_capture("http://127.0.0.97/2025.html", to_html(generate(5125, year=2025, agency=SHORT))))
    new = arch.report(f"{SHORT}/2025")
    assert new["agency_key"] == LONG and new["agency"] == SHORT
    assert arch.show(f"{LONG}/2025")["neighbours"]["previous"] == arch.report(f"{LONG}/2024")["id"]
    ids = sorted(r["id"] for r in arch.reports())
    arch.reparse()
    assert sorted(r["id"] for r in arch.reports()) == ids
    assert [r["year"] for r in arch.agency(SHORT)["reports"]] == [2022, 2023, 2024, 2025]
    arch.unmerge_agency(SHORT)
    assert [r["year"] for r in arch.agency(SHORT)["reports"]] == [2022, 2023, 2025]


def test_merging_into_itself_a_cycle_or_an_alias_again_is_refused_in_words_and_chains_resolve(arch):
    with pytest.raises(AliasError, match="cannot be merged into itself"):
        arch.merge_agencies(SHORT, f" {SHORT[:3]} {SHORT[3:]}")  # one name, spaced
    with pytest.raises(AliasError, match="not an agency's name"):
        arch.merge_agencies(SHORT, "——")
    with pytest.raises(AliasError, match="is not an alias of another agency"):
        arch.unmerge_agency(SHORT)
    arch.merge_agencies(SHORT, OLD)  # 南郑县 → 南郑区
    arch.merge_agencies(LONG, SHORT)  # 南郑区 → 汉中市南郑区: the chain resolves to its root
    assert arch.agency_id(OLD) == LONG
    assert [r["year"] for r in arch.agency(OLD)["reports"]] == [2019, 2022, 2023, 2024]
    assert arch.agency(OLD)["aliases"] == [OLD, SHORT]
    with pytest.raises(AliasError, match="would make a cycle"):
        arch.merge_agencies(OLD, LONG)
    with pytest.raises(AliasError, match=r"already an alias of .* nothing to merge"):
        arch.merge_agencies(LONG, OLD)
    with pytest.raises(AliasError, match=rf"already an alias of {SHORT}.*unmerge it first"):
        arch.merge_agencies(OTHER, OLD)
    assert len(arch.agency_aliases()) == 2
    # unmerging the middle of the chain keeps the names merged into it with it
    arch.unmerge_agency(SHORT)
    assert arch.agency_id(OLD) == arch.agency_id(SHORT) == SHORT != arch.agency_id(LONG)
    assert [r["year"] for r in arch.agency(SHORT)["reports"]] == [2019, 2022, 2023]
    assert [r["year"] for r in arch.agency(LONG)["reports"]] == [2024]


def test_a_year_both_names_hold_is_refused_with_both_reports_and_nothing_changes(arch):
    before = _view(arch)
    with pytest.raises(AliasError) as e:
        arch.merge_agencies(LONG, DEPT)
    said = str(e.value)
    assert "both have a report on 2024" in said
    for name in (LONG, DEPT):
        assert f"report {arch.report(f'{name}/2024')['id']} ({name})" in said
    assert _view(arch) == before and arch.agency_aliases() == []


def test_suggestions_pair_a_name_ending_with_another_and_one_site_in_different_years_never_merging(arch):
    found = {(s["canonical"], s["alias"]): s for s in arch.suggest_merges()}
    assert found[(LONG, SHORT)]["evidence"] == ["SiteIDCode " + SITE, "name"]
    assert found[(LONG, SHORT)]["command"] == f"nianbao agencies merge {LONG} {SHORT}"
    assert found[(LONG, OLD)]["evidence"] == ["SiteIDCode " + SITE]  # the years 2019 / 2024 do not overlap
    # the department shares the site but not the kind of name, and publishes the same year
    assert not any(DEPT in pair for pair in found) and not any(OTHER in pair for pair in found)
    assert arch.agency_aliases() == []
    arch.merge_agencies(LONG, SHORT)
    assert (LONG, SHORT) not in {(s["canonical"], s["alias"]) for s in arch.suggest_merges()}


def test_the_command_line_merges_lists_suggests_and_unmerges(arch):
    where = ["--archive", str(arch.path)]
    arch.close()
    run = CliRunner().invoke
    res = run(cli, ["agencies", "suggest", "--json", *where])
    assert res.exit_code == 0, res.output
    assert any(s["alias"] == SHORT for s in json.loads(res.stdout))
    res = run(cli, ["agencies", "suggest", *where])
    assert res.exit_code == 0 and f"  nianbao agencies merge {LONG} {SHORT}\n" in res.output
    res = run(cli, ["agencies", "merge", LONG, SHORT, "--reason", "同一政府", *where])
    assert res.exit_code == 0, res.output
    assert "2 report(s) refiled" in res.output and "2022 2023 2024" in res.output
    res = run(cli, ["agencies", "list", "--json", *where])
    listed = json.loads(res.stdout)
    assert [a["alias_name"] for a in listed["aliases"]] == [SHORT]
    assert next(a for a in listed["agencies"] if a["agency_key"] == LONG)["years"] == [2022, 2023, 2024]
    res = run(cli, ["agencies", "list", *where])
    assert res.exit_code == 0 and SHORT in res.output and "同一政府" in res.output
    res = run(cli, ["agencies", "merge", SHORT, LONG, *where])
    assert res.exit_code == 1 and "would make a cycle" in res.output
    res = run(cli, ["agencies", "unmerge", OTHER, *where])
    assert res.exit_code == 1 and "is not an alias of another agency" in res.output
    res = run(cli, ["agencies", "unmerge", SHORT, *where])
    assert res.exit_code == 0 and "2 report(s) refiled" in res.output
    with Archive.open(arch.path, readonly=True) as a:
        assert a.agency_aliases() == [] and [r["year"] for r in a.agency(SHORT)["reports"]] == [2022, 2023]


def test_an_older_catalog_opened_read_only_has_no_aliases_and_still_reads(built, tmp_path):
    shutil.copytree(built, tmp_path / "a")
    with Archive.open(tmp_path / "a") as a, a.catalog.transaction() as db:
        db.execute("DROP TABLE agency_aliases")
        db.execute("DELETE FROM _migrations WHERE version >= 19")  # a catalog from before migration 19
    with Archive.open(tmp_path / "a", readonly=True) as a:
        assert a.agency_aliases() == [] and a.agency_id(SHORT) == SHORT
        assert [r["year"] for r in a.agency(SHORT)["reports"]] == [2022, 2023]
        assert a.show(f"{LONG}/2024")["neighbours"]["previous"] is None
    with Archive.open(tmp_path / "a") as a:  # migrated again on a writable open
        a.merge_agencies(LONG, SHORT)
        assert a.show(f"{LONG}/2024")["neighbours"]["previous"] == a.report(f"{SHORT}/2023")["id"]


def test_the_real_hongze_reports_of_2023_and_2024_are_one_agency_after_the_merge(tmp_path):
    if not REAL.is_dir():
        pytest.skip(f"the shared real documents are not at {REAL}")
    with Archive.open(tmp_path / "a") as a:
        a.ingest([REAL / "hongze-2023.pdf", REAL / "hongze-2024.pdf"])
        r2023, r2024 = a.report("洪泽区人民政府/2023"), a.report("淮安市洪泽区人民政府/2024")
        assert a.show(r2024["id"])["neighbours"]["previous"] is None
        assert [s["command"] for s in a.suggest_merges()] == [
            "nianbao agencies merge 淮安市洪泽区人民政府 洪泽区人民政府"]
        a.merge_agencies("淮安市洪泽区人民政府", "洪泽区人民政府")
        shown = a.show(r2024["id"])
        assert shown["neighbours"]["previous"] == r2023["id"]
        # row 2 of 2024 (carried over) against row 4 of 2023 (carried forward): both 0 in the reports as printed
        checks = {c["rule"]: c for c in shown["cross_year_checks"]}
        assert checks["cross_year.carried_over.total"]["ok"]
        assert checks["cross_year.carried_over.total"]["detail"] == (
            f"2024 row 2 = 0; 2023 row 4 = 0 (report {r2023['id']})")
        assert [r["year"] for r in a.agency("洪泽区人民政府")["reports"]] == [2023, 2024]
        rows = a.compare("applications/1/total")["rows"]
        assert [(r["agency"], r["year"], r["value"]) for r in rows] == [
            ("淮安市洪泽区人民政府", 2023, 21), ("淮安市洪泽区人民政府", 2024, 95)]
        assert {v.year for v in a.coverage(agency="洪泽区人民政府") if v.report_id} == {2023, 2024}


def test_the_agency_page_of_either_name_shows_every_year_and_the_other_names(arch):
    from fastapi.testclient import TestClient

    from archive.web import create_app

    arch.merge_agencies(LONG, SHORT)
    client = TestClient(create_app(arch.path), base_url="http://127.0.0.1")
    for name in (SHORT, LONG):
        page = client.get(f"/agency/{name}")
        assert page.status_code == 200
        assert f"<h1>{LONG}</h1>" in page.text and f"又名：{SHORT}" in page.text
        assert all(f"{y} 年度" in page.text for y in (2022, 2023, 2024))
        assert page.text.count(f"署名 {SHORT}") == 2
    report = client.get(f"/report/{arch.report(f'{LONG}/2024')['id']}")
    assert f'<a rel="prev" href="/report/{arch.report(f"{SHORT}/2023")["id"]}">← 2023 年度</a>' in report.text


def test_a_recovered_catalog_keeps_the_merges_which_no_warc_file_holds(arch):
    arch.merge_agencies(LONG, SHORT, reason="同一政府")
    kept = json.loads((arch.path / "agency-aliases.json").read_text(encoding="utf-8"))["aliases"]
    assert [(r["alias_name"], r["canonical_name"], r["reason"]) for r in kept] == [(SHORT, LONG, "同一政府")]
    where = arch.path
    arch.close()
    res = Archive.recover(where, force=True)
    assert res.aliases == 1
    with Archive.open(where) as a:
        assert [r["year"] for r in a.agency(SHORT)["reports"]] == [2022, 2023, 2024]
        assert a.show(f"{LONG}/2024")["neighbours"]["previous"] == a.report(f"{SHORT}/2023")["id"]
        a.unmerge_agency(SHORT)
        assert json.loads((where / "agency-aliases.json").read_text(encoding="utf-8"))["aliases"] == []
