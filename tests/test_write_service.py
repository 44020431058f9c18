"""The writer process a crawl queues its captures to: it writes and parses them, reports its counts,
and a writer that dies does not hang the crawl that waits for it."""

from __future__ import annotations

import os
import signal

import pytest

from archive import Archive, Capture
from archive.ingest.write_service import WriteService
from spiders.demo.generator import agency_name, generate, to_html

HTML = [("Content-Type", "text/html; charset=utf-8")]


def capture(seed: int) -> Capture:
    rep = generate(seed, year=2021 + seed % 3, agency=agency_name(seed))
    return Capture(url=f"http://127.0.0.9/nb/{seed}.html", body=to_html(rep), headers=HTML)


@pytest.mark.slow
def test_captures_are_written_parsed_and_counted(tmp_path):
    service = WriteService(tmp_path / "a", ["p"], jobs=1, batch_seconds=0.2)
    run_id = service.start()
    for seed in (1, 2, 3):
        service.put(capture(seed))
    service.put(capture(1))  # the same body again: no new blob
    result = service.finish("ok", {"note": "test"}, timeout=120)
    assert result["error"] is None and result["run_id"] == run_id
    assert result["counts"]["captures"] == 4 and result["counts"]["new_blobs"] == 3
    assert result["counts"]["new_reports"] == 3 and len(result["reports"]) == 3
    assert result["per_host"] == {"127.0.0.9": 4}
    with Archive.open(tmp_path / "a", readonly=True) as a:
        run = a.catalog.one("SELECT status, new_reports FROM runs WHERE id = ?", (run_id,))
        assert run["status"] == "ok" and run["new_reports"] == 3
        assert a.catalog.scalar("SELECT count(*) FROM captures") == 4


def test_a_writer_that_dies_does_not_hang_the_crawl(tmp_path):
    service = WriteService(tmp_path / "a", ["p"], jobs=1)
    service.start()
    service.put(capture(5))
    os.kill(service._proc.pid, signal.SIGKILL)
    result = service.finish("ok", {}, timeout=60)
    assert "without reporting" in result["error"]


def test_an_unopenable_archive_fails_at_start_in_words(tmp_path):
    (tmp_path / "file").write_text("not a directory")
    service = WriteService(tmp_path / "file" / "a", ["p"])
    with pytest.raises(RuntimeError, match="cannot open the archive"):
        service.start(timeout=60)


@pytest.mark.slow
def test_the_parsing_after_the_crawl_shows_its_progress(tmp_path):
    """What is still unparsed when the crawl ends is parsed before the run closes; the caller hears how it goes."""
    service = WriteService(tmp_path / "a", ["p"], jobs=1, batch_seconds=0.2)
    service.start()
    for seed in range(10, 22):
        service.put(capture(seed))
    heard: list[dict] = []
    result = service.finish("ok", {}, timeout=300, on_progress=heard.append)
    assert result["error"] is None and result["counts"]["new_reports"] == 12
    assert heard, "no progress while the parsing drained"
    assert all(h["parsed"] <= 12 for h in heard) and heard[-1]["parsed"] >= heard[0]["parsed"]
