"""kill -9 in the middle of a crawl, then crawl again: the same archive as a crawl never interrupted,
without fetching again what the interrupted run archived."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import pytest

from archive import Archive
from crawler.run import crawl_in_subprocess
from spiders.demo.portals import build
from spiders.demo.server import PortalServer
from spiders.profiles import PortalProfile

pytestmark = pytest.mark.slow  # a crawl killed and resumed

FAST = {"browser": "never", "progress": False, "overrides": {"AUTOTHROTTLE_START_DELAY": 0.0}}


def start_crawl(archive_dir: Path, portals: list[PortalProfile], tmp: Path) -> subprocess.Popen:
    job = tmp / "job.json"
    job.write_text(json.dumps({"archive": str(archive_dir), "portals": [asdict(p) for p in portals],
                               "kwargs": FAST}, ensure_ascii=False), "utf-8")
    return subprocess.Popen([sys.executable, "-m", "crawler.run", "--job", str(job), "--result", str(tmp / "r.json")],
                            start_new_session=True)


def captured(archive_dir: Path) -> int:
    if not (archive_dir / "catalog.db").exists():
        return 0
    with Archive.open(archive_dir, readonly=True) as a:
        if a.catalog.version() == 0:  # the crawl has created catalog.db but not yet its tables
            return 0
        return a.catalog.scalar("SELECT count(*) FROM captures") or 0


def contents(archive_dir: Path) -> tuple[set, set, set]:
    with Archive.open(archive_dir, readonly=True) as a:
        blobs = {r["sha256"] for r in a.catalog.rows("SELECT sha256 FROM blobs")}
        reports = {(r["agency"], r["year"]) for r in a.reports()}
        docs = {(r["sha256"], r["report_id"] is not None)
                for r in a.catalog.rows("SELECT sha256, report_id FROM documents")}
        assert a.verify(warc_records=True).ok
    return blobs, reports, docs


def test_kill_9_mid_crawl_then_resume_gives_the_uninterrupted_archive(tmp_path):
    portals = [build("static", 51, [2019, 2020, 2021, 2022, 2023], delay=0.15),
               build("hanweb", 52, [2020, 2021, 2022, 2023], delay=0.15)]
    servers = [PortalServer(p.site, host=f"127.0.0.{40 + i}").start() for i, p in enumerate(portals)]
    try:
        profiles = [PortalProfile(name=p.name, start_urls=[s.url + "/"], delay=0.0)
                    for p, s in zip(portals, servers, strict=True)]
        cut = tmp_path / "cut"
        proc = start_crawl(cut, profiles, tmp_path)
        deadline = time.monotonic() + 120
        while captured(cut) < 15 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        assert proc.poll() is None, "the crawl ended before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        before = captured(cut)
        hits_before = {h.path for p in portals for h in p.site.hits if h.status == 200}
        for p in portals:
            p.site.hits.clear()
        resumed = crawl_in_subprocess(cut, profiles, **FAST)
        assert resumed["status"] == "ok" and resumed["resumed_from_archive"] > 0
        # what the killed run archived was not fetched again
        refetched = {h.path for p in portals for h in p.site.hits if h.method == "GET" and h.status == 200}
        with Archive.open(cut, readonly=True) as a:
            first_run = {r["final_url"].split(":", 2)[2].split("/", 1)[1] for r in a.catalog.rows(
                "SELECT final_url FROM captures WHERE run_id = 1 AND status = 200")}
        assert before >= 15 and hits_before
        assert not ({"/" + p for p in first_run} & refetched)
        whole = tmp_path / "whole"
        crawl_in_subprocess(whole, profiles, **FAST)
        assert contents(cut) == contents(whole)
    finally:
        for s in servers:
            s.stop()


def test_a_crawl_past_its_time_limit_is_saved_then_raises_and_the_next_resumes(tmp_path):
    portal = build("static", 53, [2019, 2020, 2021, 2022, 2023], delay=0.5)
    server = PortalServer(portal.site, host="127.0.0.43").start()
    try:
        profiles = [PortalProfile(name=portal.name, start_urls=[server.url + "/"], delay=0.0)]
        with pytest.raises(subprocess.TimeoutExpired):
            crawl_in_subprocess(tmp_path / "a", profiles, timeout=8, **FAST)
        with Archive.open(tmp_path / "a", readonly=True) as a:
            assert [r["status"] for r in a.catalog.rows("SELECT status FROM runs")] == ["interrupted"]
        assert crawl_in_subprocess(tmp_path / "a", profiles, **FAST)["resumed_from_archive"] > 0
    finally:
        server.stop()
