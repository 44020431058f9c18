"""When a report was published, as its portal says: pure functions from archived HTML to a date.

Chinese CMS pages state it in a ``<meta name="PubDate">`` (TRS, Hanweb, …), in an info line
("发布时间：2022-01-20 09:30", "发布日期", "成文日期" is *not* it), or, on a list page, beside the link.
Each reader returns the date and where it was found, so a compliance verdict can say what it rests on.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urljoin, urlsplit

from lxml import etree

META_NAMES = ("pubdate", "firstpublishedtime", "publishdate", "pub_date", "article:published_time",
              "dc.date.issued", "dcterms.issued")
DATE = r"(20\d\d|19\d\d)\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})"
LABELS = (re.compile(r"(?:发布时间|发布日期|发布于|公开日期|公开时间|发文时间)\s*[:：]?\s*" + DATE),
          re.compile(r"(?<!成文)(?<!印发)(?:时间|日期)\s*[:：]\s*" + DATE))  # 成文日期 is when it was written
BARE = re.compile(DATE)
ROWS = ("li", "tr", "dd", "dt", "p", "div")


def _date(y: str, m: str, d: str) -> date | None:
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        return None


def page_date(root: etree._Element) -> tuple[date, str] | None:
    """The page's own publication date: its meta tag, else the first labelled date in the text."""
    for m in root.iter("meta"):
        name = (m.get("name") or m.get("property") or "").lower()
        if name in META_NAMES and (hit := BARE.search(m.get("content") or "")) and (d := _date(*hit.groups())):
            return d, f"meta {m.get('name') or m.get('property')}"
    body = root.find("body")
    text = (body if body is not None else root).text_content()
    for label in LABELS:
        if (hit := label.search(text)) and (d := _date(*hit.groups())):
            return d, "page info line"
    return None


def link_date(root: etree._Element, page_url: str, target_url: str) -> tuple[date, str] | None:
    """The date printed beside the link to ``target_url`` on a list page (its row's text)."""
    return date_beside(dated_links(root), page_url, target_url)


def dated_links(root: etree._Element) -> list[tuple[str, str, str]]:
    """Every link with a date printed in its row, in page order, as (href as written, ISO date, how):
    what a list page says of its links, kept so an attachment is dated without reading the page again."""
    out = []
    rows: dict = {}  # a row's date, read once however many links it holds (lxml keeps these proxies alive)
    for a in root.iter("a"):
        href = a.get("href")
        if href and (found := _row_date(a, rows)):
            out.append((href, found.isoformat(), "date beside the link"))
    return out


def date_beside(links: list, page_url: str, target_url: str) -> tuple[date, str] | None:
    """The date beside the first link of ``links`` (see :func:`dated_links`) that leads to ``target_url``."""
    want = _norm(target_url)
    for href, day, how in links:
        if _norm(urljoin(page_url, href.strip())) == want:
            return date.fromisoformat(day), how
    return None


def _row_date(a: etree._Element, rows: dict) -> date | None:
    el = a
    for _ in range(3):  # the link's row: li, tr, … at most three levels up
        el = el.getparent()
        if el is None:
            break
        if el.tag in ROWS:
            if el not in rows:
                hit = BARE.search(el.text_content())
                rows[el] = _date(*hit.groups()) if hit else None
            if rows[el]:
                return rows[el]
            if el.tag in ("li", "tr", "dd"):
                break
    return None


def _norm(url: str) -> str:
    p = urlsplit(url)
    return f"{p.netloc.lower()}{p.path}?{p.query}"


def plausible(published: date, year: int, today: date) -> bool:
    """A report on year Y cannot appear before that year's December, nor after today."""
    return date(year, 12, 1) <= published <= today
