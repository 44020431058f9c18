"""HTML pages: decode, find the article container of the usual CMS templates, keep block/table layout."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import lxml.html
from lxml import etree

from archive.errors import ExtractionError
from archive.extract.base import Extracted
from archive.extract.charset import decode_html
from archive.extract.grid import Grid, from_spans
from archive.extract.published import dated_links, page_date

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
    return _lines("".join(out))


def _lines(raw: str) -> str:
    """Walked text to lines: spaces folded, empty trailing cells and empty lines dropped."""
    lines = []
    for line in raw.split("\n"):
        cells = [SPACES.sub(" ", c).strip() for c in line.split("\t")]
        while cells and not cells[-1]:
            cells.pop()
        joined = "\t".join(cells).strip()
        if joined:
            lines.append(joined)
    return "\n".join(lines)


class TooDeep(ExtractionError):
    """libxml2 stops building the tree of a page nested deeper than 256 levels and keeps what it had."""


def parse_html(data: bytes, content_type: str | None = None) -> tuple[etree._Element, str]:
    text, encoding = decode_html(data, content_type)
    if not text.strip():
        raise ExtractionError("the HTML page is empty")
    parser = lxml.html.HTMLParser()
    try:
        root = lxml.html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError) as e:
        raise ExtractionError(f"the HTML page cannot be parsed: {e}") from e
    if any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log):
        raise TooDeep("the page nests its elements deeper than the HTML parser's limit (256 levels)")
    return root, encoding


class FlatText(HTMLParser):
    """A page read as a stream of tags, with no tree (so no depth limit): a line per block, a tab after each
    table cell, script and style left out. The standard library's tokenizer, because lxml's (libxml2) is the
    one that gave up on the tree."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.title: list[str] = []
        self.skip = 0
        self.in_title = False

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in DROP:
            self.skip += 1
        elif tag == "title":
            self.in_title = True
        elif tag in BLOCK:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in DROP:
            self.skip = max(0, self.skip - 1)
        elif tag == "title":
            self.in_title = False
        elif tag in ("td", "th"):
            self.out.append("\t")
        elif tag in BLOCK:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
        elif not self.skip:
            self.out.append(data)


def flat_html(data: bytes, content_type: str | None, why: str) -> Extracted:
    """The fallback for a page lxml cannot build a tree of: its text in reading order, said so in a warning."""
    text, encoding = decode_html(data, content_type)
    reader = FlatText()
    reader.feed(text)
    reader.close()
    title = SPACES.sub(" ", "".join(reader.title)).strip()
    return Extracted(text=_lines("".join(reader.out)), title_hint=None, meta={"encoding": encoding},
                     warnings=[f"{why}: read as flat text (table rows as tab-separated lines), without its layout"],
                     method="html.parser flat",
                     page={"title": title or None, "meta": {}, "published": None, "links": []})


def extract_html(data: bytes, content_type: str | None = None) -> Extracted:
    try:
        root, encoding = parse_html(data, content_type)
    except TooDeep as e:
        return flat_html(data, content_type, str(e))
    meta = {"encoding": encoding}
    for m in root.iter("meta"):
        name = m.get("name") or m.get("property") or ""
        for key in META_KEYS:
            if name.lower() == key.lower() and m.get("content"):
                meta[key] = m.get("content").strip()
    title_el = root.find(".//title")
    page_title = SPACES.sub(" ", title_el.text_content()).strip() if title_el is not None else ""
    page = page_facts(root, page_title, meta)
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
    tables = [table_grid(t) for t in (container if container is not None else root).iter("table")
              if not t.xpath(".//table")]
    if container is None:
        text, how = main_text(data, root)
    else:
        text = block_text(container)
    # The article's own title only: the page's <title> is the site's framing of it (``标题_机关名称``,
    # ``机关名称-标题``), which the parser reads as context, after the document's own words.
    title = meta.get("ArticleTitle") or heading or None
    if title and how != "body" and title not in text[:500]:
        text = title + "\n" + text
    return Extracted(text=text, title_hint=title, meta=meta, tables=[t for t in tables if t], method=f"lxml {how}",
                     page=page)


