"""Walking a list whose pager only script can follow: click it in Chromium, page after page.

Some report columns have no address for their second page: the pager is drawn by script and its
links are ``href="javascript:…"``, ``onclick="goPage(2)"``, ``<button>`` or ``<span>`` elements, and
the items come from a request the non-browser adapters do not know (spiders/pagination.py reads the
ones they do). Here the browser clicks the pager like a reader would: the next link (下一页, >, »),
else the number after the current page; after each click it waits for the page's links to change,
collects them, and stops when the pager shows no further page, when a page adds no new link, or at
a page cap. What the list announces (共20条, 共3页) is read from the page's text so the crawl can check
the walk against it (spiders/listing.py).

Choosing what to click is pure (:func:`choose_next` over :class:`Candidate` rows gathered by one
script call), so it is tested without a browser; only :func:`walk_pager` drives a page.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from spiders.listing import announced

if TYPE_CHECKING:
    from playwright.async_api import Page

PAGE_CAP = 100  # pages walked at most per list
CHANGE_MS = 10_000  # how long a click may take to change the list
SETTLE_MS = 3_000  # how long to wait for the network to fall quiet after a page changed
NEXT_WORDS = frozenset({"下一页", "下页", "后一页", "下一頁", "next", ">", "»", "›", ">>", "下一页>", "下一页»"})
END_WORDS = frozenset({"尾页", "末页", "最后一页", "last", ">|"})
BACK_WORDS = frozenset({"上一页", "上页", "前一页", "prev", "<", "«", "‹", "<<", "首页"})
NUMBER = re.compile(r"^\[?(\d{1,4})\]?$")
# the page a pager element goes to, in the calls and parameters CMS pagers use
TARGET = re.compile(r"(?:go|goto|to|jump|turn|show|change|load|query|select|list|search)?_?page\w*\(\s*['\"]?(\d{1,4})"
                    r"|[?&](?:page|pageno|pageindex|pagenum|currentpage|curpage|p|pn)=(\d{1,4})", re.I)
DISABLED = re.compile(r"disabled?|unable|forbid|\bno-?more\b|\bgray\b|\bgrey\b", re.I)
CURRENT = re.compile(r"\b(?:current|active|cur|curr|on|selected|checked|thisclass|this)\b", re.I)

# what a pager control's whole text may be (the browser matches it case-insensitively)
WORDS = "^(?:" + "|".join(re.escape(w) for w in sorted(NEXT_WORDS | END_WORDS | BACK_WORDS)) + r"|\[?\d{1,4}\]?)$"

# One pass over the page: every element that reads like a pager control (a word or a number), marked
# with data-nb-pager so the walk can click it through a locator, described for choose_next().
CANDIDATES_JS = r"""
(words) => {
  const word = new RegExp(words, 'i');
  const pagerBox = /pag|fenye|\bfy\b|turn/i;
  for (const el of document.querySelectorAll('[data-nb-pager]')) el.removeAttribute('data-nb-pager');
  const sel = 'a, button, span, li, em, b, strong, font, td, div, input[type=button], input[type=submit]';
  const out = [];
  for (const el of document.querySelectorAll(sel)) {
    const isInput = el.tagName === 'INPUT';
    const text = (isInput ? el.value : el.innerText || '').replace(/\s+/g, '');
    if (!text || text.length > 6 || !word.test(text)) continue;
    if (!isInput && [...el.children].some(c => (c.innerText || '').replace(/\s+/g, '') === text)) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    let inPager = false;
    for (let a = el.parentElement, k = 0; a && k < 4; a = a.parentElement, k++) {
      const says = (a.id || '') + ' ' + (typeof a.className === 'string' ? a.className : '');
      if (pagerBox.test(says)) { inPager = true; break; }
    }
    const cls = (typeof el.className === 'string' ? el.className : '') + ' ' +
                (el.parentElement && typeof el.parentElement.className === 'string' ? el.parentElement.className : '');
    el.setAttribute('data-nb-pager', String(out.length));
    out.push({index: out.length, tag: el.tagName.toLowerCase(), text: text,
              href: el.getAttribute('href') || '', onclick: el.getAttribute('onclick') || '',
              data_page: el.getAttribute('data-page') || el.getAttribute('data-index') || '',
              cls: cls, in_pager: inPager,
              disabled: !!el.disabled || el.getAttribute('aria-disabled') === 'true' || el.hasAttribute('disabled'),
              current: el.getAttribute('aria-current') === 'page'});
  }
  return out;
}
"""
# The page's links: absolute (the browser resolves them against <base>) and what they say.
LINKS_JS = r"""
() => Array.from(document.querySelectorAll('a[href]'))
  .map(a => [a.href, (a.innerText || a.title || '').replace(/\s+/g, ' ').trim()])
  .filter(([h]) => /^https?:/i.test(h))
