"""Which links lead to annual reports: scoring by link text and URL, and telling files from pages.

Pure functions over (url, text) pairs, so they can be tested without a crawl.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit, urlunsplit

from archive.extract.formats import suffix
from archive.parser.title import LETTER

ATTACHMENT_EXTENSIONS = (".pdf", ".doc", ".docx", ".wps")
TEXT_WORDS = (("政府信息公开年报", 60), ("政府信息公开工作年度报告", 60), ("信息公开年报", 55), ("年度报告", 50),
              ("年报", 45), ("政府信息公开", 30), ("信息公开", 25), ("政务公开", 25), ("法定主动公开", 10),
              ("公开目录", 8))
URL_WORDS = (("zfxxgknb", 40), ("xxgknb", 40), ("gknb", 35), ("ndbg", 35), ("nianbao", 35), ("zfxxgk", 20),
             ("xxgk", 15), ("zwgk", 15), ("gkml", 8))
NEGATIVE = ("english", "登录", "注册", "无障碍", "手机版", "邮箱", "招聘", "投诉", "网站地图", "关怀版", "javascript:",
            "mailto:", "tel:")
NEXT_PAGE = ("下一页", "下页", "后一页", "next", "›", "»", ">")
# A numbered pager ("1 2 3 … 尾页"): the text is a page number or an end word, and the URL says page.
PAGE_TEXT = re.compile(r"^(?:\[?\d{1,3}\]?|尾页|末页|最后一页|上一页|前一页|last|›|»|«|‹)$", re.IGNORECASE)
PAGE_URL = re.compile(r"[?&](?:page|pageno|pageindex|pagenum|currentpage|curpage|p|pn)=\d+"
                      r"|(?:index|list|default)_\d+\.s?html?$|_\d+\.s?html?$", re.IGNORECASE)
# A per-year sub-column of the report column: "2022年", "2022年度", "2022", "【2022年】".
YEAR_COLUMN = re.compile(r"^[\[【（(]?\s*((?:19|20)\d{2})\s*年?度?\s*[\]】）)]?$")
# A script-only page that sends the browser elsewhere (Scrapy follows <meta refresh>, not these).
JS_REDIRECT = re.compile(r"""(?:window\.|self\.|top\.|document\.)?location(?:\.href)?\s*=\s*["']([^"']+)["']"""
                         r"""|location\.(?:replace|assign)\(\s*["']([^"']+)["']\s*\)""")
REPORT_LINK = re.compile(r"(?:19|20)\d{2}\s*年?\s*度?.{0,30}?(?:年度报告|年报|工作报告)"
                         r"|(?:年度报告|年报).{0,12}?(?:19|20)\d{2}")
SESSION_PARAMS = re.compile(r"^(?:jsessionid|sessionid|sid|phpsessid|aspsessionid\w*|token|_t|timestamp|rnd|r)$",
                            re.IGNORECASE)
# A fragment that is a single-page app's route, not an anchor: "#/list/2629", "#!/page", or the column
# number of 广东's gkmlpt app ("/gkmlpt/index#2629"). Such URLs are different pages (the browser renders
# them with their fragment); an anchor ("#top") is not.
ROUTE_FRAGMENT = re.compile(r"^!?/[^\s/]")
NUMBERED_APP = re.compile(r"/gkmlpt/(?:index)?$", re.IGNORECASE)  # the app's page, not its articles
IPV6_GATEWAY = re.compile(r"^(?P<host>[a-z0-9-]+?)x[0-9a-f]+xx\.ipv6best\.cn$", re.IGNORECASE)


@dataclass(frozen=True)
class Link:
    url: str
    text: str
    score: int
    kind: str  # "attachment" | "report" | "next" | "year" | "nav"


def is_attachment(url: str, text: str = "") -> bool:
    """A document file: by the URL's path or ``filename=`` query, or a link text naming such a file."""
    parts = urlsplit(url)
    names = [parts.path] + [v for k, v in parse_qsl(parts.query) if k.lower() in ("filename", "file", "name", "fn")]
    if any(suffix(unquote(n)) in ATTACHMENT_EXTENSIONS for n in names):
        return True
    if "downfile" in parts.path.lower() or "download" in parts.path.lower():
        return True
    return text.strip().lower().endswith(ATTACHMENT_EXTENSIONS)


def looks_like_report(text: str) -> bool:
    """A link or title that names an annual report (not a notice about one)."""
    return bool(REPORT_LINK.search(text)) and not LETTER.search(text) and "通知" not in text


def score(url: str, text: str) -> int:
    if any(n in text.lower() or n in url.lower() for n in NEGATIVE):
        return -100
    s = max((w for k, w in TEXT_WORDS if k in text), default=0)
    s += max((w for k, w in URL_WORDS if k in url.lower()), default=0)
    if looks_like_report(text):
        s += 40
    return s


def classify(url: str, text: str) -> Link:
    t = " ".join(text.split())
    if is_attachment(url, t):
        kind = "attachment"
    elif t.lower() in NEXT_PAGE or t.replace(" ", "") in ("下一页>", "下一页»") or (PAGE_TEXT.match(t)
                                                                                 and PAGE_URL.search(url)):
        kind = "next"
    elif YEAR_COLUMN.match(t):
        kind = "year"
    elif looks_like_report(t):
        kind = "report"
    else:
        kind = "nav"
    return Link(url, t, score(url, t), kind)


def script_redirect(html: str) -> str | None:
    """Where a ``location.replace(…)`` / ``location.href = …`` shell sends the browser, if anywhere."""
    if "location" not in html:  # what the pattern needs, found far quicker than the pattern's scan of a page
        return None
    m = JS_REDIRECT.search(html)
    return (m.group(1) or m.group(2)) if m else None


def unrewrite(url: str) -> str:
    """Undo IPv6-gateway link rewriting: ``http://www-x-gov-cnx45c…xx.ipv6best.cn/p`` -> ``http://www.x.gov.cn/p``."""
    parts = urlsplit(url)
    m = IPV6_GATEWAY.match(parts.hostname or "")
    if not m:
        return url
    host = m.group("host").replace("-", ".")
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def route(path: str, fragment: str) -> str:
    """The fragment if it is an app's route (kept), else "" (an anchor: dropped)."""
    if ROUTE_FRAGMENT.match(fragment) or (fragment.isdigit() and NUMBERED_APP.search(path)):
        return fragment
    return ""


def clean_url(url: str, base: str | None = None) -> str | None:
    """An absolute http(s) URL without session ids, tracking noise or an anchor (an app's route
    fragment is kept, :func:`route`); None if not crawlable."""
    if base:
        url = urljoin(base, url.strip())
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return None
    path = re.sub(r";jsessionid=[^/?#]*", "", parts.path, flags=re.IGNORECASE)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if not SESSION_PARAMS.match(k)])
    return unrewrite(urlunsplit((parts.scheme, parts.netloc.lower(), path or "/", query,
                                 route(path, parts.fragment))))
