"""Recurring harvests with APScheduler 3.x: keep every portal's archive current, through restarts.

``nianbao schedule start`` (or ``python scheduler.py start``) runs this as a foreground service::

    from scheduler import Service
    Service("nianbao-archive").run()          # until SIGTERM / Ctrl-C

- **What and when.** Every profile in the archive's ``portals/`` and its portal registry (plus the bundled
  ones named in ``schedule.toml``) is a job with its own trigger: the profile's ``schedule`` crontab lines, else the
  default, daily in report season (January–April) and monthly otherwise (:mod:`spiders.cron`).
- **Persistence.** Jobs live in ``schedule.db`` (SQLAlchemy job store, SQLite) in the archive, so the
  next run times survive a restart. A run missed while the service was down is made up **once** on
  start: ``coalesce=True`` and ``misfire_grace_time=None`` (no limit: a late harvest is always better
  than a skipped one, and coalescing keeps it to one). A harvest cut short by a stop or a crash is
  resumed at once on the next start.
- **One scheduler per archive.** APScheduler 3 pickles jobs and its job store must not be shared by two
  schedulers: ``scheduler.lock`` (an ``flock``, gone with its process even after kill -9) refuses a second.
- **Each harvest in its own process** (Scrapy's reactor cannot restart), under a time limit, with its
  outcome in the catalog's ``harvests`` table whatever happens (:mod:`crawler.harvest`); at most
  ``concurrent`` harvests at once, never two of one portal.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import signal
import sys
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.exc import SQLAlchemyError

from archive import Archive
from archive.catalog import harvests
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
    batch: int = 1  # with a broker: portals per task (small portals are cheaper crawled a few to a process)

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

    tick: float = 60.0  # the longest the scheduler sleeps between looks at the job store

    def now(self, tz=None) -> datetime:
        return datetime.now(tz)


class FileClock(Clock):
    """Time stands at whatever ISO datetime the file holds, so a test (even in another process) can
    set it; the scheduler looks at it five times a second."""

    tick = 0.2

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

def job_id(portal: str) -> str:
    return f"harvest:{portal}"


class _Executor(ThreadPoolExecutor):
    """Remembers each job's scheduled time as it is submitted: APScheduler does not pass it to the job."""

    def __init__(self, max_workers: int, scheduled: dict) -> None:
        super().__init__(max_workers)
        self.scheduled = scheduled

    def submit_job(self, job, run_times):
        self.scheduled[job.id] = run_times[-1]
        super().submit_job(job, run_times)


class _Scheduler(BackgroundScheduler):
    """Never sleeps longer than the clock's tick: a wall clock that jumps (suspend, NTP) or a test
    clock set by hand is noticed within a tick."""

    tick = 60.0

    def _process_jobs(self):
        wait = super()._process_jobs()
        return self.tick if wait is None else min(wait, self.tick)


Runner = Callable[..., list[dict]]
_ACTIVE: Service | None = None  # the service of this process, for the job function


def scheduled_harvest(archive_dir: str, portal: str) -> None:
    """What every job runs (the job store stores this function by name, not the service)."""
    if _ACTIVE is None:
        raise RuntimeError("no scheduler service is running in this process")
    _ACTIVE.run_job(portal)


class SchedulerRunning(RuntimeError):
    """A second scheduler on an archive that has one."""


