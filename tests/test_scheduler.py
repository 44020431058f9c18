"""The scheduler's decisions on a clock the test moves (as APScheduler's own tests freeze time):
when jobs fire, how missed runs coalesce, how profiles become jobs, and the one-scheduler lock."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from archive import Archive
from helpers.scheduling import Recorder, wait_for
from scheduler import FileClock, ScheduleConfig, ScheduleConfigError, SchedulerRunning, Service, schedule_list
from spiders import cron
from spiders.profiles import PortalProfile, ProfileError, save

CST = ZoneInfo("Asia/Shanghai")


def fires(lines, seed: str, start: datetime, n: int) -> list[datetime]:
    trig, out, prev, now = cron.trigger(lines, seed), [], None, start
    for _ in range(n):
        prev = trig.get_next_fire_time(prev, now)
        out.append(prev)
        now = prev
    return out


def test_the_default_harvests_daily_in_report_season_and_monthly_otherwise():
    season = fires(cron.DEFAULT_SCHEDULE, "ankang", datetime(2027, 1, 1, tzinfo=CST), 120)
    assert {d.month for d in season} == {1, 2, 3, 4} and len({d.date() for d in season}) == 120
    rest = fires(cron.DEFAULT_SCHEDULE, "ankang", datetime(2027, 5, 1, tzinfo=CST), 8)
    assert [(d.month, d.day) for d in rest] == [(m, 1) for m in range(5, 13)]
    # H: each portal its own minute and hour (1–5 at night), the same every time it is read.
    times = {name: (fires(cron.DEFAULT_SCHEDULE, name, datetime(2027, 1, 1, tzinfo=CST), 1)[0].time())
             for name in ("a", "b", "c", "d", "e", "f")}
    assert len(set(times.values())) > 1 and all(1 <= t.hour <= 5 for t in times.values())
    assert cron.expand("H H(1-5) * 1-4 *", "a") == cron.expand("H H(1-5) * 1-4 *", "a")
    # Weekdays mean what they mean in crontab (1 = Monday, 0 and 7 = Sunday), not APScheduler's 0 = Monday.
    assert cron.expand("0 3 * * 1-5", "a") == "0 3 * * mon,tue,wed,thu,fri"
    assert cron.expand("0 3 * * */2", "a") == "0 3 * * sun,tue,thu,sat"
    assert fires(["0 3 * * 0"], "a", datetime(2027, 1, 1, tzinfo=CST), 1)[0].strftime("%a") == "Sun"


def test_bad_schedules_are_refused_in_words(tmp_path):
    with pytest.raises(ProfileError, match="schedule"):
        PortalProfile(name="x", start_urls=["http://127.0.0.9/"], schedule=["every day"])
    (tmp_path / "schedule.toml").write_text('timezone = "Asia/Shanghai"\ncron = "0 3 * * *"\n')
    with pytest.raises(ScheduleConfigError, match="unknown keys"):
        ScheduleConfig.load(tmp_path)
    (tmp_path / "schedule.toml").write_text('default = ["0 25 * * *"]\n')
    with pytest.raises(ScheduleConfigError, match="0 25"):
        ScheduleConfig.load(tmp_path)


@pytest.fixture
def setup(tmp_path):
    archive = tmp_path / "a"
    save(PortalProfile(name="p1", start_urls=["http://127.0.0.80/"], schedule=["0 3 * * *"]), archive / "portals")
    clock = FileClock(tmp_path / "clock")
    clock.set("2027-01-10T02:59:00+08:00")
    return archive, clock


def test_a_job_fires_when_due_and_not_before(setup):
    archive, clock = setup
    rec = Recorder()
    svc = Service(archive, clock=clock, runner=rec).start()
    try:
        time.sleep(1.0)
        assert rec.calls == []
        clock.set("2027-01-10T03:00:00+08:00")
        assert wait_for(lambda: len(rec.calls) == 1)
        assert rec.calls[0] == ("p1", "schedule", "2027-01-10T03:00:00+08:00")
        clock.set("2027-01-10T12:00:00+08:00")
        time.sleep(1.0)
        assert len(rec.calls) == 1  # once a day
        clock.set("2027-01-11T03:00:00+08:00")
        assert wait_for(lambda: len(rec.calls) == 2)
    finally:
        svc.stop()


def test_runs_missed_while_down_coalesce_into_one_on_start(setup):
    archive, clock = setup
    rec = Recorder()
    Service(archive, clock=clock, runner=rec).start().stop()
    clock.set("2027-01-14T04:00:00+08:00")  # 10th, 11th, 12th, 13th and 14th 03:00 all missed
    svc = Service(archive, clock=clock, runner=rec).start()
    try:
        assert wait_for(lambda: len(rec.calls) == 1)
        time.sleep(1.0)
        assert rec.calls == [("p1", "catch-up", "2027-01-14T03:00:00+08:00")]
    finally:
        svc.stop()


def test_jobs_follow_the_profiles_and_keep_their_stored_times(setup):
    archive, clock = setup
    svc = Service(archive, clock=clock, runner=Recorder()).start()
    assert [p["next_run"] for p in schedule_list(archive, clock=clock)["portals"]] == ["2027-01-10T03:00:00+08:00"]
    svc.stop()
    save(PortalProfile(name="p1", start_urls=["http://127.0.0.80/"], schedule=["30 6 * * 1"]), archive / "portals")
    save(PortalProfile(name="p2", start_urls=["http://127.0.0.81/"]), archive / "portals")
    svc = Service(archive, clock=clock, runner=Recorder()).start()
    try:
        listing = {p["portal"]: p for p in schedule_list(archive, clock=clock)["portals"]}
        assert listing["p1"]["next_run"] == "2027-01-11T06:30:00+08:00"  # the changed schedule: next Monday
        assert listing["p2"]["schedule"] == cron.spec(cron.DEFAULT_SCHEDULE, "p2") and listing["p2"]["next_run_stored"]
        assert schedule_list(archive, clock=clock)["scheduler"]["pid"] > 0
    finally:
        svc.stop()
    (archive / "portals" / "p2.toml").unlink()
    Service(archive, clock=clock, runner=Recorder()).start().stop()
    assert [p["portal"] for p in schedule_list(archive, clock=clock)["portals"]] == ["p1"]
    assert schedule_list(archive, clock=clock)["scheduler"] is None


@pytest.mark.slow
def test_a_failing_harvest_is_recorded_and_the_scheduler_goes_on(setup):
    archive, clock = setup
    rec = Recorder(fail=True)
    svc = Service(archive, clock=clock, runner=rec).start()
    try:
        clock.set("2027-01-10T03:00:00+08:00")
        # Done recording the first, not only started: a job still running when the clock moves is skipped.
        assert wait_for(lambda: len(rec.calls) == 1 and not svc.running)
        clock.set("2027-01-11T03:00:00+08:00")
        assert wait_for(lambda: len(rec.calls) == 2)
    finally:
        svc.stop()
    with Archive.open(archive, readonly=True) as a:
        rows = a.harvests()
    assert [(r["outcome"], r["reason"]) for r in rows] == [("crashed", "OSError: disk full")] * 2


def test_one_scheduler_per_archive(setup):
    archive, clock = setup
    svc = Service(archive, clock=clock, runner=Recorder()).start()
    try:
        with pytest.raises(SchedulerRunning, match="already running"):
            Service(archive, clock=clock, runner=Recorder()).start()
    finally:
        svc.stop()
    Service(archive, clock=clock, runner=Recorder()).start().stop()  # released by stop


def test_a_due_harvest_waits_for_a_busy_portal_but_not_past_a_stop(setup):
    from crawler.harvest import portal_lock

    archive, clock = setup
    held = portal_lock(archive, "p1").acquire(trigger="run-now")  # as a `run-now` in another process would
    svc = Service(archive, clock=clock).start()  # the real harvest
    try:
        clock.set("2027-01-10T03:00:00+08:00")
        assert wait_for(lambda: "p1" in svc.running)
        time.sleep(1.0)
        assert "p1" in svc.running  # waiting for the lock (lock_wait_minutes), not harvesting
        began = time.monotonic()
    finally:
        svc.stop()
        held.release()
    assert time.monotonic() - began < 10  # the stop did not wait out the lock
    with Archive.open(archive, readonly=True) as a:
        (row,) = a.harvests()
    assert row["outcome"] == "skipped" and "already being harvested" in row["reason"]


def test_a_bad_profile_stops_the_start_in_words_and_leaves_no_lock(setup):
    archive, clock = setup
    (archive / "portals" / "bad.toml").write_text('name = "bad"\nstart_urls = ["ftp://127.0.0.9/"]\n')
    with pytest.raises(ProfileError, match="not an http"):
        Service(archive, clock=clock, runner=Recorder()).start()
    (archive / "portals" / "bad.toml").unlink()
    Service(archive, clock=clock, runner=Recorder()).start().stop()


def test_with_a_broker_harvests_go_to_the_workers_and_waiting_handovers_are_taken_in(setup, tmp_path):
    """schedule.toml names a broker: each harvest is sent with it, and hand-overs that arrived while the
    scheduler was down are imported when it starts."""
    from archive import Archive
    from archive.ingest.handover import pack
    from archive.store.shared import SharedStore
    from helpers.captures import http_capture
    from spiders.demo.generator import generate, to_html

    archive, clock = setup
    shared = tmp_path / "shared"
    (archive / "schedule.toml").write_text(f'broker = "redis://127.0.0.1:6399/0"\nshared = "{shared}"\n')
    rep = generate(6500, year=2022)
    with Archive.open(tmp_path / "scratch") as s:
        with s.writer(portals=["p1"]) as w:
            w.add(http_capture("http://127.0.0.80/nb/2022.html", to_html(rep)))
            run_id = w.run_id
        pack(s, SharedStore(shared), "crawl-p1-left-over", portal="p1", run_id=run_id)
    rec = Recorder()
    svc = Service(archive, clock=clock, runner=rec).start()
    try:
        with Archive.open(archive, readonly=True) as a:
            assert {(r["agency"], r["year"]) for r in a.reports()} == {(rep.agency, 2022)}
        clock.set("2027-01-10T03:00:00+08:00")
        assert wait_for(lambda: len(rec.calls) == 1)
        assert rec.remote == {"broker": "redis://127.0.0.1:6399/0", "shared": str(shared), "batch": 1}
    finally:
        svc.stop()
