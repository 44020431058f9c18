"""The owner's import at national scale: eight workers' worth of hand-overs, imported one by one as
the owner has done so far, and by the owner's import as it is now, into the same starting archive.

    .venv/bin/python bench/handovers.py [--tasks 80] [--batch 20] [--seed-portals 2000] [--workers 8]

1. ``--tasks`` hand-overs of ``--batch`` small county portals each (:mod:`spiders.demo.many`: front page,
   disclosure column, list, a report page per year) are built as a worker builds them: a scratch archive
   written and parsed, then packed (:func:`archive.ingest.handover.pack`). They are built
   them one after another, each parsing in one process: its wall time per portal is one worker's cost.
2. The owner's archive starts with ``--seed-portals`` other portals' reports already in it (an archive
   grows through report season; placing a report must not slow with it).
3. Baseline: warcio alone reading every record of the hand-overs (the floor of any import). Then
   :func:`crawler.distributed.import_pending` imports them (blobs, WARC, catalog rows, the workers' parse
   results placed by the identity rule, the search index), as the owner does in a distributed harvest.

It prints the import's rate in portals/s and MB/s next to warcio's, the time per hand-over of the last quarter
next to the first's (a placement that slowed as the archive grew would show here), and whether the owner keeps
up with eight workers: of the cost measured here (parsing and packing only, a lower bound of a worker's cost,
so the strict test) and of ``--worker-cost`` (CPU seconds per portal of a whole harvest: bench/national.py
measured 0.35 to 0.38 on this machine).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from archive import Archive  # noqa: E402
from archive.ingest.handover import complete_handovers, pack  # noqa: E402
from archive.store.shared import SharedStore  # noqa: E402
from helpers.captures import http_capture  # noqa: E402
from spiders.demo.many import small_portal  # noqa: E402

YEARS = [2022, 2023]


def _fill(archive: Archive, first: int, count: int, host: str) -> int | None:
    """Write ``count`` portals' pages into an archive as one crawl; return its run id."""
    with archive.writer(portals=[f"county-{i:05d}" for i in range(first, first + count)], jobs=1) as w:
        for i in range(first, first + count):
            p = small_portal(i, YEARS)
            base = f"http://{host}{i}.example.gov.cn"
            for path, body in p.pages.items():
                if path.endswith(".txt"):
                    continue
                text = "政府信息公开年度报告" if path.endswith("ndbg/") else None
                w.add(http_capture(base + path, body, link_text=text, portal_agency=p.agency, gzip_it=True))
        return w.run_id