def page_facts(root: etree._Element, page_title: str, meta: dict[str, str]) -> dict:
    """What the whole page (before boilerplate is dropped) says of itself: its ``<title>``, the CMS
    meta tags, the date it prints as its publication date, and the dates printed beside its links."""
    own = page_date(root)
    facts = {"title": page_title or None, "meta": {k: v for k, v in meta.items() if k != "encoding"},
             "published": [own[0].isoformat(), own[1]] if own else None,
             "links": [list(link) for link in dated_links(root)]}
    if fields := labelled_fields(root):
        facts["fields"] = fields
    return facts


# The fields a detail page's 信息公开 index table or info line labels, and the footer's site owner: a label at
# the start of a text, its value after it or in the next text (index tables put it in the next cell).
PUBLISHER_LABELS = r"发布机构|发文机关|发布单位|发文单位|信息来源|来\s*源"  # also a saved page's header (parser)
FIELDS = re.compile(rf"(?:^|\n)[ \t\u3000\u00a0]*(?:(?P<publisher>{PUBLISHER_LABELS})"
                    r"|(?P<owner>主办单位|网站主办|主\s*办))[ \t\u3000\u00a0]*[:：]?\s*"
                    r"(?P<value>[^\n]{1,200})")
FIELD_END = re.compile(r"\s{2,}|\t|[|｜]|\s(?=\S{2,6}[:：])|(?<=\S)(?=(?:发布|生成|成文|索\s*引|主题|网站|承办|"
                       r"联系|地址|电话|备案|ICP|访问|浏览|时间|日期|作者|点击)\S{0,4}[:：])")


def labelled_fields(root: etree._Element) -> dict[str, str]:
    """``{"publisher": …, "owner": …}`` from ``发布机构：XX局`` and the footer's ``主办单位：…``; first one
    wins. Read from the page's texts joined one per line (a walk in C, then one regex: a tenth of a
    Python walk over the elements)."""
    joined = "\n".join(root.itertext())
    out: dict[str, str] = {}
    for m in FIELDS.finditer(joined):
        key = "publisher" if m.group("publisher") else "owner"
        if key in out:
            continue
        value = FIELD_END.split(SPACES.sub(" ", m.group("value")).strip(), maxsplit=1)[0].strip(" ：:")
        if 2 <= len(value) <= 40:
            out[key] = value
    return out


def table_grid(table: etree._Element) -> Grid:
    """A ``<table>`` as a grid with its rowspan/colspan resolved (trafilatura flattens these)."""
    rows = []
    for tr in table.iter("tr"):
        if tr.getparent() is not None and _owner_table(tr) is not table:
            continue
        cells = [(" ".join(_cell_text(td).split("\n")), _int(td.get("rowspan")), _int(td.get("colspan")))
                 for td in tr if isinstance(td.tag, str) and td.tag in ("td", "th")]
        rows.append(cells)
    return from_spans(rows)


def _cell_text(td: etree._Element) -> str:
    """A cell's text as :func:`block_text` gives it; a cell with no elements inside (most cells) without
    the walk (an HTML page's tables were a fifth of its extraction time)."""
    return _lines(td.text or "") if len(td) == 0 else block_text(td)


def _owner_table(el: etree._Element) -> etree._Element | None:
    for anc in el.iterancestors("table"):
        return anc
    return None


def _int(v: str | None) -> int:
    try:
        return int(str(v).strip()) if v else 1
    except ValueError:
        return 1


def main_text(data: bytes, root: etree._Element) -> tuple[str, str]:
    """For pages in no known CMS template: trafilatura finds the main text (boilerplate gone); its XML
    keeps paragraphs and table rows, which become lines and tab-separated cells here."""
    import trafilatura

    xml = trafilatura.extract(lxml.html.tostring(root, encoding="unicode"), output_format="xml",
                              include_tables=True, include_comments=False, favor_recall=True)
    if not xml:
        body = root.find("body")
        return block_text(body if body is not None else root), "body"
    doc = etree.fromstring(xml.encode())
    lines: list[str] = []
    for el in doc.iter():
        if el.tag in ("p", "head", "item", "quote", "code"):
            if el.getparent() is not None and el.getparent().tag == "cell":
                continue
            t = SPACES.sub(" ", "".join(el.itertext())).strip()
            if t:
                lines.append(t)
        elif el.tag == "row":
            cells = [SPACES.sub(" ", "".join(c.itertext())).strip() for c in el if c.tag == "cell"]
            lines.append("\t".join(cells).rstrip("\t"))
    return "\n".join(line for line in lines if line.strip()), "trafilatura"
