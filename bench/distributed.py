"""The distributed engine measured: parse throughput with 1, 2 and 3 worker processes on one set of
documents, the queue's cost per task next to calling the parser in-process, and import throughput next
to reading the same WARC files with warcio alone. Everything runs on this machine against a real Redis.

    .venv/bin/python bench/distributed.py [--docs 60] [--pages 3000]

On 2 cores the parse curve flattens at 2 workers: the third has no core of its own.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from archive import Archive, Capture  # noqa: E402
from archive.examine.pipeline import parse_blob_bytes  # noqa: E402
from archive.store.shared import SharedStore  # noqa: E402
from helpers.redis_server import RedisServer  # noqa: E402
from spiders.demo.generator import generate, libreoffice_many, to_docx, to_html  # noqa: E402


def documents(n: int) -> list[tuple[bytes, dict]]:
    """n generated reports, a third each as HTML, DOCX and PDF."""
    reps = [generate(9000 + i, year=2019 + i % 5) for i in range(n)]
    third = max(1, n // 3)
    html = [(to_html(r), {"kind": "html"}) for r in reps[:third]]
    docx = [(to_docx(r), {"kind": "docx"}) for r in reps[third:2 * third]]
    pdfs = libreoffice_many([to_docx(r) for r in reps[2 * third:]], "pdf")
    return html + docx + [(p, {"kind": "pdf"}) for p in pdfs]


def start_workers(broker: str, k: int, tmp: Path) -> list[subprocess.Popen]:
    env = {**os.environ, "NIANBAO_WORKDIR": str(tmp / "work")}
    procs = []
    for i in range(k):
        log = open(tmp / f"worker{i}.log", "ab")  # noqa: SIM115 - held by the child
        procs.append(subprocess.Popen([sys.executable, "-m", "crawler.cli", "worker", "--broker", broker, "-c", "1",
                                       "-Q", "nianbao.parse", "-n", f"bench{i}-{time.time_ns()}@%h",
                                       "--loglevel", "WARNING"], env=env, stdout=log, stderr=log,
                                      start_new_session=True))
    return procs


def stop_workers(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def run_parse_tasks(broker: str, shared: str, docs: list[tuple[str, dict]]) -> float:
    """Send every document as a parse task and wait for all; the wall time."""
    from celery.result import AsyncResult

    from crawler.tasks import configure, parse_document

    configure(broker)
    t = time.perf_counter()
    ids = [parse_document.apply_async(args=[sha, hint, shared]).id for sha, hint in docs]
    pending = set(ids)
    while pending:
        for i in list(pending):
            if AsyncResult(i).state in ("SUCCESS", "FAILURE"):
                pending.discard(i)
        time.sleep(0.01)
    return time.perf_counter() - t


def warm(broker: str, shared: str, sha: str, hint: dict, k: int) -> None:
    """One task per worker first, so start-up and imports are not counted."""
    for _ in range(k):
        run_parse_tasks(broker, shared, [(sha, hint)])


def bench_parse(broker: str, tmp: Path, n: int) -> None:
    docs = documents(n)
    print(f"{len(docs)} documents (HTML, DOCX, PDF), {sum(len(d) for d, _ in docs) / 2**20:.1f} MB")
    t = time.perf_counter()
    for data, hint in docs:
        parse_blob_bytes(data, dict(hint))
    inproc = time.perf_counter() - t
    print(f"in-process, one core:           {inproc:6.1f} s  {len(docs) / inproc:6.1f} docs/s  (baseline)")
    for k in (1, 2, 3):
        store = SharedStore(tmp / f"shared{k}")  # a fresh location: no result from an earlier round
        items = []
        for data, hint in docs:
            sha = hashlib.sha256(data).hexdigest()
            store.put_blob(sha, data)
            items.append((sha, hint))
        procs = start_workers(broker, k, tmp)
        try:
            warm_store = SharedStore(tmp / f"warm{k}")
            warm_store.put_blob(items[0][0], docs[0][0])
            warm(broker, warm_store.url, items[0][0], items[0][1], k)
            wall = run_parse_tasks(broker, store.url, items)
        finally:
            stop_workers(procs)
        print(f"{k} worker process(es):           {wall:6.1f} s  {len(docs) / wall:6.1f} docs/s  "
              f"({inproc / wall:.2f}× in-process)")
    # the queue's own cost: the same tasks when each result already exists (the task only checks and returns)
    procs = start_workers(broker, 1, tmp)
    try:
        warm(broker, SharedStore(tmp / "shared1").url, items[0][0], items[0][1], 1)
        wall = run_parse_tasks(broker, SharedStore(tmp / "shared1").url, items)
    finally:
        stop_workers(procs)
    per_task = wall / len(items) * 1000
    print(f"queue cost per task (1 worker, result already there): {per_task:.1f} ms, next to "
          f"{inproc / len(docs) * 1000:.1f} ms for parsing one document in-process "
          f"({per_task / (inproc / len(docs) * 1000):.0%} of it)")


def bench_import(tmp: Path, pages: int) -> None:
    """A WARC of pages and attachments, written by the archive; imported into a fresh archive."""
    import random

    from warcio.archiveiterator import ArchiveIterator

    rng = random.Random(5)
    src = tmp / "src"
    with Archive.open(src) as a, a.writer(examine=False) as w:
        for i in range(pages):
            rep = generate(20000 + i % 300, year=2019 + i % 5)
            body = to_html(rep).replace(b"</body>", f"<!-- {i} {rng.random()} -->".encode() + b"</body>")
            w.add(Capture(url=f"http://127.0.0.9/p/{i}.html", body=body, headers=[("Content-Type", "text/html")]))
            if i % 30 == 0:
                w.add(Capture(url=f"http://127.0.0.9/f/{i}.pdf", body=os.urandom(2 << 20),
                              headers=[("Content-Type", "application/pdf")]))
    files = sorted((src / "warc").glob("*.warc.gz"))
    size = sum(f.stat().st_size for f in files)
    t = time.perf_counter()
    n = 0
    for f in files:
        with open(f, "rb") as fh:
            for rec in ArchiveIterator(fh):
                rec.content_stream().read()
                n += 1
    floor = time.perf_counter() - t
    t = time.perf_counter()
    with Archive.open(tmp / "dst") as a:
        res = a.import_warcs(files, examine=False)
    took = time.perf_counter() - t
    print(f"import: {len(files)} WARC file(s), {size / 2**20:.0f} MB, {n:,} records, {res.captures:,} captures")
    print(f"warcio alone (read every record):  {floor:6.1f} s  {size / 2**20 / floor:6.1f} MB/s  (baseline)")
    print(f"nianbao import (blobs, WARC, rows): {took:6.1f} s  {size / 2**20 / took:6.1f} MB/s  "
          f"({took / floor:.1f}× warcio's time)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=60)
    ap.add_argument("--pages", type=int, default=3000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="nianbao-bench-dist-") as d:
        tmp = Path(d)
        redis = RedisServer(tmp / "redis")
        try:
            bench_parse(redis.url, tmp, args.docs)
        finally:
            redis.stop()
        bench_import(tmp, args.pages)


if __name__ == "__main__":
    main()
