"""How the scheduler copes with 1,000 to 100,000 portals: cold start (empty catalog: the frontier is filled),
warm restart (nothing changed), dispatch of every portal due at once, ``schedule list``, and peak memory —
next to a baseline measured in the same run: the scheduler of before (one APScheduler job per portal in a
SQLite job store; by default only at the sizes where it finishes in reasonable time) and the floor (building
the portal set and computing each portal's schedule signature, which any scheduler pays).

    .venv/bin/python bench/scheduling.py                       # 1,000, 10,000 and 100,000 portals
    .venv/bin/python bench/scheduling.py --portals 20000 --baseline-upto 20000

The portal set is generated in memory (PortalProfile objects, nine in ten on the default schedule, whose
``H`` spreads them over 300 distinct minute/hour pairs, the rest at 03:00 daily) and handed to the scheduler
by replacing ``scheduler.scheduled_portals`` — the portal registry (``nianbao portals import``) is where a
real 100,000 come from. Harvests are replaced by a recorder (8 at a time), so this measures the scheduler,
not crawling. Each size runs in its own process, so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's modules, not bench/archive.py

import scheduler as sched_mod
from scheduler import FileClock, ScheduleConfig, Service, schedule_list
from spiders import cron
from spiders.profiles import PortalProfile

BEFORE = "2027-01-10T00:00:00+08:00"  # no default-schedule fire yet that day (they are 01:00–05:59)
ALL_DUE = "2027-01-10T06:00:00+08:00"  # every portal due once


class Recorder:
    def __init__(self, want: int) -> None:
        self.n = 0
        self.lock = threading.Lock()
        self.all_done = threading.Event()
        self.want = want

    def __call__(self, archive_dir=None, portals=None, **kw) -> list[dict]:
        with self.lock:
            self.n += 1
            if self.n >= self.want:
                self.all_done.set()
        return []


def portal_set(n: int) -> dict[str, PortalProfile]:
    return {f"p{i:06d}": PortalProfile(name=f"p{i:06d}", start_urls=[f"http://127.{i // 65536 % 256}.{i // 256 % 256}."
                                                                    f"{i % 256 or 1}:8000/"],
                                       schedule=["0 3 * * *"] if i % 10 == 9 else None)
            for i in range(n)}


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def frontier(n: int, tmp: Path) -> dict:
    t = time.perf_counter()
    portals = portal_set(n)
    config = ScheduleConfig(concurrent=8)
    cal = cron.Calendar(config.timezone)
    for name, p in portals.items():
        cal.signature(config.lines(p), name)
    floor_s, floor_rss = time.perf_counter() - t, rss_mb()
    sched_mod.scheduled_portals = lambda archive_dir, config: portals  # type: ignore[assignment]
    archive = tmp / "a"
    clock = FileClock(tmp / "clock")
    clock.set(BEFORE)
    rec = Recorder(n)
    t = time.perf_counter()
    svc = Service(archive, config=config, clock=clock, runner=rec).start()
    start_s = time.perf_counter() - t
    t = time.perf_counter()
    clock.set(ALL_DUE)
    rec.all_done.wait(1800)
    while svc.in_flight or svc._done:  # the last outcomes written too
        time.sleep(0.001)
    burst_s = time.perf_counter() - t
    t = time.perf_counter()
    svc.stop()
    stop_s = time.perf_counter() - t
    t = time.perf_counter()
    again = Service(archive, config=config, clock=clock, runner=Recorder(1)).start()
    restart_s = time.perf_counter() - t
    again.stop()
    t = time.perf_counter()
    rows = schedule_list(archive, config=config, clock=clock)["portals"]
    list_s = time.perf_counter() - t
    assert rec.n == n == len(rows) and svc.dispatched == n, (rec.n, n, len(rows), svc.dispatched)
    assert all(r["next_run"] > ALL_DUE for r in rows)  # every one done once and due again later
    return {"start": start_s, "restart": restart_s, "stop": stop_s, "burst": burst_s, "per_ms": burst_s / n * 1000,
            "list": list_s, "rss_mb": rss_mb(), "floor_s": floor_s, "floor_rss_mb": floor_rss}


def _old_job(name: str) -> None:  # the old job store pickles its jobs' function by reference
    OLD_RECORDER.get()(name)


class _Holder:
    rec: Recorder | None = None

    def get(self) -> Recorder:
        assert self.rec is not None
        return self.rec


OLD_RECORDER = _Holder()


def per_portal_jobs(n: int, tmp: Path) -> dict:
    """The scheduler of before, reproduced: one cron job per portal in APScheduler's SQLite job store."""
    from zoneinfo import ZoneInfo

    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    portals = portal_set(n)
    config = ScheduleConfig(concurrent=8)
    clock = FileClock(tmp / "clock")
    clock.set(BEFORE)
    sched_mod.install_clock(clock)
    tz = ZoneInfo(config.timezone)
    url = f"sqlite:///{tmp / 'schedule.db'}"

    def scheduler() -> sched_mod._Scheduler:
        s = sched_mod._Scheduler(jobstores={"default": SQLAlchemyJobStore(url=url)},
                                 executors={"default": ThreadPoolExecutor(8)},
                                 job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
                                 timezone=tz)
        s.tick = clock.tick
        return s

    OLD_RECORDER.rec = Recorder(n)
    t = time.perf_counter()
    s = scheduler()
    s.start(paused=True)
    now = clock.now(tz)
    for name, p in portals.items():
        trig = cron.trigger(config.lines(p), name, config.timezone)
        s.add_job("__main__:_old_job", trig, id=f"harvest:{name}", name=config.spec(p), args=[name],
                  next_run_time=trig.get_next_fire_time(None, now))
    s.resume()
    start_s = time.perf_counter() - t
    t = time.perf_counter()
    clock.set(ALL_DUE)
    OLD_RECORDER.rec.all_done.wait(3600)
    burst_s = time.perf_counter() - t
    s.shutdown(wait=True)
    t = time.perf_counter()
    s = scheduler()
    s.start(paused=True)
    s.get_jobs()
    s.shutdown(wait=False)
    restart_s = time.perf_counter() - t
    return {"start": start_s, "restart": restart_s, "burst": burst_s, "per_ms": burst_s / n * 1000,
            "rss_mb": rss_mb()}


