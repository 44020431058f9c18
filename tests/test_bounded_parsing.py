"""One hostile original costs its own parse and nothing more: a parse past its time limit or memory ceiling, or
whose worker dies, is recorded as failed with the reason in words, the rest of the batch is parsed, later runs
try it again a bounded number of times, and ``nianbao reparse --failed`` tries it on demand.

The bombs are scaled down and the limits set low to prove the bound: unbounded, the 4 MB operator bomb here
takes about 12 s and 370 MB to parse, the 8 MB one 670 MB (the real one, 60 MB of operators, took 205 s and
11.4 GB)."""

from __future__ import annotations

import json
import os
import time

import pytest
from click.testing import CliRunner

from archive import Archive
from archive.examine.pipeline import outcome
from archive.examine.workers import ParseLimits, parser_pool
from crawler.cli import cli
from helpers.hostile import pdf_operator_bomb
from spiders.demo.generator import agency_name, generate, to_html


def good_reports(where, first: int, n: int) -> None:
    where.mkdir(parents=True, exist_ok=True)
    for seed in range(first, first + n):
        (where / f"report{seed}.html").write_bytes(to_html(generate(seed, year=2020 + seed % 4,
                                                                    agency=agency_name(seed))))


def ingest(src, where) -> dict:
    res = CliRunner().invoke(cli, ["ingest", str(src), "--archive", str(where), "--json"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def bomb_row(where) -> dict:
    with Archive.open(where, readonly=True) as a:
        return a.catalog.one("SELECT role, examine_note, parse_failures, examined_by FROM blobs WHERE kind = 'pdf'")


@pytest.mark.slow
def test_a_bomb_past_its_time_limit_fails_alone_and_is_retried_a_bounded_number_of_times(tmp_path, monkeypatch):
    monkeypatch.setenv("NIANBAO_PARSE_SECONDS", "2")
    monkeypatch.setenv("NIANBAO_PARSE_SECONDS_PER_MB", "0")
    batch = tmp_path / "batch"
    good_reports(batch, 100, 20)
    (batch / "bomb.pdf").write_bytes(pdf_operator_bomb(4))
    where = tmp_path / "arch"
    first = ingest(batch, where)
    assert first["files"] == 21 and first["new_reports"] == 20 and first["errors"] == []
    note = " ".join(str(n) for n in first["notes"])
    assert "bomb.pdf" in note and "parsing stopped after 2 s" in note
    row = bomb_row(where)
    assert row["role"] == "failed" and row["parse_failures"] == 1 and "stopped after 2 s" in row["examine_note"]

    for run in (2, 3, 4):  # other files come; the bomb is tried once more per run, until it failed 3 times
        more = tmp_path / f"more{run}"
        good_reports(more, 200 + 10 * run, 2)
        out = ingest(more, where)
        assert out["new_reports"] == 2
        assert bomb_row(where)["parse_failures"] == min(run, 3)

    res = CliRunner().invoke(cli, ["reparse", "--failed", "--archive", str(where)], catch_exceptions=False)
    assert res.exit_code == 0 and "parsed 1 original(s)" in res.output
    assert "could not read" in res.output and "failed 4x" in res.output and "stopped after 2 s" in res.output
    with Archive.open(where, readonly=True) as a:
        assert a.catalog.scalar("SELECT count(*) FROM reports") == 26


@pytest.mark.slow
def test_a_bomb_past_its_memory_ceiling_fails_in_words(tmp_path, monkeypatch):
    # a parser worker maps about 200 MB; this bomb makes it map 800 MB (670 MB resident)
    monkeypatch.setenv("NIANBAO_PARSE_MEMORY_MB", "600")
    monkeypatch.setenv("NIANBAO_PARSE_SECONDS", "120")
    batch = tmp_path / "batch"
    good_reports(batch, 300, 3)
    (batch / "bomb.pdf").write_bytes(pdf_operator_bomb(8))
    out = ingest(batch, tmp_path / "arch")
    assert out["new_reports"] == 3
    row = bomb_row(tmp_path / "arch")
    assert row["role"] == "failed" and row["parse_failures"] == 1
    assert "MemoryError" in row["examine_note"] or "600 MB" in row["examine_note"], row["examine_note"]


def test_a_worker_that_dies_is_a_failure_in_words_and_the_pool_goes_on():
    pool = parser_pool(1, limits=ParseLimits(memory_mb=2048, seconds=30))
    try:
        died = outcome(pool.submit(os.abort), {"kind": "pdf", "size": 10}, pool.limits)
        assert died.error and "SIGABRT" in died.error and not died.is_report and died.kind == "pdf"
        assert pool.submit(sum, [1, 2, 3]).result(timeout=30) == 6  # a new worker took its place
    finally:
        pool.shutdown(cancel_futures=True)
    quick = parser_pool(1, limits=ParseLimits(memory_mb=2048, seconds=0.5, seconds_per_mb=0))
    try:
        slow = outcome(quick.submit(time.sleep, 30, size=5_000_000), {"kind": "docx", "size": 5_000_000},
                       quick.limits)
        assert slow.error.startswith("parsing stopped after 0 s, the limit for a document of 5.0 MB")
        assert quick.submit(sum, [1, 2]).result(timeout=30) == 3
    finally:
        quick.shutdown(cancel_futures=True)


def test_limits_scale_with_size_and_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("NIANBAO_PARSE_SECONDS", "10")
    monkeypatch.setenv("NIANBAO_PARSE_SECONDS_PER_MB", "5")
    monkeypatch.setenv("NIANBAO_PARSE_MEMORY_MB", "1500")
    limits = ParseLimits.from_env()
    assert limits.memory_mb == 1500 and limits.seconds_for(None) == 10 and limits.seconds_for(4_000_000) == 30
    monkeypatch.delenv("NIANBAO_PARSE_MEMORY_MB")
    assert 2048 <= ParseLimits.from_env().memory_mb <= 8192


def test_a_broken_pool_mends_itself_and_what_it_dropped_stays_queued(tmp_path):
    """A worker killed while it had no task breaks pebble's pool; the documents under it are not failed (it
    says nothing of them), they stay unexamined, and the next submit runs on a new pool."""
    import signal as sig
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    pool = parser_pool(1, limits=ParseLimits(memory_mb=2048, seconds=30))
    try:
        assert pool.submit(sum, [1]).result(timeout=30) == 1
        for pid in list(pool._pool._pool_manager.worker_manager.workers):  # the idle worker dies
            os.kill(pid, sig.SIGKILL)
        deadline = time.time() + 10
        while not pool.broken and time.time() < deadline:
            time.sleep(0.05)
        assert pool.broken
        dropped = Future()
        dropped.set_exception(BrokenProcessPool("All workers expired"))
        assert outcome(dropped, {}, pool.limits) is None  # not the document's doing: it stays queued
        assert pool.submit(sum, [1, 2]).result(timeout=30) == 3 and pool.restarts == 1
    finally:
        pool.shutdown(cancel_futures=True)


def test_the_pool_outlives_the_thread_that_started_it():
    """Workers die with the *thread* that spawned them (prctl's parent-death signal): a pool first used from
    a short-lived thread (a web request, a scheduler job) must keep working after that thread ended."""
    import threading

    holder: dict = {}
    t = threading.Thread(target=lambda: holder.update(pool=parser_pool(1, limits=ParseLimits(memory_mb=2048))))
    t.start()
    t.join()
    pool = holder["pool"]
    try:
        time.sleep(1.0)
        assert not pool.broken
        assert pool.submit(sum, [2, 3]).result(timeout=30) == 5 and pool.restarts == 0
    finally:
        pool.shutdown(cancel_futures=True)


def test_an_idle_pools_timeout_is_not_the_documents_failure():
    """Idle workers run on CPU time nobody else wants; in a busy crawl their clock says nothing of the
    document, so it is left queued for the full-priority pool (parse_service) rather than failed."""
    pool = parser_pool(1, idle=True, limits=ParseLimits(memory_mb=2048, seconds=0.5, seconds_per_mb=0))
    try:
        assert outcome(pool.submit(time.sleep, 30, size=10), {"kind": "pdf", "size": 10}, pool.limits,
                       idle=pool.idle) is None
    finally:
        pool.shutdown(cancel_futures=True)


def test_failures_counted_from_before_counting_and_reset_by_a_good_parse(tmp_path, monkeypatch):
    """Migration 11 leaves failures from before counting to ``reparse --failed``; a parse that succeeds
    starts the count again."""
    from archive.catalog.migrations import MIGRATIONS
    from archive.examine.placement import Placer
    from archive.parser import ParseResult

    batch = tmp_path / "batch"
    good_reports(batch, 400, 2)
    where = tmp_path / "arch"
    ingest(batch, where)
    with Archive.open(where) as a:
        c = a.catalog
        one, two = [r["sha256"] for r in c.rows("SELECT sha256 FROM blobs ORDER BY rowid")]
        with c.transaction():
            c.db.execute("UPDATE blobs SET role = 'failed', parse_failures = 0 WHERE sha256 = ?", [one])
            c.db.execute("UPDATE blobs SET role = 'failed', parse_failures = 1 WHERE sha256 = ?", [two])
        dict((n, f) for n, _, f in MIGRATIONS)[11](c.db)
        fails = {r["sha256"]: r["parse_failures"] for r in c.rows("SELECT sha256, parse_failures FROM blobs")}
        assert fails == {one: 3, two: 1}  # the one counted since migration 10 keeps its count
        with c.transaction():
            Placer(c).apply(two, ParseResult(kind="html", report={"warnings": []}, is_report=False), {})
        assert c.scalar("SELECT parse_failures FROM blobs WHERE sha256 = ?", (two,)) == 0
