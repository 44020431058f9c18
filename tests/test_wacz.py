"""A report's captures as a WACZ (issue 15): ``Archive.wacz``, ``nianbao export --format wacz`` and
``/api/reports/{id}/captures.wacz``. The package is a valid zip of the WACZ 1.1.1 files, its datapackage's
hashes hold, every index line reads back a record whose payload is the archived blob, and importing its WARC
into the archive it came from adds nothing."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from warcio.archiveiterator import ArchiveIterator

from archive import Archive
from archive.errors import NotFound
from archive.warc.wacz import surt
from archive.web import create_app
from crawler.cli import cli
from helpers.captures import http_capture
from spiders.demo.generator import generate, to_docx, to_html

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
HOST = "http://127.0.0.94"
AGENCY = "南北北市教育局"
FILES = {"archive/data.warc.gz", "indexes/index.cdx", "pages/pages.jsonl", "datapackage.json",
         "datapackage-digest.json"}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    path = tmp_path_factory.mktemp("wacz") / "a"
    rep, other = generate(7300, year=2022, agency=AGENCY), generate(7301, year=2021)
    page, docx = to_html(rep), to_docx(rep)
    with Archive.open(path) as a:
        with a.writer() as w:
            w.add(http_capture(f"{HOST}/nb/2022.html", page, fetched_at=datetime(2023, 1, 20, tzinfo=UTC)))
            w.add(http_capture(f"{HOST}/nb/2022.docx", docx, content_type=DOCX, referrer=f"{HOST}/nb/2022.html",
                               gzip_it=True, fetched_at=datetime(2023, 1, 20, 0, 1, tzinfo=UTC)))
            # the same page at a second address: a revisit record in the WARC
            w.add(http_capture(f"{HOST}/mirror/2022.html", page, fetched_at=datetime(2023, 2, 1, tzinfo=UTC)))
            w.add(http_capture(f"{HOST}/nb/other.html", to_html(other)))  # another report: left out
        rid = a.report(f"{AGENCY}/2022")["id"]
        shown = a.show(rid)
        captures = list(a.catalog.rows("SELECT c.url, c.sha256, c.warc_type FROM captures c "
                                       "JOIN documents d ON d.sha256 = c.sha256 WHERE d.report_id = ?", (rid,)))
    return {"path": path, "rid": rid, "captures": captures, "primary": shown["source_sha256"],
            "documents": sorted(d["sha256"] for d in shown["documents"])}


def check_package(data: bytes, built: dict) -> dict:
    """Everything a WACZ of the fixture's report must be; returns its parts."""
    zf = zipfile.ZipFile(io.BytesIO(data))
    assert zf.testzip() is None and set(zf.namelist()) == FILES
    assert zf.getinfo("archive/data.warc.gz").compress_type == zipfile.ZIP_STORED
    package_bytes = zf.read("datapackage.json")
    package = json.loads(package_bytes)
    assert package["profile"] == "data-package" and package["wacz_version"] == "1.1.1"
    assert {r["path"] for r in package["resources"]} == FILES - {"datapackage.json", "datapackage-digest.json"}
    for res in package["resources"]:
        body = zf.read(res["path"])
        assert res["hash"] == "sha256:" + hashlib.sha256(body).hexdigest() and res["bytes"] == len(body)
    digest = json.loads(zf.read("datapackage-digest.json"))
    assert digest == {"path": "datapackage.json", "hash": "sha256:" + hashlib.sha256(package_bytes).hexdigest()}
    warc = zf.read("archive/data.warc.gz")
    lines = zf.read("indexes/index.cdx").decode().splitlines()
    assert lines == sorted(lines) and len(lines) == len(built["captures"])
    with Archive.open(built["path"], readonly=True) as a:
        blobs = {c["url"]: c["sha256"] for c in built["captures"]}
        for line in lines:
            key, ts, blob = line.split(" ", 2)
            entry = json.loads(blob)
            assert key == surt(entry["url"]) and len(ts) == 14 and entry["filename"] == "data.warc.gz"
            start, length = int(entry["offset"]), int(entry["length"])
            read = []
            for rec in ArchiveIterator(io.BytesIO(warc[start:start + length])):
                assert rec.rec_headers.get_header("WARC-Target-URI") == entry["url"]
                assert rec.rec_headers.get_header("WARC-Payload-Digest") == entry["digest"]
                read.append((rec.rec_type, rec.content_stream().read()))  # content coding undone, as stored
            assert len(read) == 1  # the offset and length hold one whole record
            rec_type, payload = read[0]
            sha = blobs[entry["url"]]
            if rec_type == "response":
                assert hashlib.sha256(payload).hexdigest() == sha and a.read_blob(sha) == payload
                assert entry["status"] == "200" and entry["mime"] in ("text/html", DOCX)
            else:
                assert rec_type == "revisit" and entry["mime"] == "warc/revisit" and payload == b""
                assert entry["digest"] == "sha256:" + sha and a.has_blob(sha)
    assert {json.loads(x.split(" ", 2)[2])["url"] for x in lines} == set(blobs)
    pages = [json.loads(x) for x in zf.read("pages/pages.jsonl").decode().splitlines()]
    assert pages[0] == {"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}
    # the HTML captures, then the primary document (here the DOCX) as a file
    assert [p["url"] for p in pages[1:]] == [f"{HOST}/nb/2022.html", f"{HOST}/mirror/2022.html",
                                             f"{HOST}/nb/2022.docx"]
    assert pages[1]["ts"] == "2023-01-20T00:00:00Z" and package["mainPageUrl"] == f"{HOST}/nb/2022.html"
    return {"zip": zf, "warc": warc, "lines": lines, "pages": pages}


def test_the_wacz_of_a_report_holds_its_captures_indexed_hashed_and_paged(built, tmp_path):
    out = tmp_path / "report.wacz"
    with Archive.open(built["path"], readonly=True) as a:
        res = a.wacz(built["rid"], out)
    assert res["records"] == len(built["captures"]) == 3 and res["pages"] >= 1
    parts = check_package(out.read_bytes(), built)
    kinds = sorted(c["warc_type"] for c in built["captures"])
    assert kinds == ["response", "response", "revisit"]
    assert list(tmp_path.iterdir()) == [out]  # written beside itself and renamed: nothing left over
    assert len(parts["lines"]) == 3


def test_importing_the_wacz_warc_into_its_archive_adds_nothing_and_into_a_new_one_the_report(built, tmp_path):
    out = tmp_path / "report.wacz"
    with Archive.open(built["path"], readonly=True) as a:
        a.wacz(f"{AGENCY}/2022", out)
    warc = tmp_path / "data.warc.gz"
    warc.write_bytes(zipfile.ZipFile(out).read("archive/data.warc.gz"))
    with Archive.open(built["path"]) as a:
        before = a.stats()
        res = a.import_warcs([warc])
        after = a.stats()
    assert res.captures == 0 and res.known == 3 and not res.errors
    assert {k: after[k] for k in ("captures", "blobs", "documents", "reports")} == \
        {k: before[k] for k in ("captures", "blobs", "documents", "reports")}
    with Archive.open(tmp_path / "fresh") as fresh:
        res = fresh.import_warcs([warc])
        assert res.captures == 3 and not res.errors
        again = fresh.show(f"{AGENCY}/2022")
        assert again["source_sha256"] == built["primary"]
        assert sorted(d["sha256"] for d in again["documents"]) == built["documents"]


def test_a_failed_write_leaves_the_old_package_and_no_temporary_file(built, tmp_path, monkeypatch):
    out = tmp_path / "report.wacz"
    out.write_bytes(b"the old package")

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("archive.catalog.wacz.write_wacz", broken)
    with Archive.open(built["path"], readonly=True) as a, pytest.raises(OSError, match="disk full"):
        a.wacz(built["rid"], out)
    assert out.read_bytes() == b"the old package" and list(tmp_path.iterdir()) == [out]


def test_a_report_the_archive_does_not_hold_is_not_found(built, tmp_path):
    with Archive.open(built["path"], readonly=True) as a, pytest.raises(NotFound):
        a.wacz(999_999, tmp_path / "x.wacz")
    assert not (tmp_path / "x.wacz").exists()


def test_the_export_command_writes_a_wacz_of_one_report(built, tmp_path):
    out = tmp_path / "cli.wacz"
    res = CliRunner().invoke(cli, ["export", "--format", "wacz", "--report", f"{AGENCY}/2022", "-o", str(out),
                                   "--archive", str(built["path"])])
    assert res.exit_code == 0, res.output
    assert "3 WARC records" in res.output
    check_package(out.read_bytes(), built)
    missing = CliRunner().invoke(cli, ["export", "--format", "wacz", "-o", str(out), "--archive", str(built["path"])])
    assert missing.exit_code == 2 and "--report" in missing.output
    nowhere = CliRunner().invoke(cli, ["export", "--format", "wacz", "--report", "1", "--archive",
                                       str(built["path"])])
    assert nowhere.exit_code == 2 and "-o FILE" in nowhere.output
    unknown = CliRunner().invoke(cli, ["export", "--format", "wacz", "--report", "没有/2022", "-o", str(out),
                                       "--archive", str(built["path"])])
    assert unknown.exit_code == 1 and "no report" in unknown.output
    # an option a format does not take is refused, not silently dropped
    stray = CliRunner().invoke(cli, ["export", "--format", "csv", "--report", "1", "--archive", str(built["path"])])
    assert stray.exit_code == 2 and "--report is for --format wacz" in stray.output
    yearly = CliRunner().invoke(cli, ["export", "--format", "wacz", "--report", "1", "--year", "2022", "-o", str(out),
                                      "--archive", str(built["path"])])
    assert yearly.exit_code == 2 and "takes no year" in yearly.output


def test_the_web_app_offers_the_wacz_of_a_report(built):
    client = TestClient(create_app(built["path"]), base_url="http://127.0.0.1")
    r = client.get(f"/api/reports/{built['rid']}/captures.wacz")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert "filename*=UTF-8''" in r.headers["content-disposition"] and "_2022_captures.wacz" in \
        r.headers["content-disposition"]
    check_package(r.content, built)
    assert client.get("/api/reports/999999/captures.wacz").status_code == 404
    assert f"/api/reports/{built['rid']}/captures.wacz" in client.get(f"/report/{built['rid']}").text


def test_surt_keys():
    assert surt("http://www.Example.gov.cn/A/b.html?X=1") == "cn,gov,example)/a/b.html?x=1"
    assert surt("https://127.0.0.1:8080/") == "1,0,0,127:8080)/"
    assert surt("http://example.gov.cn") == "cn,gov,example)/"
