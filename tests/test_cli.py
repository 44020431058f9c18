"""The command line over the archive: every command, its JSON, its exit status."""

from __future__ import annotations

import csv
import io
import json
import shutil

import pytest
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from crawler.cli import cli

SPEC_KEYS = {"schema", "agency", "year", "template", "title", "sections", "cells", "checks", "warnings"}


@pytest.fixture
def run(tmp_path):
    runner = CliRunner()
    where = tmp_path / "arch"

    def invoke(*args, ok=True, **kw):
        res = runner.invoke(cli, [*args, "--archive", str(where)] if args[0] != "parse" else list(args),
                            catch_exceptions=False, **kw)
        if ok:
            assert res.exit_code == 0, res.output
        return res

    invoke.where = where
    return invoke


@pytest.fixture
def filled(run, docs, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for name in ("report0.html", "report0.pdf", "report2.docx", "report1.gbk.html"):
        shutil.copy(docs / name, src / name)
    run("ingest", str(src), "--json")
    return run


def test_ingest_stats_reports_show(filled):
    stats = json.loads(filled("stats", "--json").stdout)
    assert (stats["blobs"], stats["captures"], stats["documents"], stats["reports"]) == (4, 4, 4, 3)
    assert stats["bytes"] > 0 and stats["warc_files"] == 1
    rows = json.loads(filled("reports", "--json").stdout)
    assert {(r["agency"], r["year"]) for r in rows} == {("安康市信访局", 2021), ("湘潭县信访局", 2021),
                                                          ("固原市信访局", 2019)}
    shown = json.loads(filled("show", "安康市信访局/2021", "--json").stdout)
    assert set(shown) >= SPEC_KEYS and shown["schema"] == "nianbao.report/1"
    assert len(shown["documents"]) == 2 and shown["revisions"][0]["number"] == 1
    assert "一" in [s["number"] for s in shown["sections"]]
    assert filled("show", "999", ok=False).exit_code != 0
    human = filled("show", str(shown["report_id"])).output
    assert "安康市信访局" in human


def test_ingest_again_skips_unchanged_files(filled, docs, tmp_path):
    res = json.loads(filled("ingest", str(tmp_path / "in"), "--json").stdout)
    assert res["files"] == 0 and res["skipped_unchanged"] == 4


def test_exports(filled, tmp_path):
    lines = filled("export", "--format", "jsonl").stdout.strip().splitlines()
    assert len(lines) == 3 and all(set(json.loads(line)) >= SPEC_KEYS for line in lines)
    table = list(csv.reader(io.StringIO(filled("export", "--format", "csv").stdout.removeprefix("\ufeff"))))
    assert table[0][:6] == ["report_id", "agency", "region", "year", "template", "table"]
    out = tmp_path / "all.warc.gz"
    filled("export", "--format", "warc", "-o", str(out))
    with open(out, "rb") as fh:
        types = [r.rec_type for r in ArchiveIterator(fh)]
    assert types[0] == "warcinfo" and types.count("resource") == 4


def test_verify_catches_a_flipped_byte(filled):
    assert "archive OK" in filled("verify").output
    blob = next(p for p in (filled.where / "blobs").rglob("*") if p.is_file() and p.parent.name != "tmp")
    data = bytearray(blob.read_bytes())
    data[100] ^= 0xFF
    blob.write_bytes(bytes(data))
    res = filled("verify", "--json", ok=False)
    assert res.exit_code == 1
    report = json.loads(res.stdout)
    assert not report["ok"] and report["corrupt"] == [blob.name.removesuffix(".zst")]


def test_reparse_records_the_parser_version(filled):
    from archive.parser import PARSER_VERSION

    before = json.loads(filled("reports", "--json").stdout)
    res = json.loads(filled("reparse", "--all", "--json").stdout)
    assert res["parsed"] == 4 and res["reports"] == 3
    after = json.loads(filled("reports", "--json").stdout)
    assert [(r["id"], r["agency"], r["year"]) for r in after] == [(r["id"], r["agency"], r["year"]) for r in before]
    shown = json.loads(filled("show", "1", "--json").stdout)
    assert shown["parser_version"] == PARSER_VERSION
    assert all(d["parser_version"] == PARSER_VERSION for d in shown["documents"])


@pytest.mark.slow
def test_bad_files_are_archived_with_a_plain_reason(run, tmp_path, docs):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "broken.pdf").write_bytes((docs / "report0.pdf").read_bytes()[:2000])
    (bad / "empty.html").write_bytes(b"")
    import zipfile

    with zipfile.ZipFile(bad / "bomb.docx", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b"0" * (400 * 1024 * 1024))
    res = json.loads(run("ingest", str(bad), "--json").stdout)
    assert res["files"] == 3 and not res["errors"]
    notes = {n["file"]: n["note"] for n in res["notes"]}
    assert "zip bomb" in notes["bomb.docx"]
    assert "PDF" in notes["broken.pdf"]
    stats = json.loads(run("stats", "--json").stdout)
    assert stats["blobs"] == 3  # every original kept
    assert run("verify").exit_code == 0


def test_parse_prints_the_contract(run, docs):
    data = json.loads(run("parse", str(docs / "report1.gbk.html"), "--json").stdout)
    assert set(data) >= SPEC_KEYS
    assert (data["agency"], data["year"], data["template"]) == ("固原市信访局", 2019, "2019")


def test_missing_archive_is_a_plain_error(tmp_path):
    res = CliRunner().invoke(cli, ["stats", "--archive", str(tmp_path / "nowhere")])
    assert res.exit_code == 1 and "there is no archive" in res.output
