"""Compressed parts of a document are inflated within limits counted on the bytes produced, whatever the file
declares: a DOCX whose ZIP headers under-declare, and a PDF stream that inflates 1000-fold, fail the parse in
words, quickly, holding little more than the limit. Honest documents read exactly as before.

Before the limits, the 400 MB lying DOCX here cost 800 MB and 1.4 s (``zipfile`` asks zlib for the whole part
in one call, then fails its CRC); the 400 MB PDF bomb passed as a blank page after 800 MB and 3.9 s, and with a
damaged checksum ran past 5 minutes (pdfminer's byte-by-byte path). Now the DOCX is refused after 11 MB in
0.03 s; the limits are lowered in most tests so that proving each bound costs a few MB.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import docx
import pytest
from pdfminer import pdftypes

from archive.errors import ExtractionError
from archive.extract import docx as docx_extract
from archive.extract import pdf as pdf_extract
from archive.extract import unpack
from archive.extract.docx import extract_docx
from archive.parser import parse
from helpers.hostile import MB, large_docx, lying_docx, pdf_deflate_bomb

ROOT = Path(__file__).resolve().parents[1]


def peak_of(call) -> tuple[object, float, float]:
    """What ``call()`` returns, the most memory Python held for it at once (MB, tracemalloc: zlib's output
    is Python bytes, so it counts) and how long it took (s)."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        out = call()
        return out, tracemalloc.get_traced_memory()[1] / MB, time.perf_counter() - start
    finally:
        tracemalloc.stop()