def build_handover(shared_dir: str, task: int, first: int, batch: int) -> float:
    """One worker's task: a scratch archive of ``batch`` portals, parsed in one process, packed; returns the
    seconds it took."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="nianbao-scratch-") as d, Archive.open(Path(d) / "a") as scratch:
        run_id = _fill(scratch, first, batch, "www.county")
        pack(scratch, SharedStore(shared_dir), f"task-{task:05d}", portal=f"county-{first:05d}", run_id=run_id,
             extra={"portals": [f"county-{i:05d}" for i in range(first, first + batch)]})
    return time.perf_counter() - started


def seed(path: Path, portals: int) -> None:
    """The owner's archive before the wave: other portals' reports, written and parsed in place."""
    with Archive.open(path) as a:
        for first in range(0, portals, 200):
            _fill(a, 1_000_000 + first, min(200, portals - first), "seed")
        a.reindex(only_pending=True)


def read_with_warcio(shared: SharedStore, tasks: list[str]) -> float:
    """The baseline: every record of every hand-over read by warcio, payloads included; seconds."""
    from warcio.archiveiterator import ArchiveIterator

    started = time.perf_counter()
    for t in tasks:
        with open(shared.uri("handover", t, "data.warc.gz"), "rb") as fh:
            for rec in ArchiveIterator(fh):
                rec.content_stream().read()
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", type=int, default=80)
    ap.add_argument("--batch", type=int, default=20, help="portals per hand-over")
    ap.add_argument("--seed-portals", type=int, default=2000, help="portals already in the owner's archive")
    ap.add_argument("--workers", type=int, default=8, help="workers the owner must keep up with")
    ap.add_argument("--worker-cost", type=float, default=0.35,
                    help="CPU seconds a worker spends on a portal's whole harvest (bench/national.py measures it)")
    ap.add_argument("--profile", metavar="FILE", help="cProfile the owner's import as it is now into FILE (pstats)")
    args = ap.parse_args()
    from crawler.distributed import import_pending

    with tempfile.TemporaryDirectory(prefix="nianbao-bench-handovers-") as d:
        tmp = Path(d)
        shared_dir = str(tmp / "shared")
        t = time.perf_counter()
        # one after another: each the work of one worker process (parsing in one process of its own)
        worker_cpu = sum(build_handover(shared_dir, k, k * args.batch, args.batch) for k in range(args.tasks))
        shared = SharedStore(shared_dir)
        tasks = sorted(complete_handovers(shared))
        size = sum(f["size"] for t_ in tasks for f in shared.read_json("handover", t_, "manifest.json")["files"])
        portals = args.tasks * args.batch
        print(f"{len(tasks)} hand-overs of {args.batch} portals ({size / 1e6:.1f} MB) built in "
              f"{time.perf_counter() - t:.1f} s: {worker_cpu / portals * 1000:.0f} ms of one worker per portal",
              flush=True)
        t = time.perf_counter()
        seed(tmp / "now", args.seed_portals)
        with Archive.open(tmp / "now", readonly=True) as a:
            held = a.catalog.scalar("SELECT count(*) FROM reports")
        print(f"owner's archive seeded with {held} reports of {args.seed_portals} portals in "
              f"{time.perf_counter() - t:.1f} s", flush=True)
        floor = read_with_warcio(shared, tasks)
        print(f"{'warcio alone reads every record':<34} {floor:7.1f} s  {portals / floor:7.1f} portals/s  "
              f"{size / 1e6 / floor:6.2f} MB/s  (baseline)", flush=True)
        times: list[float] = []
        last = [time.perf_counter()]

        def tick(_done: dict) -> None:  # the time each hand-over took, as import_pending reports them
            now = time.perf_counter()
            times.append(now - last[0])
            last[0] = now

        import cProfile

        profiler = cProfile.Profile() if args.profile else None
        started = last[0] = time.perf_counter()
        if profiler:
            done = profiler.runcall(import_pending, tmp / "now", shared_dir, keep=True, on_import=tick)
            profiler.dump_stats(args.profile)
        else:
            done = import_pending(tmp / "now", shared_dir, keep=True, on_import=tick)
        wall = time.perf_counter() - started
        q = max(1, len(times) // 4)
        rate = len(done) * args.batch / wall
        print(f"{'the owner imports them':<34} {wall:7.1f} s  {rate:7.1f} portals/s  {size / 1e6 / wall:6.2f} MB/s  "
              f"{wall / floor:.1f}× warcio's time; last quarter {sum(times[-q:]) / sum(times[:q]):.2f}× the first's "
              f"time per hand-over", flush=True)
        with Archive.open(tmp / "now", readonly=True) as a:
            got = a.catalog.scalar("SELECT count(*) FROM reports") - held
        print(f"reports added {got} of {portals * len(YEARS)} expected", flush=True)
        for what, cost in (("parsing and packing only (measured here)", worker_cpu / portals),
                           ("whole harvests (--worker-cost)", args.worker_cost)):
            need = args.workers / cost
            print(f"{args.workers} workers at {cost * 1000:.0f} ms per portal, {what}, make {need:.1f} portals/s: "
                  f"the owner {'keeps up' if rate >= need else 'falls behind'} ({rate / need:.2f}× their rate)")


if __name__ == "__main__":
    main()
