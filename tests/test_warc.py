"""Our WARC files, read back by warcio's own ArchiveIterator: digests, revisits, honest headers."""

from __future__ import annotations

import gzip
import hashlib
import subprocess
import sys

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive import Capture
from helpers.captures import http_capture


def records(archive):
    out = []
    for f in sorted(archive.warc_dir.glob("*.warc.gz")):
        with open(f, "rb") as fh:
            it = ArchiveIterator(fh, check_digests=True)
            for rec in it:
                block = rec.raw_stream.read()
                out.append((f.name, it.offset, rec, block, list(rec.digest_checker.problems)))
    return out


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_records_read_back_with_matching_payload_digests(archive, docs):
    html = (docs / "report0.html").read_bytes()
    pdf = (docs / "report0.pdf").read_bytes()
    with archive.writer() as w:
        w.add(http_capture("http://127.0.0.2/a.html", html, gzip_it=True))
        w.add(http_capture("http://127.0.0.2/a.pdf", pdf, content_type="application/pdf"))
    recs = records(archive)
    assert all(not problems for *_, problems in recs), [p for *_, p in recs if p]
    responses = {r.rec_headers.get_header("WARC-Target-URI"): (r, block) for _, _, r, block, _ in recs
                 if r.rec_type == "response"}
    assert set(responses) == {"http://127.0.0.2/a.html", "http://127.0.0.2/a.pdf"}
    # The payload digest is over the entity body as sent: gzip bytes for the HTML, the file for the PDF.
    r, _ = responses["http://127.0.0.2/a.html"]
    assert r.rec_headers.get_header("WARC-Payload-Digest") == sha256_digest(gzip.compress(html, mtime=0))
    assert r.http_headers.get_header("Content-Encoding") == "gzip"
    r, _ = responses["http://127.0.0.2/a.pdf"]
    assert r.rec_headers.get_header("WARC-Payload-Digest") == sha256_digest(pdf)
    # Blobs keep the decoded file; the catalog's SHA-256 is the blob's.
    sha = archive.catalog.scalar("SELECT sha256 FROM captures WHERE url = ?", ("http://127.0.0.2/a.html",))
    assert archive.read_blob(sha) == html
    # Each response is followed by its request, linked by WARC-Concurrent-To.
    ids = {r.rec_headers.get_header("WARC-Record-ID") for r, _ in responses.values()}
    reqs = [r for _, _, r, _, _ in recs if r.rec_type == "request"]
    assert {r.rec_headers.get_header("WARC-Concurrent-To") for r in reqs} == ids
    assert recs[0][2].rec_type == "warcinfo"


def test_repeated_payload_becomes_a_revisit(archive, docs):
    pdf = (docs / "report1.pdf").read_bytes()
    with archive.writer() as w:
        w.add(http_capture("http://127.0.0.2/first.pdf", pdf, content_type="application/pdf"))
    with archive.writer() as w:  # a later run, another URL
        w.add(http_capture("http://127.0.0.2/mirror/copy.pdf", pdf, content_type="application/pdf"))
    recs = records(archive)
    first = next(r for _, _, r, _, _ in recs if r.rec_type == "response")
    revisit = next(r for _, _, r, _, _ in recs if r.rec_type == "revisit")
    h = revisit.rec_headers
    assert h.get_header("WARC-Target-URI") == "http://127.0.0.2/mirror/copy.pdf"
    assert h.get_header("WARC-Profile") == "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
    assert h.get_header("WARC-Refers-To-Target-URI") == "http://127.0.0.2/first.pdf"
    assert h.get_header("WARC-Refers-To-Date") == first.rec_headers.get_header("WARC-Date")
    assert h.get_header("WARC-Payload-Digest") == first.rec_headers.get_header("WARC-Payload-Digest")
    assert archive.catalog.scalar("SELECT count(*) FROM blobs") == 1
    assert archive.catalog.scalar("SELECT count(*) FROM captures") == 2


def test_decoded_bodies_get_honest_headers(archive):
    body = "<html><body>政务公开</body></html>".encode()
    cap = Capture(url="http://127.0.0.2/x", body=body, status=200, headers=[
        ("Content-Type", "text/html"), ("Content-Encoding", "gzip"), ("Transfer-Encoding", "chunked"),
        ("Content-Length", "999")])
    with archive.writer() as w:
        w.add(cap)
    resp, payload = next((r, b) for _, _, r, b, _ in records(archive) if r.rec_type == "response")
    h = resp.http_headers
    assert h.get_header("Content-Encoding") is None and h.get_header("Transfer-Encoding") is None
    assert h.get_header("X-Archive-Orig-Content-Encoding") == "gzip"
    assert h.get_header("X-Archive-Orig-Transfer-Encoding") == "chunked"
    assert h.get_header("Content-Length") == str(len(body))
    assert payload == body


@pytest.mark.slow
def test_files_roll_at_the_size_limit_and_catalog_offsets_point_at_records(archive, docs):
    with archive.writer(max_warc_size=150_000) as w:
        for n in range(5):
            w.add(http_capture(f"http://127.0.0.2/{n}.pdf", (docs / f"report{n}.pdf").read_bytes(),
                               content_type="application/pdf"))
    files = sorted(archive.warc_dir.glob("*.warc.gz"))
    assert len(files) >= 3
    for f in files:  # every file starts with its own warcinfo record
        with open(f, "rb") as fh:
            assert next(iter(ArchiveIterator(fh))).rec_type == "warcinfo"
    for row in archive.catalog.rows("SELECT warc_file, warc_offset, warc_length, warc_record_id FROM captures"):
        with open(archive.warc_dir / row["warc_file"], "rb") as fh:
            fh.seek(row["warc_offset"])
            chunk = fh.read(row["warc_length"])
        rec = next(iter(ArchiveIterator(__import__("io").BytesIO(chunk))))
        assert rec.rec_headers.get_header("WARC-Record-ID") == row["warc_record_id"]
    sizes = {r["name"]: r["size"] for r in archive.catalog.rows("SELECT name, size FROM warc_files")}
    assert sizes == {f.name: f.stat().st_size for f in files}


def test_warcio_check_command_accepts_our_files(archive, docs):
    with archive.writer() as w:
        w.add(http_capture("http://127.0.0.2/r.html", (docs / "report2.html").read_bytes(), gzip_it=True))
        w.add(http_capture("http://127.0.0.2/r2.html", (docs / "report2.html").read_bytes(), gzip_it=True))
    files = [str(f) for f in archive.warc_dir.glob("*.warc.gz")]
    done = subprocess.run([sys.executable, "-m", "warcio.cli", "check", "-v", *files], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "digest pass" in done.stdout and "fail" not in done.stdout
