"""The demo portal: front page → 政务公开 → 政府信息公开年报 list → report pages with attachments."""

from __future__ import annotations

import html
import re

from spiders.demo import DOCUMENTS
from spiders.demo.server import Page, Site

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DOC = "application/msword"
COLUMN = "/zwgk/zfxxgknb/"


def _shell(title: str, body: str) -> bytes:
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f'<meta name="SiteIDCode" content="6109000001"></head><body>{body}'
            '<div class="footer">网站标识码：6109000001</div></body></html>').encode()


def report_page(n: int, attachments: list[tuple[str, str]]) -> bytes:
    """The sample report page with its attachment links placed after the article, as CMSs do."""
    page = (DOCUMENTS / f"report{n}.html").read_text(encoding="utf-8")
    links = "".join(f'<a href="{href}">{html.escape(text)}</a> ' for href, text in attachments)
    return re.sub(r'(<div class="share">)', f'<p class="attachments">附件：{links}</p>\\1', page, count=1).encode()


def demo_site() -> Site:
    """Five reports: each an HTML page with a PDF and a DOCX attachment (report 1 also as WPS)."""
    pages: dict[str, Page] = {}
    items = []
    for n in range(5):
        base = f"{COLUMN}20220{n + 1}/"
        title = re.search(r"<h1[^>]*>(.*?)</h1>", (DOCUMENTS / f"report{n}.html").read_text("utf-8")).group(1)
        atts = [(f"P02022012{n}0001.pdf", f"{title}.pdf"), (f"P02022012{n}0002.docx", f"{title}.docx")]
        if n == 1:
            atts.append(("P0202201210003.wps", f"{title}.wps"))
        page_path = f"{base}t2022012{n}_10{n}.html"
        pages[page_path] = Page(report_page(n, atts))
        pages[base + atts[0][0]] = Page((DOCUMENTS / f"report{n}.pdf").read_bytes(), PDF)
        pages[base + atts[1][0]] = Page((DOCUMENTS / f"report{n}.docx").read_bytes(), DOCX)
        if n == 1:
            pages[base + atts[2][0]] = Page((DOCUMENTS / "report1.wps").read_bytes(), DOC)
        items.append(f'<li><a href="{page_path}">{title}</a><span>2022-01-2{n}</span></li>')
    pages["/"] = Page(_shell("示范市人民政府", '<div class="nav"><a href="/zwgk/">政务公开</a></div>'))
    pages["/zwgk/"] = Page(_shell("政务公开", f'<ul><li><a href="{COLUMN}">政府信息公开年报</a></li>'
                                             '<li><a href="/zwgk/zfxxgkzn/">政府信息公开指南</a></li></ul>'))
    pages[COLUMN] = Page(_shell("政府信息公开年报", f'<ul class="list">{"".join(items)}</ul>'))
    return Site(pages)
