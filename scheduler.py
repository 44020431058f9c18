"""Recurring harvests for up to 100,000 portals: keep every portal's archive current, through restarts.

``nianbao schedule start`` (or ``python scheduler.py start``) runs this as a foreground service::

    from scheduler import Service
    Service("nianbao-archive").run()          # until SIGTERM / Ctrl-C

- **What and when.** Every profile in the archive's ``portals/`` and its portal registry (plus the bundled
  ones named in ``schedule.toml``) is harvested on its ``schedule`` crontab lines, else the default, daily in report
  season (January–April) and monthly otherwise (:mod:`spiders.cron`).
- **The frontier.** Each portal's next due time, last success, failures in a row and back-off are a row of
  the catalog's ``frontier`` table (:mod:`archive.catalog.frontier`), not an APScheduler job each: one job,
  the *wave* (every 10 s, and again as each harvest ends), picks the due portals by an indexed query and
  hands them to ``concurrent`` threads. Start syncs the rows with the profiles in one transaction, computing
  times once per distinct schedule (:class:`spiders.cron.Calendar`). A run missed while the service was down
  is made up **once** on start (its ``next_due`` is past; the runs missed coalesce into the latest). A harvest
  cut short by a stop or a crash is resumed at once on the next start. A portal failing again and again
  backs off (1 h, 2 h, 4 h … 7 days, then its next regular time) and ``schedule list`` shows it.
- **One scheduler per archive**: ``scheduler.lock`` (an ``flock``, gone with its process even after kill -9)
  refuses a second. The per-portal jobs of before (``schedule.db``) are taken over and removed on start.
- **Each harvest in its own process** (Scrapy's reactor cannot restart), under a time limit, with its
  outcome in the catalog's ``harvests`` table whatever happens (:mod:`crawler.harvest`); at most
  ``concurrent`` harvests at once, never two of one portal.
"""

from __future__ import annotations

import concurrent.futures
import logging
import logging.handlers
import os
import signal
import sys
import threading
import time
import tomllib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from sqlalchemy.exc import SQLAlchemyError

from archive import Archive
from archive.errors import LockHeld
from archive.store.locks import FileLock, read_holder
from spiders import cron
from spiders import registry as portal_registry
from spiders.profiles import PortalProfile, ProfileError, load, load_all

CONFIG_FILE = "schedule.toml"
JOBSTORE_FILE = "schedule.db"
LOCK_FILE = "scheduler.lock"
CLOCK_ENV = "NIANBAO_CLOCK"  # a file holding an ISO time: the scheduler's "now" (tests)
CATCH_UP_AFTER = timedelta(minutes=5)  # a run starting this long after its time is a catch-up

log = logging.getLogger("nianbao.scheduler")


class ScheduleConfigError(ValueError):
    """``schedule.toml`` cannot be read or holds a wrong value; the message says which."""


