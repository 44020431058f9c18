"""A new user's first steps (issue 15): ingest takes documents only and says what it left out, the
archive's own WARC export read back adds nothing, and the demo writes only an archive of its own."""

from __future__ import annotations

import io
import json
import os
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator
from warcio.warcwriter import WARCWriter

from archive import Archive
from crawler.cli import cli
from crawler.demo import DEMO_MARK, NotDemoArchive, claim
from spiders.demo.generator import agency_name, generate, to_html


def invoke(*args: str, env: dict | None = None):
    res = CliRunner().invoke(cli, list(args), catch_exceptions=False, env=env)
    return res


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """What a user's download folder holds: three reports and the files that come with them."""
    src = tmp_path / "downloads"
    (src / "notes").mkdir(parents=True)
    for seed in (801, 802):
        (src / f"report{seed}.html").write_bytes(to_html(generate(seed, year=2022, agency=agency_name(seed))))
    # saved from download.jsp?id=…: no extension, the bytes say PDF (a cut-short one: its parse fails in words)
    (src / "download").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    (src / "scan.pdf").write_bytes(os.urandom(2000))  # the name says PDF: kept, whatever the bytes are
    (src / "gen_docs.py").write_text("print('not a report')\n", encoding="utf-8")
    (src / "notes" / "truth.json").write_text(json.dumps({"year": 2022}), encoding="utf-8")
    (src / "bundle.zip").write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    (src / "empty.txt").write_bytes(b"")
    (src / "report.txt").write_text("2022年政府信息公开工作年度报告\n", encoding="utf-8")
    return src


def test_ingest_takes_the_documents_and_says_what_it_left_out(folder, tmp_path):
    res = invoke("ingest", str(folder), "--archive", str(tmp_path / "a"), "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["files"] == 5  # two pages, the extensionless PDF, scan.pdf, report.txt
    left = {Path(d["file"]).name: d["what"] for d in data["not_documents"]}
    assert set(left) == {"gen_docs.py", "truth.json", "bundle.zip", "empty.txt"}
    assert ".py" in left["gen_docs.py"] and "ZIP" in left["bundle.zip"] and "empty" in left["empty.txt"]
    with Archive.open(tmp_path / "a", readonly=True) as a:
        assert a.stats()["captures"] == 5
    text = invoke("ingest", str(folder / "gen_docs.py"), "--archive", str(tmp_path / "a"))
    assert text.exit_code == 0 and "left out 1 file(s) that are not documents" in text.output
    assert "gen_docs.py" in text.output


def test_the_archives_own_warc_export_read_back_adds_nothing(folder, tmp_path):
    arch = tmp_path / "a"
    assert invoke("ingest", str(folder), "--archive", str(arch)).exit_code == 0
    with Archive.open(arch, readonly=True) as a:
        before = a.stats()
    warc = tmp_path / "all.warc.gz"
    assert invoke("export", "--format", "warc", "--archive", str(arch), "-o", str(warc)).exit_code == 0
    res = invoke("import", str(warc), "--archive", str(arch), "--json")
    assert res.exit_code == 0, res.output
    got = json.loads(res.output)
    assert got["captures"] == 0 and got["known"] == before["captures"]
    # the same records under new ids (a tool that rewrote our WARC): held already by URL, time and payload
    rewritten = tmp_path / "rewritten.warc.gz"
    with open(warc, "rb") as src, open(rewritten, "wb") as dst:
        writer = WARCWriter(dst, gzip=True)
        for rec in ArchiveIterator(src):
            rec.rec_headers.replace_header("WARC-Record-ID", f"<urn:uuid:{uuid.uuid4()}>")
            if rec.rec_headers.get_header("WARC-Refers-To"):
                rec.rec_headers.remove_header("WARC-Refers-To")
            payload = rec.content_stream().read()
            rec = writer.create_warc_record(rec.rec_headers.get_header("WARC-Target-URI"), rec.rec_type,
                                            payload=io.BytesIO(payload), warc_headers=rec.rec_headers,
                                            http_headers=rec.http_headers)
            writer.write_record(rec)
    res = invoke("import", str(rewritten), "--archive", str(arch), "--json")
    assert res.exit_code == 0, res.output
    got = json.loads(res.output)
    assert got["captures"] == 0 and got["already_held"] == before["captures"], got
    with Archive.open(arch, readonly=True) as a:
        assert a.stats()["captures"] == before["captures"]


def test_the_demo_writes_only_an_archive_of_its_own(tmp_path, monkeypatch):
    real = tmp_path / "real"
    real.mkdir()
    (real / "catalog.db").write_bytes(b"a user's archive")
    with pytest.raises(NotDemoArchive, match="not made by `nianbao demo`"):
        claim(real)
    assert sorted(p.name for p in real.iterdir()) == ["catalog.db"]  # left as it was
    fresh = tmp_path / "fresh"
    claim(fresh)
    assert (fresh / DEMO_MARK).exists()
    claim(fresh)  # a second demo run takes its own archive again
    # the command never reads $NIANBAO_ARCHIVE: the user's archive is not the demo's default
    taken: list[Path] = []
    monkeypatch.setattr("crawler.demo.run_demo", lambda path, **kw: taken.append(Path(path)))
    monkeypatch.chdir(tmp_path)
    res = invoke("demo", "--browser", "never", env={"NIANBAO_ARCHIVE": str(real)})
    assert res.exit_code == 0, res.output
    assert taken == [Path("nianbao-demo")]
    help_text = invoke("demo", "--help").output
    assert "nianbao-demo" in help_text and "nianbao-archive" not in help_text
    monkeypatch.undo()
    refused = CliRunner().invoke(cli, ["demo", "--archive", str(real), "--browser", "never"])
    assert refused.exit_code == 1 and "not made by `nianbao demo`" in refused.output