def measured_in_a_child(make: str) -> dict:
    """Parse ``make`` (an expression of helpers.hostile) in a fresh process with the default limits: its
    error, seconds, and the resident memory the parse added (ru_maxrss once the file is made and the parser
    loaded, and after)."""
    code = ("import json, resource, time\nfrom archive.parser import parse\nfrom helpers.hostile import *\n"
            f"data = {make}\nbefore = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "t = time.perf_counter()\nres = parse(data, filename='x')\nt = time.perf_counter() - t\n"
            "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "print(json.dumps({'error': res.error, 'seconds': t, 'added_mb': (after - before) / 1024, "
            "'input_mb': len(data) / 2**20}))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.fixture
def low_zip_limits(monkeypatch):
    """ZIP limits low enough that proving them costs a few MB; the ratio test off unless a test sets it."""
    monkeypatch.setattr(unpack, "MAX_MEMBER", 16 * MB)
    monkeypatch.setattr(unpack, "MAX_TOTAL", 24 * MB)
    monkeypatch.setattr(unpack, "MAX_RATIO", 10**9)
    monkeypatch.setattr(unpack, "RATIO_FLOOR", 1 * MB)


# DOCX -------------------------------------------------------------------------------------------------------

def test_a_docx_whose_headers_under_declare_is_refused_by_its_ratio_after_a_few_mb():
    """Default limits, the full 400 MB: refused past the ratio floor (11 MB), in a fraction of a second."""
    out = measured_in_a_child("lying_docx(400)")
    assert "word/document.xml inflates more than 100-fold" in out["error"]
    assert "though its header says 1 KB" in out["error"]
    assert out["error"].endswith("refused as a zip bomb")
    assert out["input_mb"] < 0.5 and out["seconds"] < 3
    assert out["added_mb"] < 64, out  # 400 MB inflated unbounded; the ratio floor is 10 MB


def test_the_per_member_limit_holds_whatever_the_header_says(low_zip_limits):
    res, peak, seconds = peak_of(lambda: parse(lying_docx(40), filename="x.docx"))
    assert res.error == ("the DOCX member word/document.xml inflates past 16 MB, though its header says 1 KB: "
                         "refused as a zip bomb")
    assert peak < 16 + 8 and seconds < 5  # the limit, a step over it, and the 0.04 MB file


def test_the_whole_package_limit_counts_every_member(low_zip_limits, monkeypatch):
    monkeypatch.setattr(unpack, "MAX_TOTAL", 8 * MB)
    res, peak, _ = peak_of(lambda: parse(lying_docx(12), filename="x.docx"))
    assert res.error == ("the DOCX unpacks to more than 8.0 MB (at member word/document.xml, though its header "
                         "says 1 KB): refused as a zip bomb")
    assert peak < 8 + 8


def test_an_honest_bomb_is_refused_from_its_declared_sizes_before_a_byte_is_inflated(low_zip_limits, monkeypatch):
    monkeypatch.setattr(unpack, "MAX_RATIO", 100)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b" " * (4 * MB))

    def never(*args, **kwargs):
        raise AssertionError("inflated a member the central directory already condemns")

    monkeypatch.setattr(unpack, "inflate", never)
    with pytest.raises(ExtractionError, match=r"word/document.xml expands \d+-fold: refused as a zip bomb"):
        extract_docx(buf.getvalue())


def test_a_large_honest_docx_reads_as_python_docx_reads_it(low_zip_limits, monkeypatch):
    """2 MB of varied report text (zipped 10-fold, judged by the ratio test past 1 MB) passes every limit."""
    monkeypatch.setattr(unpack, "MAX_RATIO", 100)
    data = large_docx(30_000)
    ext = extract_docx(data)
    own = [p.text for p in docx.Document(io.BytesIO(data)).paragraphs]
    assert ext.text.split("\n") == own and len(own) == 30_000


@pytest.mark.parametrize("name", [f"report{i}.docx" for i in range(5)])
def test_sample_docx_reads_exactly_as_before(name, docs, monkeypatch):
    """The samples through the bounded reader and repacked, against python-docx reading the original bytes."""
    data = (docs / name).read_bytes()
    now = extract_docx(data)
    monkeypatch.setattr(docx_extract, "repack", lambda members: io.BytesIO(data))  # the path before the limits
    before = extract_docx(data)
    assert (now.text, now.tables, now.meta) == (before.text, before.tables, before.meta)
    assert now.tables and parse(data, filename=name).report["cells"]


def test_a_damaged_member_is_a_broken_container_not_a_short_one(docs):
    data = bytearray((docs / "report0.docx").read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo("word/document.xml")
    data[info.header_offset + 30 + len(info.filename) + 200] ^= 0xFF  # inside its deflated bytes
    with pytest.raises(ExtractionError, match=r"not a readable DOCX \(broken ZIP container: word/document.xml"):
        extract_docx(bytes(data))


# PDF --------------------------------------------------------------------------------------------------------

@pytest.fixture
def low_pdf_limits(monkeypatch):
    monkeypatch.setattr(pdf_extract, "MAX_STREAM", 16 * MB)
    monkeypatch.setattr(pdf_extract, "MAX_STREAMS", 24 * MB)


@pytest.mark.parametrize("bad_checksum", [False, True], ids=["whole", "damaged-checksum"])
def test_a_pdf_stream_over_its_limit_fails_the_document_in_words(low_pdf_limits, bad_checksum):
    """A damaged checksum sends pdfminer down its byte-by-byte path (quadratic, unbounded): bounded as well."""
    res, peak, seconds = peak_of(lambda: parse(pdf_deflate_bomb(100, bad_checksum=bad_checksum)))
    assert res.error == "a compressed stream in the PDF inflates past 16 MB: refused as a compression bomb"
    assert not res.is_report and peak < 16 + 8 and seconds < 5
    assert pdftypes.zlib is zlib and pdftypes.decompress_corrupted.__module__ == "pdfminer.pdftypes"


def test_all_the_streams_of_a_pdf_count_together(low_pdf_limits, monkeypatch):
    monkeypatch.setattr(pdf_extract, "MAX_STREAMS", 8 * MB)
    res = parse(pdf_deflate_bomb(12))
    assert res.error == "the PDF's compressed streams inflate past 8 MB in all: refused as a compression bomb"


def test_a_stream_within_the_limits_reads_as_pdfminer_reads_it(low_pdf_limits):
    """The same 4 MB stream, damaged checksum or not, under the stand-ins and without them."""
    for bad in (False, True):
        data = pdf_deflate_bomb(4, bad_checksum=bad)
        raw = data[data.index(b"stream\n") + 7:data.rindex(b"\nendstream")]
        plain = _decoded(raw)
        with pdf_extract.bounded_streams():
            bounded = _decoded(raw)
        assert bounded == plain and len(plain) == 4 * MB
        assert parse(data).error is None


def test_lzw_streams_are_counted_too(monkeypatch):
    spec_example = bytes.fromhex("800b6050220c0c8501")  # "-----A---B", the PDF reference's LZW example
    with pdf_extract.bounded_streams():
        assert pdftypes.lzwdecode(spec_example) == b"-----A---B"
        monkeypatch.setattr(pdf_extract, "MAX_STREAM", 5)
        with pytest.raises(ExtractionError, match="inflates past"):
            pdftypes.lzwdecode(spec_example)


def test_the_stand_ins_are_scoped_to_reading_and_shared_by_threads():
    """Installed by the first reader, the originals back when the last one leaves, an exception or not."""
    originals = (pdftypes.zlib, pdftypes.decompress_corrupted, pdftypes.lzwdecode)
    inside, go = threading.Barrier(2), threading.Event()
    seen = []

    def reader():
        with pdf_extract.bounded_streams():
            inside.wait(5)
            seen.append(pdftypes.zlib is not zlib)
            go.wait(5)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join(5)
    assert seen == [True, True]
    with pytest.raises(RuntimeError), pdf_extract.bounded_streams():
        raise RuntimeError("a reader that fails")
    assert (pdftypes.zlib, pdftypes.decompress_corrupted, pdftypes.lzwdecode) == originals


def _decoded(raw: bytes) -> bytes:
    return pdftypes.PDFStream({"Filter": pdftypes.LITERALS_FLATE_DECODE[0]}, raw).get_data()
