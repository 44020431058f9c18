"""Report lists whose further pages come from the page's own script, read without a browser.

Each family is a small adapter chosen by what the page contains, never by site (the same provincial
platform runs thousands of agency sites):

- ``trs-api``: TRS 集约化 platforms draw only the first page statically; their list script
  (``require(["list2.trsapi"])`` / ``listModel({...})``) POSTs ``channelid``/``classsql``/``page``/``prepage``
  to a search API (``/fjdzapp/search`` on Fujian's) that answers JSON (``data`` or ``docs`` records with
  ``doctitle``/``docpuburl``), and announces ``recordCount``.
- ``jpage-array``: older Hanweb jpage columns hold every record in a JavaScript array (``var InitData =
  [...]``) that ``goPage(n)`` slices; there is no ``<a>`` in the list's HTML.
- ``gkmlpt``: 广东's 政府信息公开目录 is a single-page app at ``/gkmlpt/index`` whose column is the URL fragment
  (``#2629``); ``window._CONFIG`` holds the site id (``SID``) and the column ``TREE``; lists come from
  ``/gkmlpt/api/all/<column>?page=N&sid=<SID>`` as JSON ``{"total", "articles": [{"title", "url"}]}``.

An adapter turns a page into a :class:`ListPlan` (records already in it, API calls for the rest) and an
API answer into a :class:`ApiPage` (its records and any further calls, once the total is known). The
spider turns records into link requests and notes everything in its :class:`spiders.listing.ListLedger`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode, urljoin, urlsplit

MAX_API_PAGES = 200  # a list of more pages than this is reported as incomplete rather than walked


@dataclass(frozen=True)
class Record:
    """One item of a list: where it links and what it says."""

    url: str
    title: str


@dataclass(frozen=True)
class ApiCall:
    url: str
    family: str
    list_url: str  # the list page the call belongs to (the ledger's key)
    method: str = "GET"
    form: tuple[tuple[str, str], ...] = ()
    page: int = 1
    column: str | None = None  # gkmlpt: the column id
    discover: bool = False  # the list's size is unknown: this answer tells it, and the rest is asked then
    first: bool = False  # the list's first call: an answer with nothing readable means the adapter failed


@dataclass
class ListPlan:
    family: str
    records: list[Record] = field(default_factory=list)
    calls: list[ApiCall] = field(default_factory=list)
    announced: int | None = None
    why_incomplete: str | None = None  # the list cannot be read in full (said in the summary)


@dataclass
class ApiPage:
    records: list[Record]
    more: list[ApiCall] = field(default_factory=list)
    announced: int | None = None


# -- JSON records -----------------------------------------------------------------------------------
URL_KEYS = ("url", "post_url", "docpuburl", "chnldocurl", "link", "href", "docurl", "linkurl")
TITLE_KEYS = ("title", "doctitle", "name", "docname", "linktitle")


def json_records(data, base: str) -> list[Record]:
    """Records from a JSON answer: the dicts, anywhere in it, that carry a URL and a title."""
    out: list[Record] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            url = next((node[k] for k in URL_KEYS if isinstance(node.get(k), str) and node[k].strip()), None)
            title = next((node[k] for k in TITLE_KEYS if isinstance(node.get(k), str)), None)
            if url and title is not None:
                out.append(Record(urljoin(base, url.strip()), _text(title)))
                return
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(data)
    return out


def _text(html_or_text: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html_or_text).split())


def _json(body: str):
    try:
        return json.loads(body)
    except ValueError:
        m = re.search(r"^\s*[\w$.]+\s*\((.*)\)\s*;?\s*$", body, re.S)  # JSONP
        try:
            return json.loads(m.group(1)) if m else None
        except ValueError:
            return None


def _number(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


def _int(data: dict, *keys: str) -> int | None:
    for k in keys:
        v = data.get(k) if isinstance(data, dict) else None
        if isinstance(v, int | str) and str(v).isdigit():
            return int(v)
    return None


# -- TRS 集约化 -------------------------------------------------------------------------------------
TRS_MARK = re.compile(r"list2\.trsapi|trsapi|listModel\s*\(|fjdzapp", re.I)
# the list script's own API address when it names one (never a bare ``url``: the site-search box's)
TRS_API = re.compile(r"""\b(?:searchUrl|apiUrl|searchurl|apiurl|listUrl)\s*[:=]\s*['"]([^'"]+)['"]""")


def _js_value(script: str, name: str) -> str | None:
    m = re.search(rf"""['"]?\b{name}['"]?\s*[:=]\s*(?:['"]([^'"]*)['"]|(-?\d+))""", script)
    return (m.group(1) if m.group(1) is not None else m.group(2)) if m else None


def trs_api(html: str, url: str) -> ListPlan | None:
    """A TRS 集约化 list whose later pages come from the search API its list script calls."""
    if not TRS_MARK.search(html):
        return None
    channel, classsql = _js_value(html, "channelid"), _js_value(html, "classsql")
    if not channel or not classsql:
        return None
    per = max(1, _number(_js_value(html, "prepage")) or 10)
    total = _number(_js_value(html, "recordCount"))
    api = TRS_API.search(html)
    endpoint = urljoin(url, api.group(1) if api else "/fjdzapp/search")
    form = {"channelid": channel, "sortfield": _js_value(html, "sortfield") or "-docorderpri,-docreltime",
            "classsql": classsql, "prepage": str(per)}
    for extra in ("classcol", "classnum", "classsort", "cache", "templet"):
        if (v := _js_value(html, extra)) is not None:
            form[extra] = v
    plan = ListPlan("trs-api", announced=total)
    # The first page is static HTML the spider reads itself; the API gives the rest from page 2 (further
    # static pages, maxStaticIndex > 1, are linked from no pager: the script draws it). With the total
    # unknown, the first answer tells the page count.
    first = 2
    if plan.announced is not None:
        last = -(-plan.announced // per)
        if last > MAX_API_PAGES:
            plan.why_incomplete = f"the list announces {last} pages; only the first {MAX_API_PAGES} were read"
        pages = range(first, min(last, MAX_API_PAGES) + 1)
    else:
        pages = range(first, first + 1)
    plan.calls = [ApiCall(endpoint, "trs-api", url, "POST", tuple({**form, "page": str(n)}.items()), n,
                          discover=plan.announced is None, first=n == first) for n in pages]
    return plan


def trs_api_page(body: str, call: ApiCall) -> ApiPage:
    data = _json(body)
    if not isinstance(data, dict):
        return ApiPage([])
    records = json_records(data.get("data") or data.get("docs") or [], call.list_url)
    page = ApiPage(records, announced=_int(data, "total", "recordCount", "totalCount", "recordcount"))
    pages = _int(data, "pageCount", "pagecount", "totalPage", "totalpage")
    if call.discover and pages and pages > call.page:
        # the page did not say its total: this first answer did; ask for the rest
        for n in range(call.page + 1, min(pages, MAX_API_PAGES) + 1):
            form = {**dict(call.form), "page": str(n)}
            page.more.append(ApiCall(call.url, call.family, call.list_url, "POST", tuple(form.items()), n))
    return page


# -- Hanweb jpage, older: the records in a script array ---------------------------------------------
ARRAY = re.compile(r"var\s+(?:InitData|m_aData|dataArr|listData|jpageData)\s*=\s*\[", re.I)
STRING = re.compile(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"", re.S)
HREF = re.compile(r"""<a\b[^>]*?href\s*=\s*['"]([^'"]+)['"][^>]*>(.*?)</a>""", re.S | re.I)
OBJ_URL = re.compile(r"""\b(?:url|href|link|docpuburl)\s*:\s*['"]([^'"]+)['"]""", re.I)
OBJ_TITLE = re.compile(r"""\b(?:title|name|doctitle)\s*:\s*['"]([^'"]*)['"]""", re.I)


def _array_text(html: str, start: int) -> str:
    """The text of the JavaScript array literal opening at ``start`` (brackets balanced, strings skipped)."""
    depth, i, quote = 0, start, ""
    while i < len(html):
        ch = html[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return html[start:i + 1]
        i += 1
    return html[start:]


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", r"\1", s)


def jpage_array(html: str, url: str) -> ListPlan | None:
    """Every record of an older Hanweb jpage column, from the array its ``goPage`` slices."""
    m = ARRAY.search(html)
    if not m:
        return None
    text = _array_text(html, m.end() - 1)
    records: list[Record] = []
    if "{" in text:  # an array of objects
        for obj in re.findall(r"\{[^{}]*\}", text):
            u, t = OBJ_URL.search(obj), OBJ_TITLE.search(obj)
            if u:
                records.append(Record(urljoin(url, _unescape(u.group(1))), _unescape(t.group(1)) if t else ""))
    else:  # an array of HTML snippets
        for s in STRING.finditer(text):
            for href, inner in HREF.findall(_unescape(s.group(1) if s.group(1) is not None else s.group(2))):
                records.append(Record(urljoin(url, href), _text(inner)))
    total = re.search(r"(?:totalRecord|m_nRecordCount)\s*[:=]\s*['\"]?(\d+)", html)
    return ListPlan("jpage-array", records=records, announced=int(total.group(1)) if total else len(records))


# -- 广东 gkmlpt ------------------------------------------------------------------------------------
GKMLPT_CONFIG = re.compile(r"window\._CONFIG\s*=\s*\{", re.S)
SID = re.compile(r"""\bSID\s*:\s*['"]?(\d+)""")
REPORT_COLUMN = re.compile(r"年报|年度报告")


def _tree(html: str) -> list:
    m = re.search(r"\bTREE\s*:\s*\[", html)
    if not m:
        return []
    text = _array_text(html, m.end() - 1)
    for attempt in (text, re.sub(r"([{,]\s*)([A-Za-z_$][\w$]*)\s*:", r'\1"\2":', text)):  # JSON, else a JS literal
        try:
            return json.loads(attempt)
        except ValueError:
            continue
    return []


def _columns(tree: list) -> Iterator[tuple[str, str]]:
    for node in tree:
        if isinstance(node, dict):
            if "id" in node:
                yield str(node["id"]), str(node.get("name", ""))
            yield from _columns(node.get("children") or [])


def gkmlpt_base(url: str) -> str | None:
    """The app's root (``http://host/<agency>/gkmlpt/``) if ``url`` is inside a gkmlpt app."""
    path = urlsplit(url).path
    i = path.find("/gkmlpt/")
    return urljoin(url, path[:i + len("/gkmlpt/")]) if i >= 0 else None


def gkmlpt(html: str, url: str) -> ListPlan | None:
    """The report column(s) of a gkmlpt app: the one its URL fragment names, else those named 年报."""
    if not GKMLPT_CONFIG.search(html) or (root := gkmlpt_base(url)) is None:
        return None
    sid = SID.search(html)
    if not sid:
        return None
    columns = dict(_columns(_tree(html)))
    fragment = urlsplit(url).fragment
    wanted = [fragment] if fragment.isdigit() else [c for c, name in columns.items() if REPORT_COLUMN.search(name)]
    plan = ListPlan("gkmlpt")
    for col in wanted:
        api = f"{root}api/all/{col}?{urlencode({'page': 1, 'sid': sid.group(1)})}"
        plan.calls.append(ApiCall(api, "gkmlpt", f"{root}index#{col}", page=1, column=col, first=True))
    if not wanted:
        plan.why_incomplete = "a gkmlpt catalogue with no column named 年报 or 年度报告, and none in its address"
    return plan


def gkmlpt_page(body: str, call: ApiCall) -> ApiPage:
    data = _json(body)
    if not isinstance(data, dict):
        return ApiPage([])
    records = json_records(data.get("articles") or [], call.list_url)
    total = _int(data, "total") or _int(data.get("classify") or {}, "post_count")
    page = ApiPage(records, announced=total)
    if call.page == 1 and total and records and total > len(records):  # the first answer tells the size
        per = len(records)
        last = min(-(-total // per), MAX_API_PAGES)
        for n in range(2, last + 1):
            page.more.append(ApiCall(re.sub(r"([?&])page=\d+", rf"\g<1>page={n}", call.url), "gkmlpt",
                                     call.list_url, page=n, column=call.column))
    return page


# -- dispatch ---------------------------------------------------------------------------------------
PLANNERS = (gkmlpt, trs_api, jpage_array)
READERS = {"trs-api": trs_api_page, "gkmlpt": gkmlpt_page}


def list_plans(html: str, url: str) -> list[ListPlan]:
    """The adapters that recognise this page, each with what it found."""
    return [plan for planner in PLANNERS if (plan := planner(html, url)) is not None]


def read_api(body: str, call: ApiCall) -> ApiPage:
    return READERS[call.family](body, call)
