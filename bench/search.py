"""Search at scale: 100,000 generated reports, the index build (time, size), and query latency (p50,
p95) for 2-, 3- and 6-character terms and filtered queries, next to a plain ``LIKE`` scan of the same
texts measured in the same run.

    .venv/bin/python bench/search.py --reports 100000

The reports are the generator's (spiders/demo/generator.py) as text, with every agency, year, number
and a few sentences varied, written straight into a catalog (parsing 100,000 files would measure the
parser, not search).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archive import Archive
from archive.search.index import sync
from archive.search.text import region_of
from spiders.demo.generator import agency_name, generate, to_text

TWO = ["信访", "复议", "诉讼", "财政", "网站", "维持", "答复", "收费", "教育", "交通", "公安", "纠正", "保密", "考核"]
THREE = ["政务公开", "依申请", "新媒体", "公开栏", "信访局", "发布会", "门户网", "数据库"][:8]
THREE = [t[:3] for t in THREE]
SIX = ["政府信息公开", "主动公开政府", "行政复议决定", "收到和处理政", "依申请公开政", "门户网站主动"]
EXTRA = ["本年度新增政务新媒体账号{n}个，发布信息{m}条。", "组织开展政府信息公开业务培训{n}次，参训{m}人次。",
         "召开新闻发布会{n}场，解读政策文件{m}件。", "办理人大代表建议和政协提案{n}件，全部按时办结。",
         "在{place}设立政府信息查阅点{n}处，接待群众{m}人次。", "更新完善政府信息公开目录{n}项。"]
PLACES = ["市档案馆", "市图书馆", "政务服务中心", "各乡镇便民服务中心", "社区服务站"]


def make_texts(n: int, seed: int = 7) -> list[tuple[str, int, str, int]]:
    """(agency, year, text, failed_checks) for n reports, from 200 generated bases."""
    rng = random.Random(seed)
    bases = []
    for i in range(200):
        rep = generate(5000 + i, year=2019 + i % 5)
        bases.append((rep.agency, to_text(rep, "tabs")))
    out = []
    for i in range(n):
        agency0, text = bases[i % len(bases)]
        agency = agency_name(rng.randrange(8000))
        year = rng.randrange(2015, 2025)
        body = text.replace(agency0, agency).replace(str(2019 + (i % len(bases)) % 5), str(year))
        body = "".join(ch if not ch.isdigit() or rng.random() > 0.3 else str(rng.randrange(10)) for ch in body)
        extra = "".join(rng.choice(EXTRA).format(n=rng.randrange(1, 50), m=rng.randrange(10, 900),
                                                 place=rng.choice(PLACES)) for _ in range(rng.randrange(2, 7)))
        out.append((agency, year, body + "\n" + extra, int(rng.random() < 0.1)))
    return out


def fill(a: Archive, docs: list[tuple[str, int, str, int]]) -> None:
    c = a.catalog
    c.conn.execute("PRAGMA foreign_keys=OFF")
    with c.transaction():
        for i, (agency, year, text, failed) in enumerate(docs, 1):
            sha = hashlib.sha256(f"{i}".encode()).hexdigest()
            c.conn.execute("INSERT INTO blobs (sha256, size, stored_size, encoding, first_seen) VALUES (?,?,?,?,?)",
                           (sha, len(text), len(text), "identity", "2026-01-01T00:00:00Z"))
            template = "2021" if year >= 2021 else "2019"
            c.conn.execute("INSERT INTO reports (id, agency, agency_key, year, template, current_revision_id) "
                           "VALUES (?,?,?,?,?,?)", (i, agency, f"{agency}{i}", year, template, i))
            c.conn.execute("INSERT INTO revisions (id, report_id, number, primary_document_id) VALUES (?,?,?,?)",
                           (i, i, 1, i))
            c.conn.execute("INSERT INTO documents (id, sha256, kind, report_id, revision_id, agency, year, template, "
                           "text, text_sha256, failed_checks) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                           (i, sha, "pdf" if i % 3 else "html", i, i, agency, year,
                            "2021" if year >= 2021 else "2019", text, sha, failed))
    c.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def timed(fn, reps: int = 3) -> list[float]:
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p * (len(xs) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reports", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="nianbao-bench-search-") as tmp:
        t = time.perf_counter()
        docs = make_texts(args.reports)
        chars = sum(len(d[2]) for d in docs)
        print(f"generated {len(docs):,} reports, {chars / 1e6:.0f} M characters ({chars / len(docs):,.0f} per report) "
              f"in {time.perf_counter() - t:.0f} s")
        with Archive.open(Path(tmp) / "a") as a:
            fill(a, docs)
            db = a.path / "catalog.db"
            a.catalog.conn.execute("DELETE FROM search_dirty")  # build the index below, timed, from scratch
            before = size(db)
            a.catalog.conn.execute("INSERT OR IGNORE INTO search_dirty(document_id) SELECT id FROM documents")
            a.catalog.conn.commit()
            t = time.perf_counter()
            sync(a.catalog)
            build = time.perf_counter() - t
            a.catalog.conn.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
            a.catalog.conn.commit()
            a.catalog.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            after = size(db)
            print(f"index build: {build:.0f} s ({len(docs) / build:,.0f} reports/s); catalog {before / 2**20:,.0f} MB "
                  f"→ {after / 2**20:,.0f} MB (index +{(after - before) / 2**20:,.0f} MB)")
            from archive.search.query import search

            groups = {
                "2 characters": [(q, {}) for q in TWO],
                "3 characters": [(q, {}) for q in THREE],
                "6 characters": [(q, {}) for q in SIX],
                "2 chars + year": [(q, {"year": 2021}) for q in TWO],
                "2 chars + failed checks": [(q, {"failed_checks": True}) for q in TWO],
                "2 chars + region": [(q, {"region": region_of(docs[0][0])}) for q in TWO],
            }
            print(f"{'queries':26}{'n':>4}{'p50 ms':>9}{'p95 ms':>9}{'+facets p95':>13}{'LIKE p50':>10}{'LIKE p95':>10}"
                  f"{'ratio p50':>10}")
            for label, qs in groups.items():
                plain, faceted, like = [], [], []
                for q, kw in qs:
                    plain += timed(lambda q=q, kw=kw: search(a, q, facets=False, **kw), args.reps)
                    faceted += timed(lambda q=q, kw=kw: search(a, q, facets=True, **kw), args.reps)
                    cond = " AND year = 2021" if kw.get("year") else (" AND failed_checks > 0" if kw.get(
                        "failed_checks") else (" AND agency LIKE ?" if kw.get("region") else ""))
                    params = [f"%{q}%"] + ([f"{kw['region']}%"] if kw.get("region") else [])
                    like += timed(lambda cond=cond, params=params: (
                        a.catalog.scalar(f"SELECT count(*) FROM documents WHERE text LIKE ?{cond}", tuple(params)),
                        list(a.catalog.rows(f"SELECT id FROM documents WHERE text LIKE ?{cond} LIMIT 20",
                                            tuple(params)))), 1)
                print(f"{label:26}{len(qs):>4}{statistics.median(plain):>9.1f}{pct(plain, 0.95):>9.1f}"
                      f"{pct(faceted, 0.95):>13.1f}{statistics.median(like):>10.0f}{pct(like, 0.95):>10.0f}"
                      f"{statistics.median(like) / statistics.median(plain):>9.0f}x")
            hits = {q: search(a, q, facets=False).total for q in TWO[:4] + SIX[:2]}
            print("hits: " + ", ".join(f"{q} {n:,}" for q, n in hits.items()))


if __name__ == "__main__":
    main()
