"""The scheduler's frontier: per-portal due times in the catalog, picked by an indexed query. Exactly the due
portals are harvested across restarts, none twice; failing portals back off and are listed; a changed
schedule moves the due time; the per-portal APScheduler jobs of before are taken over and removed."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from archive import Archive
from helpers.scheduling import Recorder, wait_for
from scheduler import JOBSTORE_FILE, FileClock, ScheduleConfig, Service, backoff, job_id, result_of, schedule_list
from spiders import cron
from spiders.profiles import PortalProfile, save

CST = ZoneInfo("Asia/Shanghai")


def settled(svc: Service, rec: Recorder, n: int) -> bool:
    """``n`` harvests asked for and their outcomes written to the frontier."""
    return wait_for(lambda: len(rec.calls) >= n and not svc.in_flight and not svc._done)


def profile(archive, name: str, *lines: str) -> None:
    save(PortalProfile(name=name, start_urls=[f"http://127.0.0.{80 + len(name)}/"], schedule=list(lines)),
         archive / "portals")


@pytest.fixture
def clock(tmp_path):
    c = FileClock(tmp_path / "clock")
    c.set("2027-01-10T02:59:00+08:00")
    return c


def test_exactly_the_due_portals_are_picked_across_restarts_none_twice(tmp_path, clock):
    archive = tmp_path / "a"
    profile(archive, "a", "0 3 * * *")
    profile(archive, "b", "0 5 * * *")
    profile(archive, "c", "30 3 * * *")
    rec = Recorder()
    svc = Service(archive, clock=clock, runner=rec).start()
    try:
        time.sleep(0.6)
        assert rec.calls == []  # nothing due at 02:59
        clock.set("2027-01-10T03:00:00+08:00")
        assert settled(svc, rec, 1)
        time.sleep(0.6)
    finally:
        svc.stop()
    assert rec.calls == [("a", "schedule", "2027-01-10T03:00:00+08:00")]

    clock.set("2027-01-10T04:00:00+08:00")  # c's 03:30 passed while down; a and b are not due
    svc = Service(archive, clock=clock, runner=rec).start()
    try:
        assert settled(svc, rec, 2)
        time.sleep(0.6)
    finally:
        svc.stop()
    assert rec.calls[1:] == [("c", "catch-up", "2027-01-10T03:30:00+08:00")]

    clock.set("2027-01-11T03:03:00+08:00")  # due: a (11th 03:00), b (10th 05:00, missed); c not before 03:30
    svc = Service(archive, clock=clock, runner=rec).start()
    try:
        assert settled(svc, rec, 4)
        time.sleep(0.6)
    finally:
        svc.stop()
    assert sorted(rec.calls[2:]) == [("a", "schedule", "2027-01-11T03:00:00+08:00"),
                                     ("b", "catch-up", "2027-01-10T05:00:00+08:00")]
    listing = {p["portal"]: p for p in schedule_list(archive, clock=clock)["portals"]}
    assert {n: p["next_run"] for n, p in listing.items()} == {
        "a": "2027-01-12T03:00:00+08:00", "b": "2027-01-11T05:00:00+08:00", "c": "2027-01-11T03:30:00+08:00"}
    assert all(p["next_run_stored"] and p["failures"] == 0 for p in listing.values())
    assert listing["a"]["last_ok"] == "2027-01-11T03:03:00+08:00"


def test_a_failing_portal_backs_off_is_listed_and_recovers(tmp_path, clock, monkeypatch):
    import scheduler

    monkeypatch.setattr(scheduler, "BACKOFF_FIRST", timedelta(days=1))  # 1, 2, 4 days: visible in a few steps
    archive = tmp_path / "a"
    profile(archive, "p1", "0 3 * * *")
    profile(archive, "p2", "0 3 * * *")
    rec = Recorder(fail=True, failure="portal unreachable")
    svc = Service(archive, clock=clock, runner=rec).start()
    try:
        clock.set("2027-01-10T03:00:00+08:00")  # failure 1: back off a day, which is the next regular run anyway
        assert settled(svc, rec, 2)
        clock.set("2027-01-11T03:00:00+08:00")  # failure 2: two days, so the 12th is skipped
        assert settled(svc, rec, 4)
        clock.set("2027-01-12T03:00:00+08:00")
        time.sleep(0.8)
        assert len(rec.calls) == 4
        clock.set("2027-01-13T03:00:00+08:00")  # failure 3: four days
        assert settled(svc, rec, 6)
        data = schedule_list(archive, clock=clock)
        p1 = next(p for p in data["portals"] if p["portal"] == "p1")
        assert (p1["failures"], p1["backing_off"], p1["next_run"]) == (3, True, "2027-01-17T03:00:00+08:00")
        assert p1["backoff_until"] == "2027-01-17T03:00:00+08:00" and p1["last_ok"] is None
        assert p1["last_run"]["outcome"] == "crashed"
        assert data["failing"] == ["p1", "p2"]
        assert [p["portal"] for p in schedule_list(archive, clock=clock, failing=True)["portals"]] == ["p1", "p2"]
        rec.fail = False
        clock.set("2027-01-17T03:00:00+08:00")
        assert settled(svc, rec, 8)
    finally:
        svc.stop()
    assert sorted({c[2] for c in rec.calls}) == ["2027-01-10T03:00:00+08:00", "2027-01-11T03:00:00+08:00",
                                                 "2027-01-13T03:00:00+08:00", "2027-01-17T03:00:00+08:00"]
    data = schedule_list(archive, clock=clock)
    assert data["failing"] == [] and schedule_list(archive, clock=clock, failing=True)["portals"] == []
    assert {(p["failures"], p["backing_off"], p["next_run"]) for p in data["portals"]} == {
        (0, False, "2027-01-18T03:00:00+08:00")}


def test_the_back_off_doubles_from_an_hour_to_a_week_and_what_counts_as_failing():
    assert [backoff(n) for n in (1, 2, 3, 4)] == [timedelta(hours=h) for h in (1, 2, 4, 8)]
    assert backoff(8) == timedelta(hours=128) and backoff(9) == backoff(10_000) == timedelta(days=7)
    assert [result_of(o) for o in ("ok", "failed", "crashed", "timeout", "skipped", "stopped")] == [
        "ok", "failed", "failed", "failed", "other", "other"]


def test_a_changed_schedule_moves_the_due_time_while_running(tmp_path, clock):
    archive = tmp_path / "a"
    profile(archive, "p1", "0 3 * * *")
    rec = Recorder()
    svc = Service(archive, clock=clock, runner=rec).start()
    try:
        profile(archive, "p1", "0 4 * * *")
        profile(archive, "p2", "0 4 * * *")  # and a new portal joins without a restart
        time.sleep(1.1)  # profiles are looked at once a second
        clock.set("2027-01-10T02:59:30+08:00")  # the test clock stands still until set: a wave on the move
        assert wait_for(lambda: len(schedule_list(archive, clock=clock)["portals"]) == 2
                        and all(p["next_run_stored"] for p in schedule_list(archive, clock=clock)["portals"]))
        clock.set("2027-01-10T03:00:00+08:00")
        time.sleep(0.8)
        assert rec.calls == []
        clock.set("2027-01-10T04:00:00+08:00")
        assert settled(svc, rec, 2)
    finally:
        svc.stop()
    assert sorted(rec.calls) == [("p1", "schedule", "2027-01-10T04:00:00+08:00"),
                                 ("p2", "schedule", "2027-01-10T04:00:00+08:00")]


def test_old_per_portal_jobs_are_taken_over_and_removed_on_start(tmp_path, clock):
    """A ``schedule.db`` of the scheduler before the frontier: its stored time is kept (the run missed while
    down happens once), its jobs are removed, and nothing is dispatched twice."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    archive = tmp_path / "a"
    profile(archive, "p1", "0 3 * * *")
    profile(archive, "p2", "0 5 * * *")
    old = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{archive / JOBSTORE_FILE}")},
                              timezone=CST)
    old.start(paused=True)
    for name, lines in (("p1", ["0 3 * * *"]), ("p2", ["0 5 * * *"])):
        old.add_job("scheduler:scheduled_harvest", cron.trigger(lines, name), id=job_id(name),
                    name=cron.spec(lines, name), args=[str(archive), name],
                    next_run_time=datetime(2027, 1, 10, 3 if name == "p1" else 5, tzinfo=CST))
    old.shutdown(wait=False)
    assert (archive / JOBSTORE_FILE).exists()
    clock.set("2027-01-12T04:00:00+08:00")
    rec = Recorder()
    svc = Service(archive, clock=clock, runner=rec).start()
    try:
        assert not (archive / JOBSTORE_FILE).exists()
        assert settled(svc, rec, 2)
        time.sleep(0.8)
    finally:
        svc.stop()
    assert sorted(rec.calls) == [("p1", "catch-up", "2027-01-12T03:00:00+08:00"),
                                 ("p2", "catch-up", "2027-01-11T05:00:00+08:00")]
    Service(archive, clock=clock, runner=rec).start().stop()
    assert len(rec.calls) == 2


