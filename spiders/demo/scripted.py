"""Simulated portals whose report lists only a browser can page through.

``pager``: the Hanweb-jpage-like column of shared/reference/real-publishing.md, "click the pager in a
browser when the data is not in the page". The column's page is an empty ``<ul id="list">``; a
script fetches each page's items from ``/common/ajax/column.do?p=N`` (an endpoint and an answer no
non-browser adapter reads: odd JSON with the items as an HTML fragment) and draws a pager of
``<a href="javascript:void(0)" onclick="goPage(3)">3</a>`` numbers, a ``下一页`` ``<a href="javascript:;">``
whose handler is bound by script, and ``共N条 共P页``. Two items a page, the reports spread over the
pages between news items, so a crawl that reads only the first page misses reports.
"""

from __future__ import annotations

import html
import json

from spiders.demo.portals import Portal, _article, _files, _new_portal, _page, report_html
from spiders.demo.server import Page, Request

PER_PAGE = 2
PAGER_SCRIPT = """<script>
var cid = 'COLUMN';
function draw(d, p) {
  document.getElementById('list').innerHTML = d.data.html;
  var pages = Math.ceil(d.data.cnt / d.data.ps);
  var bar = '<span class="count">共' + d.data.cnt + '条 共' + pages + '页</span> ';
  for (var k = 1; k <= pages; k++) {
    bar += k === p ? '<span class="current">' + k + '</span> '
                   : '<a href="javascript:void(0)" onclick="goPage(' + k + ')">' + k + '</a> ';
  }
  bar += p < pages ? '<a href="javascript:;" id="next">下一页</a>' : '<span class="disabled">下一页</span>';
  document.getElementById('pager').innerHTML = bar;
  var next = document.getElementById('next');
  if (next) next.addEventListener('click', function () { goPage(p + 1); });
}
function goPage(p) {
  var x = new XMLHttpRequest();
  x.open('GET', '/common/ajax/column.do?cid=' + cid + '&p=' + p);
  x.onload = function () { setTimeout(function () { draw(JSON.parse(x.responseText), p); }, 150); };
  x.send();
}
goPage(1);
</script>"""


def build_pager(seed: int, years: list[int], *, filler: int | None = None) -> Portal:
    """A report column paged by a script-drawn pager (``filler`` news items between the reports,
    one after each report by default, so three years make three pages)."""
    p, atts = _new_portal("pager", seed, years)
    p.needs_browser = True
    agency, site, reports = p.agency, p.site, p.reports
    column = f"{seed:03d}2629"
    site.add("/", Page(_page(agency, '<div class="nav"><a href="/">首页</a> <a href="/zwgk/">政务公开</a> '
                                     '<a href="/xwzx/">新闻中心</a></div>')))
    site.add("/xwzx/", Page(_page("新闻中心", "<p>暂无新闻。</p>")))
    site.add("/zwgk/", Page(_page("政务公开", '<ul><li><a href="/zwgk/gknb/">政府信息公开年报</a></li>'
                                           '<li><a href="/zwgk/zn/">政府信息公开指南</a></li></ul>')))
    guide = "<h1>政府信息公开指南</h1>" + "<p>本指南说明如何申请。</p>" * 10
    site.add("/zwgk/zn/", Page(_page("政府信息公开指南", guide)))
    items: list[tuple[str, str, str]] = []
    news = len(reports) if filler is None else filler
    for i, (rep, att) in enumerate(zip(reports, atts, strict=True)):
        links = _files(site, f"/zwgk/gknb/files/{seed}/", rep, att)
        path = f"/zwgk/gknb/content/post_{seed}{i:02d}.html"
        site.add(path, Page(_page(rep.title, _article(rep, links, 'class="article-content"', report_html(rep)))))
        items.append((path, rep.title, f"{rep.year + 1}-01-20"))
        if i < news:
            items.append(_news(site, seed, i, years[-1]))
    items += [_news(site, seed, i, years[-1]) for i in range(len(reports), news)]

    def column_do(req: Request) -> Page:
        page = int((req.query.get("p") or ["1"])[0])
        chunk = items[(page - 1) * PER_PAGE: page * PER_PAGE]
        fragment = "".join(f'<li><a href="{h}" target="_blank">{html.escape(t)}</a><span>{d}</span></li>'
                           for h, t, d in chunk)
        data = {"ret": 0, "msg": "ok", "data": {"cid": column, "pn": page, "ps": PER_PAGE, "cnt": len(items),
                                                "html": fragment}}
        return Page(json.dumps(data, ensure_ascii=False).encode(), "text/plain; charset=utf-8", conditional=False)

    site.add("/common/ajax/column.do", column_do)
    body = '<div class="list-box"><ul id="list"></ul><div id="pager" class="pagination"></div></div>'
    site.add("/zwgk/gknb/", Page(_page("政府信息公开年报", body + PAGER_SCRIPT.replace("COLUMN", column))))
    return p


