"""A body far larger than memory should be: archived from a file, streamed, never loaded whole."""

from __future__ import annotations

import hashlib
import os
import tracemalloc

from archive import Body, Capture

SIZE = 96 * 1024 * 1024


def test_a_large_response_is_streamed_from_disk(archive, tmp_path):
    src = tmp_path / "big.pdf"
    h = hashlib.sha256()
    with open(src, "wb") as fh:
        fh.write(b"%PDF-1.4\n")
        h.update(b"%PDF-1.4\n")
        for _ in range(SIZE // (1 << 20)):
            chunk = os.urandom(1 << 20)
            fh.write(chunk)
            h.update(chunk)
    tracemalloc.start()
    with archive.writer(examine=False) as w:
        added = w.add(Capture(url="http://127.0.0.2/big.pdf", body=Body(path=src),
                              headers=[("Content-Type", "application/pdf")]))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert added.sha256 == h.hexdigest()
    assert peak < 24 * 1024 * 1024, f"peak Python memory {peak / 2**20:.0f} MB for a {SIZE / 2**20:.0f} MB body"
    assert archive.store.check(added.sha256) == "ok"
    assert archive.verify(warc_records=True).ok
