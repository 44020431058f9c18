"""``nianbao import``: WARC files written by other tools (here warcio itself, not our writer) become the
right blobs and reports; gzip and chunked bodies are decoded, a revisit finds its original, redirects
fold into the capture they led to, records that are not exchanges are skipped; importing twice, or
after an import cut off half-way, gives the same archive."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive import Archive
from crawler.cli import cli
from spiders.demo.generator import generate, to_docx, to_html

HOST = "http://127.0.0.31"


def chunked(data: bytes, size: int = 1000) -> bytes:
    out = b"".join(b"%x\r\n%s\r\n" % (len(data[i:i + size]), data[i:i + size]) for i in range(0, len(data), size))
    return out + b"0\r\n\r\n"


def exchange(w: WARCWriter, url: str, status: str, headers: list[tuple[str, str]], payload: bytes) -> dict:
    """A response record and its request record, as warcio's own capture would write them."""
    http = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
    resp = w.create_warc_record(url, "response", payload=io.BytesIO(payload), http_headers=http)
    w.write_record(resp)
    path = url.split("/", 3)[3]
    req_http = StatusAndHeaders(f"GET /{path} HTTP/1.1", [("Host", "127.0.0.31"), ("Referer", f"{HOST}/nb/")],
                                is_http_request=True)
    req = w.create_warc_record(url, "request", http_headers=req_http,
                               warc_headers_dict={"WARC-Concurrent-To": resp.rec_headers.get_header("WARC-Record-ID")})
    w.write_record(req)
    return {"id": resp.rec_headers.get_header("WARC-Record-ID"), "date": resp.rec_headers.get_header("WARC-Date"),
            "digest": resp.rec_headers.get_header("WARC-Payload-Digest")}


