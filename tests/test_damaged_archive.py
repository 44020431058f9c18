"""A damaged archive is found out and said in words, and one bad blob never stops the rest: ``verify`` finds
each kind of damage (catalog pages, missing and corrupt blobs, WARC files cut short or bit-rotted, rows that
point at no record), a damaged catalog gives a sentence and the way to recover rather than a traceback, an
archive without its catalog refuses to write (a new catalog would take its WARC files for a crash's
leftovers), ``reparse`` skips and lists what the store cannot give back, and the web app never serves bytes
whose hash does not match."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from archive import Archive
from archive.web import create_app
from crawler.cli import cli
from helpers.damage import cut_short, flip_byte, overwrite_last_page
from spiders.demo.generator import agency_name, generate, to_html


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """Six reports and one PDF-named file of random bytes (stored raw: incompressible)."""
    src = tmp_path_factory.mktemp("files")
    for seed in range(700, 706):
        (src / f"r{seed}.html").write_bytes(to_html(generate(seed, year=2021 + seed % 3, agency=agency_name(seed))))
    (src / "scan.pdf").write_bytes(os.urandom(50_000))
    where = tmp_path_factory.mktemp("built") / "arch"
    res = CliRunner().invoke(cli, ["ingest", str(src), "--archive", str(where), "--json"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return where


@pytest.fixture
def arch(built, tmp_path) -> Path:
    copy = tmp_path / "arch"
    shutil.copytree(built, copy)
    return copy


def nianbao(*args: str) -> subprocess.CompletedProcess:
    """The real command line (its top level turns errors into sentences, which CliRunner bypasses)."""
    return subprocess.run([sys.executable, "-m", "crawler.cli", *args], capture_output=True, text=True, timeout=120)


def facts(where: Path) -> dict:
    with Archive.open(where, readonly=True) as a:
        c = a.catalog
        return {"html": [r["sha256"] for r in c.rows("SELECT sha256 FROM blobs WHERE kind = 'html' ORDER BY sha256")],
                "raw": c.scalar("SELECT sha256 FROM blobs WHERE kind != 'html'"),
                "warc": [r["name"] for r in c.rows("SELECT name FROM warc_files ORDER BY name")],
                "documents": c.scalar("SELECT count(*) FROM documents")}


def blob_path(where: Path, sha: str) -> Path:
    with Archive.open(where, readonly=True) as a:
        return a.store.locate(sha)[0]


def test_a_sound_archive_verifies(arch):
    with Archive.open(arch, readonly=True) as a:
        res = a.verify()
    assert res.ok and res.catalog_problems == [] and res.warc_records_checked > 7, res.as_dict()


def test_verify_finds_missing_and_corrupt_blobs_and_damaged_warc_files(arch):
    f = facts(arch)
    blob_path(arch, f["html"][0]).unlink()
    flip_byte(blob_path(arch, f["raw"]))
    warc = arch / "warc" / f["warc"][0]
    flip_byte(warc, warc.stat().st_size // 3)
    res = nianbao("verify", "--archive", str(arch), "--json")
    assert res.returncode == 1, res.stderr
    got = json.loads(res.stdout)
    assert got["missing"] == [f["html"][0]] and got["corrupt"] == [f["raw"]]
    assert got["warc_problems"] and all(f["warc"][0] in p for p in got["warc_problems"])
    text = nianbao("verify", "--archive", str(arch))
    assert text.returncode == 1 and "missing" in text.stdout and "corrupt" in text.stdout and "WARC" in text.stdout


def test_verify_finds_a_warc_cut_short_rows_that_point_at_no_record_and_unnamed_files(arch):
    f = facts(arch)
    with Archive.open(arch) as a, a.catalog.transaction():
        a.catalog.conn.execute("UPDATE captures SET warc_offset = warc_offset + 7 WHERE id = 2")
    shutil.copy(arch / "warc" / f["warc"][0], arch / "warc" / "stray.warc.gz")
    with Archive.open(arch, readonly=True) as a:
        res = a.verify()
    assert not res.ok and len(res.capture_problems) == 1 and "capture 2 " in res.capture_problems[0]
    assert res.unnamed_warcs and res.unnamed_warcs[0].startswith("stray.warc.gz: no catalog row names it")
    cut_short(arch / "warc" / f["warc"][0], 0.6)
    with Archive.open(arch, readonly=True) as a:
        res = a.verify(quick=True)
    assert res.warc_records_checked == 0  # quick: sizes only
    assert any("the catalog committed" in p for p in res.warc_problems)


def test_a_catalog_page_overwritten_is_found_and_said_with_the_way_out(arch):
    overwrite_last_page(arch / "catalog.db")
    res = nianbao("verify", "--archive", str(arch))
    assert res.returncode == 1
    said = res.stdout + res.stderr
    assert "Traceback" not in said and "nianbao recover" in said
    assert "catalog" in said and ("malformed" in said or "damaged" in said)


def test_a_catalog_cut_short_gives_a_sentence_for_every_command(arch):
    cut_short(arch / "catalog.db", 0.3)
    for args in (["stats"], ["reports"], ["verify"], ["reparse"], ["ingest", str(arch / "catalog.db")]):
        res = nianbao(*args, "--archive", str(arch))
        said = res.stdout + res.stderr
        assert res.returncode == 1, (args, said)
        assert "Traceback" not in said and "nianbao recover" in said, (args, said)


def test_without_its_catalog_an_archive_refuses_to_write_and_keeps_its_warc_files(arch, tmp_path):
    before = {p.name: p.stat().st_size for p in (arch / "warc").iterdir()}
    (arch / "catalog.db").unlink()
    new = tmp_path / "new.html"
    new.write_bytes(to_html(generate(799, year=2022, agency=agency_name(799))))
    res = nianbao("ingest", str(new), "--archive", str(arch))
    assert res.returncode == 1 and "nianbao recover" in res.stderr and "Traceback" not in res.stderr
    assert {p.name: p.stat().st_size for p in (arch / "warc").iterdir()} == before
    assert not (arch / "catalog.db").exists()


def test_reparse_skips_and_lists_what_the_store_cannot_give_back(arch):
    f = facts(arch)
    gone, rotten = f["html"][0], f["html"][1]
    blob_path(arch, gone).unlink()
    flip_byte(blob_path(arch, rotten), 40)  # a zstd frame: it no longer decodes, or decodes to other bytes
    res = CliRunner().invoke(cli, ["reparse", "--all", "--archive", str(arch), "--json"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    got = json.loads(res.output)
    assert {u["sha256"] for u in got["unreadable"]} == {gone, rotten}
    assert any("missing" in u["reason"] for u in got["unreadable"])
    assert got["documents"] == f["documents"]  # their documents are left as they were
    with Archive.open(arch, readonly=True) as a:
        assert a.catalog.scalar("SELECT count(*) FROM documents WHERE sha256 IN (?, ?)", (gone, rotten)) == 2
    text = CliRunner().invoke(cli, ["reparse", "--all", "--archive", str(arch)], catch_exceptions=False)
    assert "2 original(s) skipped" in text.output and gone[:12] in text.output


def test_the_web_app_never_serves_bytes_whose_hash_does_not_match(arch):
    f = facts(arch)
    raw = blob_path(arch, f["raw"])
    assert raw.suffix != ".zst"  # stored as is: a flipped byte still reads, only the hash tells
    original = raw.read_bytes()
    flip_byte(raw)
    blob_path(arch, f["html"][0]).unlink()
    client = TestClient(create_app(arch), base_url="http://127.0.0.1")
    page = client.get(f"/original/{f['raw']}")
    assert page.status_code == 500 and "原件已损坏" in page.text and original[:64] not in page.content
    api = client.get(f"/api/blobs/{f['raw']}")
    assert api.status_code == 500 and "SHA-256" in api.json()["detail"]
    gone = client.get(f"/original/{f['html'][0]}")
    assert gone.status_code == 410 and "原件缺失" in gone.text
    assert client.get(f"/api/blobs/{f['html'][0]}").status_code == 410
    assert client.get(f"/original/{f['html'][1]}").status_code == 200  # the others as ever