def test_the_frontier_syncs_picks_and_records_in_bulk(archive):
    t0 = datetime(2027, 1, 10, tzinfo=UTC)
    asked = []

    def due(name, sig):
        asked.append(name)
        return t0 + timedelta(hours=int(name[1:]))

    f = archive.frontier
    changes = f.sync({f"p{i}": "s" for i in range(1, 6)}, due)
    assert changes == {"added": ["p1", "p2", "p3", "p4", "p5"], "rescheduled": [], "removed": []}
    changes = f.sync({"p1": "s", "p2": "t", "p3": "s", "p6": "s"}, due)
    assert changes == {"added": ["p6"], "rescheduled": ["p2"], "removed": ["p4", "p5"]}
    assert asked == ["p1", "p2", "p3", "p4", "p5", "p2", "p6"]  # unchanged portals keep their times, uncomputed
    now = t0 + timedelta(hours=3)
    assert [r["portal"] for r in f.due(now, 10)] == ["p1", "p2", "p3"]
    assert [r["portal"] for r in f.due(now, 2, exclude={"p1"})] == ["p2", "p3"]
    f.record([{"portal": "p1", "outcome": "crashed", "result": "failed", "at": now,
               "next_due": now + timedelta(days=1), "backoff_until": now + timedelta(hours=1)},
              {"portal": "p2", "outcome": "ok", "result": "ok", "at": now, "next_due": now + timedelta(days=1)},
              {"portal": "p3", "outcome": "stopped", "result": "other", "at": now}])
    assert [r["portal"] for r in f.due(now, 10)] == ["p3"]  # stopped: due still
    rows = f.rows()
    assert (rows["p1"]["failures"], rows["p1"]["last_outcome"], rows["p1"]["last_ok"]) == (1, "crashed", None)
    assert rows["p2"]["last_ok"] == rows["p2"]["last_attempt"] == "2027-01-10T03:00:00.000000Z"
    assert [r["portal"] for r in f.failing()] == ["p1"]
    f.record([{"portal": "p1", "outcome": "ok", "result": "ok", "at": now}])
    assert f.failing() == [] and f.rows(["p1"])["p1"]["backoff_until"] is None
    with pytest.raises(ValueError, match="unknown frontier result"):
        f.record([{"portal": "p1", "outcome": "ok", "result": "fine", "at": now}])