class Service:
    """The scheduler of one archive: lock, job store, jobs synced with the profiles, harvests."""

    def __init__(self, archive_dir: Path | str, *, config: ScheduleConfig | None = None,
                 clock: Clock | None = None, runner: Runner | None = None) -> None:
        from crawler.harvest import harvest

        self.archive_dir = Path(archive_dir)
        self.config = config or ScheduleConfig.load(self.archive_dir)
        self.clock = clock or clock_from_env()
        self.runner = runner or harvest
        self.stopping = threading.Event()
        self.scheduled: dict[str, datetime] = {}
        self.resume: set[str] = set()
        self.lock = FileLock(self.archive_dir / LOCK_FILE, f"the scheduler of the archive {self.archive_dir}")
        self.scheduler: _Scheduler | None = None
        self.running: set[str] = set()
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

    # start and stop
    def start(self) -> Service:
        global _ACTIVE
        try:
            self.lock.acquire(what="scheduler")
        except LockHeld as e:
            h = e.holder
            raise SchedulerRunning(
                f"a scheduler is already running on {self.archive_dir} (pid {h.get('pid')} on {h.get('host')}, "
                f"since {h.get('since')}); stop it first (SIGTERM), or give another --archive") from None
        try:
            install_clock(self.clock)
            with Archive.open(self.archive_dir) as a:
                if lost := a.harvest_log.recover():
                    log.warning("harvests %s were cut off by a crash; they resume now", lost)
            if self.config.broker:
                self._import_handovers()
            sched = _Scheduler(
                jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{self.archive_dir / JOBSTORE_FILE}")},
                executors={"default": _Executor(self.config.remote_concurrent if self.config.broker
                                                else self.config.concurrent, self.scheduled)},
                job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
                timezone=ZoneInfo(self.config.timezone))
            sched.tick = self.clock.tick
            self.scheduler = sched
            _ACTIVE = self
            sched.start(paused=True)
            changes = self.sync_jobs()
            sched.resume()
        except BaseException:
            if self.scheduler is not None and self.scheduler.running:
                self.scheduler.shutdown(wait=False)
            _ACTIVE = None
            self.lock.release()
            raise
        log.info("scheduler started on %s (pid %d): %d portal(s); %s", self.archive_dir, os.getpid(),
                 len(sched.get_jobs()), ", ".join(f"{k} {len(v)}" for k, v in changes.items() if v) or "no changes")
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
        global _ACTIVE
        self.stopping.set()
        if self.scheduler is not None and self.scheduler.running:
            if self.running:
                log.info("stopping: asking %d running harvest(s) (%s) to save what they fetched",
                         len(self.running), ", ".join(sorted(self.running)))
            self.scheduler.shutdown(wait=True)
        _ACTIVE = None
        self.lock.release()
        log.info("scheduler stopped")

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

    # jobs
    def sync_jobs(self) -> dict[str, list[str]]:
        """Make the job store match the profiles, keeping stored next run times (that is what makes a
        missed run visible after a restart); a changed schedule is rescheduled from now."""
        assert self.scheduler is not None
        portals = self.portals()
        with Archive.open(self.archive_dir) as a:
            last = a.harvest_log.last(portals)
        changes: dict[str, list[str]] = {"added": [], "rescheduled": [], "removed": [], "resumed": []}
        existing = {j.id: j for j in self.scheduler.get_jobs()}
        now = self.clock.now(ZoneInfo(self.config.timezone))
        for name, profile in portals.items():
            trig = cron.trigger(self.config.lines(profile), name, self.config.timezone)
            spec = self.config.spec(profile)
            job = existing.pop(job_id(name), None)
            if job is None:
                self.scheduler.add_job("scheduler:scheduled_harvest", trig, id=job_id(name), name=spec,
                                       args=[str(self.archive_dir.resolve()), name],
                                       next_run_time=trig.get_next_fire_time(None, now))
                changes["added"].append(name)
            elif job.name != spec:
                job.modify(name=spec)
                job.reschedule(trig)
                changes["rescheduled"].append(name)
            if last.get(name, {}).get("outcome") in harvests.UNFINISHED:
                self.resume.add(name)
                self.scheduler.modify_job(job_id(name), next_run_time=now)
                changes["resumed"].append(name)
        for jid in existing:
            self.scheduler.remove_job(jid)
            changes["removed"].append(jid.removeprefix("harvest:"))
        return changes

    def run_job(self, portal: str) -> None:
        """One scheduled harvest. Never raises: a failure is on record and the scheduler goes on."""
        tz = ZoneInfo(self.config.timezone)
        when = self.scheduled.pop(job_id(portal), None)
        now = self.clock.now(tz)
        if portal in self.resume:
            self.resume.discard(portal)
            trigger = "resume"
        else:
            trigger = "catch-up" if when is not None and now - when > CATCH_UP_AFTER else "schedule"
        profile = self.portals().get(portal)
        if profile is None:
            log.warning("portal %s has no profile any more; not harvested", portal)
            return
        self.running.add(portal)
        try:
            rows = self.runner(self.archive_dir, [profile], trigger=trigger,
                               scheduled_for=when.isoformat() if when else None,
                               timeout=self.config.timeout_minutes * 60, stop=self.stopping,
                               lock_wait=self.config.lock_wait_minutes * 60,
                               crawl_kwargs={"browser": self.config.browser}, remote=self.config.remote)
            for r in rows:
                log.info("%s harvest of %s: %s, %s pages, %s new documents, %s new reports%s", r["trigger"],
                         r["portal"], r["outcome"], r["pages"], r["new_documents"], r["new_reports"],
                         f" — {r['reason']}" if r["reason"] else "")
        except Exception as e:  # the harvest machinery itself failed: record it and keep scheduling
            log.exception("harvest of %s failed", portal)
            try:
                with Archive.open(self.archive_dir) as a:
                    hid = a.harvest_log.begin(portal, trigger, when.isoformat() if when else None)
                    a.harvest_log.finish(hid, "crashed", f"{type(e).__name__}: {e}")
            except Exception:
                log.exception("could not record the failed harvest of %s", portal)
        finally:
            self.running.discard(portal)


