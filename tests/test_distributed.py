"""Distributed harvesting on a real Redis with three worker processes: ten simulated portals crawled and
parsed, one worker killed with SIGKILL mid-run, and the archive ends equal to a single-process crawl of
the same portals: same reports, same blobs, nothing twice, nothing missing. Then a recrawl on the
workers is conditional (the validators travel with the tasks), and a re-parse fans out as parse tasks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from archive import Archive
from crawler.distributed import enqueue_crawls, import_pending, remote_parse, wait_and_import
from crawler.harvest import harvest
from crawler.run import crawl_in_subprocess
from helpers.redis_server import RedisServer
from spiders.demo.portals import build
from spiders.demo.server import PortalServer
from spiders.profiles import PortalProfile

STYLES = ["static", "trs", "hanweb", "yearly", "static", "yearly", "trs", "static", "hanweb", "static"]
ENV = {"NIANBAO_VISIBILITY_TIMEOUT": "20", "NIANBAO_HOST_LOCK_TTL": "6"}


@pytest.fixture(scope="module")
def portals():
    built = []
    for i, style in enumerate(STYLES):
        kw = {"traps": False} if style == "static" else {}
        p = build(style, 500 + i, [2021, 2022, 2023] if i % 2 else [2022, 2023], delay=0.15 if i < 3 else 0.0, **kw)
        p.name = f"{style}-{500 + i}"
        built.append(p)
    servers = [PortalServer(p.site, host=f"127.0.0.{120 + i}").start() for i, p in enumerate(built)]
    profiles = [PortalProfile(name=p.name, start_urls=[s.url + "/"], agency=p.agency, delay=0.0)
                for p, s in zip(built, servers, strict=True)]
    yield built, profiles
    for s in servers:
        s.stop()


@pytest.fixture(scope="module")
def redis(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


def start_worker(broker: str, name: str, workdir: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, **ENV, "NIANBAO_WORKDIR": str(workdir)}
    with open(log, "ab") as fh:
        return subprocess.Popen([sys.executable, "-m", "crawler.cli", "worker", "--broker", broker, "-c", "1",
                                 "-n", f"{name}@%h", "--loglevel", "INFO"], env=env, stdout=fh, stderr=fh,
                                start_new_session=True)


def crawling(workdir: Path) -> bool:
    """A crawl is under way in this worker: its scratch archive holds captures."""
    for db in (workdir / "scratch").glob("*/catalog.db"):
        try:
            with Archive.open(db.parent, readonly=True) as a:
                if (a.catalog.scalar("SELECT count(*) FROM captures") or 0) >= 3:
                    return True
        except Exception:
            continue
    return False


def archive_state(path: Path) -> dict:
    with Archive.open(path, readonly=True) as a:
        c = a.catalog
        caps = Counter((r["u"], r["status"]) for r in c.rows(
            "SELECT coalesce(final_url, url) AS u, status FROM captures"))
        return {
            "blobs": {r["sha256"] for r in c.rows("SELECT sha256 FROM blobs")},
            "reports": {(r["agency"], r["year"]): tuple(sorted(d["sha256"] for d in c.rows(
                "SELECT sha256 FROM documents WHERE report_id = ?", (r["id"],)))) for r in c.rows(
                "SELECT id, agency, year FROM reports")},
            "captures": caps,
            "verify": a.verify().ok,
        }


@pytest.mark.slow
@pytest.mark.redis
def test_three_workers_one_killed_end_equal_to_one_process(portals, redis, tmp_path):
    built, profiles = portals
    single = tmp_path / "single"
    summary = crawl_in_subprocess(single, profiles, browser="never", progress=False,
                                  overrides={"AUTOTHROTTLE_START_DELAY": 0.0})
    assert summary["status"] == "ok"
    want = archive_state(single)
    assert set(want["reports"]) == set().union(*(p.expected for p in built))

    dist, shared = tmp_path / "dist", tmp_path / "shared"
    workdirs = [tmp_path / f"w{i}" for i in range(3)]
    workers = [start_worker(redis.url, f"w{i}", workdirs[i], tmp_path / f"w{i}.log") for i in range(3)]
    try:
        tasks = enqueue_crawls(dist, profiles, redis.url, str(shared), browser="never")
        # kill -9 the first worker (its whole process group: a machine lost) while it is crawling
        deadline = time.monotonic() + 120
        while not crawling(workdirs[0]):
            assert time.monotonic() < deadline, "worker w0 never started a crawl"
            assert workers[0].poll() is None, (tmp_path / "w0.log").read_text()[-3000:]
            time.sleep(0.1)
        os.killpg(workers[0].pid, signal.SIGKILL)
        workers[0].wait()
        killed_task = next(iter((workdirs[0] / "scratch").glob("*/catalog.db"))).parent.name
        tasks = wait_and_import(dist, tasks, str(shared), deadline=time.monotonic() + 400)
        assert {t.state for t in tasks} == {"imported"}, [(t.portal, t.state, t.error) for t in tasks]
        assert killed_task in {t.task_id for t in tasks}
        redone = next(t for t in tasks if t.task_id == killed_task)
        assert redone.worker and "w0" not in (redone.manifest or {}).get("worker", "")  # another worker did it

        got = archive_state(dist)
        assert got["verify"] and want["verify"]
        assert got["blobs"] == want["blobs"]  # same originals, and none missing
        assert got["reports"] == want["reports"]  # same reports, each with the same documents
        assert got["captures"] == want["captures"]  # every URL captured as often as by one process
        with Archive.open(dist, readonly=True) as a:
            stored = sum(1 for p in (dist / "blobs").rglob("*") if p.is_file() and p.parent.name != "tmp")
            assert stored == len(got["blobs"])  # nothing stored twice
            assert a.catalog.scalar("SELECT count(*) FROM handovers") == len(profiles)
            # the workers parsed what they fetched: the owner placed their results, it parsed nothing
            assert a.catalog.scalar("SELECT count(*) FROM blobs WHERE examined_by IS NULL") == 0
        assert sum(t.extra["parsed_here"] for t in tasks) == 0 and sum(t.extra["parse_results_used"] for t in tasks)
        assert not list(shared.glob("handover/*/manifest.json"))  # imported hand-overs are cleared

        # A recrawl on the workers is conditional: the archive's validators go with each task.
        again = enqueue_crawls(dist, profiles[:3], redis.url, str(shared), browser="never")
        again = wait_and_import(dist, again, str(shared), deadline=time.monotonic() + 300)
        assert {t.state for t in again} == {"imported"}
        with Archive.open(dist, readonly=True) as a:
            for t in again:
                run = a.catalog.one("SELECT * FROM runs WHERE id = ?", (t.run_id,))
                assert run["new_blobs"] == 0 and run["not_modified"] > 0 and run["new_reports"] == 0, t.portal
            assert {(r["agency"], r["year"]) for r in a.reports()} == set(want["reports"])
        assert import_pending(dist, str(shared)) == []

        # The scheduler's harvest and `nianbao crawl --broker` enqueue instead of crawling here.
        (row,) = harvest(dist, [profiles[3]], trigger="schedule", remote={"broker": redis.url, "shared": str(shared)},
                         timeout=300)
        assert row["outcome"] == "ok" and row["pages"] > 0 and "crawled by w" in row["reason"], row
        cli = subprocess.run([sys.executable, "-m", "crawler.cli", "crawl", profiles[4].start_urls[0], "--broker",
                              redis.url, "--shared", str(shared), "--archive", str(dist), "--json"],
                             capture_output=True, text=True, timeout=300)
        assert cli.returncode == 0, cli.stderr[-2000:]
        assert json.loads(cli.stdout)["responses"] > 0

        # Re-parse at scale: every original goes out as a parse task; the same reports come back.
        with Archive.open(dist) as a:
            blobs = a.catalog.scalar("SELECT count(*) FROM blobs")
            res = a.reparse(everything=True, parse_with=remote_parse(a, redis.url, str(shared)))
            assert res.parsed == blobs
            assert {(r["agency"], r["year"]) for r in a.reports()} == set(want["reports"])
            assert a.catalog.scalar("SELECT count(*) FROM blobs WHERE examined_by IS NULL") == 0
    finally:
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(w.pid, signal.SIGKILL)


def test_an_unreachable_broker_is_said_in_words_without_its_password(tmp_path):
    with PortalServer(build("static", 530, [2023], traps=False).site, host="127.0.0.139") as server:
        res = subprocess.run([sys.executable, "-m", "crawler.cli", "crawl", server.url + "/", "--broker",
                              "redis://:secret@127.0.0.1:1/0", "--archive", str(tmp_path / "a")],
                             capture_output=True, text=True, timeout=120)
    assert res.returncode == 1
    said = " ".join(res.stderr.split())
    assert "cannot reach the broker at redis://:***@127.0.0.1:1/0" in said and "secret" not in said
    assert "Traceback" not in res.stderr


@pytest.mark.slow
@pytest.mark.redis
def test_a_batch_of_portals_is_one_task_one_crawl_and_each_portal_its_own_outcome(portals, redis, tmp_path):
    """A national harvest sends small portals a few to a task (one crawl process each): the hand-over's run
    names every portal of the batch, and the harvest log gives each portal its own outcome and pages."""
    built, profiles = portals
    chosen, others = profiles[5:10], profiles[:5]
    dist, shared = tmp_path / "dist", tmp_path / "shared"
    worker = start_worker(redis.url, "wb", tmp_path / "wb", tmp_path / "wb.log")
    try:
        tasks = enqueue_crawls(dist, chosen, redis.url, str(shared), browser="never", batch=2)
        assert [t.names for t in tasks] == [[p.name for p in chosen[i:i + 2]] for i in (0, 2, 4)]
        tasks = wait_and_import(dist, tasks, str(shared), deadline=time.monotonic() + 300)
        assert {t.state for t in tasks} == {"imported"}, [(t.names, t.state, t.error) for t in tasks]
        with Archive.open(dist, readonly=True) as a:
            runs = {t.task_id: json.loads(a.catalog.scalar("SELECT portals FROM runs WHERE id = ?", (t.run_id,)))
                    for t in tasks}
            assert [runs[t.task_id] for t in tasks] == [t.names for t in tasks]
            assert a.catalog.scalar("SELECT count(*) FROM handovers") == 3
            want = set().union(*(p.expected for p in built[5:10]))
            assert {(r["agency"], r["year"]) for r in a.reports()} == want
        # the scheduler's harvest with batch = 2: five portals, three tasks, an outcome for each portal
        rows = harvest(dist, others, trigger="schedule", timeout=300,
                       remote={"broker": redis.url, "shared": str(shared), "batch": 2})
        assert [r["portal"] for r in rows] == [p.name for p in others]
        assert all(r["outcome"] == "ok" and r["pages"] > 0 and "crawled by wb" in r["reason"] for r in rows), rows
        with Archive.open(dist, readonly=True) as a:
            assert a.catalog.scalar("SELECT count(*) FROM handovers") == 6
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
