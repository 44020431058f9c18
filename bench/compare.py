"""The comparison view at archive scale: /api/compare, its CSV and the /compare page on an archive of
generated reports, next to the report list's first page measured in the same run (the baseline: a
paged query every page of the app makes).

    .venv/bin/python bench/compare.py [--reports 1000] [--rounds 7]

The reports are the generator's (spiders/demo/generator.py), 200 agencies in 11 regions over 5 years,
written as HTML pages and parsed by the archive as a crawl would (so the cells are the parser's). The
goal (issue 15) is an answer under 300 ms at 1,000 reports; medians are printed, nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fastapi.testclient import TestClient

from archive import Archive
from archive.web import create_app
from helpers.captures import http_capture
from spiders.demo.generator import generate, to_html

REGIONS = ("安康市", "汉中市", "宝鸡市", "咸阳市", "渭南市", "延安市", "榆林市", "商洛市", "铜川市", "西安市", "杨凌区")
OFFICES = ("信访局", "财政局", "民政局", "教育局", "公安局", "司法局", "交通运输局", "卫生健康委员会", "生态环境局",
           "自然资源局", "人力资源和社会保障局", "住房和城乡建设局", "农业农村局", "商务局", "文化和旅游局",
           "应急管理局", "市场监督管理局", "统计局", "审计局")
YEARS = (2019, 2020, 2021, 2022, 2023)


def build(where: Path, n: int) -> None:
    agencies = [f"{r}{o}" for r in REGIONS for o in OFFICES][: max(1, n // len(YEARS))]
    t = time.monotonic()
    with Archive.open(where) as a, a.writer() as w:
        for i in range(n):
            agency, year = agencies[i // len(YEARS) % len(agencies)], YEARS[i % len(YEARS)]
            w.add(http_capture(f"http://127.0.0.98/{i}.html", to_html(generate(20000 + i, year=year, agency=agency))))
            if i % 100 == 99:
                print(f"  {i + 1} reports written ({time.monotonic() - t:.0f} s)", flush=True)
    with Archive.open(where, readonly=True) as a:
        print(f"  {a.stats()['reports']} reports, built and parsed in {time.monotonic() - t:.0f} s", flush=True)


def timed(fn, rounds: int) -> float:
    fn()  # warm: templates compiled, pages in the OS cache
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return statistics.median(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reports", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="nianbao-bench-compare-") as tmp:
        where = Path(tmp) / "a"
        print(f"building an archive of {args.reports} reports…", flush=True)
        build(where, args.reports)
        client = TestClient(create_app(where), base_url="http://127.0.0.1")

        def get(path: str, **params):
            return lambda: client.get(path, params=params).raise_for_status()

        base = timed(get("/api/reports", per_page=50), args.rounds)
        rows = [
            ("/api/compare applications/1/total", get("/api/compare", metric="applications/1/total")),
            ("/api/compare withheld_share (9 cells a report)", get("/api/compare", metric="withheld_share")),
            ("/api/compare one region, two years", get("/api/compare", metric="applications/3.1/total",
                                                       region="安康市", year=[2022, 2023])),
            ("/api/compare.csv applications/1/total", get("/api/compare.csv", metric="applications/1/total")),
            ("/compare page (table and small multiples)", get("/compare", metric="applications/1/total")),
            ("/compare page sorted by 2023", get("/compare", metric="applications/1/total", sort="2023")),
        ]
        print(f"\nbaseline /api/reports?per_page=50: {base:.1f} ms (median of {args.rounds})")
        print(f"{'request':<48} {'median ms':>10} {'x baseline':>11} {'under 300 ms':>13}")
        for name, fn in rows:
            ms = timed(fn, args.rounds)
            print(f"{name:<48} {ms:>10.1f} {ms / base:>11.1f} {'yes' if ms < 300 else 'NO':>13}")


if __name__ == "__main__":
    main()
