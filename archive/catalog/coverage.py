"""Compliance: for each agency and year, was the annual report published by its deadline?

The deadline is the law's (条例 2019 第四十九条): a department publishes its report by 31 January of
the next year, a 县级以上人民政府's government-wide report is due by 31 March; reports on 2018 and
earlier fell under the 2008 条例 (31 March for all). A profile's ``deadline = "MM-DD"`` overrides it.

Every report in the archive is judged, however it arrived; a portal profile adds its agency (judged even
with no report found) and its harvests (the proof a report was looked for). What the verdict rests on is
kept beside it (``source``): the date the portal printed (the page's meta or info line, or the date beside
the link on a list page, read at examine time), else the day a crawl or an import first met it (a file
ingested from disk says nothing of publication). A report
first seen after the deadline is only called late when a finished harvest after the deadline had
looked for it and not found it; otherwise the verdict is ``undated``. A missing report is only called
missing when a finished harvest after its deadline looked for it (else ``unchecked``).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from archive.catalog import aliases
from archive.parser.names import region_of

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
    region: str | None = None  # the first administrative unit of the agency's name, for the region x year matrix
    agency_key: str | None = None

    @property
    def explanation(self) -> str:
        """The verdict and what it rests on, in Chinese (made when asked: the matrix needs none of them)."""
        return explain(self)

    def as_dict(self) -> dict:
        # asdict's deep copy is 10× slower
        return {**self.__dict__, "evidence": list(self.evidence), "explanation": self.explanation}


def deadline(agency: str | None, year: int, override: str | None = None) -> date:
    """The day by which the report on ``year`` must be public."""
    return _deadline(government(agency), year, override)[0]


def government(agency: str | None) -> bool:
    """A 县级以上人民政府 (its government-wide report is due later than a department's)."""
    name = (agency or "").strip()
    return bool(GOVERNMENT.search(name) and not TOWNSHIP.search(name))


@functools.lru_cache(maxsize=4096)
def _deadline(is_government: bool, year: int, override: str | None) -> tuple[date, str]:
    """The deadline and its ISO text, computed once per kind of agency and year."""
    if override:
        month, day = (int(x) for x in override.split("-"))
        due = date(year + 1, month, day)
    elif year <= 2018 or is_government:
        due = date(year + 1, 3, 31)
    else:
        due = date(year + 1, 1, 31)
    return due, due.isoformat()


def _day(iso_text: str) -> date:
    """A catalog time (UTC) as the day in China, where deadlines are counted."""
    from zoneinfo import ZoneInfo

    t = datetime.fromisoformat(iso_text.replace("Z", "+00:00"))
    return t.astimezone(ZoneInfo("Asia/Shanghai")).date()


def _finished_by_portal(archive) -> dict[str, list[date]]:
    """Every portal's finished-crawl days, from one pass over the run log (not one pass per portal)."""
    out: dict[str, list[date]] = {}
    for r in archive.catalog.rows("SELECT portals, ended_at FROM runs WHERE kind = 'crawl' AND status = 'ok' "
                                  "AND ended_at IS NOT NULL ORDER BY ended_at"):
        for name in json.loads(r["portals"] or "[]"):
            out.setdefault(name, []).append(_day(r["ended_at"]))
    return out


# A printed date ``d.published`` of report ``r`` that is evidence for the report's own year: a report on Y
# cannot appear before Y's December, nor after the day judged (``:today``; ``published.plausible``). It is
# checked here, against the report, because a document of no year was dated with no such check.
PLAUSIBLE = "d.published >= (r.year || '-12-01') AND substr(d.published, 1, 10) <= :today"

# One report as coverage reads it: (id, agency, agency_key, year, first crawled or imported, hosts met on,
# earliest printed date, where it was read)
Met = tuple[int, str | None, str | None, int, str | None, str | None, str | None, str | None]


def _reports(archive, today: date, key: str | None = None, hosts: bool = True) -> list[Met]:
    """Every dated report with what its verdict rests on, in two queries whatever the archive's size:
    the earliest printed date of its documents (read at examine time), the first time a crawl or an import
    met it (a file ingested from disk says nothing of publication), and (``hosts``) the hosts it was met on.
    Tuples from the connection itself: a dict per row costs more than the queries at 10,000 reports, which
    read covering indexes only (migration 16)."""
    c = archive.catalog
    mine = "AND r.agency_key = :key" if key else ""
    printed: dict[int, tuple[str, str]] = {}
    # A catalog older than migration 7, opened read-only, has no printed dates: first-seen days only.
    if "published_dates" in c.db["documents"].columns_dict:  # both came with migration 7
        # SQLite gives a bare column the values of the row that min() chose: the earliest date's source
        printed = {rid: (day, source) for rid, day, source in c.conn.execute(
            f"SELECT d.report_id, min(d.published), d.published_source FROM documents d "
            f"JOIN reports r ON r.id = d.report_id WHERE d.published IS NOT NULL AND {PLAUSIBLE} {mine} "
            f"GROUP BY d.report_id", {"key": key, "today": today.isoformat()})}
    none = (None, None)
    return [(i, name, k, y, first, met, *printed.get(i, none)) for i, name, k, y, first, met in c.conn.execute(f"""
        SELECT r.id, r.agency, r.agency_key, r.year, min(k.fetched_at),
               {"group_concat(DISTINCT k.host)" if hosts else "NULL"}
        FROM reports r JOIN documents d ON d.report_id = r.id
        LEFT JOIN captures k ON k.sha256 = d.sha256 AND k.source != 'ingest'
        WHERE r.year IS NOT NULL {mine} GROUP BY r.id""", {"key": key})]


def coverage(archive, portals: list[PortalScope] | None = None, *, year: int | None = None,
             today: date | None = None, only_portals: bool = False, region: str | None = None,
             agency: str | None = None) -> list[Verdict]:
    """One verdict per agency and year for every report in the archive, however it arrived (a profile or
    URL crawl, ingest, an import), and for each profile's agency; years run from the agency's first report
    (``year`` alone if given) up to the last one whose reporting period has ended. A report met on a
    profile's hosts is judged against that portal's harvests; ``only_portals`` keeps those reports alone;
    ``agency`` (a name or key) one agency's history."""
    today = today or datetime.now(UTC).date()
    portals = [p for p in (portals or []) if p.hosts]
    by_host = {}
    for p in portals:
        for h in p.hosts:
            by_host.setdefault(h, p)
    crawls = _finished_by_portal(archive)
    wanted = (aliases.agency_id(archive.catalog, agency) or agency) if agency else None
    shown = aliases.display_names(archive.catalog)  # reports are filed under their agency id (merged names as one)
    agencies: dict[str, dict] = {}  # agency key -> name, portal, {year: report}
    for r in _reports(archive, today, wanted, hosts=bool(by_host)):
        if not (r[2] or r[1]):  # a report whose agency was never read belongs to no one's history
            continue
        portal = next((by_host[h] for h in sorted(r[5].split(",")) if h in by_host), None) if r[5] else None
        if only_portals and portal is None:
            continue
        key = r[2] or r[1]
        a = agencies.setdefault(key, {"name": shown.get(key) or r[1] or key, "portal": None, "reports": {}})
        a["reports"][r[3]] = r
        a["portal"] = portal or a["portal"]
    for p in portals:
        on_portal = sorted({a["name"] for a in agencies.values() if a["portal"] is p})
        if not p.agency:
            if not on_portal and not wanted:
                agencies.setdefault(f"?{p.name}", {"name": "(agency unknown: set `agency` in the profile)",
                                                   "portal": p, "reports": {}})
            continue
        key = aliases.agency_id(archive.catalog, p.agency) or p.agency
        if wanted and key != wanted:
            continue
        a = agencies.setdefault(key, {"name": shown.get(key) or p.agency, "portal": p, "reports": {}})
        a["portal"] = a["portal"] or p
        if not a["reports"] and on_portal:  # most often the profile spells the agency differently from its reports
            a["others"] = [n for n in on_portal if n != p.agency]
            a["first"] = min((y for b in agencies.values() if b["portal"] is p for y in b["reports"]),
                             default=today.year - 1)
    out: list[Verdict] = []
    for key, a in agencies.items():
        where = region_of(a["name"])
        if region and where != region:
            continue
        p = a["portal"]
        days = crawls.get(p.name, []) if p else []
        first = min(a["reports"], default=a.get("first", today.year - 1))
        # an agency's history starts with its first report; a year asked for alone is judged even if not yet due
        years = list(range(first, today.year)) if year is None else [year] if year >= first else []
        gov = government(a["name"])
        akey = None if key.startswith("?") else key
        for y in years:
            v = _verdict(p, a["name"], gov, y, a["reports"].get(y), days, today)
            v.agency_key, v.region = akey, where
            if a.get("others"):
                v.evidence.append(f"no report on this portal names {a['name']}; they name {'、'.join(a['others'][:5])}")
            out.append(v)
    out.sort(key=lambda v: (v.region or "~", v.agency, v.year))
    return out


def matrix(verdicts: list[Verdict]) -> list[dict]:
    """Region × year: how many agencies were judged, and how many of each status (on-time share of those
    whose report was due), one row per region and year, for the page and its CSV."""
    cells: dict[tuple[str, int], dict] = {}
    for v in verdicts:
        row = cells.setdefault((v.region or "", v.year), {"region": v.region or "", "year": v.year, "agencies": 0,
                                                          **{s: 0 for s in STATUSES}})
        row["agencies"] += 1
        row[v.status] += 1
    for row in cells.values():
        due = row["agencies"] - row["not_due"]
        row["on_time_share"] = round(row["on_time"] / due, 4) if due else None
    return [cells[k] for k in sorted(cells, key=lambda k: (k[0] or "~", k[1]))]


def _verdict(p: PortalScope | None, agency: str, gov: bool, year: int, report: Met | None, crawls: list[date],
             today: date) -> Verdict:
    due, due_text = _deadline(gov, year, p.deadline if p else None)
    portal = p.name if p else ""
    if report is None:
        looked = [d for d in crawls if d > due]
        if today <= due:
            return Verdict(portal, agency, year, "not_due", due_text)
        if looked:
            return Verdict(portal, agency, year, "missing", due_text,
                           evidence=[f"not found by the harvest of {looked[-1]}"])
        return Verdict(portal, agency, year, "unchecked", due_text, evidence=[
            "no finished harvest of this portal since the deadline" if p else
            "not in the archive, and no portal profile harvests this agency"])
    rid, first, day, source = report[0], report[4], report[6], report[7]
    if day is not None:
        day = day[:10]
        if day <= due_text:  # ISO dates compare as text
            return Verdict(portal, agency, year, "on_time", due_text, day, source, first, 0, rid)
        return Verdict(portal, agency, year, "late", due_text, day, source, first,
                       (date.fromisoformat(day) - due).days, rid)
    if not first:
        return Verdict(portal, agency, year, "undated", due_text, first_seen=first, report_id=rid, evidence=[
            "only ingested from a file, with no publication date printed: when it was published is not known"])
    seen = _day(first)
    v = Verdict(portal, agency, year, "", due_text, seen.isoformat(), "first seen by nianbao (no date printed on "
                "the page)", first, report_id=rid)
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

VERDICT_COLUMNS = ["region", "agency", "year", "status", "deadline", "published", "source", "days_late", "portal",
                   "report_id", "first_seen", "evidence", "explanation"]
HOW = {"meta ": "页面元数据 ", "page info line": "页面发布时间行", "date beside the link": "列表页链接旁的日期"}


def source_in_chinese(source: str | None) -> str:
    """Where a printed date was read (``page info line of URL``), in Chinese: ``页面发布时间行（URL）``."""
    if not source:
        return ""
    how, _, where = source.partition(" of ")
    for en, zh in HOW.items():
        if how.startswith(en):
            how = zh + how[len(en):]
            break
    return f"{how}（{where}）" if where else how


def explain(v: Verdict) -> str:
    """The verdict in a sentence of Chinese, with what it rests on."""
    others = next((e.split("; they name ", 1)[1].split("、") for e in v.evidence
                   if e.startswith("no report on this portal names")), None)
    printed = v.source and not v.source.startswith("first seen")
    if v.status == "not_due":
        text = f"未到期：截止日期为 {v.deadline}"
    elif v.status in ("on_time", "late") and printed:
        head = "按时公开" if v.status == "on_time" else f"逾期 {v.days_late} 天"
        text = f"{head}：{v.published} 公开，依据{source_in_chinese(v.source)}；截止日期 {v.deadline}"
    elif v.status == "on_time":
        text = f"按时公开：{v.published} 已被抓取到（页面未印发布日期）；截止日期 {v.deadline}"
    elif v.status == "late":
        text = (f"逾期约 {v.days_late} 天：截止日期 {v.deadline} 之后的抓取未找到，{v.published} 才首次抓取到"
                "（页面未印发布日期）")
    elif v.status == "undated" and v.first_seen is None:
        text = "日期不明：仅从本地文件导入，页面未印发布日期，无法判断何时公开"
    elif v.status == "undated":
        text = (f"日期不明：{v.published} 首次抓取到，已过截止日期 {v.deadline}，但此前没有抓取能证明当时尚未公开"
                "（页面未印发布日期）")
    elif v.status == "missing":
        text = f"未找到：截止日期 {v.deadline} 之后的抓取仍未找到该年度报告"
    elif v.portal:
        text = f"未核查：截止日期 {v.deadline} 之后还没有完成过对该门户的抓取"
    else:
        text = "未核查：档案中没有该年度报告，也没有门户配置抓取此机关"
    if others:
        text += f"；该门户上的报告署名为 {'、'.join(others[:5])}，请核对门户配置中的机关名称"
    return text
MATRIX_COLUMNS = ["region", "year", "agencies", *STATUSES, "on_time_share"]


def to_csv(rows: list[dict], columns: list[str]) -> str:
    """Verdicts or matrix rows as CSV, UTF-8 with a BOM so Excel on Chinese Windows reads it right."""
    import csv
    import io

    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow(["；".join(r[c]) if isinstance(r.get(c), list) else ("" if r.get(c) is None else r[c])
                    for c in columns])
    return buf.getvalue()
