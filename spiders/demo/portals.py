"""Simulated agency portals in the styles real ones are built in, with reports and traps.

Styles (shared/reference/domain-reports.md §2): ``static`` (next-page links, ``?page=N``), ``trs``
(GBK, ``index_N.html`` announced only by a ``createPageHTML`` call, a meta refresh past the last
page), ``hanweb`` (a ``<script type="text/xml">`` datastore paged through a POST to
``dataproxy.jsp``; ``downfile.jsp`` attachments behind a redirect; a link through an IPv6 gateway),
``jsonapi`` (the list is filled by script from a JSON API: only a browser sees it),
``challenge`` (every page first answers HTTP 412 with a Ruishu-like ``$_ts`` script that sets a
cookie and reloads), ``yearly`` (per-year sub-columns, a numbered pager, ``location.replace``
shells), ``hidden`` (found only through a profile's hints) and ``unnamed`` (report pages that name no
agency; only their PDF attachments do). Traps go on the ``static`` portal:
a calendar that never ends, a notice about compiling reports, a broken PDF, a 404 attachment, a
redirect loop, a robots.txt-disallowed report.

Reports come from :mod:`spiders.demo.generator`: each year is an HTML page plus a PDF (and for some
years DOCX, DOC or a scanned PDF) of the same report, so the archive should make one report of them.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field

from spiders.demo.generator import (
    GenReport,
    agency_name,
    generate,
    libreoffice_many,
    report_html,
    to_docx,
    to_scanned_pdf,
)
from spiders.demo.server import Page, Request, Site

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DOC = "application/msword"
STYLES = ("static", "trs", "hanweb", "jsonapi", "challenge", "yearly", "hidden", "unnamed")


@dataclass
class Portal:
    """A built portal and what a correct crawl of it must find (and must not)."""

    name: str
    style: str
    agency: str
    site: Site
    reports: list[GenReport] = field(default_factory=list)
    start_path: str = "/"
    lookalikes: list[str] = field(default_factory=list)  # paths that must not become reports
    forbidden: list[str] = field(default_factory=list)  # paths robots.txt disallows
    traps: list[str] = field(default_factory=list)
    needs_browser: bool = False

    @property
    def expected(self) -> set[tuple[str, int]]:
        return {(r.agency, r.year) for r in self.reports}


@dataclass
class Attachments:
    """The files published with one report."""

    pdf: bytes
    docx: bytes | None = None
    doc: bytes | None = None
    scanned: bytes | None = None


def _page(title: str, body: str, *, charset: str = "utf-8", site_id: str | None = None, extra_head: str = "") -> bytes:
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">' if charset else ""
    sid = f'<meta name="SiteIDCode" content="{site_id}">' if site_id else ""
    page = (f"<!DOCTYPE html><html><head>{meta}{sid}<title>{html.escape(title)}</title>{extra_head}</head>"
            f'<body><div class="top">欢迎访问本网站 <a href="/wza/">无障碍浏览</a></div>{body}'
            f'<div class="footer">网站标识码：{site_id or ""} 主办单位：人民政府办公室</div></body></html>')
    return page.encode("gb18030" if charset in ("gb2312", "gbk", "") else "utf-8")


def _article(rep: GenReport, attachments: list[tuple[str, str]], container: str, report_html: str) -> str:
    links = "".join(f'<a href="{html.escape(h)}">{html.escape(t)}</a> ' for h, t in attachments)
    return (f'<div class="position">当前位置：首页 &gt; 政务公开 &gt; 政府信息公开年报</div>'
            f'<h1>{html.escape(rep.title)}</h1><div class="info">发布时间：{rep.year + 1}-01-20</div>'
            f'<div {container}>{report_html}</div><p class="attachments">附件：{links}</p>'
            '<div class="share">分享到：微信 微博</div>')


def make_reports(seed: int, years: list[int], agency: str) -> list[GenReport]:
    return [generate(seed * 100 + i, year=y, agency=agency) for i, y in enumerate(years)]


def make_attachments(reports: list[GenReport], *, docx_years=(), doc_years=(), scanned_years=()) -> list[Attachments]:
    """PDF for every report, DOCX/DOC/scanned PDF for the years asked (LibreOffice, one batch, cached)."""
    docxs = [to_docx(r) for r in reports]
    pdfs = libreoffice_many(docxs, "pdf")
    want_doc = [d for r, d in zip(reports, docxs, strict=True) if r.year in doc_years]
    docs = iter(libreoffice_many(want_doc, "doc") if want_doc else [])
    out = []
    for r, d, pdf in zip(reports, docxs, pdfs, strict=True):
        out.append(Attachments(pdf=pdf, docx=d if r.year in docx_years else None,
                               doc=next(docs) if r.year in doc_years else None,
                               scanned=to_scanned_pdf(pdf, seed=r.year, pages=4) if r.year in scanned_years else None))
    return out


def _files(site: Site, base: str, rep: GenReport, att: Attachments) -> list[tuple[str, str]]:
    """Serve a report's attachment files under ``base``; return (href, link text) pairs."""
    links = []
    for ext, data, ctype in (("pdf", att.pdf, PDF), ("docx", att.docx, DOCX), ("doc", att.doc, DOC)):
        if data is not None:
            path = f"{base}{rep.year}nb.{ext}"
            site.add(path, Page(data, ctype))
            links.append((path, f"{rep.title}.{ext}"))
    if att.scanned is not None:
        path = f"{base}{rep.year}nb-scan.pdf"
        site.add(path, Page(att.scanned, PDF))
        links.append((path, f"{rep.title}（扫描件）.pdf"))
    return links