def test_the_calendar_agrees_with_the_trigger_and_its_remembered_answers_hold():
    cal = cron.Calendar()
    sig = cal.signature(list(cron.DEFAULT_SCHEDULE), "ankang")
    trig = cron.trigger(cron.DEFAULT_SCHEDULE, "ankang")
    t = datetime(2027, 4, 20, 12, 0, tzinfo=CST)
    for step in range(0, 24 * 40, 7):  # across the end of the season, in 7-hour steps, answers remembered
        at = t + timedelta(hours=step)
        expect = trig.get_next_fire_time(None, at + timedelta(seconds=1))
        assert cal.next_after(sig, at) == expect
        prev = cal.latest(sig, at)
        assert prev <= at and trig.get_next_fire_time(None, prev + timedelta(seconds=1)) > at
    fire = cal.next_after(sig, t)
    assert cal.at_or_after(sig, fire) == fire and cal.next_after(sig, fire) > fire and cal.latest(sig, fire) == fire
    yearly = cal.signature(["0 3 1 1 *"], "x")
    assert cal.latest(yearly, datetime(2027, 12, 31, tzinfo=CST)) == datetime(2027, 1, 1, 3, tzinfo=CST)


def test_run_now_success_clears_the_back_off(tmp_path, monkeypatch):
    import crawler.harvest
    import scheduler

    archive = tmp_path / "a"
    profile(archive, "p1", "0 3 * * *")
    with Archive.open(archive) as a:
        a.frontier.sync({"p1": "s"}, lambda n, s: datetime(2027, 1, 10, tzinfo=UTC))
        a.frontier.record([{"portal": "p1", "outcome": "failed", "result": "failed",
                            "at": datetime(2027, 1, 9, tzinfo=UTC),
                            "backoff_until": datetime(2027, 1, 9, 1, tzinfo=UTC)}])
        assert a.frontier.failing()

    def fake(archive_dir, portals, **kw):
        return [{"portal": p.name, "outcome": "ok", "started_at": "2027-01-09T05:00:00.000000Z",
                 "ended_at": "2027-01-09T05:01:00.000000Z"} for p in portals]

    monkeypatch.setattr(crawler.harvest, "harvest", fake)
    scheduler.run_now(archive, ["p1"], config=ScheduleConfig())
    with Archive.open(archive, readonly=True) as a:
        row = a.frontier.rows()["p1"]
    assert (row["failures"], row["last_ok"], row["next_due"]) == (0, "2027-01-09T05:01:00.000000Z",
                                                                   "2027-01-10T00:00:00.000000Z")


