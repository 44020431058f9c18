"""``nianbao schedule start`` as a real process on a clock the test sets: it harvests a simulated portal
when due, refuses a second scheduler, survives kill -9 (lock released, schedule kept), makes up the
missed runs once, archives a newly published report and only it, and on SIGTERM saves a running crawl
that the next start resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archive import Archive
from scheduler import CLOCK_ENV, FileClock
from spiders.demo.portals import build
from spiders.demo.server import PortalServer
from spiders.profiles import PortalProfile, save

pytestmark = pytest.mark.slow  # the scheduler service with real crawls, killed and restarted


def start(archive: Path, clock: FileClock, log: Path) -> subprocess.Popen:
    with open(log, "ab") as fh:
        return subprocess.Popen([sys.executable, "-m", "crawler.cli", "schedule", "start", "--archive", str(archive)],
                                env={**os.environ, CLOCK_ENV: str(clock.path)}, stdout=fh, stderr=fh)


def wait_for(cond, seconds: float, what: str, proc: subprocess.Popen | None = None):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if got := cond():
            return got
        assert proc is None or proc.poll() is None, f"the scheduler exited ({proc.returncode}) waiting for {what}"
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def started(archive: Path, times: int) -> bool:
    log = archive / "logs" / "scheduler.log"
    return log.exists() and log.read_text().count("scheduler started") >= times


def harvests(archive: Path, done_only: bool = True) -> list[dict]:
    if not (archive / "catalog.db").exists():
        return []
    with Archive.open(archive, readonly=True) as a:
        if not a.catalog.db["harvests"].exists():
            return []
        rows = list(a.catalog.rows("SELECT * FROM harvests ORDER BY id"))
    return [r for r in rows if r["outcome"] != "running"] if done_only else rows


def configure(archive: Path, name: str, server: PortalServer, agency: str) -> None:
    save(PortalProfile(name=name, start_urls=[server.url + "/"], agency=agency, delay=0.0, schedule=["0 3 * * *"]),
         archive / "portals")
    (archive / "schedule.toml").write_text('browser = "never"\ntimeout_minutes = 10\n')


def test_scheduled_harvests_survive_kill_9_catch_up_once_and_archive_only_the_new_report(tmp_path):
    archive, log = tmp_path / "a", tmp_path / "scheduler.err"
    portal = build("static", 81, [2021, 2022], traps=False, office=False)
    clock = FileClock(tmp_path / "clock")
    clock.set("2027-01-10T02:59:00+08:00")
    with PortalServer(portal.site, host="127.0.0.81") as server:
        configure(archive, "p81", server, portal.agency)
        first = start(archive, clock, log)
        try:
            wait_for(lambda: started(archive, 1), 60, "the scheduler to start", first)
            time.sleep(1.5)
            assert harvests(archive, done_only=False) == []  # not due yet
            clock.set("2027-01-10T03:00:30+08:00")
            (h1,) = wait_for(lambda: harvests(archive), 180, "the first harvest", first)
            assert (h1["trigger"], h1["outcome"], h1["new_reports"]) == ("schedule", "ok", 2)
            assert h1["scheduled_for"] == "2027-01-10T03:00:00+08:00"

            # A second scheduler on the same archive is refused, in words naming the first.
            second = subprocess.run([sys.executable, "-m", "crawler.cli", "schedule", "start", "--archive",
                                     str(archive)], env={**os.environ, CLOCK_ENV: str(clock.path)},
                                    capture_output=True, text=True, timeout=60)
            assert second.returncode == 1
            assert "already running" in second.stderr and f"pid {first.pid}" in second.stderr
        finally:
            first.kill()  # SIGKILL: no clean-up of any kind
            first.wait()

        # While it is down, a new report is published and three scheduled times pass.
        newer = build("static", 81, [2021, 2022, 2023], traps=False, office=False)
        server.httpd.site = newer.site
        clock.set("2027-01-13T04:00:00+08:00")
        third = start(archive, clock, log)  # the kill -9 left no lock behind
        try:
            wait_for(lambda: started(archive, 2), 60, "the restarted scheduler", third)
            _, h2 = wait_for(lambda: harvests(archive)[1:] and harvests(archive), 180, "the catch-up", third)
            time.sleep(2.0)
            assert len(harvests(archive, done_only=False)) == 2  # the missed runs coalesced into one
        finally:
            third.send_signal(signal.SIGTERM)
            assert third.wait(120) == 0
    assert (h2["trigger"], h2["outcome"], h2["scheduled_for"]) == ("catch-up", "ok", "2027-01-13T03:00:00+08:00")
    assert h2["new_reports"] == 1
    with Archive.open(archive, readonly=True) as a:
        new_years = {r["year"] for r in a.catalog.rows(
            """SELECT DISTINCT d.year FROM documents d JOIN captures k ON k.sha256 = d.sha256 WHERE k.run_id = ?
               AND NOT EXISTS (SELECT 1 FROM captures e WHERE e.sha256 = d.sha256 AND e.run_id < ?)""",
            (h2["run_id"], h2["run_id"]))}
        assert new_years == {2023}  # every document new in the catch-up is the new report's
        assert {(r["agency"], r["year"]) for r in a.reports()} == newer.expected
        assert a.verify().ok
    listing = subprocess.run([sys.executable, "-m", "crawler.cli", "schedule", "list", "--archive", str(archive),
                              "--json"], env={**os.environ, CLOCK_ENV: str(clock.path)}, capture_output=True,
                             text=True, timeout=60)
    data = json.loads(listing.stdout)
    assert data["scheduler"] is None  # stopped
    (p,) = data["portals"]
    assert p["portal"] == "p81" and p["next_run"] == "2027-01-14T03:00:00+08:00" and p["next_run_stored"]
    assert (p["last_run"]["trigger"], p["last_run"]["outcome"], p["last_run"]["new_reports"]) == ("catch-up", "ok", 1)


def test_sigterm_saves_the_running_crawl_and_the_next_start_resumes_it(tmp_path):
    archive, log = tmp_path / "a", tmp_path / "scheduler.err"
    portal = build("static", 82, [2019, 2020, 2021, 2022, 2023], traps=False, office=False, delay=0.3)
    clock = FileClock(tmp_path / "clock")
    clock.set("2027-01-10T03:00:30+08:00")
    with PortalServer(portal.site, host="127.0.0.82") as server:
        configure(archive, "p82", server, portal.agency)
        (archive / "portals" / "p82.toml").write_text(
            (archive / "portals" / "p82.toml").read_text().replace('"0 3 * * *"', '"0 4 * * *"'))
        first = start(archive, clock, log)
        try:
            wait_for(lambda: started(archive, 1), 60, "the scheduler to start", first)
            clock.set("2027-01-10T04:00:10+08:00")
            wait_for(lambda: captured(archive) >= 6, 120, "the crawl to be under way", first)
        finally:
            first.send_signal(signal.SIGTERM)
            assert first.wait(180) == 0
        (h1,) = harvests(archive)
        assert h1["outcome"] == "stopped" and "resumes" in h1["reason"] and h1["pages"] >= 6
        with Archive.open(archive, readonly=True) as a:
            assert a.verify().ok
            fetched_before = a.catalog.scalar("SELECT count(*) FROM captures WHERE run_id = ?", (h1["run_id"],))

        second = start(archive, clock, log)  # same time: not due again, but the stopped harvest resumes
        try:
            h = wait_for(lambda: harvests(archive)[1:], 180, "the resumed harvest", second)
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(120) == 0
    (h2,) = h
    assert (h2["trigger"], h2["outcome"]) == ("resume", "ok")
    with Archive.open(archive, readonly=True) as a:
        assert {(r["agency"], r["year"]) for r in a.reports()} == portal.expected
        stats = a.catalog.one("SELECT stats FROM runs WHERE id = ?", (h2["run_id"],))["stats"]
        assert '"resumed_from_archive": ' in stats
        resumed = int(stats.split('"resumed_from_archive": ')[1].split(",")[0].split("}")[0])
        assert resumed >= min(fetched_before, 6) - 1  # what the stopped run saved was not fetched again


def captured(archive: Path) -> int:
    if not (archive / "catalog.db").exists():
        return 0
    with Archive.open(archive, readonly=True) as a:
        return a.catalog.scalar("SELECT count(*) FROM captures") or 0


def test_kill_9_of_the_scheduler_mid_crawl_is_marked_interrupted_and_resumed_on_start(tmp_path):
    archive, log = tmp_path / "a", tmp_path / "scheduler.err"
    portal = build("static", 83, [2019, 2020, 2021, 2022, 2023], traps=False, office=False, delay=0.3)
    clock = FileClock(tmp_path / "clock")
    clock.set("2027-01-10T03:00:30+08:00")
    with PortalServer(portal.site, host="127.0.0.83") as server:
        configure(archive, "p83", server, portal.agency)
        first = start(archive, clock, log)
        try:
            wait_for(lambda: started(archive, 1), 60, "the scheduler to start", first)
            clock.set("2027-01-11T03:00:10+08:00")
            wait_for(lambda: captured(archive) >= 6, 120, "the crawl to be under way", first)
        finally:
            first.kill()
            first.wait()
        second = start(archive, clock, log)  # its crawl stops on its own (SIGTERM on the parent's death)
        try:
            h = wait_for(lambda: harvests(archive)[1:] and harvests(archive), 240, "the resumed harvest", second)
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(120) == 0
    h1, h2 = h
    assert h1["outcome"] == "interrupted" and "next run resumes" in h1["reason"]
    assert (h2["trigger"], h2["outcome"]) == ("resume", "ok")
    with Archive.open(archive, readonly=True) as a:
        assert {(r["agency"], r["year"]) for r in a.reports()} == portal.expected
        assert a.verify(warc_records=True).ok
