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