# -- reading the schedule without a scheduler ------------------------------------------------------

def scheduler_holder(archive_dir: Path | str) -> dict | None:
    """Who runs the scheduler of this archive now (pid, host, since), or None."""
    path = Path(archive_dir) / LOCK_FILE
    try:
        FileLock(path, "probe").acquire().release()
    except LockHeld as e:
        return e.holder or read_holder(path) or {}
    return None


def stored_next_runs(archive_dir: Path | str) -> dict[str, datetime | None]:
    """Next run times from the job store, read through APScheduler's own job store, opened read-only
    (no second scheduler starts on it)."""
    path = Path(archive_dir) / JOBSTORE_FILE
    if not path.exists():
        return {}
    store = SQLAlchemyJobStore(url=f"sqlite:///file:{path.resolve()}?mode=ro&uri=true")
    try:
        return {job.id: job.next_run_time for job in store.get_all_jobs()}
    except SQLAlchemyError:  # no jobs table yet, or a job it could not restore (and may not remove)
        return {}
    finally:
        store.shutdown()


def schedule_list(archive_dir: Path | str, *, config: ScheduleConfig | None = None,
                  clock: Clock | None = None) -> dict:
    """Each scheduled portal: its schedule, last harvest and outcome, next run; and the scheduler's state."""
    archive_dir = Path(archive_dir)
    config = config or ScheduleConfig.load(archive_dir)
    clock = clock or clock_from_env()
    tz = ZoneInfo(config.timezone)
    now = clock.now(tz)
    portals = scheduled_portals(archive_dir, config)
    stored = stored_next_runs(archive_dir)
    last: dict[str, dict] = {}
    if (archive_dir / "catalog.db").exists():
        with Archive.open(archive_dir, readonly=True) as a:
            last = a.harvest_log.last(portals)
    rows = []
    for name, p in portals.items():
        nxt = stored.get(job_id(name)) if job_id(name) in stored else \
            cron.trigger(config.lines(p), name, config.timezone).get_next_fire_time(None, now)
        h = last.get(name)
        rows.append({"portal": name, "agency": p.agency, "schedule": config.spec(p),
                     "next_run": nxt.astimezone(tz).isoformat() if nxt else None,
                     "next_run_stored": job_id(name) in stored,
                     "last_run": h and {k: h[k] for k in ("started_at", "ended_at", "trigger", "outcome", "reason",
                                                          "pages", "new_documents", "new_reports", "blocked",
                                                          "errors")}})
    return {"archive": str(archive_dir), "scheduler": scheduler_holder(archive_dir), "timezone": config.timezone,
            "default": config.default, "portals": rows}


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
    return harvest(archive_dir, [known_now[n] for n in names], trigger="run-now", lock_wait=0,
                   timeout=config.timeout_minutes * 60,
                   crawl_kwargs={"browser": config.browser, **(crawl_kwargs or {})}, remote=config.remote)


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