"""
# What "the list changed" means: the set of real link targets on the page is no longer the same.
SIGNATURE_JS = r"""
() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)
  .filter(h => /^https?:/i.test(h)).sort().join('\n')
"""
CHANGED_JS = f"before => ({SIGNATURE_JS})() !== before"


@dataclass(frozen=True)
class Candidate:
    """One element of the page that reads like a pager control."""

    index: int
    text: str
    tag: str = "a"
    href: str = ""
    onclick: str = ""
    data_page: str = ""
    cls: str = ""  # its own classes and its parent's
    in_pager: bool = False  # inside an element whose id or class says pager
    disabled: bool = False
    current: bool = False  # aria-current="page"

    @classmethod
    def of(cls, row: dict) -> Candidate:
        return cls(**{k: row[k] for k in cls.__dataclass_fields__ if k in row})

    @property
    def number(self) -> int | None:
        """The page number it shows (1, [2], …), if it is a number."""
        m = NUMBER.match(self.text)
        return int(m.group(1)) if m else None

    @property
    def target(self) -> int | None:
        """The page it goes to, as its script call or address says (goPage(3), ?page=3, data-page)."""
        if self.data_page.isdigit():
            return int(self.data_page)
        m = TARGET.search(f"{self.onclick} {self.href}")
        return int(m.group(1) or m.group(2)) if m else None

    @property
    def clickable(self) -> bool:
        """It does something when clicked, as far as its markup tells: a link, a button, a handler."""
        return (self.tag in ("a", "button", "input") or bool(self.onclick) or bool(self.data_page)) and \
            not self.is_disabled

    @property
    def is_disabled(self) -> bool:
        return self.disabled or bool(DISABLED.search(self.cls))

    @property
    def is_current(self) -> bool:
        """Marked as the page shown: aria-current, a current/active class, or a number that is not a link."""
        if self.number is None:
            return False
        if self.current or CURRENT.search(self.cls):
            return True
        return self.in_pager and self.tag not in ("a", "button", "input") and not self.onclick and not self.data_page

    @property
    def is_next(self) -> bool:
        return self.text.lower() in NEXT_WORDS


def current_page(candidates: list[Candidate]) -> int | None:
    """The page the pager says is shown, if it marks one."""
    marked = [c.number for c in candidates if c.is_current and (c.in_pager or c.current)]
    return marked[0] if marked else None


def last_page(candidates: list[Candidate]) -> int | None:
    """The highest page the pager offers (its numbers, or where 尾页 goes), if any."""
    numbers = [c.number for c in candidates if c.number is not None and (c.in_pager or c.clickable or c.is_current)]
    numbers += [t for c in candidates if c.text.lower() in END_WORDS and (t := c.target) is not None]
    return max(numbers, default=None)


def choose_next(candidates: list[Candidate], current: int) -> Candidate | None:
    """What to click to reach page ``current + 1``: an enabled next control, else the link numbered
    ``current + 1``; None when the pager offers no further page (next disabled or absent, current is
    the last)."""
    numbered = [c for c in candidates
                if c.number == current + 1 and c.clickable and (c.in_pager or c.target is not None)]
    nexts = [c for c in candidates if c.is_next]
    if nexts and all(c.is_disabled for c in nexts):
        return None  # the pager says: no further page
    # a next control that says where it goes and goes nowhere further (goPage(3) on page 3) is disabled
    enabled = [c for c in nexts if not c.is_disabled and (c.target is None or c.target > current)]
    # a next control inside the pager box first; a bare "下一页" span may do nothing, a number link will
    enabled.sort(key=lambda c: (not c.in_pager, not c.clickable))
    if enabled and (enabled[0].clickable or not numbered):
        return enabled[0]
    return numbered[0] if numbered else (enabled[0] if enabled else None)


@dataclass
class Walk:
    """What walking one list's pager gave."""

    links: list[tuple[str, str]]  # (absolute href, text) of every page, each href once, in order met
    pages: int  # pages seen, the first included
    complete: bool  # the pager was followed to its end
    why: str | None = None  # why not, in words
    announced: int | None = None  # records the list says it holds (共20条)
    announced_pages: int | None = None  # pages it says it has (共3页)
    items: list[str] = field(default_factory=list)  # hrefs not on every page: the list's own items

    @property
    def hrefs(self) -> set[str]:
        return {h for h, _ in self.links}


