"""HTML pages: decode, find the article container of the usual CMS templates, keep block/table layout."""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

from archive.extract.base import Extracted, ExtractionError
from archive.extract.charset import decode_html

# Article containers of the CMS families that publish most reports (TRS, Hanweb, 集约化 platforms),
# tried in order; the first holding enough text wins, else the whole body.
CONTAINERS = (
    '//*[@id="zoom"]', '//*[contains(concat(" ", normalize-space(@class), " "), " TRS_Editor ")]',
    '//*[@id="UCAP-CONTENT"]', '//*[@id="Zoom"]', '//*[contains(@class, "article-content")]',
    '//*[contains(@class, "art_con")]', '//*[@id="barrierfree_container"]//*[contains(@class, "content")]',
    "//article", '//*[@id="content"]', "//main",
)
MIN_CONTAINER_CHARS = 200
DROP = ("script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "button", "select",
        "input", "textarea", "form")
BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section", "article",
         "ul", "ol", "dl", "dd", "dt", "blockquote", "pre", "hr", "header", "footer", "nav", "aside",
         "caption", "tbody", "thead", "main", "center", "figure", "figcaption"}
META_KEYS = ("ArticleTitle", "PubDate", "SiteIDCode", "SiteName", "SiteDomain", "ColumnName", "ContentSource",
             "Keywords", "Description", "firstpublishedtime")
SPACES = re.compile(r"[ \u00a0\u3000\u2002\u2003\u200b\r\f\v]+")


def _walk(el: etree._Element, out: list[str]) -> None:
    tag = el.tag if isinstance(el.tag, str) else ""
    block = tag in BLOCK
    if block:
        out.append("\n")
    if el.text and tag:
        out.append(el.text)
    for child in el:
        _walk(child, out)
        if child.tail:
            out.append(child.tail)
    if tag in ("td", "th"):
        out.append("\t")
    if block:
        out.append("\n")


def block_text(el: etree._Element) -> str:
    """Text of an element with one line per block and table cells separated by tabs."""
    out: list[str] = []
    _walk(el, out)
    lines = []
    for line in "".join(out).split("\n"):
        cells = [SPACES.sub(" ", c).strip() for c in line.split("\t")]
        while cells and not cells[-1]:
            cells.pop()
        joined = "\t".join(cells).strip()
        if joined:
            lines.append(joined)
    return "\n".join(lines)


def parse_html(data: bytes, content_type: str | None = None) -> tuple[etree._Element, str]:
    text, encoding = decode_html(data, content_type)
    if not text.strip():
        raise ExtractionError("the HTML page is empty")
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as e:
        raise ExtractionError(f"the HTML page cannot be parsed: {e}") from e
    return root, encoding


def extract_html(data: bytes, content_type: str | None = None) -> Extracted:
    root, encoding = parse_html(data, content_type)
    meta = {"encoding": encoding}
    for m in root.iter("meta"):
        name = m.get("name") or m.get("property") or ""
        for key in META_KEYS:
            if name.lower() == key.lower() and m.get("content"):
                meta[key] = m.get("content").strip()
    title_el = root.find(".//title")
    page_title = SPACES.sub(" ", title_el.text_content()).strip() if title_el is not None else ""
    for bad in root.iter(*DROP):
        bad.drop_tree() if bad.getparent() is not None else None
    container, how = None, "body"
    for xp in CONTAINERS:
        found = root.xpath(xp)
        if found and len(found[0].text_content().strip()) >= MIN_CONTAINER_CHARS:
            container, how = found[0], xp
            break
    h1 = root.xpath("//h1")
    heading = SPACES.sub(" ", h1[0].text_content()).strip() if h1 else ""
    if container is None:
        body = root.find("body")
        container = body if body is not None else root
    text = block_text(container)
    title = meta.get("ArticleTitle") or heading or re.split(r"[_|｜-]", page_title)[0].strip() or None
    if title and how != "body" and title not in text[:500]:
        text = title + "\n" + text
    return Extracted(text=text, title_hint=title, meta=meta, method=f"lxml {how}")
