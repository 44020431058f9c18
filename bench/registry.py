"""Registering portals in bulk (issue 16: 100,000 rows in under a minute): ``nianbao portals import`` of a
generated CSV into a fresh archive, the same file again (nothing changes), its export, and loading the registry
into profiles as the scheduler does at every start, with reading the file through ``csv.reader`` alone measured
in the same run (the floor: what parsing costs before any row is checked).

    .venv/bin/python bench/registry.py [--rows 100000]

The rows look like a national registry: county and city agencies with region, level, parent and a SiteIDCode,
one in three with a profile key or two. Wall and CPU time are printed (on a shared machine the wall time also
holds waiting for a core; rows/s are from the wall time); nothing is asserted.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's modules, not bench/archive.py

from scheduler import ScheduleConfig, scheduled_portals
from spiders.profiles import PortalProfile
from spiders.registry import export_rows, import_file, read, registered, stored, write

PROVINCES = ["江苏省", "浙江省", "河南省", "四川省", "陕西省", "云南省", "贵州省", "河北省", "福建省", "广东省"]
DEPARTMENTS = ["人民政府", "信访局", "教育局", "财政局", "公安局", "民政局", "卫生健康委员会", "人力资源和社会保障局"]


def generate(n: int) -> list[dict]:
    rows = []
    for i in range(n):
        province = PROVINCES[i % len(PROVINCES)]
        county = f"第{i // len(DEPARTMENTS)}县"
        dept = DEPARTMENTS[i % len(DEPARTMENTS)]
        extra = {"delay": 2.0} if i % 3 == 0 else {"render": "never", "concurrency": 1} if i % 3 == 1 else None
        rows.append({"name": f"p{i:06d}", "agency": f"{county}{dept}", "region": f"{province}{county}",
                     "url": f"http://{dept[:2].encode().hex()}.x{i // len(DEPARTMENTS)}.gov.cn/zfxxgk/",
                     "level": "县", "parent": None if dept == "人民政府" else f"{county}人民政府",
                     "site_id": f"{3200000000 + i}", "profile": json.dumps(extra) if extra else None})
    return rows


CPU: dict[float, float] = {}  # wall seconds -> CPU seconds of the same step (the machine may be shared)


def timed(fn):
    t, c = time.perf_counter(), time.process_time()
    result = fn()
    wall = time.perf_counter() - t
    CPU[wall] = time.process_time() - c
    return result, wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    n = ap.parse_args().rows
    with tempfile.TemporaryDirectory(prefix="nianbao-bench-registry-") as tmp:
        tmp = Path(tmp)
        buf = io.StringIO()
        write(generate(n), buf, "csv")
        path = tmp / "registry.csv"
        path.write_text(buf.getvalue(), "utf-8-sig")
        mb = path.stat().st_size / 1e6
        archive = tmp / "a"

        _, parse_s = timed(lambda: sum(1 for _ in csv.reader(io.StringIO(path.read_text("utf-8-sig"), newline=""))))
        _, check_s = timed(lambda: read(path))
        res, import_s = timed(lambda: import_file(archive, path))
        assert res["added"] == n
        res, again_s = timed(lambda: import_file(archive, path))
        assert res["unchanged"] == n
        _, export_s = timed(lambda: write(export_rows(archive), io.StringIO(), "csv"))
        rows, rows_s = timed(lambda: stored(archive))
        profiles, load_s = timed(lambda: registered(archive))
        assert len(profiles) == n
        from spiders.registry import to_profile

        def checked() -> list:  # the same rows through PortalProfile's checks: what `trusted` saves
            out = []
            for r in rows:
                p = to_profile(r)
                out.append(PortalProfile(**{k: v for k, v in vars(p).items()}))
            return out

        _, checked_s = timed(checked)
        sched, sched_s = timed(lambda: scheduled_portals(archive, ScheduleConfig()))
        assert len(sched) == n

        def line(what: str, seconds: float, per: bool = True) -> None:
            print(f"{what:58}{seconds:>8.2f} s{CPU[seconds]:>8.2f} s" + (f"{n / seconds:>12,.0f}" if per else ""))

        print(f"{n:,} portals, a {mb:.1f} MB CSV")
        print(f"{'':58}{'wall':>10}{'CPU':>10}{'rows/s':>12}")
        line("csv.reader alone (the floor)", parse_s)
        line("read and check every row (PortalProfile each)", check_s)
        line("nianbao portals import into a fresh archive", import_s)
        line("the same file again (0 added, 0 changed)", again_s)
        line("nianbao portals export (CSV)", export_s)
        line("registry rows from the catalog", rows_s)
        line("registry to profiles, trusted (read + build, as scheduled)", load_s)
        line("the same rows checked again by PortalProfile (comparison)", checked_s)
        line("scheduled_portals() (a scheduler start's portal set)", sched_s)


if __name__ == "__main__":
    main()
