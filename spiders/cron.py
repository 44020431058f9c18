"""When to harvest a portal, as crontab lines: the defaults and their reading into APScheduler triggers.

Reports are due by 31 January (departments) and 31 March (people's governments), and in practice appear
from January to March, with corrections into April. So by default each portal is harvested **every day
from January to April** and **on the 1st of every other month** (reports get revised, columns move).

An ``H`` in the minute or hour field (as in Jenkins) stands for a number drawn from the portal's name,
so a thousand portals on the default schedule do not all start in the same minute, and each keeps its
own minute from run to run.
"""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

# minute hour day-of-month month day-of-week
DEFAULT_SCHEDULE = ("H H(1-5) * 1-4 *", "H H(1-5) 1 5-12 *")
DEFAULT_TIMEZONE = "Asia/Shanghai"


class ScheduleError(ValueError):
    """A crontab line that cannot be read; the message names it."""


def expand(line: str, seed: str) -> str:
    """Replace ``H`` (0–59 minutes, 0–23 hours) and ``H(a-b)`` by numbers drawn from ``seed``; write
    weekday numbers as names."""
    fields = line.split()
    if len(fields) != 5:
        raise ScheduleError(f"{line!r} is not a crontab line (minute hour day month weekday)")
    out = []
    for i, f in enumerate(fields[:2]):
        span = (0, 59) if i == 0 else (0, 23)
        if f.startswith("H(") and f.endswith(")"):
            try:
                span = tuple(int(x) for x in f[2:-1].split("-"))  # type: ignore[assignment]
            except ValueError:
                raise ScheduleError(f"{line!r}: {f} should be H(a-b)") from None
            f = "H"
        if f == "H":
            lo, hi = span
            f = str(lo + zlib.crc32(f"{seed}/{i}".encode()) % (hi - lo + 1))
        out.append(f)
    return " ".join([*out, *fields[2:4], weekdays(fields[4])])


DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def weekdays(field: str) -> str:
    """Crontab weekday numbers (0 or 7 = Sunday) as names. APScheduler 3 numbers weekdays from Monday
    = 0, so ``from_crontab("… 1")`` would fire on Tuesdays; names mean the same to both."""
    if field == "*" or any(ch.isalpha() for ch in field):
        return field
    days: list[int] = []
    for item in field.split(","):
        base, _, step = item.partition("/")
        if base == "*":
            lo, hi = 0, 6
        elif "-" in base:
            lo, hi = (int(x) for x in base.split("-"))
        else:
            lo = hi = int(base)
            if step:
                hi = 6
        if not (0 <= lo <= 7 and 0 <= hi <= 7 and lo <= hi):
            raise ScheduleError(f"weekday field {field!r}: days run from 0 (Sunday) to 7 (Sunday)")
        days += range(lo, hi + 1, int(step) if step else 1)
    names = dict.fromkeys(DAY_NAMES[d] for d in days)
    return ",".join(names)


def trigger(lines: list[str] | tuple[str, ...], seed: str, timezone: str = DEFAULT_TIMEZONE) -> BaseTrigger:
    """One APScheduler trigger firing whenever any of the crontab lines does."""
    if not lines:
        raise ScheduleError("a schedule needs at least one crontab line")
    triggers = []
    for line in lines:
        try:
            triggers.append(CronTrigger.from_crontab(expand(line, seed), timezone=timezone))
        except ValueError as e:
            raise ScheduleError(f"cannot read the crontab line {line!r}: {e}") from e
    return triggers[0] if len(triggers) == 1 else OrTrigger(triggers)


def spec(lines: list[str] | tuple[str, ...], seed: str, timezone: str = DEFAULT_TIMEZONE) -> str:
    """The schedule as stored and shown: the expanded lines and the zone (a change means reschedule)."""
    return " | ".join(expand(line, seed) for line in lines) + f" ({timezone})"


class Calendar:
    """Fire times of many portals' schedules at once. A portal's schedule is known by its signature (:func:`spec`:
    the expanded lines and the zone); portals share few of them (the default has 300: an ``H`` minute times an
    hour from 1 to 5), so each distinct one is built once and its answers are remembered for as long as they hold
    (the next fire time after ``t`` is the same for every ``t`` up to it)."""

    def __init__(self, timezone: str = DEFAULT_TIMEZONE) -> None:
        self.timezone = timezone
        self._triggers: dict[str, BaseTrigger] = {}
        self._next: dict[str, tuple[datetime, datetime | None]] = {}  # signature → (asked at, answer)
        self._last: dict[str, tuple[datetime, datetime | None]] = {}  # signature → (latest fire, next fire)

    def signature(self, lines: list[str] | tuple[str, ...], seed: str) -> str:
        sig = spec(lines, seed, self.timezone)
        if sig not in self._triggers:
            self._triggers[sig] = trigger(lines, seed, self.timezone)
        return sig

    def knows(self, sig: str) -> bool:
        return sig in self._triggers

    def next_after(self, sig: str, t: datetime) -> datetime | None:
        """The first fire time strictly after ``t`` (None: never again)."""
        hit = self._next.get(sig)
        if hit is not None and hit[0] <= t and (hit[1] is None or t < hit[1]):
            return hit[1]
        # CronTrigger rounds up to the next whole second: a microsecond past ``t`` means strictly after it
        nxt = self._triggers[sig].get_next_fire_time(None, t + timedelta(microseconds=1))
        self._next[sig] = (t, nxt)
        return nxt

    def at_or_after(self, sig: str, t: datetime) -> datetime | None:
        """The first fire time at ``t`` or after."""
        return self.next_after(sig, t - timedelta(microseconds=1))

    def latest(self, sig: str, t: datetime) -> datetime | None:
        """The last fire time at ``t`` or before (None: none in the past five years)."""
        hit = self._last.get(sig)
        if hit is not None and hit[0] <= t and (hit[1] is None or t < hit[1]):
            return hit[0]
        for back in (timedelta(days=1), timedelta(days=32), timedelta(days=367), timedelta(days=5 * 366)):
            fire = self.next_after(sig, t - back)
            if fire is not None and fire <= t:
                while (after := self.next_after(sig, fire)) is not None and after <= t:
                    fire = after
                self._last[sig] = (fire, after)
                return fire
        return None
