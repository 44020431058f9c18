"""How the scheduler copes with many portals: start (jobs synced from profiles), restart, dispatch of a
burst of due harvests, and ``schedule list``, with the persistent SQLite job store next to APScheduler's
in-memory store measured in the same run (the ratio is what persistence costs).

    .venv/bin/python bench/scheduling.py --portals 1000

Harvests are replaced by a recorder, so this measures the scheduler, not crawling.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's modules, not bench/archive.py

from apscheduler.jobstores.memory import MemoryJobStore

import scheduler as sched_mod
from scheduler import FileClock, ScheduleConfig, Service, schedule_list
from spiders.profiles import PortalProfile, save


class Recorder:
    def __init__(self) -> None:
        self.n = 0
        self.lock = threading.Lock()
        self.all_done = threading.Event()
        self.want = 0

    def __call__(self, archive_dir, portals, **kw) -> list[dict]:
        with self.lock:
            self.n += 1
            if self.n >= self.want:
                self.all_done.set()
        return []


def measure(archive: Path, n: int, memory: bool) -> dict:
    clock = FileClock(archive.parent / "clock")
    clock.set("2027-01-10T02:59:00+08:00")
    config = ScheduleConfig(concurrent=8)
    rec = Recorder()
    rec.want = n
    if memory:  # the same service on APScheduler's in-memory store: the floor
        orig = sched_mod.SQLAlchemyJobStore
        sched_mod.SQLAlchemyJobStore = lambda url: MemoryJobStore()  # type: ignore[assignment]
    try:
        t = time.perf_counter()
        svc = Service(archive, config=config, clock=clock, runner=rec).start()
        start_s = time.perf_counter() - t
        t = time.perf_counter()
        clock.set("2027-01-10T03:00:00+08:00")
        rec.all_done.wait(600)
        burst_s = time.perf_counter() - t
        svc.stop()
        t = time.perf_counter()
        Service(archive, config=config, clock=clock, runner=Recorder()).start().stop()
        restart_s = time.perf_counter() - t
        t = time.perf_counter()
        rows = schedule_list(archive, config=config, clock=clock)["portals"]
        list_s = time.perf_counter() - t
    finally:
        if memory:
            sched_mod.SQLAlchemyJobStore = orig
    assert len(rows) == n and rec.n == n
    return {"start": start_s, "burst": burst_s, "restart": restart_s, "list": list_s}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--portals", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="nianbao-bench-sched-") as tmp:
        results = {}
        for label, memory in (("memory store", True), ("SQLite store", False)):
            archive = Path(tmp, label.replace(" ", "-"), "a")
            for i in range(args.portals):
                save(PortalProfile(name=f"p{i:05d}", start_urls=[f"http://127.0.0.{2 + i % 200}:{8000 + i}/"],
                                   schedule=["0 3 * * *"]), archive / "portals")
            results[label] = measure(archive, args.portals, memory)
        print(f"{args.portals} portals, all due at once, harvests replaced by a recorder (8 at a time)")
        print(f"{'':24}{'memory store':>14}{'SQLite store':>14}{'ratio':>8}")
        labels = {"start": "first start (sync jobs)", "burst": "dispatch the due burst", "list": "schedule list"}
        for key, text in labels.items():
            m, s = results["memory store"][key], results["SQLite store"][key]
            print(f"{text:24}{m:>13.2f}s{s:>13.2f}s{s / m:>7.2f}x")
        print(f"restart with the SQLite store (jobs loaded, none changed): {results['SQLite store']['restart']:.2f} s")
        per = results["SQLite store"]["burst"] / args.portals * 1000
        print(f"dispatch: {per:.1f} ms per due harvest with the SQLite store")


if __name__ == "__main__":
    main()
