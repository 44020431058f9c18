"""One harvest as the scheduler runs it: its own process, a time limit, a record whatever happens."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from archive import Archive
from crawler.harvest import harvest, portal_lock
from spiders.demo.portals import build
from spiders.demo.server import PortalServer
from spiders.profiles import PortalProfile

pytestmark = pytest.mark.slow  # every test runs a harvest

FAST = {"browser": "never", "overrides": {"AUTOTHROTTLE_START_DELAY": 0.0}}


def profile(name: str, server: PortalServer, agency: str) -> PortalProfile:
    return PortalProfile(name=name, start_urls=[server.url + "/"], agency=agency, delay=0.0)


def captured(archive_dir) -> int:
    if not (archive_dir / "catalog.db").exists():
        return 0
    with Archive.open(archive_dir, readonly=True) as a:
        return a.catalog.scalar("SELECT count(*) FROM captures") or 0


def crawl_process() -> int | None:
    """The crawl process this test's harvest started (``crawler.run … --parent <us>``)."""
    for d in Path("/proc").iterdir():
        try:
            cmd = (d / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"crawler.run" in cmd and str(os.getpid()).encode() in cmd:
            return int(d.name)
    return None


def test_a_harvest_is_recorded_with_its_numbers(tmp_path):
    portal = build("static", 71, [2021, 2022], traps=False, office=False)
    with PortalServer(portal.site, host="127.0.0.71") as server:
        rows = harvest(tmp_path / "a", [profile("p71", server, portal.agency)], trigger="run-now", crawl_kwargs=FAST)
    (r,) = rows
    assert (r["portal"], r["trigger"], r["outcome"], r["reason"]) == ("p71", "run-now", "ok", None)
    assert (r["new_reports"], r["blocked"]) == (2, 0)
    assert r["pages"] >= 6 and r["new_documents"] >= 4 and r["run_id"] and r["ended_at"]
    log = (tmp_path / "a" / "logs" / f"harvest-{r['id']}.log").read_text()
    assert "Spider closed (finished)" in log


def test_a_harvest_past_its_time_limit_is_ended_saved_and_recorded(tmp_path):
    portal = build("static", 72, [2019, 2020, 2021, 2022, 2023], traps=False, office=False, delay=0.4)
    with PortalServer(portal.site, host="127.0.0.72") as server:
        (r,) = harvest(tmp_path / "a", [profile("p72", server, portal.agency)], timeout=4, grace=60,
                       crawl_kwargs=FAST)
    assert r["outcome"] == "timeout" and "time limit" in r["reason"]
    assert r["pages"] > 0  # what it fetched before the limit is saved
    with Archive.open(tmp_path / "a", readonly=True) as a:
        run = a.catalog.one("SELECT status, stats FROM runs WHERE id = ?", (r["run_id"],))
        # Closed in order by the crawl itself (its stats written), and resumable by the next run.
        assert run["status"] == "interrupted" and json.loads(run["stats"])["seconds"] > 0
        assert a.verify().ok


def test_a_crawl_process_killed_mid_run_is_recorded_as_crashed_with_its_reason(tmp_path):
    portal = build("static", 73, [2019, 2020, 2021, 2022, 2023], traps=False, office=False, delay=0.4)
    archive_dir = tmp_path / "a"
    out: list = []
    with PortalServer(portal.site, host="127.0.0.73") as server:
        t = threading.Thread(target=lambda: out.extend(
            harvest(archive_dir, [profile("p73", server, portal.agency)], crawl_kwargs=FAST)))
        t.start()
        pid, deadline = None, time.monotonic() + 60
        while pid is None and time.monotonic() < deadline:
            time.sleep(0.2)
            if captured(archive_dir) >= 3:
                pid = crawl_process()
        assert pid, "the crawl never started"
        os.kill(pid, signal.SIGKILL)
        t.join(60)
    (r,) = out
    assert r["outcome"] == "crashed"
    assert "killed by SIGKILL" in r["reason"] and "harvest-" in r["reason"]  # and where its log is


def test_a_portal_being_harvested_is_not_harvested_twice(tmp_path):
    archive_dir = tmp_path / "a"
    p = PortalProfile(name="busy", start_urls=["http://127.0.0.74:9/"], delay=0.0)
    held = portal_lock(archive_dir, "busy").acquire(trigger="test")
    try:
        (r,) = harvest(archive_dir, [p], crawl_kwargs=FAST)
    finally:
        held.release()
    assert r["outcome"] == "skipped"
    assert f"pid {os.getpid()}" in r["reason"] and "already being harvested" in r["reason"]
    # Released, the same call goes ahead (and fails in plain words: nothing listens there).
    (r,) = harvest(archive_dir, [p], crawl_kwargs=FAST)
    assert r["outcome"] == "failed" and "no page of the portal could be fetched" in r["reason"]


def test_a_manual_crawl_of_a_portal_being_harvested_is_refused(tmp_path):
    from click.testing import CliRunner

    from crawler.cli import cli
    from spiders.profiles import save

    archive_dir = tmp_path / "a"
    save(PortalProfile(name="busy", start_urls=["http://127.0.0.75:9/"]), archive_dir / "portals")
    held = portal_lock(archive_dir, "busy").acquire(trigger="schedule")
    try:
        res = CliRunner().invoke(cli, ["crawl", "--portal", "busy", "--archive", str(archive_dir),
                                       "--browser", "never"])
    finally:
        held.release()
    assert res.exit_code == 1 and "being harvested now" in res.output
