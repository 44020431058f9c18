"""The national budget on one machine: small simulated portals registered from a CSV, the scheduler's
first wave harvested through local Celery workers, and a projection to 100,000 portals.

    .venv/bin/python bench/national.py [--portals 2000] [--workers 3] [--batch 20] [--delay 0.5]

1. ``--portals`` county-agency portals (a front page, the disclosure column, a list of two years' reports,
   a page per report; :mod:`spiders.demo.many`) are served many to a thread, each on its own loopback host
   127.0.x.y from 127.0.60.1 on (:class:`~spiders.demo.server.ManyPortalServers`). ``--platforms`` percent
   of them are built as the real platforms publish instead (:mod:`spiders.demo.platforms`, from
   shared/reference/real-publishing.md): a TRS 集约化 column paged by its search API, a Hanweb column drawn
   from a script array, a gkmlpt app addressed by URL fragment, with news items around the reports, report
   pages naming no agency, and PDF attachments.
2. They are written to a registry CSV and registered with ``nianbao portals import``.
3. ``schedule.toml`` names a local Redis as the broker, tasks of ``--batch`` portals; ``--workers``
   ``nianbao worker`` processes (one crawl at a time each) take them. The scheduler's service starts on a
   clock set to the first day of report season, late enough that every portal's first daily time has
   passed: the first wave, every portal due at once. The owner imports the hand-overs as they come.
4. It prints pages/s, reports/s, the owner's import rate, the CPU each portal cost, and the projected
   wall time for 100,000 portals on K machines.

The model: a portal's harvest costs ``c`` core-seconds on a worker (crawl process share, parsing,
packing: measured here as the workers' CPU time over the portals) and ``b`` bytes to import on the
owner, at the rate ``r`` its one core imports them (measured: hand-over bytes over the CPU time of the
owner's imports; they run in the scheduler's harvest threads side by side, so their wall times overlap and
the CPU time, not their sum, is the cost; SQLite takes one writer at a time); a portal of ``p`` pages
takes at least ``p × d`` seconds by politeness (``d`` the per-host delay). With K machines of ``n``
cores, N portals take about ``max(N·c / (K·n), N·b / r, p·d)``: CPU bound on the workers, the owner's
import, or one portal's own politeness, whichever is largest. Everything here shares two cores, so the
measured ``c`` is an upper bound.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from archive import Archive  # noqa: E402
from helpers.redis_server import RedisServer  # noqa: E402
from spiders.demo.many import small_portal  # noqa: E402
from spiders.demo.platforms import BUILDERS  # noqa: E402
from spiders.demo.server import ManyPortalServers, loopback_hosts  # noqa: E402

YEARS = [2022, 2023]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes and their children that ended (from /proc)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15]) / tick  # utime, stime, cutime, cstime
    return total


def tree(pid: int) -> list[int]:
    """A process and every descendant alive now."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            children = []
        todo += [int(c) for c in children]
    return out


class Built:
    """A portal of the bench, whichever way it was built: its site, agency, region and the reports it holds."""

    def __init__(self, site, agency: str, region: str, reports: set[tuple[str, int]], style: str) -> None:
        self.site, self.agency, self.region, self.reports, self.style = site, agency, region, reports, style


def build(n: int, platforms: float) -> list[Built]:
    """``n`` portals, every ``100 / platforms``-th one built like a real platform (cycling through them)."""
    every = round(100 / platforms) if platforms > 0 else 0
    styles = sorted(BUILDERS)
    out = []
    for i in range(n):
        if every and i % every == every - 1:
            style = styles[(i // every) % len(styles)]
            p = BUILDERS[style](80_000 + i, YEARS)
            out.append(Built(p.site, p.agency, "", p.expected, style))
        else:
            p = small_portal(i, YEARS)
            out.append(Built(p.site, p.agency, p.region, p.reports, "small"))
    return out


def write_registry(path: Path, portals, urls: list[str], delay: float) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "agency", "url", "region", "level", "delay"])
        for i, (p, url) in enumerate(zip(portals, urls, strict=True)):
            w.writerow([f"county-{i:05d}", p.agency, url + "/", p.region, "县", delay])