@pytest.fixture(scope="module")
def foreign(tmp_path_factory) -> dict:
    """A WARC as another crawler writes it: two reports (an HTML page sent gzipped behind a redirect, a
    DOCX sent chunked), a mirror URL recorded as a revisit, plus records that are not exchanges."""
    html_rep, docx_rep = generate(6101, year=2021), generate(6102, year=2022)
    page, docx = to_html(html_rep), to_docx(docx_rep)
    path = tmp_path_factory.mktemp("foreign") / "other-crawler.warc.gz"
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=True, warc_version="1.1")
        w.write_record(w.create_warcinfo_record(path.name, {"software": "warcio test crawler"}))
        w.write_record(w.create_warc_record("dns:127.0.0.31", "response", payload=io.BytesIO(b"127.0.0.31\n"),
                                            warc_content_type="text/dns"))
        exchange(w, f"{HOST}/nb/old.html", "301 Moved Permanently",
                 [("Location", "/nb/2021.html"), ("Content-Length", "0")], b"")
        exchange(w, f"{HOST}/nb/2021.html", "200 OK",
                 [("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip")],
                 gzip.compress(page, mtime=0))
        first = exchange(w, f"{HOST}/files/2022.docx", "200 OK",
                         [("Content-Type", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
                          ("Transfer-Encoding", "chunked")], chunked(docx))
        revisit = w.create_revisit_record(f"{HOST}/mirror/2022.docx", first["digest"], f"{HOST}/files/2022.docx",
                                          first["date"], http_headers=StatusAndHeaders("200 OK", [
                                              ("Content-Type", "application/octet-stream"),
                                              ("Content-Length", str(len(docx)))], protocol="HTTP/1.1"))
        w.write_record(revisit)
        w.write_record(w.create_warc_record(f"{HOST}/nb/2021.html", "metadata",
                                            payload=io.BytesIO(b"outlink: /files/2022.docx\n"),
                                            warc_content_type="application/warc-fields"))
    return {"path": path, "page": page, "docx": docx,
            "expected": {(html_rep.agency, 2021), (docx_rep.agency, 2022)}}


def state(a: Archive) -> dict:
    """Everything an import could change."""
    c = a.catalog
    return {
        "blobs": sorted(r["sha256"] for r in c.rows("SELECT sha256 FROM blobs")),
        "captures": sorted((r["url"], r["final_url"], r["status"], r["sha256"], r["warc_type"]) for r in c.rows(
            "SELECT url, final_url, status, sha256, warc_type FROM captures")),
        "reports": sorted((r["agency"], r["year"]) for r in c.rows("SELECT agency, year FROM reports")),
        "documents": c.scalar("SELECT count(*) FROM documents"),
        "runs": c.scalar("SELECT count(*) FROM runs"),
        "warc_files": sorted((r["name"], r["size"]) for r in c.rows("SELECT name, size FROM warc_files")),
    }


def test_a_warcio_written_warc_imports_to_the_right_blobs_and_reports(foreign, tmp_path):
    with Archive.open(tmp_path / "a") as a:
        res = a.import_warcs([foreign["path"]])
        assert not res.errors, res.errors
        assert res.captures == 3 and res.other >= 3  # warcinfo, dns:, foreign metadata
        blobs = {r["sha256"] for r in a.catalog.rows("SELECT sha256 FROM blobs")}
        assert blobs == {hashlib.sha256(foreign["page"]).hexdigest(), hashlib.sha256(foreign["docx"]).hexdigest()}
        assert {(r["agency"], r["year"]) for r in a.reports()} == foreign["expected"]
        html = a.catalog.one("SELECT * FROM captures WHERE final_url LIKE '%/nb/2021.html'")
        assert html["url"] == f"{HOST}/nb/old.html" and json.loads(html["redirects"])[0]["status"] == 301
        assert html["referrer"] == f"{HOST}/nb/"
        mirror = a.catalog.one("SELECT * FROM captures WHERE url LIKE '%/mirror/2022.docx'")
        assert mirror["sha256"] == hashlib.sha256(foreign["docx"]).hexdigest() and mirror["warc_type"] == "revisit"
        assert a.read_blob(mirror["sha256"]) == foreign["docx"]
        assert a.verify(warc_records=True).ok  # our WARC copy reads back and its digests check
        assert a.search("复议").total == 2


def test_importing_twice_changes_nothing(foreign, tmp_path):
    with Archive.open(tmp_path / "a") as a:
        a.import_warcs([foreign["path"]])
        before = state(a)
        again = a.import_warcs([foreign["path"]])
        assert again.skipped_files == 1 and again.captures == 0
        assert state(a) == before


def test_an_import_cut_off_half_way_and_repeated_gives_the_same_archive(foreign, tmp_path):
    whole = foreign["path"].read_bytes()
    with gzip.open(foreign["path"]) as fh:  # the records up to the middle of the DOCX response
        plain = fh.read()
    cut = tmp_path / "other-crawler.warc"
    cut.write_bytes(plain[: plain.index(b"Transfer-Encoding: chunked") + 2000])
    with Archive.open(tmp_path / "once") as a:
        a.import_warcs([foreign["path"]])
        want = state(a)
    with Archive.open(tmp_path / "twice") as a:
        first = a.import_warcs([cut])
        assert first.errors and first.captures == 1  # the page was taken, the torn DOCX was not
        again = a.import_warcs([foreign["path"]])
        assert again.known == 1 and again.captures == 2
        got = state(a)
    assert {k: v for k, v in got.items() if k not in ("runs", "warc_files")} == \
        {k: v for k, v in want.items() if k not in ("runs", "warc_files")}
    assert len(whole) > 0


def test_the_import_command(foreign, tmp_path):
    res = CliRunner().invoke(cli, ["import", str(foreign["path"]), "--archive", str(tmp_path / "a"), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["captures"] == 3 and data["new_reports"] == 2
    res = CliRunner().invoke(cli, ["import", str(tmp_path / "missing.warc.gz"), "--archive", str(tmp_path / "a")])
    assert res.exit_code == 1 and "cannot read" in " ".join(res.output.split())


def test_a_file_that_is_not_a_warc_is_refused_in_words(tmp_path):
    bad = Path(tmp_path / "notes.warc.gz")
    bad.write_bytes(gzip.compress(b"this is not a WARC file\n" * 10))
    with Archive.open(tmp_path / "a") as a:
        res = a.import_warcs([bad])
        assert res.captures == 0 and res.errors and "WARC" in res.errors[0][1]
        assert a.catalog.scalar("SELECT count(*) FROM runs") == 0  # nothing was added, nothing is left


def test_a_zip_bomb_body_is_kept_as_sent_with_a_note(tmp_path, monkeypatch):
    import archive.warc.records as records

    monkeypatch.setattr(records, "MAX_DECODED", 1 << 20)  # a 1 MB limit stands in for the real 1 GB
    bomb = gzip.compress(b"\0" * (8 << 20), mtime=0)
    path = tmp_path / "bomb.warc.gz"
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=True, warc_version="1.1")
        exchange(w, f"{HOST}/bomb.html", "200 OK", [("Content-Type", "text/html"), ("Content-Encoding", "gzip")], bomb)
    with Archive.open(tmp_path / "a") as a:
        res = a.import_warcs([path])
        assert res.captures == 1 and any("kept as sent" in n for _, n in res.notes)
        (row,) = a.catalog.rows("SELECT sha256, size FROM captures")
        assert row["size"] == len(bomb) and a.read_blob(row["sha256"]) == bomb  # nothing lost, nothing inflated


@pytest.mark.slow
def test_an_import_killed_with_sigkill_and_run_again_gives_the_same_archive(tmp_path):
    """kill -9 of `nianbao import` after its first commit; the second run completes it exactly."""
    import signal
    import subprocess
    import sys
    import time

    from archive import Capture

    with Archive.open(tmp_path / "src") as a, a.writer(examine=False) as w:
        for i in range(4000):
            body = to_html(generate(6400 + i, year=2020 + i % 4)) if i % 400 == 0 else \
                f"<html><body><p>栏目页 {i}</p><a href='/p/{i + 1}.html'>下一页</a></body></html>".encode()
            w.add(Capture(url=f"{HOST}/p/{i}.html", body=body, headers=[("Content-Type", "text/html")]))
    (warc,) = sorted((tmp_path / "src" / "warc").glob("*.warc.gz"))
    with Archive.open(tmp_path / "clean") as a:
        a.import_warcs([warc])
        want = state(a)
    cut = tmp_path / "cut"
    proc = subprocess.Popen([sys.executable, "-m", "crawler.cli", "import", str(warc), "--archive", str(cut)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    committed = 0
    deadline = time.monotonic() + 120
    while committed == 0:
        assert proc.poll() is None, "the import ended before it could be killed"
        assert time.monotonic() < deadline
        if (cut / "catalog.db").exists():
            try:
                with Archive.open(cut, readonly=True) as a:
                    committed = a.catalog.scalar("SELECT count(*) FROM captures") or 0
            except Exception:
                committed = 0
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 0 < committed < 4000
    with Archive.open(cut) as a:
        again = a.import_warcs([warc])
        assert again.known == committed and again.captures == 4000 - committed
        got = state(a)
        assert a.verify(warc_records=True).ok
    assert {k: v for k, v in got.items() if k not in ("runs", "warc_files")} == \
        {k: v for k, v in want.items() if k not in ("runs", "warc_files")}


def test_each_file_imported_is_remembered_with_its_own_counts(foreign, tmp_path):
    second = tmp_path / "second.warc.gz"
    with open(second, "wb") as fh:
        w = WARCWriter(fh, gzip=True, warc_version="1.1")
        exchange(w, f"{HOST}/nb/index.html", "200 OK", [("Content-Type", "text/html")], b"<html>list</html>")
    with Archive.open(tmp_path / "a") as a:
        a.import_warcs([foreign["path"], second])
        rows = [(r["records"], r["captures"]) for r in a.catalog.rows(
            "SELECT records, captures FROM imports WHERE completed_at IS NOT NULL ORDER BY id")]
        assert rows == [(10, 3), (2, 1)]
