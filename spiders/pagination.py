"""How list columns announce their further pages, beyond a 下一页 link.

- TRS: ``createPageHTML(total, current, "index", "html")`` in a script; pages are ``index_N.html``.
- Hanweb: the first records sit in a ``<script type="text/xml">`` datastore; the rest come from a
  POST to ``/module/web/jpage/dataproxy.jsp`` with ``startrecord``/``endrecord``/``perpage`` (a
  static ``index_1.html`` is a 404 there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urljoin, urlsplit

CREATE_PAGE = re.compile(r"createPageHTML\(\s*['\"]?(\d+)['\"]?\s*,\s*['\"]?(\d+)['\"]?\s*,\s*['\"]([^'\"]+)['\"]\s*,"
                         r"\s*['\"]([^'\"]+)['\"]")
DATASTORE = re.compile(r"<datastore>(.*?)</datastore>", re.S)
RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S)
NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[.*?href=['\"]([^'\"]+)['\"]", re.S)
TOTAL = re.compile(r"totalRecord\s*[:=]\s*['\"]?(\d+)", re.I)
PER_PAGE = re.compile(r"perPage\s*[:=]\s*['\"]?(\d+)", re.I)
TOTAL_XML = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>", re.I)
MAX_PAGES = 200


def trs_pages(html: str, url: str) -> list[str]:
    """Further pages a ``createPageHTML`` call announces (none beyond MAX_PAGES)."""
    m = CREATE_PAGE.search(html)
    if not m:
        return []
    total, current, prefix, ext = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
    return [urljoin(url, f"{prefix}_{n}.{ext}") for n in range(1, min(total, MAX_PAGES)) if n != current]


@dataclass(frozen=True)
class HanwebList:
    records: list[str]  # HTML snippets of the records already on the page
    proxy_url: str  # dataproxy.jsp, absolute
    form: dict[str, str]  # the column's parameters, sent as the POST body
    total: int
    per_page: int

    @property
    def cap(self) -> int:
        """The most records read (MAX_PAGES pages): a larger total is reported, not walked."""
        return max(1, self.per_page) * MAX_PAGES

    @property
    def truncated(self) -> bool:
        return self.total > self.cap

    def more(self) -> list[tuple[str, dict[str, str]]]:
        """(URL, form) of the POSTs that fetch the records not yet shown, three pages at a time as
        Hanweb's own script asks for them."""
        out = []
        step = max(1, self.per_page) * 3
        for start in range(len(self.records) + 1, min(self.total, self.cap) + 1, step):
            end = min(self.total, start + step - 1)
            out.append((f"{self.proxy_url}?startrecord={start}&endrecord={end}&perpage={self.per_page}",
                        self.form))
        return out


def hanweb_list(html: str, url: str) -> HanwebList | None:
    m = DATASTORE.search(html)
    if not m:
        return None
    store = m.group(1)
    records = RECORD.findall(store)
    nxt = NEXTGROUP.search(store)
    total = TOTAL.search(html)
    per = PER_PAGE.search(html)
    if not nxt:
        return HanwebList(records, "", {}, len(records), max(1, len(records)))
    href = urljoin(url, nxt.group(1).replace("&amp;", "&"))
    parts = urlsplit(href)
    form = {k: v for k, v in parse_qsl(parts.query) if k != "page"}
    form.setdefault("col", "1")
    form.setdefault("sourceContentType", "1")
    proxy = f"{parts.scheme}://{parts.netloc}{parts.path}"
    return HanwebList(records, proxy, form, int(total.group(1)) if total else len(records),
                      int(per.group(1)) if per else max(1, len(records)))


def record_hrefs(snippets: list[str], base: str) -> list[str]:
    """The item URLs of record snippets (each record is one item of the list)."""
    return [urljoin(base, m.group(1).replace("&amp;", "&")) for s in snippets
            if (m := re.search(r"""href\s*=\s*['"]([^'"]+)['"]""", s))]


def hanweb_records(xml: str) -> list[str]:
    """Record snippets from a dataproxy.jsp answer."""
    return RECORD.findall(xml)
