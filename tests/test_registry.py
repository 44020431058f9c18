"""Registering portals in bulk (issue 16): ``nianbao portals import|export|list`` over the catalog's ``portals``
table; every error of a file with its line number and nothing written; re-import changes nothing; TOML profiles
win over registry rows; the scheduler, ``crawl --portal`` and coverage see the registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive import Archive
from archive.catalog.registry import FIELDS
from crawler.cli import cli
from crawler.portals import portals_in
from scheduler import ScheduleConfig, scheduled_portals
from spiders.profiles import BUNDLED, PortalProfile, ProfileError, load_all, save
from spiders.registry import RegistryError, import_file, known, listing, read, registered, to_profile, to_row, write

GOOD_CSV = "".join(line + "\n" for line in [
    "name,agency,url,region,level,parent,SiteIDCode,delay,robots,schedule,hints,allowed_hosts",
    'js-a,南京市甲局,http://a.gov.cn/,江苏省南京市,市,南京市人民政府,3201000001,2,TRUE,0 6 * 1-3 *;0 6 1 * *,'
    '"{""url_patterns"": [""/nb/""]}",',
    'js-b,江苏省乙厅,"[""http://b.gov.cn/"", ""http://www.b.gov.cn/x""]",江苏省,省,江苏省人民政府,,,,,,'
    'b.gov.cn www.b.gov.cn',
    "js-c,洪泽区人民政府,http://c.gov.cn/,江苏省淮安市洪泽区,县,,,,,,,",
])
GOOD_JSONL = [
    {"name": "js-a", "agency": "南京市甲局", "url": "http://a.gov.cn/", "region": "江苏省南京市", "level": "市",
     "parent": "南京市人民政府", "SiteIDCode": 3201000001, "delay": 2, "robots": True,
     "schedule": ["0 6 * 1-3 *", "0 6 1 * *"], "hints": {"url_patterns": ["/nb/"]}},
    {"name": "js-b", "agency": "江苏省乙厅", "start_urls": ["http://b.gov.cn/", "http://www.b.gov.cn/x"],
     "region": "江苏省", "level": "省", "parent": "江苏省人民政府", "allowed_hosts": ["b.gov.cn", "www.b.gov.cn"]},
    {"name": "js-c", "agency": "洪泽区人民政府", "url": "http://c.gov.cn/", "region": "江苏省淮安市洪泽区",
     "level": "县"},
]


def fields(rows) -> list[tuple]:
    return [tuple(r[k] for k in FIELDS) for r in rows]


def write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def run(tmp_path):
    where = tmp_path / "arch"

    def invoke(*args, ok=True):
        res = CliRunner().invoke(cli, ["portals", *args, "--archive", str(where)], catch_exceptions=False)
        if ok:
            assert res.exit_code == 0, res.output
        return res

    invoke.where = where
    return invoke


def test_a_good_csv_and_the_same_portals_as_jsonl_import_to_the_same_rows(tmp_path):
    csv_file = write_text(tmp_path / "p.csv", GOOD_CSV)
    jsonl = write_text(tmp_path / "p.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in GOOD_JSONL))
    res = import_file(tmp_path / "a", csv_file)
    assert (res["added"], res["changed"], res["unchanged"], res["removed"]) == (3, 0, 0, 0)
    import_file(tmp_path / "b", jsonl)
    with Archive.open(tmp_path / "a") as a, Archive.open(tmp_path / "b") as b:
        rows = a.registered_portals()
        assert fields(rows) == fields(b.registered_portals())
    first = rows[0]
    assert first["name"] == "js-a" and first["site_id"] == "3201000001" and first["level"] == "市"
    assert json.loads(first["profile"]) == {"delay": 2.0, "robots": True, "hints": {"url_patterns": ["/nb/"]},
                                            "schedule": ["0 6 * 1-3 *", "0 6 1 * *"]}
    assert first["source"] == str(csv_file.resolve()) and first["imported_at"]
    assert json.loads(rows[1]["url"]) == ["http://b.gov.cn/", "http://www.b.gov.cn/x"]
    assert rows[2]["profile"] is None and rows[2]["parent"] is None
    b = registered(tmp_path / "a")["js-b"]
    assert b.start_urls == ["http://b.gov.cn/", "http://www.b.gov.cn/x"] and b.allowed_hosts == ["b.gov.cn",
                                                                                                   "www.b.gov.cn"]
    assert (b.region, b.level, b.parent, b.delay) == ("江苏省", "省", "江苏省人民政府", 1.0)


def test_excel_files_read_with_a_bom_crlf_gbk_and_empty_trailing_columns(tmp_path):
    excel = GOOD_CSV.replace("\n", ",,\r\n").replace("name,agency", "Name,Agency")
    expected = fields(read(write_text(tmp_path / "plain.csv", GOOD_CSV)))
    assert fields(read(write_text(tmp_path / "bom.csv", "\ufeff" + excel))) == expected
    assert fields(read(write_text(tmp_path / "gbk.csv", excel, "gbk"))) == expected  # Excel's CSV on Chinese Windows
    # no extension: sniffed
    assert fields(read(write_text(tmp_path / "list", GOOD_CSV))) == expected
    assert len(read(write_text(tmp_path / "list2", json.dumps(GOOD_JSONL[0], ensure_ascii=False)))) == 1


def test_every_error_of_a_bad_file_is_reported_with_its_line_and_nothing_is_imported(tmp_path, run):
    bad = write_text(tmp_path / "bad.csv", GOOD_CSV.replace("allowed_hosts\n", "allowed_hosts,colour\n") + (
        "js-d,丁局,ftp://d.gov.cn/,,州,,,fast,,,,\n"        # line 5: bad URL, bad level, bad delay
        "js-a,重名,http://e.gov.cn/,,,,,,,,,\n"             # line 6: the name of line 2
        ",无名,,,,,,,,,,\n"                                 # line 7: no name, no url
        "Bad Name,x,http://f.gov.cn/,,,,,,maybe,,[oops,\n"  # line 8: name, robots, hints
        "js-g,庚局,http://g.gov.cn/,,,,,,,0 99 * * *,,\n"   # line 9: a schedule that is no crontab
    ))
    with pytest.raises(RegistryError) as e:
        read(bad)
    lines = [n for n, _ in e.value.errors]
    assert lines == [1, 5, 5, 5, 6, 7, 7, 8, 8, 8, 9]
    text = str(e.value)
    for words in ("line 1: unknown column 'colour'", "line 5: url 'ftp://d.gov.cn/' is not an http(s) URL",
                  "line 5: level must be one of 国/省/市/县/乡", "line 5: delay: 'fast' is not a number",
                  "line 6: the name 'js-a' is taken already by line 2", "line 7: no name", "line 7: no url",
                  "line 8: the name 'Bad Name' may hold only", "line 8: robots: 'maybe' is not true or false",
                  "line 8: hints:", "line 9: schedule", "nothing was imported"):
        assert words in text, words
    res = run("import", str(bad), ok=False)
    assert res.exit_code != 0 and "11 error(s)" in res.output and "line 8" in res.output
    assert not (run.where / "catalog.db").exists()  # nothing written, not even an empty archive
    run("import", str(write_text(tmp_path / "good.csv", GOOD_CSV)))
    run("import", str(bad), ok=False)
    with Archive.open(run.where, readonly=True) as a:
        assert [r["name"] for r in a.registered_portals()] == ["js-a", "js-b", "js-c"]  # untouched by the bad file


def test_a_jsonl_file_with_an_unknown_key_or_a_broken_line_is_refused(tmp_path):
    lines = [json.dumps(GOOD_JSONL[0], ensure_ascii=False), "", "{not json", json.dumps({"name": "x", "url":
             "http://x.gov.cn/", "colour": "red"}), "[1, 2]", json.dumps({"name": "y", "url": "http://y.gov.cn/",
                                                                          "concurrency": 1.5, "max_pages": 0})]
    with pytest.raises(RegistryError) as e:
        read(write_text(tmp_path / "bad.jsonl", "\n".join(lines)))
    assert [n for n, _ in e.value.errors] == [3, 4, 5, 6]
    assert "unknown key 'colour'" in str(e.value) and "not a JSON object" in str(e.value)
    assert "concurrency must be a whole number" in str(e.value)


def test_many_errors_are_shown_fifty_then_counted(tmp_path):
    body = "".join(f"p{i},x,nope{i}\n" for i in range(120))
    with pytest.raises(RegistryError) as e:
        read(write_text(tmp_path / "bad.csv", "name,agency,url\n" + body))
    assert len(e.value.errors) == 120
    assert str(e.value).count("\n  line ") == 50 and "… and 70 more error(s)" in str(e.value)


def test_an_empty_file_is_refused(tmp_path):
    with pytest.raises(RegistryError, match="no portals"):
        read(write_text(tmp_path / "e.csv", "name,url\n\n"))


def test_reimport_changes_nothing_a_changed_row_is_updated_and_replace_removes_the_rest(tmp_path, run):
    good = write_text(tmp_path / "good.csv", GOOD_CSV)
    run("import", str(good))
    with Archive.open(run.where, readonly=True) as a:
        before = a.registered_portals()
    res = run("import", str(good), "--json")
    assert {k: json.loads(res.output)[k] for k in ("added", "changed", "unchanged", "removed")} == \
        {"added": 0, "changed": 0, "unchanged": 3, "removed": 0}
    assert "0 added, 0 changed, 3 unchanged" in run("import", str(good)).output
    with Archive.open(run.where, readonly=True) as a:
        assert a.registered_portals() == before  # imported_at and source too
    edited = write_text(tmp_path / "edit.csv", GOOD_CSV.splitlines()[0] + "\n" + GOOD_CSV.splitlines()[1] + "\n"
                        + GOOD_CSV.splitlines()[3].replace("洪泽区人民政府", "淮安市洪泽区人民政府") + "\n"
                        + "js-d,丁局,http://d.gov.cn/,,,,,,,,,\n")
    out = run("import", str(edited)).output
    assert "1 added, 1 changed, 1 unchanged" in out
    with Archive.open(run.where, readonly=True) as a:
        rows = {r["name"]: r for r in a.registered_portals()}
    assert set(rows) == {"js-a", "js-b", "js-c", "js-d"}  # without --replace js-b stays
    assert rows["js-c"]["agency"] == "淮安市洪泽区人民政府" and rows["js-c"]["source"] == str(edited.resolve())
    assert rows["js-a"]["imported_at"] == before[0]["imported_at"]
    assert "0 added, 0 changed, 3 unchanged, 1 removed" in run("import", str(edited), "--replace").output
    with Archive.open(run.where, readonly=True) as a:
        assert [r["name"] for r in a.registered_portals()] == ["js-a", "js-c", "js-d"]


def test_the_archive_stores_all_rows_or_none(archive):
    archive.import_portals([{"name": "p1", "url": "http://p1.gov.cn/"}])
    with pytest.raises(Exception, match="NOT NULL"):  # the second row breaks the table's rule mid-way
        archive.import_portals([{"name": "p2", "url": "http://p2.gov.cn/"}, {"name": "p3", "url": None},
                                {"name": "p1", "url": "http://changed.gov.cn/"}], replace=True)
    assert [(r["name"], r["url"]) for r in archive.registered_portals()] == [("p1", "http://p1.gov.cn/")]
    with pytest.raises(ValueError, match="twice"):
        archive.import_portals([{"name": "p2", "url": "http://a/"}, {"name": "p2", "url": "http://b/"}])


def test_toml_profiles_win_over_registry_rows_of_the_same_name(tmp_path, run):
    own = tmp_path / "arch" / "portals"
    save(PortalProfile(name="js-c", start_urls=["http://own.gov.cn/"], agency="自己的"), own)
    good = write_text(tmp_path / "good.csv", GOOD_CSV + "mohrss,人社部?,http://fake.gov.cn/,,国,,,,,,,\n")
    out = run("import", str(good)).output
    assert "2 of them shadowed by a TOML profile" in out and "js-c, mohrss" in out
    profiles = known(run.where)
    assert profiles["js-c"].start_urls == ["http://own.gov.cn/"]
    assert profiles["mohrss"].start_urls == load_all()["mohrss"].start_urls
    assert profiles["js-a"].agency == "南京市甲局"
    listed = json.loads(run("list", "--json").output)
    by = {(p["name"], p["origin"]): p for p in listed}
    assert by[("js-c", "own")]["in_use"] and by[("js-c", "registry")]["shadowed_by"] == "own"
    assert not by[("js-c", "registry")]["in_use"] and by[("mohrss", "registry")]["shadowed_by"] == "bundled"
    assert by[("js-a", "registry")]["in_use"] and by[("js-a", "registry")]["region"] == "江苏省南京市"
    assert by[("js-a", "registry")]["source"] == str(good.resolve())
    assert {p["name"] for p in listed if p["origin"] == "bundled"} == set(load_all())
    assert "2 registry; 2 shadowed by a profile of the same" in run("list").output


def test_the_scheduler_crawl_and_coverage_see_the_registry(tmp_path):
    where = tmp_path / "arch"
    import_file(where, write_text(tmp_path / "good.csv", GOOD_CSV + "mohrss,人社部,http://fake.gov.cn/,,国,,,,,,,\n"))
    scheduled = scheduled_portals(where, ScheduleConfig())
    assert set(scheduled) == {"js-a", "js-b", "js-c", "mohrss"}  # registry rows are scheduled like own profiles
    assert scheduled["mohrss"].start_urls == load_all()["mohrss"].start_urls  # with the bundled profile
    assert scheduled["js-a"].schedule == ["0 6 * 1-3 *", "0 6 1 * *"]
    assert "js-b" not in scheduled_portals(where, ScheduleConfig(exclude=["js-b"]))
    assert [p.name for p in portals_in(where, ["js-b", "hebei-gxt"])] == ["js-b", "hebei-gxt"]
    assert {p.name for p in portals_in(where)} == {"js-a", "js-b", "js-c", "mohrss"}
    with pytest.raises(ProfileError, match="nianbao portals import"):
        portals_in(where, ["nowhere"])
    res = CliRunner().invoke(cli, ["coverage", "--portal", "js-c", "--json", "--archive", str(where)])
    assert res.exit_code == 0, res.output
    verdicts = json.loads(res.output)
    assert verdicts and {(v["portal"], v["agency"]) for v in verdicts} == {("js-c", "洪泽区人民政府")}


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_then_import_into_a_fresh_archive_gives_the_same_rows(tmp_path, run, fmt):
    run("import", str(write_text(tmp_path / "good.csv", GOOD_CSV)))
    out = tmp_path / f"out.{fmt}"
    run("export", "-o", str(out))
    assert out.read_bytes().startswith(b"\xef\xbb\xbf") == (fmt == "csv")  # a BOM for Excel
    import_file(tmp_path / "fresh", out)
    with Archive.open(run.where, readonly=True) as a, Archive.open(tmp_path / "fresh", readonly=True) as b:
        assert fields(a.registered_portals()) == fields(b.registered_portals())
    stdout = run("export", "--format", fmt).output
    assert "js-b" in stdout and "exported 3 portal(s)" in stdout


def test_export_all_writes_the_toml_profiles_too(tmp_path, run):
    run("import", str(write_text(tmp_path / "good.csv", GOOD_CSV)))
    out = tmp_path / "all.jsonl"
    run("export", "--all", "-o", str(out))
    records = {r["name"]: r for r in map(json.loads, out.read_text("utf-8").splitlines())}
    assert set(records) == {"js-a", "js-b", "js-c", *load_all()}
    assert records["yunnan-hrss"]["hints"] == load_all()["yunnan-hrss"].hints and records["mohrss"]["delay"] == 2.0


def test_a_stored_row_loads_to_the_profile_it_was_checked_as():
    for p in [*load_all().values(), PortalProfile(name="x", start_urls=["http://a.gov.cn/", "https://b.gov.cn/"],
                                                  region="甲", level="乡", site_id="1", schedule="0 1 * * *")]:
        assert to_profile({**to_row(p), "source": None, "imported_at": "t"}) == p


@pytest.mark.parametrize("url", ["http://A.gov.cn/", "https://a.b:8080/x?y", "http://u:p@h.cn", "http://[::1]:80/",
                                 "http://h.cn?x=1", "http://h.cn#f", "HTTP://X.cn", "http://h.cn:/", "http://a@b@c.cn/",
                                 "http://h.cn\\x", "https://xn--fiq228c.gov.cn/"])
def test_a_trusted_profile_finds_the_hosts_urlsplit_does(url):
    from urllib.parse import urlsplit

    assert PortalProfile.trusted(name="x", start_urls=[url]).allowed_hosts == [urlsplit(url).hostname]


@pytest.mark.parametrize(("kw", "words"), [
    ({"level": "州"}, "level must be one of"),
    ({"delay": -1}, "delay must be"),
    ({"concurrency": 0}, "concurrency must be"),
    ({"max_pages": 1.5}, "max_pages must be"),
    ({"robots": "yes"}, "robots must be"),
    ({"start_urls": ["http:///nohost"]}, "not an http"),
])
def test_new_profile_checks(kw, words):
    with pytest.raises(ProfileError, match=words):
        PortalProfile(**{"name": "x", "start_urls": ["http://a.gov.cn/"], **kw})


def test_the_sample_registry_holds_the_bundled_portals_and_imports(tmp_path):
    sample = BUNDLED / "sample-registry.csv"
    rows = {r["name"]: r for r in read(sample)}
    bundled = load_all()
    assert set(rows) == set(bundled)
    for name, p in bundled.items():
        assert to_profile({**rows[name], "source": None}).start_urls == p.start_urls
        assert rows[name]["agency"] == p.agency and rows[name]["level"] in (None, "国", "省", "市", "县")
    res = import_file(tmp_path / "a", sample)
    assert res["added"] == len(bundled) and res["shadowed"] == sorted(bundled)
    assert set(scheduled_portals(tmp_path / "a", ScheduleConfig())) == set(bundled)


def test_a_running_scheduler_harvests_a_registry_portal_on_its_schedule(tmp_path):
    import time

    from scheduler import FileClock, Service

    where = tmp_path / "arch"
    import_file(where, write_text(tmp_path / "p.csv", "name,url,schedule\nreg-1,http://127.0.0.80/,0 3 * * *\n"))
    clock = FileClock(tmp_path / "clock")
    clock.set("2027-01-10T02:59:00+08:00")
    calls: list[tuple[str, str]] = []
    svc = Service(where, clock=clock, runner=lambda d, portals, **kw: calls.append((portals[0].name, kw["trigger"]))
                  or []).start()
    try:
        clock.set("2027-01-10T03:00:00+08:00")
        end = time.monotonic() + 30  # a loaded machine: the wave runs every 0.2 s on this clock
        while not calls and time.monotonic() < end:
            time.sleep(0.05)
        assert calls == [("reg-1", "schedule")]
    finally:
        svc.stop()


@pytest.mark.slow
def test_twenty_thousand_rows_import_and_load(tmp_path):
    """A test-sized run of the 100,000-row case (bench/registry.py measures that); nothing timed here."""
    import io

    rows = [{"name": f"p{i:05d}", "agency": f"第{i}局", "url": f"http://h{i}.gov.cn/", "region": "江苏省",
             "level": "县", "profile": json.dumps({"delay": 2.0}) if i % 2 else None} for i in range(20_000)]
    buf = io.StringIO()
    write(rows, buf, "csv")
    path = write_text(tmp_path / "big.csv", buf.getvalue())
    seen: list[int] = []
    res = import_file(tmp_path / "a", path, progress=seen.append)
    assert res["added"] == 20_000 and seen[-1] == 20_000 and len(seen) > 3
    assert import_file(tmp_path / "a", path)["unchanged"] == 20_000
    profiles = registered(tmp_path / "a")
    assert len(profiles) == 20_000 and profiles["p00001"].delay == 2.0 and profiles["p00002"].delay == 1.0
    assert len(listing(tmp_path / "a")) == 20_000 + len(load_all())
