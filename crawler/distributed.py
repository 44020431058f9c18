"""The owner's side of a distributed harvest: enqueue work on the Celery broker, wait, import hand-overs.

One process owns the catalog. It sends each portal out as a ``crawl_portal`` task carrying the
portal's profile and the validators (ETag / Last-Modified) the archive holds for it, publishes the
pages those validators cover to the shared location (a 304 there is followed from them), waits, and
imports each worker's hand-over as it completes (:func:`archive.ingest.handover.import_handover`). Originals
to re-parse go out as ``parse_document`` tasks the same way (:func:`remote_parse`).

Nothing here is lost if the owner stops: hand-overs stay in the shared location until imported,
and :func:`import_pending` (run by ``nianbao import --shared``, every broker crawl and the scheduler's
start) takes in any that arrived meanwhile.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kombu.exceptions import OperationalError

from archive import Archive
from archive.ingest.handover import complete_handovers, import_handover, manifest_of
from archive.store.shared import SharedStore
from spiders.profiles import PortalProfile

if TYPE_CHECKING:
    from archive.examine.pipeline import ParseStep
    from archive.parser import ParseResult

log = logging.getLogger("nianbao.distributed")
PAGE_KINDS = ("html", "text")  # bodies a crawl follows links from; files (PDF, DOCX …) are leaves
SHARED_ENV = "NIANBAO_SHARED"
MANIFEST_EVERY = 30.0  # seconds between looks for finished hand-overs the result store does not report


def shared_location(archive_dir: Path | str, shared: str | None = None) -> str:
    """``--shared``, else ``$NIANBAO_SHARED``, else ``ARCHIVE/shared`` (right when every worker sees the
    archive's filesystem at the same path, as on one machine or an NFS mount)."""
    return shared or os.environ.get(SHARED_ENV) or str(Path(archive_dir).resolve() / "shared")


class BrokerUnreachable(RuntimeError):
    """The broker does not answer; the message names it (without its password)."""


def _safe(url: str) -> str:
    """A broker URL fit to print: its password replaced."""
    import re

    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def check_broker(broker: str) -> None:
    """Fail at once, in words, when the broker does not answer (Celery would retry for a while and
    then speak of its result store)."""
    import redis

    try:
        redis.Redis.from_url(broker, socket_connect_timeout=5, socket_timeout=5).ping()
    except (redis.exceptions.RedisError, OSError, ValueError) as e:
        raise BrokerUnreachable(f"cannot reach the broker at {_safe(broker)}: {e}") from e


@dataclass
class TaskState:
    portal: str  # the first of its portals (a batch's others in ``portals``)
    task_id: str
    state: str = "queued"  # queued, running, imported, failed, waiting (still out when we stopped waiting)
    worker: str | None = None
    run_id: int | None = None
    manifest: dict | None = None
    error: str | None = None
    new_reports: int = 0
    pages: int = 0
    extra: dict = field(default_factory=dict)
    portals: list[str] = field(default_factory=list)  # every portal the task crawls

    @property
    def names(self) -> list[str]:
        return self.portals or [self.portal]


def publish_pages(archive: Archive, shared: SharedStore, validators: list[dict]) -> int:
    """Put the bodies of the pages among ``validators`` in the shared location (each once, ever)."""
    n = 0
    for v in validators:
        if v.get("kind") in PAGE_KINDS and archive.has_blob(v["sha256"]) and not shared.has_blob(v["sha256"]):
            n += shared.put_blob(v["sha256"], archive.read_blob(v["sha256"]))
    return n


def enqueue_crawls(archive_dir: Path | str, portals: list[PortalProfile], broker: str, shared: str, *,
                   browser: str = "auto", timeout: float | None = None, batch: int = 1) -> list[TaskState]:
    """Send the portals as ``crawl_portal`` tasks of ``batch`` portals each (one crawl process per task:
    small portals are cheaper crawled a few together); return their states (queued)."""
    from crawler.tasks import configure, crawl_portal

    if batch < 1:
        raise ValueError(f"a task holds at least one portal, not {batch}")
    check_broker(broker)
    configure(broker)
    store = SharedStore(shared)
    out = []
    with Archive.open(archive_dir) as a:
        for i in range(0, len(portals), batch):
            group = portals[i:i + batch]
            validators = a.crawl_lookup(sorted({h for p in group for h in p.allowed_hosts})).validators()
            publish_pages(a, store, validators)
            more = f"-and-{len(group) - 1}" if len(group) > 1 else ""
            task_id = f"crawl-{group[0].name}{more}-{uuid.uuid4().hex[:12]}"
            profile = asdict(group[0]) if len(group) == 1 else [asdict(p) for p in group]
            try:
                crawl_portal.apply_async(args=[profile, store.url, validators,
                                               {"browser": browser, **({"timeout": timeout} if timeout else {})}],
                                         task_id=task_id)
            except OperationalError as e:
                raise BrokerUnreachable(f"cannot reach the broker at {_safe(broker)}: {e}") from e
            out.append(TaskState(group[0].name, task_id, extra={"validators": len(validators)},
                                 portals=[p.name for p in group]))
            log.info("queued the crawl of %s as %s (%d validators)", ", ".join(p.name for p in group), task_id,
                     len(validators))
    return out


def wait_and_import(archive_dir: Path | str, tasks: list[TaskState], shared: str, *,
                    deadline: float | None = None, stop: threading.Event | None = None,
                    on_change: Callable[[list[TaskState]], None] | None = None, keep: bool = False,
                    poll: float = 0.5, until_first: bool = False) -> list[TaskState]:
    """Wait for the tasks (or, ``until_first``, for one of them); import each hand-over as it
    completes. Tasks still out at the deadline (or a stop) are left ``waiting``: :func:`import_pending`
    takes them in later."""
    from celery.result import AsyncResult

    from crawler.tasks import app

    store = SharedStore(shared)
    open_ = [t for t in tasks if t.state in ("queued", "running")]
    looked = time.monotonic()
    while open_:
        changed = False
        # The result store says when a task is done; the shared location is asked too, but only now and
        # then (a read per task per poll, on S3, would cost more than the waiting): it answers for a
        # result the store lost or let expire.
        look = time.monotonic() - looked > MANIFEST_EVERY
        if look:
            looked = time.monotonic()
        for t in list(open_):
            res = AsyncResult(t.task_id, app=app)
            state = res.state
            if state == "STARTED" and t.state != "running":
                t.state, t.worker = "running", (res.info or {}).get("hostname") if isinstance(res.info, dict) else None
                changed = True
            if state == "SUCCESS" or (look and manifest_of(store, t.task_id) is not None):
                _take(archive_dir, store, t, keep)
                open_.remove(t)
                changed = True
            elif state in ("FAILURE", "REVOKED"):
                t.state, t.error = "failed", f"the task failed on its worker: {res.result!r}"[:500]
                open_.remove(t)
                changed = True
        if changed and on_change:
            on_change(tasks)
        if not open_ or (until_first and len(open_) < len(tasks)):
            break
        if (stop is not None and stop.is_set()) or (deadline is not None and time.monotonic() > deadline):
            for t in open_:
                t.state = "waiting"
            break
        time.sleep(poll)
    if on_change:
        on_change(tasks)
    return tasks


def _take(archive_dir: Path | str, store: SharedStore, t: TaskState, keep: bool) -> None:
    with Archive.open(archive_dir) as a:
        manifest, result = import_handover(a, store, t.task_id, remove=not keep)
        a.reindex(only_pending=True)
    t.state, t.manifest, t.run_id, t.worker = "imported", manifest, manifest.get("run_id"), manifest.get("worker")
    t.pages = manifest.get("pages") or 0
    t.new_reports = result.new_reports if result else 0
    if result:
        t.extra.update(parsed_here=result.parsed_here, parse_results_used=result.parse_results_used)


def import_pending(archive_dir: Path | str, shared: str, *, keep: bool = False,
                   on_import: Callable[[dict], None] | None = None) -> list[dict]:
    """Import every complete hand-over in the shared location not imported yet; ``on_import`` hears of each."""
    store = SharedStore(shared)
    done = []
    with Archive.open(archive_dir) as a:
        known = a.imported_handovers()
        for task_id in complete_handovers(store):
            if task_id in known:
                if not keep:
                    store.remove("handover", task_id)
                continue
            manifest, result = import_handover(a, store, task_id, remove=not keep)
            done.append({"task_id": task_id, "portal": manifest["portal"], "run_id": manifest.get("run_id"),
                         "new_reports": result.new_reports if result else 0})
            if on_import:
                on_import(done[-1])
        if done:
            a.reindex(only_pending=True)
    return done


def crawl_remote(archive_dir: Path | str, portals: list[PortalProfile], broker: str, shared: str, *,
                 browser: str = "auto", timeout: float | None = None, window: int = 500, batch: int = 1,
                 on_change: Callable[[list[TaskState]], None] | None = None) -> list[TaskState]:
    """``nianbao crawl --broker``: the portals as tasks of ``batch`` each, at most ``window`` tasks out at
    once (a national list of 100,000 portals, each task carrying its validators, would otherwise sit in
    Redis's memory), importing each hand-over as it comes."""
    import_pending(archive_dir, shared)
    todo = list(portals)
    tasks: list[TaskState] = []

    def notify(_) -> None:
        if on_change:
            on_change(tasks)

    while True:
        out = [t for t in tasks if t.state in ("queued", "running")]
        if todo and len(out) < window:
            sent = enqueue_crawls(archive_dir, todo[:(window - len(out)) * batch], broker, shared, browser=browser,
                                  timeout=timeout, batch=batch)
            del todo[:sum(len(t.names) for t in sent)]
            tasks += sent
            out += sent
            if on_change:
                on_change(tasks)
        if not out:
            return tasks
        wait_and_import(archive_dir, out, shared, on_change=notify, until_first=bool(todo))


# -- parsing at scale ---------------------------------------------------------------------------------

def remote_parse(archive: Archive, broker: str, shared: str, *, window: int = 256) -> ParseStep:
    """The parse step that sends originals to the workers (``parse_document``), at most ``window`` tasks
    out at once, for ``Archive.reparse(parse_with=…)``: the archive's one examine loop places the results."""
    import functools

    from crawler.tasks import configure

    check_broker(broker)
    configure(broker)
    return functools.partial(parse_on_workers, archive.read_blob, SharedStore(shared), broker=broker, window=window)


def parse_on_workers(read_blob: Callable[[str], bytes], store: SharedStore, items: list[tuple[str, dict]], *,
                     broker: str, window: int = 256) -> Iterator[tuple[str, dict, ParseResult]]:
    """The parse step of :func:`remote_parse`: each original to the shared location and out as a
    ``parse_document`` task, at most ``window`` at once; yield each result as it arrives (a task that
    failed on its worker is logged and left out)."""
    import zstandard
    from celery.exceptions import TimeLimitExceeded
    from celery.result import AsyncResult

    from archive.examine.workers import ParseLimits
    from archive.parser import ParseResult
    from crawler.tasks import parse_document

    limits = ParseLimits.from_env()  # the time limit holds on the workers too (Celery's hard limit kills the child)
    todo = list(items)
    out: dict[str, tuple[str, dict]] = {}  # task id -> (sha, hint)
    unzstd = zstandard.ZstdDecompressor()
    while todo or out:
        while todo and len(out) < window:
            sha, hint = todo.pop(0)
            store.put_blob(sha, read_blob(sha))
            task_id = f"parse-{sha[:16]}-{uuid.uuid4().hex[:8]}"
            try:
                parse_document.apply_async(args=[sha, {k: v for k, v in hint.items() if k != "docx"}, store.url],
                                           task_id=task_id, time_limit=limits.seconds_for(hint.get("size")))
            except OperationalError as e:
                raise BrokerUnreachable(f"cannot reach the broker at {_safe(broker)}: {e}") from e
            out[task_id] = (sha, hint)
        for task_id in list(out):
            res = AsyncResult(task_id, app=parse_document.app)
            if res.state == "SUCCESS":
                sha, hint = out.pop(task_id)
                data = json.loads(unzstd.decompress(store.read_bytes(*res.result["result"].split("/"))))
                res.forget()
                yield sha, hint, ParseResult.from_dict(data)
            elif res.state in ("FAILURE", "REVOKED"):
                sha, hint = out.pop(task_id)
                log.error("parsing %s failed on its worker: %r", sha, res.result)
                if isinstance(res.result, TimeLimitExceeded):  # the document's doing: a failed parse, counted
                    why = (f"parsing stopped on its worker after {limits.seconds_for(hint.get('size')):.0f} s, "
                           f"the limit for its size (NIANBAO_PARSE_SECONDS, NIANBAO_PARSE_SECONDS_PER_MB)")
                    yield sha, hint, ParseResult(kind=hint.get("kind") or "other", report={"warnings": [why]},
                                                 is_report=False, error=why)
        if out:
            time.sleep(0.05)
