"""One harvest: a crawl of one or a few portals in its own process, bounded in time, put on record.

The scheduler and ``nianbao schedule run-now`` both come here. Around :mod:`crawler.run` this adds what
a service needs: a lock per portal (no two harvests of a portal at once, across processes), a row in
the harvest history opened before the crawl starts and closed with its outcome whatever happens, a time
limit (SIGTERM so the crawl saves what it fetched, then SIGKILL of its process group after a grace
period), a stop on request (the same, when the scheduler is stopped), and a log file per harvest.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from archive import Archive
from archive.errors import LockHeld
from archive.store.locks import FileLock
from crawler.child import GRACE_S, judge, run_crawl_process
from spiders.profiles import PortalProfile, slug

log = logging.getLogger("nianbao.harvest")


def portal_lock(archive_dir: Path, portal: str) -> FileLock:
    return FileLock(Path(archive_dir) / "locks" / f"portal-{slug(portal)}.lock", f"the harvest of portal {portal!r}")


def harvest(archive_dir: Path | str, portals: list[PortalProfile], *, trigger: str = "run-now",
            scheduled_for: str | None = None, timeout: float | None = None, grace: float = GRACE_S,
            stop: threading.Event | None = None, lock_wait: float = 0.0,
            crawl_kwargs: dict | None = None, remote: dict | None = None) -> list[dict]:
    """Crawl ``portals`` in a child process; return their harvest rows (outcome, reason, numbers).

    A portal already being harvested is waited for up to ``lock_wait`` seconds, then recorded as
    ``skipped``. Nothing here raises for a failed crawl: the outcome says what happened. With
    ``remote`` (``{"broker": URL, "shared": URL}``) the crawls are tasks for distributed workers.
    """
    archive_dir = Path(archive_dir)
    locks, busy = [], []
    for p in portals:
        lock = portal_lock(archive_dir, p.name)
        try:
            held = lock.wait(lock_wait, stop=stop, trigger=trigger) if lock_wait else lock.acquire(trigger=trigger)
            locks.append(held)
        except LockHeld as e:
            busy.append((p, e))
    try:
        with Archive.open(archive_dir) as a:
            rows = [a.harvest_log.skipped(p.name, trigger, f"{e} (already being harvested)", scheduled_for)
                    for p, e in busy]
            busy_names = {p.name for p, _ in busy}
            todo = [p for p in portals if p.name not in busy_names]
            ids = {p.name: a.harvest_log.begin(p.name, trigger, scheduled_for) for p in todo}
        if todo and remote:
            _run_remote(archive_dir, todo, ids, timeout, grace, stop, remote, crawl_kwargs or {})
        elif todo:
            _run(archive_dir, todo, ids, locks, timeout, grace, stop, crawl_kwargs or {})
        with Archive.open(archive_dir, readonly=True) as a:
            return a.harvest_log.get([*rows, *ids.values()])
    finally:
        for lock in locks:
            lock.release()


def _run(archive_dir: Path, portals: list[PortalProfile], ids: dict[str, int], locks: list[FileLock],
         timeout: float | None, grace: float, stop: threading.Event | None, crawl_kwargs: dict) -> None:
    logs = archive_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"harvest-{min(ids.values())}.log"
    started = time.monotonic()
    # The log file gets Scrapy's INFO lines (spider opened/closed, a stats line a minute, the final stats);
    # with progress (``run-now`` at a terminal) the live display goes to our stderr instead.
    live = bool(crawl_kwargs.get("progress"))
    kwargs = {"progress": False, **crawl_kwargs,
              "overrides": {**({} if live else {"LOG_LEVEL": "INFO"}), **crawl_kwargs.get("overrides", {})}}
    # The portal locks go with the crawl, so they hold until it is gone even if we are killed first.
    rc, ended_by, data = run_crawl_process(archive_dir, portals, kwargs, log_path, timeout=timeout, grace=grace,
                                           stop=stop, pass_fds=[lk.fd for lk in locks if lk.fd is not None],
                                           stderr_to_log=not live)
    seconds = round(time.monotonic() - started, 1)
    outcome, reason, summary = judge(rc, ended_by, data, timeout, log_path)
    with Archive.open(archive_dir) as a:
        # Without a summary (the crawl died), its run is the one of these portals begun since we began:
        # the portal locks let no other crawl of them start meanwhile.
        begun = min(r["started_at"] for r in a.harvest_log.get(ids.values()))
        run_id = (summary or {}).get("run_id") or a.latest_crawl_run(portal=portals[0].name, since=begun)
        by_name = {r["name"]: r for r in (summary or {}).get("portals", [])}
        for p in portals:
            numbers = a.harvest_log.portal_numbers(run_id, p.allowed_hosts) if run_id else {}
            res = by_name.get(p.name, {})
            mine_outcome, mine_reason = outcome, reason
            if outcome == "ok" and not res.get("responses"):
                mine_outcome, mine_reason = "failed", _nothing_reached(res)
            a.harvest_log.finish(ids[p.name], mine_outcome, mine_reason, seconds=seconds, run_id=run_id,
                            blocked=len(res.get("blocked", [])), errors=len(res.get("failed", [])), **numbers)
            log.info("harvest of %s: %s%s", p.name, mine_outcome, f" ({mine_reason})" if mine_reason else "")


def _run_remote(archive_dir: Path, portals: list[PortalProfile], ids: dict[str, int], timeout: float | None,
                grace: float, stop: threading.Event | None, remote: dict, crawl_kwargs: dict) -> None:
    """Send the crawls to the workers, wait for their hand-overs, import them, and record each outcome."""
    from crawler.distributed import enqueue_crawls, shared_location, wait_and_import

    shared = shared_location(archive_dir, remote.get("shared"))
    started = time.monotonic()
    tasks = enqueue_crawls(archive_dir, portals, remote["broker"], shared, browser=crawl_kwargs.get("browser", "auto"),
                           timeout=timeout, batch=int(remote.get("batch") or 1))
    # a task may wait in the queue behind others: allow it the crawl's own time limit again
    deadline = started + 2 * timeout + grace if timeout else None
    tasks = wait_and_import(archive_dir, tasks, shared, deadline=deadline, stop=stop)
    seconds = round(time.monotonic() - started, 1)
    by_name = {p.name: p for p in portals}
    with Archive.open(archive_dir) as a:
        for t, name in [(task, name) for task in tasks for name in task.names]:  # a task may crawl a batch
            p = by_name[name]
            numbers, blocked, errors = {}, 0, 0
            if t.state == "imported":
                got = (t.manifest or {}).get("outcome") or {}
                outcome, reason = got.get("outcome") or "ok", got.get("reason")
                results = ((t.manifest or {}).get("summary") or {}).get("portals") or []
                res = next((r for r in results if r.get("name") == name), results[0] if len(t.names) == 1 and
                           results else {})
                blocked, errors = len(res.get("blocked", [])), len(res.get("failed", []))
                if outcome == "ok" and not res.get("responses"):
                    outcome, reason = "failed", _nothing_reached(res)
                numbers = a.harvest_log.portal_numbers(t.run_id, p.allowed_hosts) if t.run_id else {}
                if t.worker:
                    reason = f"{reason + '; ' if reason else ''}crawled by {t.worker}"
            elif t.state == "waiting":
                outcome = "stopped" if stop is not None and stop.is_set() else "timeout"
                reason = (f"still out on the workers (task {t.task_id}); its hand-over is imported when it "
                          f"arrives (`nianbao import`, the next broker crawl, or the scheduler's next start)")
            else:
                outcome, reason = "failed", t.error
            a.harvest_log.finish(ids[p.name], outcome, reason, seconds=seconds, run_id=t.run_id,
                            blocked=blocked, errors=errors, **numbers)
            log.info("harvest of %s on the workers: %s%s", p.name, outcome, f" ({reason})" if reason else "")


def _nothing_reached(res: dict) -> str:
    first = (res.get("blocked") or res.get("failed") or [{}])[0]
    if first:
        return f"no page of the portal could be fetched: {first.get('url')}: {first.get('reason')}"
    return "no page of the portal could be fetched"
