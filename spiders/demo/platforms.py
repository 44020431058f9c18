"""Simulated portals of the platforms whose lists are paged by script, built from how the real ones are
made (shared/reference/real-publishing.md; domain-reports.md §2.2; public code that reads them):

- ``trsapi``: a TRS 集约化 column: the first page static (``maxStaticIndex: 1``), the rest only from the
  search API its ``listModel`` script POSTs to (``/fjdzapp/search``: ``channelid``, ``classsql``, ``page``,
  ``prepage``; JSON ``data`` with ``doctitle``/``docpuburl``, ``pageCount``); newer items first, so the
  reports sit on the later pages; report pages name no agency (title ``2023年政府信息公开工作年度报告``, the
  text says 我局), only the ``<title>`` suffix and ``SiteName`` do — the portal profile's agency decides.
- ``jpage``: an older Hanweb column: every record in ``var InitData = [...]``, drawn and paged by
  ``goPage(n)``; no ``<a>`` in the list's HTML; report pages behind a ``<base href>`` that relative
  attachment links resolve against; ``download.jsp?id=`` attachments named by Content-Disposition only.
- ``gkmlpt``: 广东's 政府信息公开目录 app: the hub links ``/gkmlpt/index#<column>``; the app page is a shell
  with ``window._CONFIG`` (``SID``, column ``TREE``); lists from ``/gkmlpt/api/all/<column>?page=N&sid=…``
  (10 articles a page, ``total``); the report column is one of several of the same page.
"""

from __future__ import annotations

import html
import json

from spiders.demo.generator import report_html
from spiders.demo.portals import PDF, Portal, _article, _new_portal, _page
from spiders.demo.server import Page, Request


def _filler(n: int, year: int) -> list[tuple[str, str]]:
    """(title, date) of column items that are not reports, newer than the reports."""
    return [(f"{year + 1}年第{i + 1}期政务公开工作动态", f"{year + 1}-0{2 + i % 7}-{10 + i % 18:02d}")
            for i in range(n)]