def one(n: int, kind: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="nianbao-bench-sched-") as tmp:
        return (frontier if kind == "frontier" else per_portal_jobs)(n, Path(tmp))


def run(n: int, kind: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", str(n), "--kind", kind], capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"{kind} at {n} portals failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--portals", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--baseline-upto", type=int, default=1000,
                    help="measure the per-portal-job scheduler of before up to this many portals (slow: 20,000 take "
                         "minutes)")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--kind", default="frontier", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.kind)))
        return
    print("all portals due at once, harvests replaced by a recorder (8 at a time); targets: start and restart "
          "< 30 s, dispatch < 1 ms per harvest, < 1 GB")
    head = (f"{'portals':>8} {'':14} {'start s':>9} {'restart s':>10} {'dispatch s':>11} {'ms/harvest':>11} "
            f"{'list s':>8} {'peak RSS MB':>12}")
    print(head)
    for n in args.portals:
        f = run(n, "frontier")
        print(f"{n:>8} {'frontier':14} {f['start']:>9.2f} {f['restart']:>10.2f} {f['burst']:>11.2f} "
              f"{f['per_ms']:>11.3f} {f['list']:>8.2f} {f['rss_mb']:>12.0f}")
        print(f"{'':>8} {'floor':14} {f['floor_s']:>9.2f} {'':>10} {'':>11} {'':>11} {'':>8} "
              f"{f['floor_rss_mb']:>12.0f}   (build the portal set, sign every schedule)")
        if n <= args.baseline_upto:
            b = run(n, "jobs")
            print(f"{'':>8} {'job per portal':14} {b['start']:>9.2f} {b['restart']:>10.2f} {b['burst']:>11.2f} "
                  f"{b['per_ms']:>11.3f} {'':>8} {b['rss_mb']:>12.0f}   (the scheduler of before)")
        else:
            print(f"{'':>8} {'job per portal':14} (not measured above --baseline-upto {args.baseline_upto})")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
