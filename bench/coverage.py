"""Coverage at national scale: `Archive.coverage`, the region × year matrix, the /coverage page and its
CSVs on an archive of 10,000 reports, next to the report list's first page measured in the same run (the
baseline: a paged query every page of the app makes).

    .venv/bin/python bench/coverage.py [--reports 10000] [--base 200] [--rounds 5]

``--base`` reports are the generator's (spiders/demo/generator.py), written as HTML pages with a printed
date and parsed by the archive as a crawl would; the rest are copies of their catalog rows (reports,
documents with their printed dates, captures, blob rows) under new agency names, 11 regions × many
districts, because parsing 10,000 pages would take most of an hour and coverage reads only those rows.
No original is opened by coverage (the bench arms a trap that fails if one is). The goal (issue 15) is
the page under 300 ms at 10,000 reports; medians are printed, nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from compare import timed  # bench/compare.py: the median of warm rounds, in ms
from fastapi.testclient import TestClient

from archive import Archive
from archive.parser import agency_key
from archive.store.blobs import BlobStore
from archive.web import create_app
from helpers.captures import http_capture
from spiders.demo.generator import generate, to_html

REGIONS = ("安康市", "汉中市", "宝鸡市", "咸阳市", "渭南市", "延安市", "榆林市", "商洛市", "铜川市", "西安市", "杨凌区")
OFFICES = ("信访局", "财政局", "民政局", "教育局", "公安局", "司法局", "交通运输局", "卫生健康委员会", "生态环境局",
           "自然资源局", "人力资源和社会保障局", "住房和城乡建设局", "农业农村局", "商务局", "文化和旅游局",
           "应急管理局", "市场监督管理局", "统计局", "审计局")
YEARS = (2019, 2020, 2021, 2022, 2023)


def build(where: Path, n: int, base: int) -> None:
    agencies = [f"{r}{o}" for o in OFFICES for r in REGIONS][: max(1, base // len(YEARS))]
    t = time.monotonic()
    with Archive.open(where) as a, a.writer() as w:
        for i in range(base):
            agency, year = agencies[i // len(YEARS) % len(agencies)], YEARS[i % len(YEARS)]
            day = f"{year + 1}-01-{10 + i % 40:02d}" if i % 40 < 21 else f"{year + 1}-02-{i % 40 - 20:02d}"
            page = to_html(generate(30000 + i, year=year, agency=agency)).decode()
            page = page.replace("</h1>", f"</h1><div>发布时间：{day}</div>", 1) if i % 7 else page
            w.add(http_capture(f"http://127.0.0.97/{i}.html", page.encode()))
    print(f"  {base} reports parsed in {time.monotonic() - t:.0f} s", flush=True)
    copies = max(0, -(-n // base) - 1)
    with Archive.open(where) as a:
        with a.catalog.transaction() as db:
            db.conn.create_function("akey", 1, agency_key)
            shas = [r["sha256"] for r in db.query("SELECT sha256 FROM documents")]
            marks = ",".join("?" * len(shas))
            for k in range(1, copies + 1):
                name = f"substr(agency, 1, 3) || '第{k}区' || substr(agency, 4)"
                new = f"substr(sha256, 1, 58) || printf('%06d', {k})"
                db.execute(f"INSERT INTO blobs (sha256, size, stored_size, encoding, kind, first_seen, examined_by) "
                           f"SELECT {new}, size, stored_size, encoding, kind, first_seen, examined_by FROM blobs "
                           f"WHERE sha256 IN ({marks})", shas)
                db.execute(f"INSERT INTO reports (agency, agency_key, year, title, template, first_seen, updated_at) "
                           f"SELECT {name}, akey({name}), year, title, template, first_seen, updated_at FROM reports "
                           f"WHERE agency NOT LIKE '%第%区%'")
                db.execute(f"INSERT INTO documents (sha256, kind, report_id, first_seen, agency, year, title, "
                           f"template, "
                           f"published, published_source, published_dates) "
                           f"SELECT {new}, d.kind, (SELECT n.id FROM reports n WHERE n.year = r.year AND "
                           f"n.agency_key = akey(substr(r.agency, 1, 3) || '第{k}区' || substr(r.agency, 4))), "
                           f"d.first_seen, d.agency, d.year, d.title, d.template, d.published, d.published_source, "
                           f"d.published_dates FROM documents d JOIN reports r ON r.id = d.report_id "
                           f"WHERE d.sha256 IN ({marks})", shas)
                db.execute(f"INSERT INTO captures (source, url, fetched_at, status, sha256, kind, host) "
                           f"SELECT source, url || '?copy={k}', fetched_at, status, {new}, kind, host FROM captures "
                           f"WHERE sha256 IN ({marks})", shas)
        print(f"  {a.stats()['reports']} reports in the catalog after {time.monotonic() - t:.0f} s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reports", type=int, default=10_000)
    ap.add_argument("--base", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="nianbao-bench-coverage-") as tmp:
        where = Path(tmp) / "a"
        print(f"building an archive of {args.reports} reports…", flush=True)
        build(where, args.reports, args.base)

        def refuse(self, sha256):
            raise AssertionError(f"coverage opened an original: {sha256}")

        BlobStore.open = BlobStore.read = refuse  # the verdicts must come from the catalog alone
        client = TestClient(create_app(where), base_url="http://127.0.0.1")

        def get(path: str, **params):
            return lambda: client.get(path, params=params).raise_for_status()

        with Archive.open(where, readonly=True) as a:
            verdicts = a.coverage()
            counts = {s: sum(v.status == s for v in verdicts) for s in dict.fromkeys(v.status for v in verdicts)}
            print(f"  {len(verdicts)} agency-year verdicts: {counts}")
            base = timed(get("/api/reports", per_page=50), args.rounds)
            rows = [("Archive.coverage() (Python API)", lambda: a.coverage()),
                    ("Archive.coverage_matrix()", lambda: a.coverage_matrix()),
                    ("/coverage page (matrix and 500 rows)", get("/coverage")),
                    ("/coverage page, one region", get("/coverage", region="安康市")),
                    ("/api/coverage/matrix.csv", get("/api/coverage/matrix.csv")),
                    ("/api/coverage.csv (every verdict)", get("/api/coverage.csv"))]
            print(f"\nbaseline /api/reports?per_page=50: {base:.1f} ms (median of {args.rounds})")
            print(f"{'request':<40} {'median ms':>10} {'x baseline':>11} {'under 300 ms':>13}")
            for name, fn in rows:
                ms = timed(fn, args.rounds)
                print(f"{name:<40} {ms:>10.1f} {ms / base:>11.1f} {'yes' if ms < 300 else 'NO':>13}")


if __name__ == "__main__":
    main()
