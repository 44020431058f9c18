"""The content-addressed store: one copy per content, byte-exact reads, corruption caught."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest

from archive.store.blobs import BlobStore
from archive.store.body import Body


@pytest.fixture(params=["unnamed", "named"])
def store(request, tmp_path):
    """Both ways of writing a temporary file: O_TMPFILE where the kernel has it, a named one elsewhere."""
    s = BlobStore(tmp_path / "blobs")
    if request.param == "named":
        s._unnamed = False
    return s


def test_temporary_files_are_unnamed_where_possible(tmp_path):
    s = BlobStore(tmp_path / "blobs")
    s.put(b"<html>probe</html>")
    assert s._unnamed is (sys.platform.startswith("linux"))


def test_identical_bytes_are_stored_once(store):
    data = b"<html>" + "政府信息公开工作年度报告".encode() * 200 + b"</html>"
    first = store.put(data)
    second = store.put(bytes(data))
    assert first.sha256 == second.sha256 == hashlib.sha256(data).hexdigest()
    assert first.new and not second.new
    assert list(store) == [first.sha256]


def test_staged_blobs_appear_only_when_published(store, docs):
    pdf = (docs / "report2.pdf").read_bytes()
    blob = store.stage(pdf)
    assert blob.new and not store.exists(blob.sha256)
    assert not store.stage(pdf).new  # the same content staged twice is one blob
    assert store.publish() == 1
    assert store.read(blob.sha256) == pdf
    assert list(store.tmp.iterdir()) == []
    again = store.stage(pdf)
    assert not again.new and store.publish() == 0


def test_text_is_compressed_and_reads_back_byte_exact(store, docs):
    html = (docs / "report0.html").read_bytes()
    pdf = (docs / "report0.pdf").read_bytes()
    h, p = store.put(html), store.put(pdf)
    assert h.encoding == "zstd" and h.stored_size < h.size / 2
    assert p.encoding == "raw"  # already compressed: stored as is
    assert store.read(h.sha256) == html
    assert store.read(p.sha256) == pdf
    assert store.locate(h.sha256)[0].name.endswith(".zst")


def test_put_from_a_file_streams_and_hashes(store, tmp_path):
    src = tmp_path / "big.bin"
    data = os.urandom(3 * 1024 * 1024 + 17)
    src.write_bytes(data)
    blob = store.put(Body(path=src))
    assert blob.sha256 == hashlib.sha256(data).hexdigest() and blob.size == len(data)
    assert store.check(blob.sha256) == "ok"


def test_flipped_byte_and_missing_file_are_detected(store, docs):
    raw = store.put((docs / "report0.pdf").read_bytes())
    packed = store.put((docs / "report0.html").read_bytes())
    for blob in (raw, packed):
        path = store.locate(blob.sha256)[0]
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))
        assert store.check(blob.sha256) == "corrupt"
    store.locate(raw.sha256)[0].unlink()
    assert store.check(raw.sha256) == "missing"


def test_temp_files_of_dead_writers_are_cleaned(tmp_path):
    store = BlobStore(tmp_path / "blobs")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = store.tmp / f"{int(dead.stdout)}-abc.tmp"
    stale.write_bytes(b"half a blob")
    mine = store.tmp / f"{os.getpid()}-def.tmp"
    mine.write_bytes(b"being written")
    assert store.clean_tmp() == 1
    assert not stale.exists() and mine.exists()
