"""Compliance: for each portal, agency and year, was the annual report published by its deadline?

The deadline is the law's (条例 2019 第四十九条): a department publishes its report by 31 January of
the next year, a 县级以上人民政府's government-wide report is due by 31 March; reports on 2018 and
earlier fell under the 2008 条例 (31 March for all). A profile's ``deadline = "MM-DD"`` overrides it.

What the verdict rests on is kept beside it (``source``): the date the portal printed (the page's meta
or info line, or the date beside the link on a list page), else the day we first archived it. A report
first seen after the deadline is only called late when a finished harvest after the deadline had
looked for it and not found it; otherwise the verdict is ``undated``. A missing report is only called
missing when a finished harvest after its deadline looked for it (else ``unchecked``).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime

from archive.extract.published import plausible
from archive.parser import agency_key

STATUSES = ("on_time", "late", "undated", "missing", "unchecked", "not_due")
GOVERNMENT = re.compile(r"(人民政府|[省市县区州盟旗]政府)$")
TOWNSHIP = re.compile(r"(乡|镇|街道|苏木)(人民)?政府$")


@dataclass
class PortalScope:
    """What coverage needs of a portal profile (the archive does not read profiles itself)."""

    name: str
    hosts: list[str]
    agency: str | None = None
    deadline: str | None = None  # "MM-DD", overriding the law's


@dataclass
class Verdict:
    portal: str
    agency: str
    year: int
    status: str
    deadline: str
    published: str | None = None
    source: str | None = None  # what ``published`` rests on
    first_seen: str | None = None
    days_late: int | None = None
    report_id: int | None = None
    evidence: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def deadline(agency: str | None, year: int, override: str | None = None) -> date:
    """The day by which the report on ``year`` must be public."""
    if override:
        month, day = (int(x) for x in override.split("-"))
        return date(year + 1, month, day)
    if year <= 2018:
        return date(year + 1, 3, 31)
    name = (agency or "").strip()
    if GOVERNMENT.search(name) and not TOWNSHIP.search(name):
        return date(year + 1, 3, 31)
    return date(year + 1, 1, 31)


def _day(iso_text: str) -> date:
    """A catalog time (UTC) as the day in China, where deadlines are counted."""
    from zoneinfo import ZoneInfo

    t = datetime.fromisoformat(iso_text.replace("Z", "+00:00"))
    return t.astimezone(ZoneInfo("Asia/Shanghai")).date()


def published_evidence(archive, report_id: int, hosts: list[str], year: int, today: date) -> tuple[
        date | None, str | None, str | None]:
    """(earliest plausible printed date, where it was read, first-seen time) for one report on these hosts.

    The dates were read when each document was examined (``documents.published_dates``, see
    :mod:`archive.examine.context`); no original is opened here. A catalog older than migration 7,
    opened read-only, has no such column: its verdicts rest on first-seen days until it is opened for
    writing and its pages re-examined (``nianbao reparse`` or the next crawl).
    """
    c = archive.catalog
    marks = ",".join("?" * len(hosts))
    dates = "d.published_dates" if "published_dates" in c.db["documents"].columns_dict else "NULL AS published_dates"
    caps = list(c.rows(f"""
        SELECT k.url, k.final_url, k.referrer, k.fetched_at, d.kind, d.sha256, {dates}
        FROM documents d JOIN captures k ON k.sha256 = d.sha256
        WHERE d.report_id = ? AND k.host IN ({marks}) ORDER BY k.fetched_at""", (report_id, *hosts)))
    if not caps:
        return None, None, None
    best: tuple[date, str] | None = None
    seen: set[tuple] = set()
    for k in caps:
        printed = json.loads(k["published_dates"] or "[]")
        found = None
        if k["kind"] == "html" and ("page", k["sha256"]) not in seen:
            seen.add(("page", k["sha256"]))
            found = next((d for d in printed if not d.get("referrer")), None)
            where = k["final_url"] or k["url"]
        elif k["kind"] != "html" and k["referrer"] and ("ref", k["referrer"], k["url"]) not in seen:
            seen.add(("ref", k["referrer"], k["url"]))
            found = next((d for d in printed if (d.get("referrer"), d.get("url")) == (k["referrer"], k["url"])), None)
            where = found["where"] if found else None
        if found is None:
            continue
        day = date.fromisoformat(found["date"])
        if plausible(day, year, today) and (best is None or day < best[0]):
            best = (day, f"{found['how']} of {where}")
    return (best[0] if best else None), (best[1] if best else None), caps[0]["fetched_at"]


def finished_crawls(archive, portal: str) -> list[date]:
    """Days on which a crawl of this portal finished (status ok), oldest first."""
    days = []
    for r in archive.catalog.rows("SELECT portals, ended_at FROM runs WHERE kind = 'crawl' AND status = 'ok' "
                                  "AND ended_at IS NOT NULL ORDER BY ended_at"):
        if portal in json.loads(r["portals"] or "[]"):
            days.append(_day(r["ended_at"]))
    return days


def coverage(archive, portals: list[PortalScope], *, year: int | None = None,
             today: date | None = None) -> list[Verdict]:
    """One verdict per portal, agency and year (``year`` alone, or every year from the first report
    found on the portal up to the last one whose reporting period has ended)."""
    today = today or datetime.now(UTC).date()
    out: list[Verdict] = []
    for p in portals:
        if not p.hosts:
            continue
        marks = ",".join("?" * len(p.hosts))
        found = list(archive.catalog.rows(f"""
            SELECT DISTINCT r.id, r.agency, r.agency_key, r.year FROM reports r
            JOIN documents d ON d.report_id = r.id JOIN captures k ON k.sha256 = d.sha256
            WHERE k.host IN ({marks}) AND r.year IS NOT NULL ORDER BY r.year""", tuple(p.hosts)))
        agencies: dict[str, str] = {}
        if p.agency:
            agencies[agency_key(p.agency) or p.agency] = p.agency
        for r in found:
            agencies.setdefault(r["agency_key"] or r["agency"] or "?", r["agency"] or "?")
        if not agencies:
            agencies["?"] = "(agency unknown: set `agency` in the profile)"
        crawls = finished_crawls(archive, p.name)
        first_year = min((r["year"] for r in found), default=today.year - 1)
        for key, name in agencies.items():
            mine = {r["year"]: r for r in found if (r["agency_key"] or r["agency"] or "?") == key}
            years = [year] if year is not None else list(range(min(mine, default=first_year), today.year))
            others = sorted({r["agency"] for r in found if r["agency"]} - {name}) if not mine and found else []
            for y in years:
                v = _verdict(archive, p, name, y, mine.get(y), crawls, today)
                if others:  # most often the profile spells the agency differently from its reports
                    v.evidence.append(f"no report on this portal names {name}; they name {'、'.join(others[:5])}")
                out.append(v)
    return out


def _verdict(archive, p: PortalScope, agency: str, year: int, report: dict | None, crawls: list[date],
             today: date) -> Verdict:
    due = deadline(agency, year, p.deadline)
    v = Verdict(p.name, agency, year, "", due.isoformat())
    if report is None:
        looked = [d for d in crawls if d > due]
        if today <= due:
            v.status = "not_due"
        elif looked:
            v.status = "missing"
            v.evidence.append(f"not found by the harvest of {looked[-1]}")
        else:
            v.status = "unchecked"
            v.evidence.append("no finished harvest of this portal since the deadline")
        return v
    v.report_id = report["id"]
    printed, source, first = published_evidence(archive, report["id"], p.hosts, year, today)
    v.first_seen = first
    if printed is not None:
        v.published, v.source = printed.isoformat(), source
        v.status = "on_time" if printed <= due else "late"
        v.days_late = max((printed - due).days, 0)
        return v
    seen = _day(first) if first else today
    v.published, v.source = seen.isoformat(), "first seen by nianbao (no date printed on the page)"
    if seen <= due:
        v.status = "on_time"
    else:
        before = [d for d in crawls if due < d < seen]
        if before:
            v.status, v.days_late = "late", (seen - due).days
            v.evidence.append(f"not found by the harvest of {before[-1]}; first seen {seen}")
        else:
            v.status = "undated"
            v.evidence.append("first seen after the deadline, with no earlier harvest to show it was not there")
    return v