APP_SHELL = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>政府信息公开</title>
<link rel="stylesheet" href="/gkmlpt/css/app.css"></head><body><div id="gkmlpt-app"></div>
<script>window._CONFIG = {SITE_ID: SID,
  COLUMNS: [{id: 2629, name: "政府信息公开年报"}, {id: 2630, name: "其他"}]};</script>
<script src="/gkmlpt/js/app.js"></script></body></html>"""
APP_BUNDLE = """(function () {
  var root = document.getElementById('gkmlpt-app'), column = location.hash.replace('#', '');
  var tree = window._CONFIG.COLUMNS.map(function (c) { return '<li>' + c.name + '</li>'; }).join('');
  root.innerHTML = '<ul class="tree">' + tree + '</ul><h2 id="title"></h2><ul id="list"></ul>';
  if (!column) return;
  fetch('/gkmlpt/api/all/' + column + '?page=1&sid=' + window._CONFIG.SITE_ID).then(function (r) { return r.json(); })
    .then(function (d) {
      document.getElementById('title').textContent = d.name + '（共' + d.total + '条）';
      document.getElementById('list').innerHTML = d.articles.map(function (a) {
        return '<li><a href="' + a.url + '">' + a.title + '</a><span>' + a.date + '</span></li>'; }).join('');
    });
})();"""


def build_app(seed: int, years: list[int]) -> Portal:
    """A gkmlpt-like single-page app whose report column is addressed by the URL fragment only."""
    p, atts = _new_portal("app", seed, years)
    p.needs_browser = True
    site, reports = p.site, p.reports
    sid = 700 + seed
    # the guide's column first: a crawler that drops fragments takes both links for one page, this one
    site.add("/", Page(_page(p.agency, '<a href="/gkmlpt/index#2630">政府信息公开指南</a> '
                                       '<a href="/gkmlpt/index#2629">政府信息公开年报</a>')))
    guide = "/gkmlpt/content/0/guide.html"
    site.add(guide, Page(_page("政府信息公开指南", "<h1>政府信息公开指南</h1>" + "<p>依申请公开的办理流程。</p>" * 8)))
    articles: list[dict] = []
    listed_guide = [{"title": "政府信息公开指南（2023年修订）", "url": guide, "date": "2023-03-01"}]
    columns = {"2630": ("政府信息公开指南", listed_guide), "2629": ("政府信息公开年报", articles)}
    for i, (rep, att) in enumerate(zip(reports, atts, strict=True)):
        links = _files(site, f"/attachment/0/{seed}/", rep, att)
        path = f"/gkmlpt/content/0/{seed}/post_{seed}{i:02d}.html"
        site.add(path, Page(_page(rep.title, _article(rep, links, 'class="article-content"', report_html(rep)))))
        articles.append({"title": rep.title, "url": path, "date": f"{rep.year + 1}-01-20"})
    site.add("/gkmlpt/index", Page(APP_SHELL.replace("SID", str(sid)).encode()))
    site.add("/gkmlpt/js/app.js", Page(APP_BUNDLE.encode(), "application/javascript; charset=utf-8"))
    site.add("/gkmlpt/css/app.css", Page(b"#gkmlpt-app{margin:0 auto}", "text/css"))

    def api(req: Request) -> Page:
        column = req.path.rsplit("/", 1)[-1]
        if column not in columns or (req.query.get("sid") or [""])[0] != str(sid):
            return Page(b'{"total": 0, "articles": []}', "application/json", status=404)
        name, listed = columns[column]
        data = {"name": name, "total": len(listed), "articles": listed}
        return Page(json.dumps(data, ensure_ascii=False).encode(), "application/json; charset=utf-8",
                    conditional=False)

    for column in columns:
        site.add(f"/gkmlpt/api/all/{column}", api)
    return p


def _news(site, seed: int, i: int, year: int) -> tuple[str, str, str]:
    """A news item of the column (not a report): its page, and its (href, title, date) in the list."""
    path = f"/zwgk/gknb/content/news_{seed}{i:02d}.html"
    title = f"政务公开工作动态（{i + 1}）"
    site.add(path, Page(_page(title, f"<h1>{title}</h1><p>{'本月开展了多项政务公开工作。' * 6}</p>")))
    return path, title, f"{year + 1}-03-{i + 1:02d}"
