"""Where a report's agency and year are said when its title does not say them, in one place.

A document's own title wins (:mod:`archive.parser.title`). Then the document's own text: a saved
page's header block (``发布机构: …``), the signature block at the end (``XX县发展和改革局`` over
``2024年1月15日``), the opening sentence (``本报告由XX局编制``, ``2023年，XX局坚持…``). Then what
the page around it said (:class:`~archive.parser.context.ParseContext` and the HTML page's own
facts): the link text, the page's 发布机构 field, its ``<title>``, the SiteName meta, the footer's
主办单位, and for an attachment the page that linked it. Each finding carries its source, which the
parse result records as ``provenance``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from archive.extract.html import PUBLISHER_LABELS
from archive.parser.context import ParseContext
from archive.parser.title import (
    LETTER,
    PLACELESS,
    agency_key,
    clean_agency,
    find_title,
    name_line,
    names_agency,
)

SOURCE_WORDS = {"title": "its title", "header": "the saved page's header (发布机构)",
                "signature": "the signature block",
                "opening": "the opening sentence", "link_text": "the link text it was found under",
                "publisher": "the page's 发布机构 field", "page_title": "the page's <title>",
                "site_name": "the site's name (SiteName)", "site_owner": "the footer's 主办单位",
                "referrer": "the page that links it",
                "referrer_site": "the site name of the page that links it",
                "statistics_period": "the statistics period",
                "body": "the years its opening mentions", "url": "the address", "page": "the page's own date",
                "portal": "the portal profile's agency",
                "user": "what the user said of the file (ingest --agency/--year)"}
# Names that are only the site's: a portal publishes other agencies' reports under them.
SITE_SOURCES = frozenset({"site_name", "site_owner", "page_title", "referrer_site"})
# The document's own word on its agency and year: a user's hint (ParseContext.user_agency/user_year) does not
# override these, which name this one file, while the hint was given for a whole folder; it does override
# everything its context suggests (link text, a page's <title> and site, the portal) and the year its
# opening merely mentions most.
OWN_AGENCY_SOURCES = frozenset({"title", "header", "signature", "opening"})
OWN_YEAR_SOURCES = frozenset({"title", "statistics_period", "opening"})

_NAME = r"[^\s，,。；;：:、“”\"《》（）()\d]{2,40}?"
# anywhere on a header line: ``索引号: … 发布机构: 漳州市龙文区人民政府 文号:``, ``发布时间：… 来源：…``
HEADER_FIELD = re.compile(rf"(?:^|\s)(?:{PUBLISHER_LABELS})\s*[:：]\s*(?P<v>[^\s:：]{{2,40}})")
# A date line under a signature: 2024年1月15日, 2024-01-15, 2024.1.15, 二〇二四年一月十五日.
DATE_LINE = re.compile(r"^\s*(?:(?:19|20)\d{2}\s*[年./-]\s*\d{1,2}\s*[月./-]\s*\d{1,2}\s*日?"
                       r"|[二〇零○Ｏ一三四五六七八九]{4}\s*年\s*[一二三四五六七八九十]{1,3}\s*月\s*[一二三四五六七八九十]{1,3}\s*日)\s*$")
SIGNATURE_ONE_LINE = re.compile(rf"^\s*(?P<a>{_NAME})\s+(?:19|20)\d{{2}}\s*年\s*\d{{1,2}}\s*月\s*\d{{1,2}}\s*日\s*$")
NOT_SIGNATURE = re.compile(r"主办|承办|版权|网站|地址|电话|邮编|传真|备案|技术支持|联系|附件|扫一扫|打印|关闭|来源")
SIGNATURE_LINES = 25
_LEAD_VERBS = (r"(?:认真|深入|坚持|全面|持续|严格|紧紧|始终|紧扣|围绕|聚焦|按照|进一步|不断|积极|扎实|高度|切实"
               r"|在|以|把|对|将|着力)")
OPENINGS = (
    re.compile(rf"本(?:年度)?报告(?:是)?由(?P<a>{_NAME})(?:根据|按照|依据|依照|编制|制作|编写)"),
    re.compile(rf"(?:现将|现(?:向社会)?(?:公布|发布|公开)|现予公布|特编制)《?(?P<a>{_NAME})\s*"
               rf"(?:(?P<y>(?:19|20)\d{{2}})\s*年度?)?\s*(?:的)?(?:政府|政务)?信息公开(?:工作)?(?:年度报告|年报|报告|情况)"),
    re.compile(rf"由(?P<a>{_NAME})(?:综合|汇总|会同|牵头|负责)[^。]{{0,40}}编制"),
    re.compile(rf"结合(?P<a>{_NAME})(?:(?P<y>(?:19|20)\d{{2}})\s*年度?)?(?:本年度|年度)?政府信息公开(?:工作)?情况"),
    re.compile(rf"(?:^|[。\n])\s*(?P<a>{_NAME})(?:(?:19|20)\d{{2}}\s*年度?)?政府信息公开(?:工作)?年度报告(?:是|由|根据|依据|按照)"),
    re.compile(rf"(?:^|[。\n])\s*(?:(?:19|20)\d{{2}}\s*年(?:度|以来)?\s*[，,]\s*)(?P<a>{_NAME}){_LEAD_VERBS}"),
)
OPENING_CHARS = 1500
PAGE_TITLE_SPLIT = re.compile(r"\s*(?:[_|｜]|\s[-—–]+\s|——|--|-(?=[^\d]))\s*")
SITE_WORDS = re.compile(r"(?:门户网站|政府网站|政务网|信息公开网|政府信息公开(?:平台|网)?|政务公开(?:平台|网)?"
                        r"|官方网站|官网|网站|网)$")
YEAR_PERIOD = re.compile(r"(?:统计(?:数据)?期限|统计时限|数据统计|统计周期|统计期|统计时间)[^。]{0,12}?"
                         r"((?:19|20)\d{2})\s*年\s*1\s*月\s*1\s*日")
YEAR_ANY = re.compile(r"((?:19|20)\d{2})\s*年")
# (a bare /2022/ folder is when a page was published, not which year it reports on)
YEAR_IN_URL = re.compile(r"(?:gknb|xxgknb|zfxxgknb|ndbg|nb)_?((?:19|20)\d{2})(?!\d)"
                         r"|/((?:19|20)\d{2})(?:n|nd|nb|nianbao|_[a-z]{1,6})/", re.IGNORECASE)


@dataclass(frozen=True)
class Hint:
    """A value and where it was read."""

    value: str | int
    source: str


def _agency(raw: str | None) -> str | None:
    """A string that names an agency (not 我局, not a site's name), cleaned; else None."""
    if not raw:
        return None
    name = clean_agency(SITE_WORDS.sub("", raw.strip()))
    return name if name and 2 <= len(name) <= 40 and names_agency(name) and not LETTER.search(name) else None


def _placed(raw: str | None) -> str | None:
    """An agency's name from the page around a document, only with its place: a bare ``办公室`` or
    ``人民政府办公室`` in a 发布机构 field or a footer is a unit of the site, not the report's agency."""
    name = _agency(raw)
    return name if name and not PLACELESS.match(name) else None


def header_agency(text: str) -> str | None:
    """A saved page's header block before the body (``发布机构: XX局``, first lines only), or a name alone
    on the document's first line (``浑南区国资局`` above an opening with no title)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if lines and name_line(lines[0]) and (name := _agency(lines[0])):
        return name
    for line in lines[:15]:
        for m in HEADER_FIELD.finditer(line):
            if name := _agency(re.split(r"[，,；;]", m.group("v"))[0]):
                return name
    return None


def signature_agency(text: str) -> str | None:
    """The signature block at the end: an agency's name on the line above (or beside) a date line."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()][-SIGNATURE_LINES:]
    for i in range(len(lines) - 1, -1, -1):
        m = SIGNATURE_ONE_LINE.match(lines[i])
        if m and not NOT_SIGNATURE.search(lines[i]) and (name := _agency(m.group("a"))):
            return name
        if not DATE_LINE.match(lines[i]):
            continue
        for j in (i - 1, i - 2):  # the name, sometimes over a blank-looking seal line
            if j >= 0 and len(lines[j]) <= 40 and not NOT_SIGNATURE.search(lines[j]) \
                    and not re.search(r"[。，,；;：:]", lines[j]) and (name := _agency(lines[j])):
                return name
    return None


def _openings(text: str) -> Iterator[tuple[str, int | None]]:
    """(agency, year or None) of each opening sentence in the first lines that names an agency."""
    head = text[:OPENING_CHARS]
    for pattern in OPENINGS:
        for m in pattern.finditer(head):
            if name := _agency(m.group("a")):
                year = m.groupdict().get("y")
                yield name, int(year) if year else None


def opening_agency(text: str) -> str | None:
    """The body's opening that names the agency (``本报告由XX局根据…编制``, ``2023年，XX局坚持…``)."""
    return next((name for name, _ in _openings(text)), None)


def opening_year(text: str) -> int | None:
    """The year an opening names with the agency (``现将XX局2023年政府信息公开工作情况报告如下``)."""
    return next((year for _, year in _openings(text) if year), None)


def page_title_agency(page_title: str | None) -> str | None:
    """An agency named, with its place, in a page's ``<title>`` beside the report's title (``标题_XX局``,
    ``XX局-标题``)."""
    name = _title_agency(page_title) if page_title else None
    return name if name and not PLACELESS.match(name) else None


def _title_agency(page_title: str) -> str | None:
    if (found := find_title(page_title)) and found.agency:
        return found.agency
    parts = [p for p in PAGE_TITLE_SPLIT.split(page_title) if p]
    if len(parts) < 2:
        return None
    # the first part that names an agency (the site's own name comes last, the more specific first)
    return next((name for part in parts if "报告" not in part and (name := _agency(part))), None)


def _link_title(text: str | None, max_year: int | None):
    return find_title(text, max_year=max_year) if text else None


def _site_names(meta: dict, fields: dict) -> set[str]:
    """The site's own names (SiteName, the footer's 主办单位), compared width-folded without spaces."""
    return {key for raw in (meta.get("SiteName"), fields.get("owner")) if (key := agency_key(_placed(raw)))}


def context_agency(ctx: ParseContext, page: dict, max_year: int | None) -> Iterator[Hint]:
    """Agency candidates from around the document, best first (a document's own text comes before).
    A name that is the site's own (its SiteName or 主办单位, in a page title too) says ``site_name``,
    ``site_owner`` or ``referrer_site``: a portal publishes other agencies' reports under it."""
    for text in (ctx.link_text, ctx.title):
        if (found := _link_title(text, max_year)) and found.agency:
            yield Hint(found.agency, "link_text")
    fields, meta = page.get("fields") or {}, page.get("meta") or {}
    site = _site_names(meta, fields)
    if name := _placed(fields.get("publisher")):
        yield Hint(name, "publisher")
    if name := page_title_agency(page.get("title")):
        yield Hint(name, "site_name" if agency_key(name) in site else "page_title")
    if name := _placed(meta.get("SiteName")):
        yield Hint(name, "site_name")
    if name := _placed(fields.get("owner")):
        yield Hint(name, "site_owner")
    ref = ctx.referrer_meta or {}
    ref_site = _site_names(ref, ref)
    for raw in (ref.get("publisher"), ctx.referrer_title, ref.get("SiteName"), ref.get("owner")):
        if name := (page_title_agency(raw) if raw is ctx.referrer_title else _placed(raw)):
            yield Hint(name, "referrer_site" if agency_key(name) in ref_site else "referrer")


def with_portal(found: Iterator[Hint], portal_agency: str | None) -> Iterator[Hint]:
    """The portal profile's agency, placed before the first name that is only the site's: the user said
    whose portal it is, which the site's own name only suggests."""
    given = not portal_agency
    for hint in found:
        if not given and hint.source in SITE_SOURCES:
            given = True
            yield Hint(portal_agency, "portal")
        yield hint
    if not given:
        yield Hint(portal_agency, "portal")


def own_agency(text: str) -> Iterator[Hint]:
    """Agency candidates from the document's own text, best first; only whole names with their place
    (``区政府办公室`` or ``局办公室`` in an opening would put two agencies' reports under one name)."""
    for source, reader in (("header", header_agency), ("signature", signature_agency),
                           ("opening", opening_agency)):
        if (name := reader(text)) and not PLACELESS.match(name):
            yield Hint(name, source)


def year_hints(text: str, ctx: ParseContext, page: dict, this_year: int) -> Iterator[Hint]:
    """Year candidates when the title names none, best first."""
    def ok(y: int) -> bool:
        return 1990 <= y <= this_year

    if (m := YEAR_PERIOD.search(text)) and ok(int(m.group(1))):
        yield Hint(int(m.group(1)), "statistics_period")
    if (y := opening_year(text)) and ok(y):
        yield Hint(y, "opening")
    for source, raw in (("link_text", ctx.link_text), ("link_text", ctx.title), ("page_title", page.get("title")),
                        ("referrer", ctx.referrer_title)):
        if (found := _link_title(raw, this_year)) and found.year:
            yield Hint(found.year, source)
    years = [int(y) for y in YEAR_ANY.findall(text[:3000]) if ok(int(y))]
    if years:  # the year most mentioned in the opening (the publication year comes at the end)
        yield Hint(max(set(years), key=years.count), "body")
    if year := year_from_url(ctx.url, this_year):
        yield Hint(year, "url")


def first(hints: Iterator[Hint], keep: Callable[[Hint], bool] = lambda h: True) -> Hint | None:
    return next((h for h in hints if keep(h)), None)


def year_from_url(url: str | None, this_year: int) -> int | None:
    """A per-year report column in the URL (``…/gknb2022/``, ``…/2021n/``) names the year reported on
    (a date in a file name is when it was published, so it is not read)."""
    for m in YEAR_IN_URL.finditer(url or ""):  # ``zfxxgknb_1916/2021_gx/``: a column id, then the year
        if 1990 <= (year := int(m.group(1) or m.group(2))) <= this_year:
            return year
    return None
