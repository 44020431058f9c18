"""``nianbao ingest --agency --year`` (issue 15): what a user says of files whose text names no agency or year
places them in that report, with provenance "user"; the hint is kept on the capture and in the WARC files, so
``recover``, ``reparse`` and a WARC export read back keep it; a text that names others keeps its own, with a
warning; a hint no report could have is refused before anything is archived."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive import Archive
from archive.errors import HintError
from archive.ingest.handover import import_handover, pack
from archive.parser import ParseContext, parse
from archive.store.shared import SharedStore
from crawler.cli import cli
from helpers.captures import http_capture
from spiders.demo.generator import agency_name, generate, to_html

AGENCY = "安康市信访局"


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def nameless(seed: int, *, year: int, keep_year: bool = True) -> bytes:
    """A generated report page whose text names no agency (我局 where it was), titled only
    ``2024年政府信息公开工作年度报告``; without ``keep_year`` its year is gone too."""
    rep = generate(seed, year=year, agency=agency_name(seed))
    title = f"{year}年政府信息公开工作年度报告" if keep_year else "政府信息公开工作年度报告"
    page = to_html(rep).replace(rep.title.encode(), title.encode()).replace(rep.agency.encode(), "我局".encode())
    if not keep_year:
        page = page.replace(f"{year}年".encode(), "本年".encode()).replace(str(year).encode(), b"")
    assert rep.agency.encode() not in page and (keep_year or str(year).encode() not in page)
    return page


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    src = tmp_path / "scans"
    src.mkdir()
    (src / "report.html").write_bytes(nameless(811, year=2023, keep_year=False))
    return src


def documents(where: Path) -> list[dict]:
    with Archive.open(where, readonly=True) as a:
        return list(a.catalog.rows("SELECT d.agency, d.agency_from, d.year, d.parsed, r.agency AS report_agency, "
                                   "r.year AS report_year FROM documents d "
                                   "LEFT JOIN reports r ON r.id = d.report_id ORDER BY d.id"))


def test_the_parser_takes_the_hint_only_where_the_text_names_nothing():
    page = nameless(812, year=2024)
    bare = parse(page, kind="html").report
    assert (bare["agency"], bare["year"]) == (None, 2024)
    got = parse(page, context=ParseContext(kind="html", user_agency=AGENCY, user_year=2024)).report
    assert (got["agency"], got["year"]) == (AGENCY, 2024)
    assert got["provenance"]["agency"] == "user" and got["provenance"]["year"] == "title"
    assert not [w for w in got["warnings"] if "given with the file" in w]
    # the title's year wins over the user's, and says so
    other = parse(page, context=ParseContext(kind="html", user_agency=AGENCY, user_year=2022)).report
    assert other["year"] == 2024 and other["provenance"]["year"] == "title"
    assert "the year given with the file (2022) is not the one its title names: 2024 is kept" in other["warnings"]
    # a hint wins over what only the context suggests (the link text), and says what it replaced
    linked = parse(page, context=ParseContext(kind="html", link_text="汉滨区民政局2024年政府信息公开工作年度报告",
                                              user_agency=AGENCY)).report
    assert (linked["agency"], linked["provenance"]["agency"]) == (AGENCY, "user")
    assert any(w.startswith(f"the agency given with the file ({AGENCY}) is used, not 汉滨区民政局")
               for w in linked["warnings"])
    # a title that names the agency without its place: the user's name with the place completes it, silently
    title = "2024年政府信息公开工作年度报告"
    placeless = page.replace(title.encode(), f"市人民政府办公室{title}".encode())
    assert parse(placeless, kind="html").report["agency"] == "市人民政府办公室"
    full = parse(placeless, context=ParseContext(kind="html", user_agency="天门市人民政府办公室")).report
    assert (full["agency"], full["provenance"]["agency"]) == ("天门市人民政府办公室", "user")
    # a year that is no int (a foreign WARC's metadata) is not taken
    assert parse(page, context=ParseContext(kind="html", user_year="2020")).report["year"] == 2024  # type: ignore[arg-type]


def test_without_hints_the_document_is_unplaced_and_the_note_says_how_to_place_it(folder, tmp_path):
    res = invoke("ingest", str(folder), "--archive", str(tmp_path / "a"), "--json")
    assert res.exit_code == 0, res.output
    notes = [n["note"] for n in json.loads(res.output)["notes"]]
    assert len(notes) == 1 and "without a report" in notes[0] and "--agency and --year" in notes[0]
    (doc,) = documents(tmp_path / "a")
    assert (doc["agency"], doc["year"], doc["report_agency"]) == (None, None, None)



def test_a_hinted_file_lands_in_its_report_and_keeps_the_hint_through_recover_reparse_and_import(folder, tmp_path):
    where = tmp_path / "a"
    res = invoke("ingest", str(folder), "--archive", str(where), "--agency", f"  {AGENCY} ", "--year", "2023",
                 "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["new_reports"] == 1 and json.loads(res.output)["notes"] == []

    def placed(at: Path) -> None:
        (doc,) = documents(at)
        assert (doc["report_agency"], doc["report_year"], doc["agency_from"]) == (AGENCY, 2023, "user")
        assert json.loads(doc["parsed"])["provenance"] | {"agency": "user", "year": "user"} == \
            json.loads(doc["parsed"])["provenance"]
        with Archive.open(at, readonly=True) as a:
            shown = a.show(f"{AGENCY}/2023")
            assert shown["provenance"]["agency"] == shown["provenance"]["year"] == "user"
            assert [tuple(r.values()) for r in a.catalog.rows("SELECT user_agency, user_year FROM captures")] == \
                [(AGENCY, 2023)]

    placed(where)
    copy = tmp_path / "copy"
    shutil.copytree(where, copy)
    (copy / "catalog.db").unlink()
    Archive.recover(copy)  # the catalog rebuilt from the WARC files: the hint was in a metadata record
    placed(copy)
    with Archive.open(copy) as a:
        a.reparse(everything=True)
    placed(copy)
    assert invoke("export", "--format", "warc", "--archive", str(where), "-o", str(tmp_path / "all.warc.gz")
                  ).exit_code == 0
    assert invoke("import", str(tmp_path / "all.warc.gz"), "--archive", str(tmp_path / "other")).exit_code == 0
    placed(tmp_path / "other")



def test_a_file_ingested_again_with_a_hint_is_read_again_and_placed(folder, tmp_path):
    where = tmp_path / "a"
    assert invoke("ingest", str(folder), "--archive", str(where)).exit_code == 0
    assert documents(where)[0]["report_agency"] is None
    res = json.loads(invoke("ingest", str(folder), "--archive", str(where), "--agency", AGENCY, "--year", "2023",
                            "--json").output)
    assert (res["files"], res["skipped_unchanged"], res["new_reports"]) == (1, 0, 1)
    (doc,) = documents(where)
    assert (doc["report_agency"], doc["report_year"]) == (AGENCY, 2023)
    again = json.loads(invoke("ingest", str(folder), "--archive", str(where), "--year", "2023", "--json").output)
    assert (again["files"], again["skipped_unchanged"]) == (0, 1)  # the same hint: nothing new


def test_a_text_that_names_another_agency_and_year_keeps_its_own_with_a_warning(tmp_path):
    rep = generate(813, year=2022, agency=agency_name(813))
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "r.html").write_bytes(to_html(rep))
    res = invoke("ingest", str(tmp_path / "f"), "--archive", str(tmp_path / "a"), "--agency", AGENCY, "--year",
                 "2021")
    assert res.exit_code == 0, res.output
    (doc,) = documents(tmp_path / "a")
    assert (doc["report_agency"], doc["report_year"], doc["agency_from"]) == (rep.agency, 2022, "title")
    warnings = json.loads(doc["parsed"])["warnings"]
    assert f"the agency given with the file ({AGENCY}) is not the one its title names: {rep.agency} is kept" \
        in warnings
    assert "the year given with the file (2021) is not the one its title names: 2022 is kept" in warnings


@pytest.mark.parametrize(("args", "words"), [
    (("--year", "1989"), "1989 is not a year a report can be for: give one from 1990 to 2100"),
    (("--year", "2101"), "2101 is not a year a report can be for"),
    (("--year", "twenty"), "'twenty' is not a valid integer"),
    (("--agency", "  "), "the agency given is empty"),
])
def test_a_hint_no_report_could_have_is_refused_and_nothing_archived(folder, tmp_path, args, words):
    res = CliRunner().invoke(cli, ["ingest", str(folder), "--archive", str(tmp_path / "a"), *args])
    assert res.exit_code == 2 and words in res.output, res.output
    assert not (tmp_path / "a").exists()


def test_the_python_api_refuses_the_same_hints(folder, archive):
    for kwargs in ({"year": 1989}, {"year": True}, {"agency": ""}, {"agency": "局" * 101}):
        with pytest.raises(HintError):
            archive.ingest([folder], **kwargs)
    assert archive.stats()["captures"] == 0


def test_a_handover_carries_the_hint_to_the_owner_and_its_recover(tmp_path):
    """A worker's hand-over brings the hint with its capture; the owner writes it into its own WARC, so its
    catalog rebuilt from its WARC files keeps it."""
    cap = http_capture("http://127.0.0.42/nb/scan.html", nameless(814, year=2023, keep_year=False))
    cap.user_agency, cap.user_year = AGENCY, 2023
    with Archive.open(tmp_path / "scratch") as scratch:
        with scratch.writer(portals=["p"]) as w:
            w.add(cap)
            run_id = w.run_id
        shared = SharedStore(f"memory://nianbao-{uuid.uuid4().hex}")
        pack(scratch, shared, "task-h", portal="p", run_id=run_id)
    owner = tmp_path / "owner"
    with Archive.open(owner) as a:
        _, res = import_handover(a, shared, "task-h")
        assert res.parse_results_used == 1
    for where in (owner, None):
        if where is None:  # the owner's catalog lost and rebuilt
            for p in owner.glob("catalog.db*"):
                p.unlink()
            Archive.recover(owner)
        (doc,) = documents(owner)
        assert (doc["report_agency"], doc["report_year"], doc["agency_from"]) == (AGENCY, 2023, "user")
        with Archive.open(owner, readonly=True) as a:
            assert a.catalog.one("SELECT user_agency, user_year FROM captures") == {"user_agency": AGENCY,
                                                                                  "user_year": 2023}