def list_items(per_page: list[list[str]]) -> list[str]:
    """The hrefs that are not on every page (navigation repeats on each): the list's items, in order.
    With a single page nothing tells them apart, and every href is returned."""
    if len(per_page) < 2:
        return list(dict.fromkeys(h for page in per_page for h in page))
    everywhere = set(per_page[0]).intersection(*map(set, per_page[1:]))
    return list(dict.fromkeys(h for page in per_page for h in page if h not in everywhere))


async def _settle(page: Page, timeout: int = SETTLE_MS) -> None:
    """Let the page's requests finish (bounded: a page that polls forever never goes idle)."""
    from playwright.async_api import Error

    with contextlib.suppress(Error):
        await page.wait_for_load_state("networkidle", timeout=timeout)


async def _stable(page: Page, timeout: int = SETTLE_MS) -> str:
    """The page's link signature once it stops changing (a list drawn item by item), bounded."""
    signature = await page.evaluate(SIGNATURE_JS)
    for _ in range(max(1, timeout // 250)):
        await page.wait_for_timeout(250)
        again = await page.evaluate(SIGNATURE_JS)
        if again == signature:
            break
        signature = again
    return signature


def _add(collected: dict[str, str], links: list[tuple[str, str]]) -> int:
    """Add links met on a page (an href keeps the first text that says something); how many were new."""
    new = 0
    for href, text in links:
        if href not in collected:
            collected[href] = text
            new += 1
        elif text and not collected[href]:
            collected[href] = text
    return new


async def _read(page: Page, settle_ms: int) -> tuple[list[tuple[str, str]], list[Candidate], str]:
    signature = await _stable(page, settle_ms)
    links = [(h, t) for h, t in await page.evaluate(LINKS_JS)]
    candidates = [Candidate.of(r) for r in await page.evaluate(CANDIDATES_JS, WORDS)]
    return links, candidates, signature


async def _click(page: Page, target: Candidate, before: str, change_ms: int) -> bool:
    """Click a pager control; True once the page's links have changed (also through a navigation)."""
    from playwright.async_api import Error
    from playwright.async_api import TimeoutError as Timeout

    try:
        await page.locator(f'[data-nb-pager="{target.index}"]').click(timeout=change_ms)
    except Error:
        return False
    for _ in range(2):  # a click that navigates destroys the context the first wait polls in
        try:
            await page.wait_for_function(CHANGED_JS, arg=before, timeout=change_ms, polling=200)
            return True
        except Timeout:
            return False
        except Error:
            with contextlib.suppress(Error):
                await page.wait_for_load_state("domcontentloaded", timeout=change_ms)
    return False


async def _announced(page: Page) -> tuple[int | None, int | None]:
    """What the page says about the list's size: in its text (共20条), else in its scripts (totalRecord)."""
    records, pages = announced(await page.inner_text("body"))
    if records is None or pages is None:
        in_source = announced(await page.content())
        records, pages = records or in_source[0], pages or in_source[1]
    return records, pages


async def walk_pager(page: Page, *, cap: int = PAGE_CAP, change_ms: int = CHANGE_MS, settle_ms: int = SETTLE_MS,
                     pause_ms: int = 0) -> Walk:
    """Follow the pager of the list shown in ``page`` to its end (or ``cap`` pages), waiting
    ``pause_ms`` before each click (the host's delay: a click is a request to it too); the page is
    left open, on the last page reached."""
    await _settle(page, settle_ms)
    links, candidates, signature = await _read(page, settle_ms)
    per_page = [[h for h, _ in links]]
    collected: dict[str, str] = {}
    _add(collected, links)
    records, pages_said = await _announced(page)
    number = current_page(candidates) or 1
    walk = Walk([], 1, True, None, records, pages_said)
    while True:
        if walk.pages >= cap:
            walk.complete, walk.why = False, f"stopped at the page cap ({cap} pages)"
            break
        nxt = choose_next(candidates, number)
        if nxt is None:
            break  # next disabled or absent, or the current page is the last
        if pause_ms:
            await page.wait_for_timeout(pause_ms)
        if not await _click(page, nxt, signature, change_ms):
            if walk.announced_pages is None or walk.pages < walk.announced_pages:
                walk.complete = False
                walk.why = f"clicking {nxt.text!r} on page {walk.pages} did not change the list"
            break
        await _settle(page, settle_ms)
        links, candidates, signature = await _read(page, settle_ms)
        walk.pages += 1
        per_page.append([h for h, _ in links])
        if not _add(collected, links):
            break  # a page that adds nothing: the pager went round
        records, pages_said = await _announced(page)
        walk.announced = max(filter(None, (walk.announced, records)), default=None)
        walk.announced_pages = max(filter(None, (walk.announced_pages, pages_said)), default=None)
        number = current_page(candidates) or number + 1
    walk.links = list(collected.items())
    walk.items = list_items(per_page)
    return walk