# -- styles ---------------------------------------------------------------------------------------

def _new_portal(style: str, seed: int, years: list[int], **attachments) -> tuple[Portal, list[Attachments]]:
    """An empty site of a style, named ``style-seed``, with its agency's reports and their files."""
    agency = agency_name(seed)
    reports = make_reports(seed, years, agency)
    site = Site(name=f"{style}-{seed}")
    return Portal(f"{style}-{seed}", style, agency, site, reports), make_attachments(reports, **attachments)


def build_static(seed: int, years: list[int], *, traps: bool = True, scanned: bool = False,
                 per_page: int = 2, filler: int = 0, office: bool = True) -> Portal:
    """A plain static site: front page, 政务公开 hub, a paged 年报 column, report pages with files;
    ``filler`` adds that many short 年报解读 pages to the column (for benchmarks' page counts);
    ``office`` adds a DOCX and a DOC rendition beside the PDFs."""
    extra = {"docx_years": years[:1], "doc_years": years[1:2] if len(years) > 1 else ()} if office else {}
    p, atts = _new_portal("static", seed, years, scanned_years=years[-1:] if scanned else (), **extra)
    agency, site, reports = p.agency, p.site, p.reports
    site.add("/robots.txt", Page(b"User-agent: *\nDisallow: /private/\n", "text/plain"))
    site.add("/", Page(_page(f"{agency}门户网站", '<div class="nav"><a href="/">首页</a> <a href="/zwgk/">政务公开</a> '
                                              '<a href="/news/">新闻中心</a> <a href="/hdjl/">互动交流</a></div>')))
    hub = ('<ul><li><a href="/zwgk/zn/">政府信息公开指南</a></li><li><a href="/zwgk/nb/">政府信息公开年报</a></li>'
           '<li><a href="/zwgk/fd/">法定主动公开内容</a></li>')
    if traps:
        hub += ('<li><a href="/private/2018.html">2018年度政府信息公开工作年度报告</a></li>'
                '<li><a href="/zwgk/old/">政府信息公开年报（旧版）</a></li>'
                '<li><a href="/zwgk/cal?d=2022-01-01">政府信息公开工作日历</a></li>'
                '<li><a href="/zwgk/nb/;jsessionid=A1B2C3?sid=99">政府信息公开年报（会话）</a></li>')
    site.add("/zwgk/", Page(_page("政务公开", hub + "</ul>")))
    guide = "为了更好地提供政府信息公开服务，根据《中华人民共和国政府信息公开条例》，编制本指南。" * 20
    site.add("/zwgk/zn/", Page(_page("政府信息公开指南", f"<h1>政府信息公开指南</h1><p>{guide}</p>")))
    site.add("/zwgk/fd/", Page(_page("法定主动公开内容", '<ul><li><a href="/zwgk/fd/jg.html">机构职能</a></li></ul>')))
    site.add("/zwgk/fd/jg.html", Page(_page("机构职能", "<p>主要职责……</p>")))
    items = []
    for rep, att in zip(reports, atts, strict=True):
        links = _files(site, f"/uploads/{seed}/", rep, att)
        path = f"/zwgk/nb/{rep.year + 1}/c{seed}{rep.year}.html"
        if traps and rep is reports[0]:
            site.add(f"/uploads/{seed}/broken.pdf", Page(att.pdf[: len(att.pdf) // 3], PDF))
            links += [(f"/uploads/{seed}/broken.pdf", "附件（损坏）.pdf"),
                      (f"/uploads/{seed}/missing.pdf", "附件（已删除）.pdf")]
        site.add(path, Page(_page(rep.title, _article(rep, links, 'class="article-content"', report_html(rep)))))
        items.append((path, rep.title, f"{rep.year + 1}-01-20"))
    for i in range(filler):
        path = f"/zwgk/nb/jd/{seed}-{i}.html"
        title = f"{years[i % len(years)]}年度政府信息公开工作年报解读（{i + 1}）"
        site.add(path, Page(_page(title, f"<h1>{title}</h1><p>{'本年度政府信息公开工作的要点解读。' * 8}</p>")))
        items.append((path, title, f"{years[-1] + 1}-02-{i % 28 + 1:02d}"))
    if traps:
        notice = f"关于做好{years[-1]}年度政府信息公开工作年度报告编制发布工作的通知"
        text = f"<p>各单位：请于{years[-1] + 1}年1月31日前发布本机关政府信息公开工作年度报告。</p>" * 3
        site.add("/zwgk/nb/notice.html", Page(_page(notice, f"<h1>{notice}</h1>{text}")))
        items.insert(0, ("/zwgk/nb/notice.html", notice, f"{years[-1] + 1}-01-05"))
        p.lookalikes.append("/zwgk/nb/notice.html")
        site.add("/private/2018.html", Page(_page("2018", "<p>不应被抓取</p>")))
        p.forbidden.append("/private/2018.html")
        site.add("/zwgk/old/", Page(b"", status=302, headers=[("Location", "/zwgk/old2/")]))
        site.add("/zwgk/old2/", Page(b"", status=302, headers=[("Location", "/zwgk/old/")]))
        site.add("/zwgk/cal", _calendar)
        p.traps += ["/zwgk/old/", "/zwgk/cal"]
    pages = [items[i:i + per_page] for i in range(0, len(items), per_page)] or [[]]
    for n, chunk in enumerate(pages, 1):
        lis = "".join(f'<li><a href="{h}">{html.escape(t)}</a><span>{d}</span></li>' for h, t, d in chunk)
        nav = f'<a href="/zwgk/nb/?page={n + 1}">下一页</a>' if n < len(pages) else ""
        key = "/zwgk/nb/" if n == 1 else f"/zwgk/nb/?page={n}"
        site.add(key, Page(_page("政府信息公开年报", f'<ul class="list">{lis}</ul><div class="page">{nav}</div>')))
    return p


def _calendar(req: Request) -> Page:
    """A calendar whose every day links the next one, forever (a crawler trap)."""
    import datetime as dt

    day = dt.date.fromisoformat((req.query.get("d") or ["2022-01-01"])[0])
    nxt = day + dt.timedelta(days=1)
    return Page(_page(f"日历 {day}", f'<p>{day} 暂无活动</p><a href="/zwgk/cal?d={nxt}">下一页</a>'))


def build_trs(seed: int, years: list[int], *, per_page: int = 2) -> Portal:
    """A GBK TRS site: pages numbered index_N.html, announced only by createPageHTML()."""
    p, atts = _new_portal("trs", seed, years)
    agency, site, reports = p.agency, p.site, p.reports
    sid = f"61{seed:08d}"
    gbk = {"content_type": "text/html"}  # no charset in the header: the page's <meta> or detection decides
    site.add("/", Page(_page(f"{agency}", '<a href="/xxgk/">信息公开</a>', charset="gb2312", site_id=sid), **gbk))
    hub = '<a href="/xxgk/zfxxgknb/">政府信息公开年报</a> <a href="/xxgk/zfxxgkzn/">政府信息公开指南</a>'
    site.add("/xxgk/", Page(_page("信息公开", hub, charset="gb2312", site_id=sid), **gbk))
    items = []
    for i, (rep, att) in enumerate(zip(reports, atts, strict=True)):
        d = f"{rep.year + 1}01"
        detail = f"/xxgk/zfxxgknb/{d}/t{rep.year + 1}0120_{seed}{i}.html"
        pdf = f"P0{rep.year + 1}0120{seed}{i}.pdf"
        site.add(f"/xxgk/zfxxgknb/{d}/{pdf}", Page(att.pdf, PDF))
        body = _article(rep, [(f"./{pdf}", f"{rep.title}.pdf")], 'class="TRS_Editor" id="zoom"', report_html(rep))
        # the report pages declare nothing at all: GB18030 bytes must be detected
        site.add(detail, Page(_page(rep.title, body, charset="", site_id=sid), **gbk))
        items.append((f"./{d}/t{rep.year + 1}0120_{seed}{i}.html", rep.title))
    pages = [items[i:i + per_page] for i in range(0, len(items), per_page)] or [[]]
    for n, chunk in enumerate(pages):
        lis = "".join(f'<li><a href="{h}" target="_blank">{html.escape(t)}</a></li>' for h, t in chunk)
        script = f'<script>createPageHTML({len(pages)}, {n}, "index", "html");</script>'
        body = f'<ul class="list">{lis}</ul>{script}'
        page = Page(_page("政府信息公开年报", body, charset="gb2312", site_id=sid), **gbk)
        site.add("/xxgk/zfxxgknb/index.html" if n == 0 else f"/xxgk/zfxxgknb/index_{n}.html", page)
        if n == 0:
            site.add("/xxgk/zfxxgknb/", page)
    # past the last page: a meta refresh back to the first, not a 404 (TRS does this)
    site.add(f"/xxgk/zfxxgknb/index_{len(pages)}.html", Page(_page(
        "", "", charset="gb2312", extra_head='<meta http-equiv="refresh" content="0;url=index.html">'), **gbk))
    return p


def build_hanweb(seed: int, years: list[int], *, per_page: int = 2) -> Portal:
    """A Hanweb column: records in a <script type="text/xml"> datastore, more through dataproxy.jsp."""
    p, atts = _new_portal("hanweb", seed, years)
    agency, site, reports = p.agency, p.site, p.reports
    col = 1000 + seed
    site.add("/", Page(_page(agency, '<a href="/col/col100/index.html">政务公开</a>')))
    hub = f'<a href="/col/col{col}/index.html">政府信息公开年报</a>'
    site.add("/col/col100/index.html", Page(_page("政务公开", hub)))
    records = []
    for i, (rep, att) in enumerate(zip(reports, atts, strict=True)):
        name = f"{seed:04x}{i:04x}abcdef0123456789abcdef01.pdf"
        site.add(f"/attach/0/{name}", Page(att.pdf, PDF, headers=[
            ("Content-Disposition", f'attachment; filename="{rep.year}nb.pdf"')]))
        site.add(f"/module/download/downfile.jsp?classid=0&filename={name}",
                 Page(b"", status=302, headers=[("Location", f"/attach/0/{name}")]))
        art = f"/art/{rep.year + 1}/1/20/art_{col}_{seed}{i}.html"
        links = [(f"/module/download/downfile.jsp?classid=0&filename={name}", f"{rep.title}.pdf")]
        site.add(art, Page(_page(rep.title, _article(rep, links, 'id="zoom"', report_html(rep)))))
        records.append(f'<li><a href="{art}" title="{html.escape(rep.title)}">{html.escape(rep.title)}</a>'
                       f"<span>{rep.year + 1}-01-20</span></li>")
    first = "".join(f"<record><![CDATA[{r}]]></record>" for r in records[:per_page])
    store = (f'<script type="text/xml"><datastore><nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?'
             f'page=1&appid=1&webid=1&path=/&columnid={col}&unitid=5{col}&webname=demo&permissiontype=0"></a>]]>'
             f"</nextgroup><recordset>{first}</recordset></datastore></script>"
             f'<script>$(function(){{$("#div{col}").jpage({{dataStore: dataStore, totalRecord: {len(records)}, '
             f'perPage: {per_page}, proxyUrl: "/module/web/jpage/dataproxy.jsp"}});}});</script>')
    site.add(f"/col/col{col}/index.html", Page(_page("政府信息公开年报", f'<div id="div{col}"></div>{store}')))

    def proxy(req: Request) -> Page:
        if req.method != "POST" or (req.form.get("columnid") or [""])[0] != str(col):
            return Page(b"<datastore><totalrecord>0</totalrecord></datastore>", "text/xml", status=400)
        start = int((req.query.get("startrecord") or ["1"])[0])
        end = int((req.query.get("endrecord") or [str(len(records))])[0])
        chosen = "".join(f"<record><![CDATA[{r}]]></record>" for r in records[start - 1:end])
        xml = (f'<?xml version="1.0" encoding="utf-8"?><datastore><totalrecord>{len(records)}</totalrecord>'
               f"<totalpage>{-(-len(records) // per_page)}</totalpage><recordset>{chosen}</recordset></datastore>")
        return Page(xml.encode(), "text/xml; charset=utf-8", conditional=False)

    site.add("/module/web/jpage/dataproxy.jsp", proxy)
    return p


def build_jsonapi(seed: int, years: list[int]) -> Portal:
    """A newer platform: the list page is an empty shell that script fills from a JSON API."""
    p, atts = _new_portal("jsonapi", seed, years)
    p.needs_browser = True
    agency, site, reports = p.agency, p.site, p.reports
    site.add("/", Page(_page(agency, '<a href="/zwgk/">政务公开</a>')))
    site.add("/zwgk/", Page(_page("政务公开", '<a href="/zwgk/ndbg/">政府信息公开年度报告</a>')))
    items = []
    for i, (rep, att) in enumerate(zip(reports, atts, strict=True)):
        links = _files(site, f"/files/{seed}/", rep, att)
        path = f"/zwgk/ndbg/detail/{seed}{i}.html"
        site.add(path, Page(_page(rep.title, _article(rep, links, 'class="content"', report_html(rep)))))
        items.append({"title": rep.title, "url": path, "date": f"{rep.year + 1}-01-20"})
    script = """<script>
async function load(page) {
  const r = await fetch('/api/ndbg?page=' + page); const d = await r.json();
  for (const it of d.items) {
    const li = document.createElement('li'); const a = document.createElement('a');
    a.href = it.url; a.textContent = it.title; li.appendChild(a); document.getElementById('list').appendChild(li);
  }
  if (page < d.pages) await load(page + 1);
}
load(1);
</script>"""
    site.add("/zwgk/ndbg/", Page(_page("政府信息公开年度报告", f'<ul id="list"></ul>{script}')))

    def api(req: Request) -> Page:
        page = int((req.query.get("page") or ["1"])[0])
        chunk = items[(page - 1) * 2: page * 2]
        data = {"total": len(items), "pages": -(-len(items) // 2), "items": chunk}
        return Page(json.dumps(data, ensure_ascii=False).encode(), "application/json; charset=utf-8")

    site.add("/api/ndbg", api)
    return p


CHALLENGE = """<html><head><meta charset="utf-8"><script>var $_ts=window['$_ts'];if(!$_ts)$_ts={};$_ts.nsd=61249;
$_ts.cd="qhcrrpAlEGr7KqllqEWeK1Atn0jsaYZ";setTimeout(function(){document.cookie='rs_ok=1; path=/';
location.reload();},DELAY);</script></head><body></body></html>"""


def build_challenge(seed: int, years: list[int], *, delay_ms: int = 1500) -> Portal:
    """Every HTML page answers 412 with a Ruishu-like script until the browser holds its cookie."""
    inner = build_static(seed, years, traps=False, per_page=10)
    guarded = Site(name=f"challenge-{seed}")
    p = Portal(f"challenge-{seed}", "challenge", inner.agency, guarded, inner.reports, needs_browser=True)

    def guard(page: Page):
        def serve(req: Request) -> Page:
            if "rs_ok=1" in (req.headers.get("cookie") or ""):
                return page
            return Page(CHALLENGE.replace("DELAY", str(delay_ms)).encode(), status=412, conditional=False)
        return serve

    for path, page in inner.site.pages.items():
        html_page = isinstance(page, Page) and page.content_type.startswith("text/html")
        guarded.add(path, guard(page) if html_page else page)
    return p


def build_yearly(seed: int, years: list[int], *, per_page: int = 3) -> Portal:
    """A column split into per-year sub-columns (``gknb2023/``, ``2022n/`` named only by "2022年度"),
    each paged by numbers (``?page=N``, "1 2 尾页", no 下一页), whose report link is a
    ``location.replace`` shell in front of the real page."""
    p, atts = _new_portal("yearly", seed, years)
    agency, site, reports = p.agency, p.site, p.reports
    site.add("/", Page(_page(agency, '<a href="/zfxxgk/">政府信息公开</a> <a href="/xwzx/">新闻中心</a>')))
    site.add("/zfxxgk/", Page(_page("政府信息公开", '<a href="/zfxxgk/gzbg/">政府信息公开工作年度报告</a>')))
    subs = []
    for i, (rep, att) in enumerate(zip(reports, atts, strict=True)):
        y = rep.year
        # alternate the two real naming schemes; "2022n/" carries no telling word, only its link text does
        col, label = (f"/zfxxgk/gzbg/gknb{y}/", f"{y}年") if i % 2 else (f"/zfxxgk/gzbg/{y}n/", f"{y}年度")
        subs.append(f'<li><a href="{col}">{label}</a></li>')
        real = f"/content/{y}/{seed}{i}.html"
        site.add(real, Page(_page(rep.title, _article(rep, _files(site, f"/files/{seed}/", rep, att),
                                                      'class="article"', report_html(rep)))))
        shell = f"{col}t{seed}{i}.html"
        site.add(shell, Page(_page("", f'<script>location.replace("{real}");</script>')))
        items = [(f"{col}dt{k}.html", f"{y}年工作动态（{k + 1}）") for k in range(2 * per_page)] + [(shell, rep.title)]
        for h, t in items[:-1]:
            site.add(h, Page(_page(t, f"<h1>{html.escape(t)}</h1><p>{'本月开展了多项工作。' * 6}</p>")))
        pages = [items[k:k + per_page] for k in range(0, len(items), per_page)]
        for n, chunk in enumerate(pages, 1):
            lis = "".join(f'<li><a href="{h}">{html.escape(t)}</a></li>' for h, t in chunk)
            pager = " ".join(f'<a href="{col}?page={k}">{k}</a>' for k in range(1, len(pages) + 1) if k != n)
            pager += f' <a href="{col}?page={len(pages)}">尾页</a>' if n < len(pages) else ""
            page = Page(_page(f"{y}年度", f'<ul class="list">{lis}</ul><div class="pager">{pager}</div>'))
            site.add(col if n == 1 else f"{col}?page={n}", page)
    site.add("/zfxxgk/gzbg/", Page(_page("政府信息公开工作年度报告", f'<ul class="years">{"".join(subs)}</ul>')))
    return p


def build_hidden(seed: int, years: list[int]) -> Portal:
    """A site the heuristics miss: the column is "专题专栏" at ``/special/list/`` and its links say
    "工作情况（2023）". Only a profile's hints (``url_patterns``, ``list_selector``) find the reports."""
    p, atts = _new_portal("hidden", seed, years)
    agency, site, reports = p.agency, p.site, p.reports
    site.add("/", Page(_page(agency, '<a href="/special/list/">专题专栏</a> <a href="/about/">本站介绍</a>')))
    site.add("/about/", Page(_page("本站介绍", "<p>本站由人民政府办公室主办。</p>")))
    lis = []
    for i, (rep, att) in enumerate(zip(reports, atts, strict=True)):
        path = f"/special/d/{seed}{i}.html"
        site.add(path, Page(_page(rep.title, _article(rep, _files(site, f"/special/f/{seed}/", rep, att),
                                                      'class="text"', report_html(rep)))))
        lis.append(f'<li><a href="{path}">工作情况（{rep.year}）</a></li>')
    site.add("/special/list/", Page(_page("专题专栏", f'<div class="special-list"><ul>{"".join(lis)}</ul></div>')))
    return p


def _unnamed_page(title: str, body: str) -> bytes:
    """A page that names no agency anywhere: a plain title, no site meta, no 主办单位 footer."""
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>'
            f'<body><div class="nav"><a href="/">首页</a> <a href="/xxgk/nb/">年度报告</a></div>{body}'
            '<div class="footer">版权所有 联系我们</div></body></html>').encode()


def build_unnamed(seed: int, years: list[int]) -> Portal:
    """Report pages that name no agency (title ``2024年政府信息公开工作年度报告``, the text says 我局),
    each with a PDF attachment that does: only the attachment tells whose report the page is."""
    p, atts = _new_portal("unnamed", seed, years)
    site, items = p.site, []
    site.add("/", Page(_unnamed_page("门户网站", '<a href="/xxgk/">信息公开</a> <a href="/news/">新闻动态</a>')))
    site.add("/xxgk/", Page(_unnamed_page("信息公开", '<a href="/xxgk/nb/">政府信息公开年报</a>')))
    for rep, att in zip(p.reports, atts, strict=True):
        title, pdf = f"{rep.year}年政府信息公开工作年度报告", f"/uploads/{seed}/{rep.year}nb.pdf"
        site.add(pdf, Page(att.pdf, PDF))
        article = report_html(rep).replace(rep.agency, "我局")
        path = f"/xxgk/nb/{rep.year + 1}/a{seed}{rep.year}.html"
        site.add(path, Page(_unnamed_page(title, (
            f'<h1>{title}</h1><div class="info">发布时间：{rep.year + 1}-01-18</div><div class="content">{article}'
            f'</div><p>附件：<a href="{pdf}">{title}.pdf</a></p>'))))
        items.append(f'<li><a href="{path}">{title}</a><span>{rep.year + 1}-01-18</span></li>')
    site.add("/xxgk/nb/", Page(_unnamed_page("政府信息公开年报", f'<ul class="list">{"".join(items)}</ul>')))
    return p


BUILDERS = {"static": build_static, "trs": build_trs, "hanweb": build_hanweb, "jsonapi": build_jsonapi,
            "challenge": build_challenge, "yearly": build_yearly, "hidden": build_hidden, "unnamed": build_unnamed}


def build(style: str, seed: int, years: list[int], *, delay: float = 0.0, **kw) -> Portal:
    """A portal of a style; ``delay`` makes its host slow (seconds before every answer)."""
    portal = BUILDERS[style](seed, years, **kw)
    portal.site.delay = delay or portal.site.delay
    return portal