@dataclass
class ScheduleConfig:
    """``ARCHIVE/schedule.toml``; every key is optional."""

    timezone: str = cron.DEFAULT_TIMEZONE
    default: list[str] = field(default_factory=lambda: list(cron.DEFAULT_SCHEDULE))
    timeout_minutes: float = 240.0  # a harvest still running after this is ended (and resumed next time)
    concurrent: int = 2  # harvests at once (each one crawls its portal politely on its own)
    lock_wait_minutes: float = 30.0  # how long a due harvest waits for a run-now of the same portal
    bundled: list[str] = field(default_factory=list)  # bundled profiles to harvest too; ["*"] for all
    exclude: list[str] = field(default_factory=list)
    browser: str = "auto"
    broker: str | None = None  # a Celery broker (redis://…): harvests become tasks for `nianbao worker`s
    remote_concurrent: int = 64  # with a broker: harvests out on the workers at once (waiting is cheap here)
    shared: str | None = None  # where those workers hand over (default: $NIANBAO_SHARED, else ARCHIVE/shared)
    batch: int = 1  # portals per harvest: one crawl process here, or one task on the workers (small portals
    # are cheaper crawled a few to a process); `concurrent` / `remote_concurrent` count harvests

    @property
    def remote(self) -> dict | None:
        return {"broker": self.broker, "shared": self.shared, "batch": self.batch} if self.broker else None

    @classmethod
    def load(cls, archive_dir: Path | str) -> ScheduleConfig:
        path = Path(archive_dir) / CONFIG_FILE
        if not path.exists():
            return cls()
        try:
            data = tomllib.loads(path.read_text("utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise ScheduleConfigError(f"cannot read {path}: {e}") from e
        known = {f.name for f in fields(cls)}
        if unknown := set(data) - known:
            raise ScheduleConfigError(f"{path}: unknown keys {sorted(unknown)} (known: {', '.join(sorted(known))})")
        cfg = cls(**data)
        try:
            ZoneInfo(cfg.timezone)
            cron.trigger(cfg.default, "check", cfg.timezone)
        except (cron.ScheduleError, ValueError, KeyError) as e:
            raise ScheduleConfigError(f"{path}: {e}") from e
        if cfg.concurrent < 1 or cfg.timeout_minutes <= 0 or cfg.batch < 1:
            raise ScheduleConfigError(f"{path}: concurrent and batch must be ≥ 1 and timeout_minutes > 0")
        return cfg

    def lines(self, profile: PortalProfile) -> list[str]:
        return list(profile.schedule or self.default)

    def spec(self, profile: PortalProfile) -> str:
        return cron.spec(self.lines(profile), profile.name, self.timezone)


def scheduled_portals(archive_dir: Path | str, config: ScheduleConfig) -> dict[str, PortalProfile]:
    """The portals the scheduler harvests: the archive's own profiles and its registry's (a name in both is
    harvested with the TOML profile), plus the bundled ones asked for."""
    own_dir = Path(archive_dir) / "portals"
    registry = portal_registry.registered(archive_dir)
    everything = {**registry, **load_all(own_dir)}  # TOML profiles (own over bundled) win over registry rows
    own = {load(f).name for f in sorted(own_dir.glob("*.toml"))} if own_dir.is_dir() else set()
    own |= registry.keys()
    wanted = {n for n in everything if n in own or "*" in config.bundled or n in config.bundled}
    return {n: everything[n] for n in sorted(wanted - set(config.exclude))}


# -- the clock ----------------------------------------------------------------------------------

class Clock:
    """The wall clock. Tests swap in :class:`FileClock` to move time by hand."""

    tick: float = 60.0  # the longest the scheduler sleeps between looks at its jobs
    wave: float = 10.0  # how often the due portals are picked from the frontier (and as each harvest ends)

    def now(self, tz=None) -> datetime:
        return datetime.now(tz)


class FileClock(Clock):
    """Time stands at whatever ISO datetime the file holds, so a test (even in another process) can
    set it; the scheduler looks at it five times a second."""

    tick = 0.2
    wave = 0.2

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def now(self, tz=None) -> datetime:
        t = datetime.fromisoformat(self.path.read_text("utf-8").strip())
        return t.astimezone(tz) if tz else t

    def set(self, when: datetime | str) -> None:
        text = when if isinstance(when, str) else when.isoformat()
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(text, "utf-8")
        tmp.replace(self.path)


def install_clock(clock: Clock) -> None:
    """Make APScheduler read ``clock`` wherever it asks for the time (as its own tests freeze time)."""
    import apscheduler.executors.base as executors_base
    import apscheduler.schedulers.base as schedulers_base

    class _ClockedDatetime(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[override]
            return clock.now(tz)

    schedulers_base.datetime = _ClockedDatetime
    executors_base.datetime = _ClockedDatetime


def clock_from_env() -> Clock:
    return FileClock(os.environ[CLOCK_ENV]) if os.environ.get(CLOCK_ENV) else Clock()


# -- the service --------------------------------------------------------------------------------

FAILURES = ("failed", "crashed", "timeout", "interrupted")  # outcomes that count as a failure and back off
BACKOFF_FIRST = timedelta(hours=1)
BACKOFF_CAP = timedelta(days=7)
NEVER = datetime.max.replace(tzinfo=UTC)  # the next due of a schedule that never fires again


def backoff(failures: int) -> timedelta:
    """How long a portal is left alone after ``failures`` failed harvests in a row: 1 h, 2 h, 4 h … 7 days."""
    return min(BACKOFF_FIRST * 2 ** min(max(failures - 1, 0), 20), BACKOFF_CAP)


def result_of(outcome: str) -> str:
    """A harvest's outcome as the frontier counts it: ``ok``, ``failed`` (backs off), or ``other`` (skipped:
    the portal was busy; stopped: the scheduler stopped, the next start resumes)."""
    return "ok" if outcome == "ok" else "failed" if outcome in FAILURES else "other"


def job_id(portal: str) -> str:
    """A portal's job id in the per-portal job store of before the frontier (``schedule.db``)."""
    return f"harvest:{portal}"


def scheduled_harvest(archive_dir: str, portal: str) -> None:
    """What the per-portal jobs of before the frontier ran; kept so such a ``schedule.db`` can be read (to take
    its stored times over) and emptied on start. Never called now."""
    raise RuntimeError(f"per-portal scheduler jobs are gone; {portal} is scheduled through the frontier")


class _WaveTrigger(BaseTrigger):
    """Every ``seconds`` from whenever it last fired: a clock that jumps (a test's, a suspend) makes one wave,
    not one per interval skipped (an ``IntervalTrigger`` would count them all out)."""

    def __init__(self, seconds: float) -> None:
        self.interval = timedelta(seconds=seconds)

    def get_next_fire_time(self, previous_fire_time, now):
        return now + self.interval


class _Scheduler(BackgroundScheduler):
    """Never sleeps longer than the clock's tick: a wall clock that jumps (suspend, NTP) or a test
    clock set by hand is noticed within a tick."""

    tick = 60.0

    def _process_jobs(self):
        wait = super()._process_jobs()
        return self.tick if wait is None else min(wait, self.tick)


Runner = Callable[..., list[dict]]


class SchedulerRunning(RuntimeError):
    """A second scheduler on an archive that has one."""


class Service:
    """The scheduler of one archive: lock, frontier synced with the profiles, a wave that dispatches the due."""

    def __init__(self, archive_dir: Path | str, *, config: ScheduleConfig | None = None,
                 clock: Clock | None = None, runner: Runner | None = None) -> None:
        from crawler.harvest import harvest

        self.archive_dir = Path(archive_dir)
        self.config = config or ScheduleConfig.load(self.archive_dir)
        self.clock = clock or clock_from_env()
        self.runner = runner or harvest
        self.tz = ZoneInfo(self.config.timezone)
        self.calendar = cron.Calendar(self.config.timezone)
        self.slots = self.config.remote_concurrent if self.config.broker else self.config.concurrent
        self.stopping = threading.Event()
        self.resume: set[str] = set()
        self.lock = FileLock(self.archive_dir / LOCK_FILE, f"the scheduler of the archive {self.archive_dir}")
        self.scheduler: _Scheduler | None = None
        self.running: set[str] = set()  # harvests under way
        self.in_flight: set[str] = set()  # picked and not yet put down as done (running, or their outcome pending)
        self.dispatched = 0
        self._done: deque[dict] = deque()  # outcomes waiting to be written, in one transaction with the next pick
        self._dispatch = threading.Lock()  # one pick at a time; also guards the archive connection below
        self._archive: Archive | None = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._synced: dict[str, PortalProfile] | None = None
        self._portals: tuple[tuple, dict[str, PortalProfile]] = ((), {})
        self._portals_lock = threading.Lock()
        self._portals_checked = float("-inf")

    def portals(self) -> dict[str, PortalProfile]:
        """The scheduled profiles, re-read only when a profile file or the registry changed (a due burst of a
        thousand harvests would otherwise read a thousand files a thousand times)."""
        from spiders.profiles import BUNDLED

        with self._portals_lock:
            if time.monotonic() - self._portals_checked < 1.0:  # a burst looks once, not once per job
                return self._portals[1]
            key = tuple((e.path, e.stat().st_mtime_ns) for d in (self.archive_dir / "portals", BUNDLED)
                        if d.is_dir() for e in os.scandir(d) if e.name.endswith(".toml"))
            key += (portal_registry.stamp(self.archive_dir),)  # and when `nianbao portals import` changed the registry
            if key != self._portals[0]:
                self._portals = (key, scheduled_portals(self.archive_dir, self.config))
            self._portals_checked = time.monotonic()
            return self._portals[1]

    def now(self) -> datetime:
        return self.clock.now(self.tz)

    # start and stop
    def start(self) -> Service:
        try:
            self.lock.acquire(what="scheduler")
        except LockHeld as e:
            h = e.holder
            raise SchedulerRunning(
                f"a scheduler is already running on {self.archive_dir} (pid {h.get('pid')} on {h.get('host')}, "
                f"since {h.get('since')}); stop it first (SIGTERM), or give another --archive") from None
        try:
            install_clock(self.clock)
            self._archive = Archive.open(self.archive_dir)
            if lost := self._archive.harvest_log.recover():
                log.warning("harvests %s were cut off by a crash; they resume now", lost)
            if self.config.broker:
                self._import_handovers()
            with self._dispatch:
                changes = self.sync()
            self._pool = concurrent.futures.ThreadPoolExecutor(self.slots, thread_name_prefix="harvest")
            sched = _Scheduler(jobstores={"default": MemoryJobStore()}, executors={"default": ThreadPoolExecutor(1)},
                               job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
                               timezone=self.tz)
            sched.tick = self.clock.tick
            sched.add_job(self.wave, _WaveTrigger(self.clock.wave), id="wave", name="pick the due portals",
                          next_run_time=self.now())
            self.scheduler = sched
            sched.start()
        except BaseException:
            self._shut()
            raise
        log.info("scheduler started on %s (pid %d): %d portal(s); %s", self.archive_dir, os.getpid(),
                 len(self._synced or {}), ", ".join(f"{k} {len(v)}" for k, v in changes.items() if v) or "no changes")
        return self

    def _import_handovers(self) -> None:
        """Hand-overs that arrived while no one waited for them (the scheduler was down) are taken in."""
        from crawler.distributed import import_pending, shared_location

        try:
            done = import_pending(self.archive_dir, shared_location(self.archive_dir, self.config.shared))
        except Exception:  # the shared location is unreachable: say so, schedule anyway
            log.exception("could not import the workers' waiting hand-overs")
            return
        for d in done:
            log.info("imported a hand-over that arrived while no one waited: %s (%s new report(s))", d["portal"],
                     d["new_reports"])

    def stop(self) -> None:
        """Ask running harvests to save and stop, wait for them, then release the archive."""
        self.stopping.set()
        if self.running:
            log.info("stopping: asking %d running harvest(s) (%s) to save what they fetched",
                     len(self.running), ", ".join(sorted(self.running)))
        self._shut()
        log.info("scheduler stopped")

    def _shut(self) -> None:
        self.stopping.set()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=True)  # a wave under way ends first
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        if self._archive is not None:
            with self._dispatch:
                self._flush()
            self._archive.close()
            self._archive = None
        self.lock.release()

    def run(self) -> None:
        """Start, then serve until SIGTERM or SIGINT; the running harvests are saved before it returns."""
        self.start()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stopping.set())
        try:
            while not self.stopping.wait(1.0):
                pass
        finally:
            self.stop()

    # the frontier
    def sync(self) -> dict[str, list[str]]:
        """Make the frontier match the profiles (in bulk: only new portals and changed schedules get a next due
        time, computed once per distinct schedule); take over what an old per-portal job store held; make the
        harvests cut off by a stop or a crash due at once. Called under the dispatch lock."""
        assert self._archive is not None
        now = self.now()
        portals = self.portals()
        sigs = {name: self.calendar.signature(self.config.lines(p), name) for name, p in portals.items()}
        inherited = self._old_jobs()

        def next_due(name: str, sig: str) -> datetime:
            old = inherited.get(name)
            if old is not None and old[0] == sig and old[1] is not None:
                return old[1]  # a run the old store had due while down still happens once
            return self.calendar.at_or_after(sig, now) or NEVER

        changes = self._archive.frontier.sync(sigs, next_due)
        if inherited:
            self._drop_old_jobs()
            log.info("took over %d per-portal job(s) from %s and removed them", len(inherited), JOBSTORE_FILE)
        resume = [n for n in self._archive.harvest_log.unfinished() if n in sigs]
        if resume:
            self._archive.frontier.make_due(resume, now)
            self.resume.update(resume)
        changes["resumed"] = resume
        self._synced = portals
        return changes

    def _old_jobs(self) -> dict[str, tuple[str, datetime | None]]:
        """The per-portal jobs of the job store the scheduler kept before the frontier: portal → (signature,
        next run time)."""
        path = self.archive_dir / JOBSTORE_FILE
        if not path.exists():
            return {}
        store = SQLAlchemyJobStore(url=f"sqlite:///{path}")
        try:
            return {j.id.removeprefix("harvest:"): (j.name, j.next_run_time) for j in store.get_all_jobs()
                    if j.id.startswith("harvest:")}
        except SQLAlchemyError:  # no jobs table: nothing to take over
            return {}
        finally:
            store.shutdown()

    def _drop_old_jobs(self) -> None:
        """Remove the old job store once its times are in the frontier, so no job is ever dispatched twice."""
        path = self.archive_dir / JOBSTORE_FILE
        store = SQLAlchemyJobStore(url=f"sqlite:///{path}")
        try:
            store.remove_all_jobs()
        finally:
            store.shutdown()
        path.unlink(missing_ok=True)

    def wave(self) -> None:
        """The recurring job: re-sync when a profile changed, then dispatch whatever is due."""
        if self.stopping.is_set():
            return
        if self.portals() is not self._synced:
            with self._dispatch:
                if self._archive is not None and not self.stopping.is_set():
                    changes = self.sync()
                    log.info("profiles changed: %s", ", ".join(f"{k} {len(v)}" for k, v in changes.items() if v)
                             or "no changes")
        self.dispatch()

    def dispatch(self) -> int:
        """Write the finished harvests' outcomes, then fill the free slots with the longest-due portals not in
        flight (one indexed query); return how many were dispatched."""
        with self._dispatch:
            self._flush()
            if self.stopping.is_set() or self._archive is None or self._pool is None:
                return 0
            batch = max(1, self.config.batch)
            free = self.slots * batch - len(self.in_flight)  # a slot runs one harvest of up to `batch` portals
            if free <= 0:
                return 0
            rows = self._archive.frontier.due(self.now(), free, self.in_flight)
            for group in (rows[i:i + batch] for i in range(0, len(rows), batch)):
                self.in_flight.update(r["portal"] for r in group)
                try:
                    self._pool.submit(self._harvest, group)
                except RuntimeError:  # the pool is shutting down
                    self.in_flight.difference_update(r["portal"] for r in group)
                    break
                self.dispatched += len(group)
            return len(rows)

    def _flush(self) -> None:
        done = []
        while self._done:
            done.append(self._done.popleft())
        if not done:
            return
        try:
            if self._archive is not None:
                self._archive.frontier.record(done)
        except Exception:
            log.exception("could not record the outcomes of %s in the frontier", ", ".join(d["portal"] for d in done))
        for d in done:
            self.in_flight.discard(d["portal"])

    def _harvest(self, rows: list[dict]) -> None:
        """Due portals harvested together (one, or a ``batch``: one crawl process here, or one task on the
        workers), then each one's outcome to the frontier and the next pick. Never raises: a failure is on record
        and the scheduler goes on."""
        outcomes = {r["portal"]: "crashed" for r in rows}
        try:
            now = self.now()
            whens = []
            for r in rows:
                due, sig = datetime.fromisoformat(r["next_due"]), r["signature"]
                latest = self.calendar.latest(sig, now) if self.calendar.knows(sig) else None
                whens.append(max(due, latest) if latest is not None else due)  # runs missed while down: one
            when = min(whens).astimezone(self.tz)
            resumed = self.resume.intersection(outcomes)
            self.resume.difference_update(resumed)
            trigger = "resume" if resumed else "catch-up" if now - when > CATCH_UP_AFTER else "schedule"
            known = self.portals()
            for name in [n for n in outcomes if n not in known]:  # not `keys() - keys()`: that walks all 100,000
                log.warning("portal %s has no profile any more; not harvested", name)
                outcomes[name] = "skipped"
            if profiles := [known[r["portal"]] for r in rows if r["portal"] in known]:
                outcomes.update(self._run(profiles, trigger, when))
        except Exception:
            log.exception("could not dispatch the harvest of %s", ", ".join(outcomes))
        finally:
            self._done.extend(self._outcome(r, outcomes[r["portal"]]) for r in rows)
            self.dispatch()

    def _run(self, profiles: list[PortalProfile], trigger: str, when: datetime) -> dict[str, str]:
        """The harvest itself; each portal's outcome (``crashed``, and so recorded, if the machinery failed)."""
        names = [p.name for p in profiles]
        self.running.update(names)
        try:
            rows = self.runner(self.archive_dir, profiles, trigger=trigger, scheduled_for=when.isoformat(),
                               timeout=self.config.timeout_minutes * 60, stop=self.stopping,
                               lock_wait=self.config.lock_wait_minutes * 60,
                               crawl_kwargs={"browser": self.config.browser}, remote=self.config.remote)
            for r in rows:
                log.info("%s harvest of %s: %s, %s pages, %s new documents, %s new reports%s", r["trigger"],
                         r["portal"], r["outcome"], r["pages"], r["new_documents"], r["new_reports"],
                         f" — {r['reason']}" if r["reason"] else "")
            got = {r["portal"]: r["outcome"] for r in rows}
            return {n: got.get(n, "ok") for n in names}
        except Exception as e:  # the harvest machinery itself failed: record it and keep scheduling
            log.exception("harvest of %s failed", ", ".join(names))
            try:
                with Archive.open(self.archive_dir) as a:
                    for name in names:
                        hid = a.harvest_log.begin(name, trigger, when.isoformat())
                        a.harvest_log.finish(hid, "crashed", f"{type(e).__name__}: {e}")
            except Exception:
                log.exception("could not record the failed harvest of %s", ", ".join(names))
            return dict.fromkeys(names, "crashed")
        finally:
            self.running.difference_update(names)

    def _outcome(self, row: dict, outcome: str) -> dict:
        """What the frontier keeps of a harvest: done or skipped, due at the next regular time; failed, at the
        first regular time after the back-off (never sooner than its schedule, so a failing portal costs no
        extra requests, and skips runs as the failures mount); stopped, due still (the next start resumes)."""
        now, sig = self.now(), row["signature"]
        result = result_of(outcome)
        rec = {"portal": row["portal"], "outcome": outcome, "result": result, "at": now}
        if not self.calendar.knows(sig):  # its schedule changed meanwhile: the sync set its time
            return rec
        if result == "failed":
            rec["backoff_until"] = now + backoff((row["failures"] or 0) + 1)
            rec["next_due"] = self.calendar.at_or_after(sig, rec["backoff_until"]) or NEVER
        elif outcome != "stopped":
            rec["next_due"] = self.calendar.next_after(sig, now) or NEVER
        return rec


# -- reading the schedule without a scheduler ------------------------------------------------------

def scheduler_holder(archive_dir: Path | str) -> dict | None:
    """Who runs the scheduler of this archive now (pid, host, since), or None."""
    path = Path(archive_dir) / LOCK_FILE
    try:
        FileLock(path, "probe").acquire().release()
    except LockHeld as e:
        return e.holder or read_holder(path) or {}
    return None


def schedule_list(archive_dir: Path | str, *, config: ScheduleConfig | None = None,
                  clock: Clock | None = None, failing: bool = False) -> dict:
    """Each scheduled portal (or only the failing ones): its schedule, next due time, last harvest and outcome,
    last success, failures in a row and back-off; and the scheduler's state."""
    archive_dir = Path(archive_dir)
    config = config or ScheduleConfig.load(archive_dir)
    clock = clock or clock_from_env()
    tz = ZoneInfo(config.timezone)
    now = clock.now(tz)
    portals = scheduled_portals(archive_dir, config)
    cal = cron.Calendar(config.timezone)
    stored: dict[str, dict] = {}
    last: dict[str, dict] = {}
    if (archive_dir / "catalog.db").exists():
        with Archive.open(archive_dir, readonly=True) as a:
            stored = {r["portal"]: r for r in a.frontier.failing()} if failing else a.frontier.rows()
            if failing:
                portals = {n: p for n, p in portals.items() if n in stored}
            last = a.harvest_log.last(portals)
    elif failing:
        portals = {}

    def local(text: str | None) -> str | None:
        return datetime.fromisoformat(text).astimezone(tz).isoformat() if text else None

    rows = []
    for name, p in portals.items():
        sig = cal.signature(config.lines(p), name)
        fr = stored.get(name)
        known = fr is not None and fr["signature"] == sig
        nxt = local(fr["next_due"]) if known else _iso(cal.at_or_after(sig, now), tz)
        h = last.get(name)
        rows.append({"portal": name, "agency": p.agency, "schedule": sig, "next_run": nxt, "next_run_stored": known,
                     "last_ok": local(fr and fr["last_ok"]), "failures": (fr and fr["failures"]) or 0,
                     "backoff_until": local(fr and fr["backoff_until"]),
                     "backing_off": bool(fr and fr["failures"] and fr["backoff_until"]
                                         and datetime.fromisoformat(fr["backoff_until"]) > now),
                     "last_run": h and {k: h[k] for k in ("started_at", "ended_at", "trigger", "outcome", "reason",
                                                          "pages", "new_documents", "new_reports", "blocked",
                                                          "errors")}})
    return {"archive": str(archive_dir), "scheduler": scheduler_holder(archive_dir), "timezone": config.timezone,
            "default": config.default, "portals": rows,
            "failing": [r["portal"] for r in sorted(rows, key=lambda r: (-r["failures"], r["portal"]))
                        if r["failures"]]}


def _iso(when: datetime | None, tz: ZoneInfo) -> str | None:
    return when.astimezone(tz).isoformat() if when is not None and when != NEVER else None


def run_now(archive_dir: Path | str, names: list[str], *, config: ScheduleConfig | None = None,
            crawl_kwargs: dict | None = None) -> list[dict]:
    """Harvest these portals now, in this process's child, beside a running scheduler if there is one
    (the portal locks keep the two from harvesting one portal at once)."""
    from crawler.harvest import harvest

    config = config or ScheduleConfig.load(archive_dir)
    known_now = portal_registry.known(archive_dir)
    missing = [n for n in names if n not in known_now]
    if missing:
        raise ProfileError(f"no portal profile named {', '.join(missing)}; known: "
                          f"{', '.join(sorted(known_now)[:50]) or 'none'}")
    rows = harvest(archive_dir, [known_now[n] for n in names], trigger="run-now", lock_wait=0,
                   timeout=config.timeout_minutes * 60,
                   crawl_kwargs={"browser": config.browser, **(crawl_kwargs or {})}, remote=config.remote)
    # A success clears a failing portal's back-off (its next due time stays: run-now does not move the schedule).
    if ok := [r for r in rows if r["outcome"] == "ok"]:
        with Archive.open(archive_dir) as a:
            a.frontier.record([{"portal": r["portal"], "outcome": "ok", "result": "ok",
                                "at": datetime.fromisoformat(r["ended_at"] or r["started_at"])} for r in ok])
    return rows


def setup_logging(archive_dir: Path | str, level: int = logging.INFO) -> Path:
    """Log to stderr and to ``ARCHIVE/logs/scheduler.log`` (rotated at 10 MB, 5 kept)."""
    logs = Path(archive_dir) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    path = logs / "scheduler.log"
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers = [logging.StreamHandler(sys.stderr),
                logging.handlers.RotatingFileHandler(path, maxBytes=10 * 2**20, backupCount=5, encoding="utf-8")]
    root = logging.getLogger()
    for h in handlers:
        h.setFormatter(fmt)
        root.addHandler(h)
    root.setLevel(level)
    logging.getLogger("apscheduler").setLevel(logging.WARNING if level > logging.DEBUG else logging.DEBUG)
    return path


if __name__ == "__main__":  # ``python scheduler.py start|list|run-now PORTAL… [--archive DIR]``: ``nianbao schedule``
    from crawler.cli import cli

    cli.main(args=["schedule", *sys.argv[1:]], prog_name="scheduler.py")