def start_worker(broker: str, name: str, workdir: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "NIANBAO_WORKDIR": str(workdir)}
    with open(log, "ab") as fh:
        return subprocess.Popen([sys.executable, "-m", "crawler.cli", "worker", "--broker", broker, "-c", "1",
                                 "-n", f"{name}@%h", "--loglevel", "WARNING"], env=env, stdout=fh, stderr=fh,
                                start_new_session=True, cwd=ROOT)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--portals", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--batch", type=int, default=20, help="portals per task")
    ap.add_argument("--platforms", type=float, default=10.0,
                    help="percent of portals built like the real platforms (script-paged lists, PDF reports)")
    ap.add_argument("--delay", type=float, default=0.5, help="per-host delay, seconds (the bench's floor)")
    ap.add_argument("--machines", default="1,10,50", help="K values for the projection")
    ap.add_argument("--cores", type=int, default=8, help="cores of each projected machine")
    ap.add_argument("--profile-import", metavar="FILE", help="cProfile the owner's imports into FILE (pstats)")
    args = ap.parse_args()

    import crawler.distributed as dist
    import scheduler as sched_mod

    t0 = time.monotonic()
    portals = build(args.portals, args.platforms)
    sites = [p.site for p in portals]
    styles = {s: sum(p.style == s for p in portals) for s in dict.fromkeys(p.style for p in portals)}
    print(f"{len(portals)} portals built in {time.monotonic() - t0:.1f} s: "
          f"{', '.join(f'{n} {s}' for s, n in styles.items())}", flush=True)
    server = ManyPortalServers(sites, loopback_hosts(len(sites), 60)).start()
    with tempfile.TemporaryDirectory(prefix="nianbao-national-") as tmp:
        root = Path(tmp)
        archive = root / "archive"
        registry = root / "registry.csv"
        write_registry(registry, portals, server.urls, args.delay)
        t = time.monotonic()
        res = subprocess.run([sys.executable, "-m", "crawler.cli", "portals", "import", str(registry),
                              "--archive", str(archive)], capture_output=True, text=True, cwd=ROOT)
        if res.returncode:
            raise SystemExit(f"portals import failed: {res.stdout}{res.stderr}")
        print(f"registered {len(portals)} portals from a CSV in {time.monotonic() - t:.1f} s", flush=True)

        redis = RedisServer(root / "redis")
        (archive / "schedule.toml").write_text(
            f'broker = "{redis.url}"\nshared = "{root / "shared"}"\nbatch = {args.batch}\n'
            f'remote_concurrent = {max(4, 2 * args.workers)}\nbrowser = "never"\n', "utf-8")
        workers = [start_worker(redis.url, f"w{i}", root / f"w{i}", root / f"w{i}.log")
                   for i in range(args.workers)]
        imported = {"bytes": 0, "cpu": 0.0, "handovers": 0, "spans": []}
        lock = threading.Lock()
        take = dist._take

        import cProfile

        profiler = cProfile.Profile() if args.profile_import else None

        def timed_take(archive_dir, store, task, keep):  # the owner's import, timed where it happens
            # the scheduler's harvest threads import side by side: their wall times overlap and do not add
            # up, so each import's thread CPU time is summed and the busy spans are merged
            started, cpu = time.perf_counter(), time.thread_time()
            if profiler:
                profiler.runcall(take, archive_dir, store, task, keep)
            else:
                take(archive_dir, store, task, keep)
            with lock:
                imported["cpu"] += time.thread_time() - cpu
                imported["spans"].append((started, time.perf_counter()))
                imported["bytes"] += sum(f.get("size") or 0 for f in (task.manifest or {}).get("files") or [])
                imported["handovers"] += 1

        dist._take = timed_take
        try:
            clock = sched_mod.FileClock(root / "clock")
            clock.set("2026-12-31T23:00:00+08:00")  # the eve of report season: every portal next due on 1 January
            t = time.monotonic()
            svc = sched_mod.Service(archive, clock=clock).start()
            print(f"scheduler started in {time.monotonic() - t:.1f} s", flush=True)
            clock.set("2027-01-01T23:59:00+08:00")  # report season's first day, every daily time passed
            print("the clock moved to the end of 1 January: the first wave is due", flush=True)
            started = time.monotonic()
            done = 0
            while done < len(portals):
                time.sleep(5)
                with Archive.open(archive, readonly=True) as a:
                    done = a.catalog.scalar("SELECT count(DISTINCT portal) FROM harvests WHERE ended_at IS NOT NULL")
                    reports = a.catalog.scalar("SELECT count(*) FROM reports")
                print(f"  {time.monotonic() - started:6.0f} s: {done}/{len(portals)} portals harvested, "
                      f"{reports} reports, {sum(len(s.hits) for s in sites)} requests served", flush=True)
            wall = time.monotonic() - started
            worker_cpu = sum(cpu_seconds(tree(w.pid)) for w in workers)
            svc.stop()
        finally:
            for w in workers:
                if w.poll() is None:
                    os.killpg(w.pid, signal.SIGTERM)
            for w in workers:
                try:
                    w.wait(60)
                except subprocess.TimeoutExpired:
                    os.killpg(w.pid, signal.SIGKILL)
            redis.stop()
            server.stop()
            dist._take = take
            if profiler:
                profiler.dump_stats(args.profile_import)
        with Archive.open(archive, readonly=True) as a:
            got = {(r["agency"], r["year"]) for r in a.reports()}
            outcomes = {r["outcome"]: r["n"] for r in a.catalog.rows(
                "SELECT outcome, count(*) AS n FROM harvests GROUP BY outcome")}
        want = set().union(*(p.reports for p in portals))
        pages = sum(len(s.hits) for s in sites)
        busy, end = 0.0, float("-inf")  # the wall time at least one import was running
        for a, z in sorted(imported["spans"]):
            busy += max(0.0, z - max(a, end))
            end = max(end, z)
        rate = imported["bytes"] / imported["cpu"] if imported["cpu"] else float("nan")
        c = worker_cpu / len(portals)
        b = imported["bytes"] / len(portals)
        p = pages / len(portals)
        print(json.dumps({"portals": len(portals), "workers": args.workers, "batch": args.batch,
                          "delay": args.delay, "wall_seconds": round(wall, 1), "harvest_outcomes": outcomes},
                         ensure_ascii=False))
        print(f"\nreports found {len(got & want)} of {len(want)} ({len(got - want)} unexpected)")
        for style in styles:
            mine = set().union(*(p.reports for p in portals if p.style == style))
            print(f"  {style}: {len(got & mine)} of {len(mine)}")
        print(f"pages/s {pages / wall:.1f}   reports/s {len(got) / wall:.2f}   ({pages} requests in {wall:.0f} s)")
        print(f"owner's import: {imported['handovers']} hand-overs, {imported['bytes'] / 1e6:.1f} MB; busy "
              f"{busy:.0f} s of the {wall:.0f} s, {imported['cpu']:.1f} CPU-s = {rate / 1e6:.2f} MB/s, "
              f"{len(portals) / imported['cpu']:.1f} portals/s on a core of its own")
        print(f"per portal: {c:.2f} worker CPU-s, {b / 1e3:.1f} kB to import, {p:.1f} pages")
        print(f"\nprojection for 100,000 portals (model in the docstring; machines of {args.cores} cores):")
        for k in (int(x) for x in args.machines.split(",")):
            cpu_bound = 100_000 * c / (k * args.cores)
            import_bound = 100_000 * b / rate
            polite = p * args.delay
            total = max(cpu_bound, import_bound, polite)
            bound = {cpu_bound: "workers' CPU", import_bound: "owner's import", polite: "politeness"}[total]
            print(f"  K={k:>3}: {total / 3600:6.2f} h  (workers' CPU {cpu_bound / 3600:.2f} h, owner's import "
                  f"{import_bound / 3600:.2f} h, one portal's politeness {polite:.0f} s; bound by {bound})")


if __name__ == "__main__":
    main()
