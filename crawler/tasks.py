"""Crawl and parse on many machines: Celery tasks on a Redis broker, with WARC hand-overs to the one
process that owns the catalog (:mod:`crawler.distributed` enqueues and imports them).

Every machine runs ``nianbao worker --broker redis://…``. Two tasks:

- ``crawl_portal``: one portal per task, or a batch of a few (a national harvest of small portals: a
  crawl process costs about a second to start, more than a small portal's crawl), partitioned by host, so
  per-host politeness holds on any number of machines; Redis host locks keep two tasks off one host.
  Scrapy runs in a child process (its reactor cannot restart) into a scratch archive on the worker,
  which also parses what it fetched (the worker that fetched a document parses it); the result is packed as a hand-over
  (:mod:`archive.ingest.handover`) in the shared location the task names.
- ``parse_document``: one original, read from the shared location, parsed, its result written beside it.

Tasks are acknowledged late and re-queued when a worker dies (``task_acks_late``,
``task_reject_on_worker_lost``; on Redis an unacknowledged task returns after the visibility
timeout), so a killed machine loses nothing; each task's output is named by its task id and written
whole or not at all, so running one twice changes nothing.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path

from celery import Celery

log = logging.getLogger("nianbao.worker")

app = Celery("nianbao")
CRAWL_QUEUE, PARSE_QUEUE = "nianbao.crawl", "nianbao.parse"
DEFAULT_CRAWL_TIMEOUT = 4 * 3600.0


def visibility_timeout() -> float:
    """How long Redis keeps a task a dead worker took before handing it to another (seconds).

    It must outlast the longest crawl (the time limit plus its grace), or a task still running is
    handed out again; the host locks then make that second copy wait and return the first's result.
    ``NIANBAO_VISIBILITY_TIMEOUT`` overrides it (the tests use seconds).
    """
    from crawler.child import GRACE_S

    return float(os.environ.get("NIANBAO_VISIBILITY_TIMEOUT", DEFAULT_CRAWL_TIMEOUT + 2 * GRACE_S + 600))


def configure(broker: str, *, backend: str | None = None) -> Celery:
    """Point the app at a broker (and result backend, the same Redis by default)."""
    vt = visibility_timeout()
    restore = max(1, min(10, int(vt // 10)))
    transport = {"visibility_timeout": vt, "unacked_restore_interval": restore, "unacked_restore_throttle": 1}
    app.conf.update(
        broker_url=broker, result_backend=backend or broker,
        broker_transport_options=transport, result_backend_transport_options={"visibility_timeout": vt},
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        task_track_started=True, task_serializer="json", result_serializer="json", accept_content=["json"],
        result_expires=7 * 86400, broker_connection_retry_on_startup=True, worker_hijack_root_logger=False,
        task_routes={"nianbao.crawl_portal": {"queue": CRAWL_QUEUE}, "nianbao.parse_document": {"queue": PARSE_QUEUE}},
        worker_max_tasks_per_child=200,  # the parser's caches and LibreOffice children do not pile up
    )
    return app


def workdir() -> Path:
    """Where a worker keeps its scratch archives (``NIANBAO_WORKDIR``, else a folder in the temp dir)."""
    path = Path(os.environ.get("NIANBAO_WORKDIR") or Path(tempfile.gettempdir()) / "nianbao-worker")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _redis():
    import redis

    return redis.Redis.from_url(app.conf.broker_url)


def _brief(manifest: dict) -> dict:
    keep = ("task_id", "portal", "portals", "worker", "status", "pages", "files", "parser_version", "packed_at")
    return {k: manifest.get(k) for k in keep}


@app.task(bind=True, name="nianbao.crawl_portal", acks_late=True, reject_on_worker_lost=True)
def crawl_portal(self, profile: dict | list[dict], shared: str, validators: list[dict] | None = None,
                 options: dict | None = None) -> dict:
    """Crawl one portal (a profile) or a batch (a list of profiles) into a scratch archive in one crawl
    process, parse what it fetched, hand it over as WARC: one hand-over for the task, naming its portals."""
    from archive import Archive
    from archive.ingest.handover import manifest_of, pack
    from archive.store.shared import SharedStore
    from crawler.hostlock import HostLocks
    from spiders.profiles import PortalProfile

    options = options or {}
    task_id = self.request.id
    store = SharedStore(shared)
    if (done := manifest_of(store, task_id)) is not None:
        return _brief(done)  # this task ran to the end before (a re-delivery): nothing to do again
    portals = [PortalProfile(**p) for p in (profile if isinstance(profile, list) else [profile])]
    names = [p.name for p in portals]
    locks = HostLocks(_redis(), sorted({h for p in portals for h in p.allowed_hosts}), owner=task_id)
    if not locks.acquire(give_up=lambda: manifest_of(store, task_id) is not None):
        return _brief(manifest_of(store, task_id) or {})
    try:
        if (done := manifest_of(store, task_id)) is not None:
            return _brief(done)
        scratch = workdir() / "scratch" / task_id  # kept if we die: the same machine resumes it
        scratch.mkdir(parents=True, exist_ok=True)
        prior = scratch.parent / f"{task_id}.prior.json"
        prior.write_text(json.dumps(validators or [], ensure_ascii=False), "utf-8")
        started = time.time()
        summary, outcome = _crawl(scratch, portals, prior, shared, options)
        with Archive.open(scratch) as a:
            run_id = (summary or {}).get("run_id") or a.latest_crawl_run()
            manifest = pack(a, store, task_id, portal=names[0] if len(names) == 1 else ",".join(names),
                            run_id=run_id, extra={
                                "portals": names, "worker": self.request.hostname or socket.gethostname(),
                                "outcome": outcome, "summary": summary, "seconds": round(time.time() - started, 1),
                                "validators_sent": len(validators or [])})
        shutil.rmtree(scratch, ignore_errors=True)
        prior.unlink(missing_ok=True)
        return _brief(manifest)
    finally:
        locks.release()


def _crawl(scratch: Path, portals: list, prior: Path, shared: str, options: dict) -> tuple[dict | None, dict]:
    """Run the crawl in a child process that ends with us; stop it gracefully at the time limit."""
    from crawler.child import judge, run_crawl_process

    timeout = float(options.get("timeout") or DEFAULT_CRAWL_TIMEOUT)
    kwargs = {"browser": options.get("browser", "auto"), "progress": False,
              "overrides": {"NIANBAO_PRIOR": str(prior), "NIANBAO_SHARED": shared, "LOG_LEVEL": "INFO",
                            **options.get("overrides", {})}}
    log_path = scratch.parent / f"{scratch.name}.log"
    rc, ended_by, data = run_crawl_process(scratch, portals, kwargs, log_path, timeout=timeout)
    outcome, reason, summary = judge(rc, ended_by, data, timeout, log_path)
    return summary, {"outcome": outcome, "reason": reason, "host": socket.gethostname()}


@app.task(bind=True, name="nianbao.parse_document", acks_late=True, reject_on_worker_lost=True)
def parse_document(self, sha256: str, hint: dict, shared: str) -> dict:
    """Parse one original from the shared location; write the result beside it (once per parser version)."""
    import zstandard

    from archive.examine.pipeline import parse_blob_bytes
    from archive.parser import PARSER_VERSION
    from archive.store.shared import SharedStore

    store = SharedStore(shared)
    parts = ("parsed", PARSER_VERSION, f"{sha256}.json.zst")
    if not store.exists(*parts):
        res = parse_blob_bytes(store.get_blob(sha256), hint)
        data = json.dumps(res.to_dict(), ensure_ascii=False).encode("utf-8")
        store.write_bytes(zstandard.ZstdCompressor(level=3).compress(data), *parts)
    return {"sha256": sha256, "parser_version": PARSER_VERSION, "result": "/".join(parts)}


def run_worker(broker: str, *, concurrency: int | None = None, queues: list[str] | None = None,
               name: str | None = None, loglevel: str = "INFO") -> None:
    """``nianbao worker``: serve both queues until stopped (SIGTERM: finish the running tasks first)."""
    configure(broker)
    _clean_scratch()
    argv = ["worker", f"--loglevel={loglevel}", f"--queues={','.join(queues or [CRAWL_QUEUE, PARSE_QUEUE])}",
            f"--hostname={name or 'nianbao@%h'}", "--without-gossip", "--without-mingle"]
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    app.worker_main(argv)


def _clean_scratch() -> None:
    """Scratch archives of tasks whose hand-over is not coming (older than a week) are removed at start;
    younger ones stay, so a task handed back to this machine resumes its crawl."""
    root = workdir() / "scratch"
    if not root.is_dir():
        return
    for d in root.iterdir():
        if d.is_dir() and time.time() - d.stat().st_mtime > 7 * 86400:
            shutil.rmtree(d, ignore_errors=True)
