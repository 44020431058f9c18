"""Archive ingest throughput against the floor: the same bytes hashed (SHA-256), written and fsynced.

    .venv/bin/python bench/archive.py [--small 10000] [--large 200] [--rounds 2] [--dir /tmp/x]

Workloads: ``small`` are distinct report pages of 8-20 KB (compressible HTML); ``large`` are 5 MB
attachments that do not compress (scanned PDFs). For each, in the same run and alternating:

- floor: sha256 of the body, write it to its own file, fsync (the least a durable content store does);
- floor, no fsync: the same without durability (for reference only);
- archive: ``ArchiveWriter.add`` per capture (blob + WARC request/response records + catalog rows,
  group-committed), parsing left out: that is measured separately and reported on its own line.

The best of ``--rounds`` is kept for each (the machine is shared and noisy); ratios are archive/floor.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archive import Archive, Capture
from spiders.demo import DOCUMENTS

MB = 1024 * 1024


AGENCIES = ("安康市信访局", "固原市信访局", "湘潭县信访局", "信访局", "安康市行政审批服务局")
CITIES = "东西南北中上下前后左右新老大小长平安宁和顺"
DEPTS = ("信访局", "司法局", "财政局", "民政局", "教育局", "卫生健康委员会", "生态环境局", "交通运输局")


def small_docs(n: int, seed: int = 1) -> list[bytes]:
    """Distinct report pages of 8-20 KB, each from its own agency, with their numbers varied."""
    rng = random.Random(seed)
    pages = [(DOCUMENTS / f"report{i}.html").read_text("utf-8") for i in range(5)]
    out = []
    for k in range(n):
        agency = f"{CITIES[k % 20]}{CITIES[(k // 20) % 20]}{CITIES[(k // 400) % 20]}市{DEPTS[k % len(DEPTS)]}"
        page = pages[k % 5].replace(AGENCIES[k % 5], agency)
        body = page.index('id="zoom"') + 400  # keep the title and year, vary the numbers after them
        page = page[:body] + "".join(str(rng.randint(0, 9)) if ch.isdigit() and rng.random() < 0.3 else ch
                                     for ch in page[body:])
        data = page.encode()
        cut = rng.randint(8 * 1024, min(len(data), 20 * 1024))
        out.append(data[:cut] + f"<!-- {k} --></div></body></html>".encode())
    return out


def large_docs(n: int, size: int = 5 * MB, seed: int = 2) -> list[bytes]:
    rng = random.Random(seed)
    return [b"%PDF-1.5\n" + rng.randbytes(size - 9) for _ in range(n)]


def floor(docs: list[bytes], where: Path, fsync: bool = True) -> float:
    where.mkdir(parents=True)
    t = time.perf_counter()
    for body in docs:
        name = hashlib.sha256(body).hexdigest()
        with open(where / name, "wb") as fh:
            fh.write(body)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
    return time.perf_counter() - t


def archive_run(docs: list[bytes], where: Path, kind: str) -> tuple[float, dict]:
    ctype = "text/html; charset=utf-8" if kind == "small" else "application/pdf"
    with Archive.open(where) as a:
        t = time.perf_counter()
        with a.writer(examine=False) as w:
            for i, body in enumerate(docs):
                w.add(Capture(url=f"http://127.0.0.2/{kind}/{i}", body=body, status=200,
                              headers=[("Content-Type", ctype), ("Content-Length", str(len(body)))],
                              request_headers=[("User-Agent", "nianbao-bench")]))
        elapsed = time.perf_counter() - t
        return elapsed, a.stats()


def parse_run(where: Path, limit: int) -> tuple[float, int]:
    from archive.examine.pipeline import examine

    with Archive.open(where) as a:
        shas = [r["sha256"] for r in a.catalog.rows("SELECT sha256 FROM blobs LIMIT ?", (limit,))]
        t = time.perf_counter()
        examine(a.catalog, a.store, shas)
        return time.perf_counter() - t, len(shas)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", type=int, default=10_000)
    ap.add_argument("--large", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--parse", type=int, default=1000, help="small documents to parse for the parse line")
    ap.add_argument("--dir", type=Path, default=None, help="scratch directory (default: a temp dir under /work "
                    "or /tmp)")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="nianbao-bench-", dir=args.dir))
    print(f"scratch: {base}  (cores: {os.cpu_count()}, python {sys.version.split()[0]})")
    try:
        for kind, docs in (("small", small_docs(args.small)), ("large", large_docs(args.large))):
            total = sum(map(len, docs))
            res: dict[str, list[float]] = {"floor": [], "floor_nofsync": [], "archive": []}
            stats = {}
            for r in range(args.rounds):
                res["floor"].append(floor(docs, base / f"{kind}-floor-{r}"))
                res["floor_nofsync"].append(floor(docs, base / f"{kind}-nofsync-{r}", fsync=False))
                t, stats = archive_run(docs, base / f"{kind}-archive-{r}", kind)
                res["archive"].append(t)
                for d in (f"{kind}-floor-{r}", f"{kind}-nofsync-{r}"):
                    shutil.rmtree(base / d)
                if r < args.rounds - 1:
                    shutil.rmtree(base / f"{kind}-archive-{r}")
            best = {k: min(v) for k, v in res.items()}
            print(f"\n{kind}: {len(docs):,} documents, {total / MB:,.1f} MB "
                  f"(stored {stats['stored_bytes'] / MB:,.1f} MB blobs + {stats['warc_bytes'] / MB:,.1f} MB WARC)")
            for k in ("floor", "floor_nofsync", "archive"):
                rounds = ", ".join(f"{x:.2f}" for x in res[k])
                print(f"  {k:<14} {best[k]:8.2f} s  {len(docs) / best[k]:9,.0f} docs/s  "
                      f"{total / MB / best[k]:8.1f} MB/s   (rounds: {rounds})")
            print(f"  archive / floor          = {best['archive'] / best['floor']:.2f}x   (target <= 1.5x)")
            print(f"  archive / floor no fsync = {best['archive'] / best['floor_nofsync']:.2f}x")
            if kind == "small" and args.parse:
                t, n = parse_run(base / f"{kind}-archive-{args.rounds - 1}", args.parse)
                print(f"  parse (separate, {n} docs, up to 2 processes): {t:.2f} s, {n / t:,.0f} docs/s "
                      "(not part of the ratio)")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