def test_due_portals_go_out_a_batch_to_a_harvest_each_with_its_own_outcome(tmp_path, clock):
    """``batch = 3``: seven due portals make three harvests (3, 3, 1); each portal's outcome is its own."""
    archive = tmp_path / "a"
    for name in "abcdefg":
        profile(archive, name, "0 3 * * *")
    (archive / "schedule.toml").write_text("batch = 3\nconcurrent = 1\n")
    groups: list[list[str]] = []

    def runner(archive_dir, portals, **kw) -> list[dict]:
        groups.append([p.name for p in portals])
        return [{"portal": p.name, "outcome": "failed" if p.name == "b" else "ok", "trigger": kw["trigger"],
                 "pages": 1, "new_documents": 0, "new_reports": 0, "reason": None} for p in portals]

    svc = Service(archive, clock=clock, runner=runner).start()
    try:
        clock.set("2027-01-10T03:00:00+08:00")
        assert wait_for(lambda: sum(map(len, groups)) == 7 and not svc.in_flight and not svc._done)
    finally:
        svc.stop()
    assert sorted(map(len, groups)) == [1, 3, 3] and sorted(n for g in groups for n in g) == list("abcdefg")
    listing = {p["portal"]: p for p in schedule_list(archive, clock=clock)["portals"]}
    assert listing["b"]["failures"] == 1 and listing["b"]["backoff_until"]
    assert all(listing[n]["failures"] == 0 and listing[n]["last_ok"] for n in "acdefg")
