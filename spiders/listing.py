"""What a crawl learnt about each report list: how it was paged, what it announced, what was collected.

A list page that shows a total (``共20条``, ``共3页``, ``totalRecord: 20``) is checked against the items
collected from it and its further pages; a list whose pager could not be followed (a script pager with
no browser, a browser walk cut short) is *incomplete*, and the run's summary says so in words. The
ledger lives on the spider and goes into the run's stats when it closes (``crawler/archiving.py``).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

# What a list page says about its size, in the words and script variables real CMSs print.
RECORDS = re.compile(r"共\s*(\d+)\s*条|(?:totalRecord|recordCount|m_nRecordCount|totalRecords)"
                     r"\s*[:=]\s*['\"]?(\d+)", re.I)
PAGES = re.compile(r"共\s*(\d+)\s*页|(?:totalPage|m_nPageCount|totalPages)\s*[:=]\s*['\"]?(\d+)", re.I)


def announced(text: str) -> tuple[int | None, int | None]:
    """(records, pages) a list page announces, each None if it says nothing."""
    r, p = RECORDS.search(text), PAGES.search(text)
    records = int(r.group(1) or r.group(2)) if r else None
    pages = int(p.group(1) or p.group(2)) if p else None
    return records, pages


@dataclass
class ListOutcome:
    """One report list (keyed by its first page's URL) as the crawl met it."""

    url: str
    portal: str
    method: str  # how its pages were read: "static", "trs-api", "jpage-array", "gkmlpt", "browser", …
    announced: int | None = None  # records the list says it holds
    announced_pages: int | None = None
    items: set[str] = field(default_factory=set)  # item URLs collected from all its pages
    pages: int = 1
    complete: bool = True
    why: str | None = None  # why it is incomplete, in words

    def as_dict(self) -> dict:
        d = asdict(self)
        d["found"] = len(self.items)
        del d["items"]
        return d

    @property
    def short(self) -> bool:
        """Fewer items were collected than the list announced."""
        return shortfall(self.as_dict()) == "short"


def shortfall(entry: dict) -> str | None:
    """What a list (an :meth:`ListOutcome.as_dict`, as the run's stats keep it) left behind:
    ``"incomplete"`` (its pager was not, or not fully, followed), ``"short"`` (fewer items collected than it
    announces), or None."""
    if not entry["complete"]:
        return "incomplete"
    if entry["announced"] is not None and entry["found"] < entry["announced"]:
        return "short"
    return None


class ListLedger:
    """Every report list of a crawl, by its first page; pages of one list add to the same entry."""

    def __init__(self) -> None:
        self.lists: dict[str, ListOutcome] = {}

    def note(self, url: str, portal: str, method: str, *, items: list[str] | tuple[str, ...] = (),
             announced: int | None = None, announced_pages: int | None = None, page: bool = False) -> ListOutcome:
        """Record a list page (``page``: one more page of a list already noted) and its items."""
        url = list_key(url)
        entry = self.lists.get(url)
        if entry is None:
            entry = self.lists[url] = ListOutcome(url, portal, method)
        elif page:
            entry.pages += 1
        if method != entry.method and entry.method == "static":
            entry.method = method  # an adapter or the browser read what the static page began
        entry.items.update(items)
        entry.announced = max(filter(None, (entry.announced, announced)), default=None)
        entry.announced_pages = max(filter(None, (entry.announced_pages, announced_pages)), default=None)
        return entry

    def incomplete(self, url: str, portal: str, method: str, why: str) -> None:
        """A list whose further pages were not (all) read."""
        entry = self.note(url, portal, method)
        if not entry.complete and entry.why:
            return  # the first reason stays
        entry.complete, entry.why = False, why

    def report(self) -> list[dict]:
        """The lists worth telling a user about: incomplete, or short of what they announced."""
        return [d for d in self.as_list() if shortfall(d)]

    def as_list(self) -> list[dict]:
        return [e.as_dict() for e in self.lists.values()]


# -- reading a list page ----------------------------------------------------------------------------
# A pager control: a script call with a page number (goPage(2), javascript:toPage(3)) …
PAGER_CALL = re.compile(r"\b(?:goPage|gotoPage|toPage|turnPage|changePage|jumpPage|queryPage|pageGo|goto|"
                        r"nextPage|page)\s*\(\s*['\"]?(\d+)", re.I)
# … or the words of one, whose click a script handles (href="javascript:;", an onclick, a listener).
NEXT_WORDS = re.compile(r"^(?:下一页|下页|后页|尾页|末页|最后一页|>|»|›|>>|next|last)$", re.I)
SCRIPT_HREF = re.compile(r"^(?:javascript:|#$|$)", re.I)
PAGE_NUMBER = re.compile(r"^\[?(\d{1,4})\]?$")
# Totals a pager box prints: a short text of its own (共20条 / 共3页), not a number in an article.
SHORT_TOTAL = 60


def script_pager(root, *, more: bool = False) -> str | None:
    """How a page's pager runs by script, if it does: a control calling ``goPage(2)`` (a page past the
    first); or 下一页/numbers ≥ 2 handled by script, when ``more`` (the page says it has more than it
    shows) — a one-page list's dead ``<a href="javascript:void(0)">下一页</a>`` is no pager.

    ``root`` is the page's lxml tree (``Selector.root``); None when its pager, if any, is plain links."""
    for el in root.iter("a", "button", "span", "li", "input"):
        onclick = el.get("onclick") or ""
        href = (el.get("href") or "").strip()
        if any((m := PAGER_CALL.search(x)) and int(m.group(1)) >= 2 for x in (onclick, href)):
            return f"a script pager ({(onclick or href)[:40]})"
    if not more:
        return None
    for el in root.iter("a", "button", "span"):
        href = (el.get("href") or "").strip()
        text = " ".join(" ".join(el.itertext()).split())
        number = PAGE_NUMBER.match(text)
        if (NEXT_WORDS.match(text) or (number and int(number.group(1)) >= 2)) and SCRIPT_HREF.match(href) \
                and (el.tag != "span" or el.get("onclick")):
            return f"a script pager (“{text}” runs {(el.get('onclick') or href or 'by a script')[:40]})"
    return None


def page_announced(root) -> tuple[int | None, int | None]:
    """(records, pages) a list page announces: a short text of its own (a pager box's 共20条 / 共3页) or
    its scripts' list variables (``totalRecord``, ``recordCount``) — never a number in an article."""
    records = pages = None
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag == "script":
            r, p = announced(el.text or "")
        else:
            bits = [t for t in (el.text, el.tail) if t and "共" in t and len(t.strip()) <= SHORT_TOTAL]
            r, p = announced(" ".join(bits)) if bits else (None, None)
        records, pages = records or r, pages or p
        if records and pages:
            break
    return records, pages


def list_key(url: str) -> str:
    """One key for a list however its first page was addressed (``/nb/`` and ``/nb/index.html``)."""
    return re.sub(r"/(?:index|default)\.(?:s?html?|jsp|aspx?|php)$", "/", url, flags=re.I)


SCRIPT_FETCH = re.compile(r"XMLHttpRequest|\bfetch\s*\(|\$\.(?:ajax|get|post|getJSON)\s*\(|axios\.|goPage\s*\(|"
                          r"\.jpage\s*\(|\.load\s*\(", re.I)


def script_list(html: str) -> str | None:
    """What fills an empty list by script (``XMLHttpRequest``, ``fetch(``, ``$.ajax(``), if anything does."""
    m = SCRIPT_FETCH.search(html)
    return m.group(0).rstrip("( ") if m else None


ITEM_PARENTS = ("ul", "ol", "tbody", "table", "dl", "div")
ITEM_TAGS = {"li", "tr", "dd", "dt", "div", "p"}
ITEM_TEXT = 8  # characters an item's title has at least (a menu's 政务公开 or 新闻中心 has fewer)


def list_items(root, base: str) -> list[str]:
    """The item links of the page's list: in the element with the most rows whose title link (the
    row's longest link text) reads like an item, that link of each row — not the menu (short words)
    nor a row's category tag (``[通知]``)."""
    from urllib.parse import urljoin

    best: list[str] = []
    for parent in root.iter(*ITEM_PARENTS):
        hrefs = []
        for child in parent:
            if not isinstance(child.tag, str) or child.tag not in ITEM_TAGS:
                continue
            links = [(len("".join(a.itertext()).strip()), a.get("href", "").strip()) for a in child.iter("a")
                     if a.get("href") and not SCRIPT_HREF.match(a.get("href", "").strip())]
            if links and (best_link := max(links))[0] >= ITEM_TEXT:
                hrefs.append(urljoin(base, best_link[1]))
        if len(hrefs) > len(best):
            best = hrefs
    return best