def build_trsapi(seed: int, years: list[int], *, per_page: int = 4, filler: int = 6) -> Portal:
    p, _ = _new_portal("trsapi", seed, years)
    agency, site, reports = p.agency, p.site, p.reports
    sid = f"35{seed:08d}"
    head = f'<meta name="SiteName" content="{agency}"><meta name="ChnlId" content="1813">'
    site.add("/", Page(_page(agency, '<a href="/zwgk/">政务公开</a>', site_id=sid, extra_head=head)))
    site.add("/zwgk/", Page(_page("政务公开", '<a href="/zwgk/zfxxgknb/">政府信息公开年报</a>', site_id=sid)))
    items = []
    for t, d in _filler(filler, years[-1]):
        path = f"/zwgk/zfxxgknb/{d[:4]}{d[5:7]}/t{d.replace('-', '')}_{seed}{len(items)}.htm"
        site.add(path, Page(_page(f"{t}_{agency}", f"<h1>{t}</h1><p>{'本期工作动态。' * 10}</p>", site_id=sid)))
        items.append((path, t, d))
    for i, rep in enumerate(sorted(reports, key=lambda r: -r.year)):
        title = f"{rep.year}年政府信息公开工作年度报告"
        d = f"{rep.year + 1}-01-2{i}"
        path = f"/zwgk/zfxxgknb/{rep.year + 1}01/t{d.replace('-', '')}_{seed}9{i}.htm"
        body = _article(rep, [], 'class="TRS_Editor"', report_html(rep).replace(rep.agency, "我局"))
        body = body.replace(html.escape(rep.title), title)
        site.add(path, Page(_page(f"{title}_{agency}", body, site_id=sid, extra_head=head)))
        items.append((path, title, d))
    first = items[:per_page]
    lis = "".join(f'<li><a href="{h}" target="_blank">{html.escape(t)}</a><span>{d}</span></li>' for h, t, d in first)
    script = ('<script>require(["list2.trsapi"], function () { listModel({ quickMode: "动静结合", maxStaticIndex: 1, '
              'channelid: 200210, classsql: "chnlid=1813", sortfield: "-docorderpri,-docreltime", classcol: '
              f'"publishyear", prepage: {per_page}, pagebar: {{ prepage: {per_page}, recordCount: \'{len(items)}\' '
              '} }); });</script>')
    site.add("/zwgk/zfxxgknb/", Page(_page("政府信息公开年报", f'<ul class="list">{lis}</ul><div id="pagebar"></div>'
                                                          f"{script}", site_id=sid, extra_head=head)))

    def search(req: Request) -> Page:
        form = {k: v[0] for k, v in req.form.items()}
        if req.method != "POST" or form.get("channelid") != "200210" or form.get("classsql") != "chnlid=1813":
            return Page(b'{"error": "bad request"}', "application/json", status=400, conditional=False)
        page, per = int(form.get("page", "1")), int(form.get("prepage", "10"))
        chunk = items[(page - 1) * per: page * per]
        data = {"data": [{"doctitle": t, "docpuburl": h, "docreltime": d} for h, t, d in chunk],
                "pageCount": -(-len(items) // per), "total": len(items)}
        return Page(json.dumps(data, ensure_ascii=False).encode(), "application/json;charset=utf-8",
                    conditional=False)

    site.add("/fjdzapp/search", search)
    return p


def build_jpage(seed: int, years: list[int], *, filler: int = 20) -> Portal:
    p, atts = _new_portal("jpage", seed, years)
    agency, site, reports = p.agency, p.site, p.reports
    col = 4000 + seed
    site.add("/", Page(_page(agency, f'<a href="/col/col{col}/index.html">政府信息公开年报</a>')))
    records = []
    for t, d in _filler(filler, years[-1]):
        path = f"/art/{d[:4]}/{int(d[5:7])}/{int(d[8:])}/art_{col}_{len(records)}.html"
        site.add(path, Page(_page(t, f"<h1>{t}</h1><p>{'本期工作动态。' * 10}</p>")))
        records.append((path, t, d))
    for i, (rep, att) in enumerate(zip(reports, atts, strict=True)):
        doc_id = 70000 + seed * 10 + i
        site.add(f"/module/download/download.jsp?id={doc_id}", Page(att.pdf, PDF, headers=[
            ("Content-Disposition", f"attachment; filename*=UTF-8''{rep.year}nb.pdf")]))
        folder = f"/art/{rep.year + 1}/1/20/"
        path = f"{folder}art_{col}_9{i}.html"
        # relative links resolve against <base href>, not the page's own folder
        head = '<base href="/module/download/">'
        body = _article(rep, [(f"download.jsp?id={doc_id}", f"{rep.title}.pdf")], 'id="zoom"', report_html(rep))
        site.add(path, Page(_page(rep.title, body, extra_head=head)))
        records.append((path, rep.title, f"{rep.year + 1}-01-20"))
    records.sort(key=lambda r: r[2], reverse=True)
    data = ",".join("'" + f'<li><a href="{h}" title="{html.escape(t)}" target="_blank">{html.escape(t)}</a>'
                    f"<span>{d}</span></li>".replace("'", "\\'") + "'" for h, t, d in records)
    script = (f"<script>var InitData = [{data}];\n"
              f"$(function(){{ $('#div{col}').jpage({{dataStore: InitData, totalRecord: {len(records)}, perPage: 15,"
              " groupSize: 3, barPosition: 'bottom'});});</script>")
    pager = ('<div class="pager">共' + str(len(records)) + '条 <a href="javascript:;" onclick="goPage(2)">2</a> '
             '<a href="javascript:;" onclick="goPage(2)">下一页</a></div>')
    site.add(f"/col/col{col}/index.html", Page(_page("政府信息公开年报", f'<div id="div{col}"></div>{pager}{script}')))
    return p


def build_gkmlpt(seed: int, years: list[int], *, filler: int = 20) -> Portal:
    p, atts = _new_portal("gkmlpt", seed, years)
    agency, site, reports = p.agency, p.site, p.reports
    report_col, other_col, sid = 2629, 2630, str(755000 + seed)
    root = "/dept/gkmlpt/"
    site.add("/", Page(_page(agency, f'<a href="{root}index#{report_col}">政府信息公开年报</a> '
                                     f'<a href="{root}index#{other_col}">规范性文件</a> '
                                     '<a href="/xwzx/">新闻中心</a>')))
    tree = [{"id": 2620, "name": "政府信息公开", "children": [{"id": report_col, "name": "政府信息公开年报"},
                                                        {"id": other_col, "name": "规范性文件"}]}]
    shell = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{agency}政府信息公开</title></head>"
             f"<body><div id='app'></div><script>window._CONFIG = {{ SID: '{sid}', TREE: "
             f"{json.dumps(tree, ensure_ascii=False)}, SERVICE_AREA_ID: 0 }};</script>"
             f"<script src='{root}gkml/pc/js/chunk-common.js'></script></body></html>")
    site.add(f"{root}index", Page(shell.encode()))
    site.add(f"{root}gkml/pc/js/chunk-common.js", Page(b"/* the app */", "application/javascript"))
    columns: dict[int, list[dict]] = {report_col: [], other_col: []}
    for i, (t, d) in enumerate(_filler(filler, years[-1])):
        url = f"{root}content/0/{seed}/post_{seed}{i:03d}.html"
        site.add(url, Page(_page(t, f"<h1>{t}</h1><p>{'本期工作动态。' * 10}</p>")))
        columns[report_col if i % 2 else other_col].append({"id": i, "title": t, "url": url, "created_at": d})
    for i, (rep, att) in enumerate(zip(reports, atts, strict=True)):
        post = f"{seed}9{i:02d}"
        pdf = f"/dept/attachment/0/{seed}/{post}.pdf"
        site.add(pdf, Page(att.pdf, PDF))
        url = f"{root}content/0/{seed}/post_{post}.html"
        body = _article(rep, [(pdf, f"{rep.title}.pdf")], 'class="article-content"', report_html(rep))
        site.add(url, Page(_page(rep.title, body)))
        columns[report_col].append({"id": int(post), "title": rep.title, "url": url,
                                    "created_at": f"{rep.year + 1}-01-20 10:00:00", "publisher": agency})
    for col in columns.values():
        col.sort(key=lambda a: a["created_at"], reverse=True)

    def api(req: Request) -> Page:
        col = int(req.path.rsplit("/", 1)[1])
        if (req.query.get("sid") or [""])[0] != sid or col not in columns:
            return Page(b'{"error": "no such column"}', "application/json", status=404, conditional=False)
        page = int((req.query.get("page") or ["1"])[0])
        arts = columns[col]
        chunk = arts[(page - 1) * 10: page * 10]
        data = {"total": len(arts), "classify": {"id": col, "post_count": len(arts)},
                "articles": [{**a, "url": f"http://{req.headers.get('host', '')}{a['url']}"} for a in chunk]}
        return Page(json.dumps(data, ensure_ascii=False).encode(), "application/json", conditional=False)

    for col in columns:
        site.add(f"{root}api/all/{col}", api)
    return p


BUILDERS = {"trsapi": build_trsapi, "jpage": build_jpage, "gkmlpt": build_gkmlpt}
