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
