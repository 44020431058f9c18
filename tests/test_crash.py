"""kill -9 at any moment leaves the archive consistent; the next run resumes and completes it."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive import Archive
from helpers import crash_writer
from helpers.crash_writer import items

pytestmark = pytest.mark.slow  # writer processes that archive ~40 MB each, killed and run again

CHILD = Path(crash_writer.__file__)


def start(archive_dir: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, str(CHILD), str(archive_dir)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def assert_consistent(archive_dir: Path, recovered: list | None = None) -> dict:
    with Archive.open(archive_dir) as a:
        with a.writer() as w:  # opening a writer is what recovers after a crash
            if recovered is not None:
                recovered.extend(w.recovered.values())
        cat = a.catalog
        assert cat.scalar("PRAGMA integrity_check") == "ok"
        assert list(cat.conn.execute("PRAGMA foreign_key_check")) == []
        res = a.verify(warc_records=True)
        assert res.ok, res.as_dict()
        assert not list(a.store.tmp.iterdir()), "a half-written blob was left behind"
        for f in cat.rows("SELECT name, size FROM warc_files"):
            path = a.warc_dir / f["name"]
            assert path.stat().st_size == f["size"]
            with open(path, "rb") as fh:
                n = sum(1 for _ in ArchiveIterator(fh))
            assert n >= 1
        for c in cat.rows("SELECT sha256, warc_file, warc_offset, warc_record_id FROM captures"):
            assert a.store.exists(c["sha256"])
            with open(a.warc_dir / c["warc_file"], "rb") as fh:
                fh.seek(c["warc_offset"])
                rec = next(iter(ArchiveIterator(fh)))
            assert rec.rec_headers.get_header("WARC-Record-ID") == c["warc_record_id"]
        return a.stats()


def test_sigkill_at_random_moments_leaves_a_consistent_archive_that_resumes(tmp_path):
    archive_dir = tmp_path / "archive"
    rng = random.Random(2026)
    n_items = len(items())
    # Kill after k captures were handed over plus a few ms (mid blob, mid WARC record, mid commit),
    # and twice after the last one (while new originals are being parsed).
    plan = [(k, rng.uniform(0, 0.05)) for k in range(0, n_items, 3)] + [(n_items, 0.05), (n_items, 0.3)]
    kills = 0
    recovered: list[str] = []
    for k, extra in plan:
        proc = start(archive_dir)
        for _ in range(k):
            proc.stdout.readline()
        time.sleep(extra)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
        assert_consistent(archive_dir, recovered)
    assert kills >= len(plan) - 1, "the child finished before the kills; the test did not exercise crashes"
    # The kills landed mid-write: torn WARC tails were cut back or half-written blobs removed.
    assert any(r.startswith(("truncated", "removed")) for r in recovered), recovered
    # Killed runs are marked interrupted; the two killed while parsing may have recorded their end.
    assert kills - 2 <= sum(r == "marked interrupted" for r in recovered) <= kills
    # A run left alone completes the archive: every body once, nothing waiting to be parsed.
    proc = start(archive_dir)
    assert proc.wait(timeout=300) == 0
    stats = assert_consistent(archive_dir)
    want = {hashlib.sha256(body).hexdigest() for _, body, _ in items()}
    with Archive.open(archive_dir, readonly=True) as a:
        have = {r["sha256"] for r in a.catalog.rows("SELECT sha256 FROM blobs")}
        assert want <= have
        assert {r["url"] for r in a.catalog.rows("SELECT url FROM captures")} == {u for u, _, _ in items()}
        statuses = {r["status"] for r in a.catalog.rows("SELECT status FROM runs")}
    assert stats["pending_parse"] == 0
    assert "running" not in statuses
    assert "interrupted" in statuses and "ok" in statuses


def test_two_writers_at_once_share_one_archive(tmp_path):
    """Two crawl processes on one archive: each gets its own WARC file, nothing is torn or lost."""
    archive_dir = tmp_path / "archive"
    procs = [start(archive_dir), start(archive_dir)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    stats = assert_consistent(archive_dir)
    n = len(items())
    assert stats["captures"] == 2 * n
    with Archive.open(archive_dir, readonly=True) as a:
        writers = {r["warc_file"].split("-")[3] for r in a.catalog.rows("SELECT DISTINCT warc_file FROM captures")}
        assert len(writers) == 2  # one file per writer process
        assert a.catalog.scalar("SELECT count(*) FROM blobs") == len({hashlib.sha256(b).hexdigest()
                                                                        for _, b, _ in items()})
