"""The parse process a crawl runs beside its writer: it finds reports while captures are committed,
reports progress without being waited for, and leaves unparsed blobs pending when stopped."""

from __future__ import annotations

import time

import pytest

from archive import Archive, Capture
from archive.examine.parse_service import ParseService
from archive.examine.pipeline import pending
from spiders.demo.generator import agency_name, generate, to_html

HTML = [("Content-Type", "text/html; charset=utf-8")]


def write_reports(archive_dir, seeds: list[int]) -> None:
    with Archive.open(archive_dir) as a, a.writer(kind="crawl", examine=False) as w:
        for s in seeds:
            rep = generate(s, year=2020 + s % 4, agency=agency_name(s))
            w.add(Capture(url=f"http://127.0.0.9/nb/{s}.html", body=to_html(rep), headers=HTML))


@pytest.mark.slow
def test_reports_found_while_running_then_counted_at_finish(tmp_path):
    archive_dir = tmp_path / "a"
    write_reports(archive_dir, [1])
    service = ParseService(archive_dir, jobs=1, drain_jobs=2)
    service.start()
    service.committed()
    deadline = time.monotonic() + 120
    while not service.progress()["reports"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(service.progress()["reports"]) == 1  # seen live, before finish()
    write_reports(archive_dir, [2, 3])
    service.committed()
    result = service.finish(drain=True, timeout=120)
    assert result["error"] is None
    assert len(result["reports"]) == 3 and result["new_reports"] == 3 and result["parsed"] == 3
    with Archive.open(archive_dir, readonly=True) as a:
        assert pending(a.catalog) == []
        assert len(a.reports()) == 3


def test_stop_leaves_the_rest_pending_for_the_next_run(tmp_path):
    archive_dir = tmp_path / "a"
    write_reports(archive_dir, list(range(10, 50)))
    service = ParseService(archive_dir, jobs=1)
    service.start()
    result = service.finish(drain=False, timeout=120)  # stopped at once: at most one chunk is parsed
    assert result["error"] is None
    with Archive.open(archive_dir, readonly=True) as a:
        left = len(pending(a.catalog))
    assert left == 40 - result.get("parsed", 0) and left > 0
