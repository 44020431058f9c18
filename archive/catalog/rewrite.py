"""An archived HTML page as the web app shows it: each link (``a``/``area`` href, ``img`` src) to a URL the
archive holds a capture of points at the archived copy; the others point at the live web, absolute, marked
``nianbao-live``. Parsed with lxml's HTML parser, never with patterns; the stored bytes are not touched.

``<base href>`` is honoured for resolving and then removed (our own links are root-relative and must not be
resolved against the agency's host); ``<meta http-equiv=refresh>`` is removed, so that showing a page
never carries the reader anywhere without a click; the page is re-encoded as UTF-8 and says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin, urlsplit

import lxml.html
from lxml import etree

from archive.extract.charset import decode_html

LINKS = (("a", "href"), ("area", "href"), ("img", "src"))
LIVE_CLASS = "nianbao-live"
ARCHIVED_CLASS = "nianbao-archived"
# live links marked with an arrow (the page's own inline styles are allowed by its CSP; no script is)
STYLE = f"a.{LIVE_CLASS}::after{{content:' \\2197';font-size:80%}}"


@dataclass(frozen=True)
class Rewritten:
    html: str  # the page, re-encoded as UTF-8
    archived: int  # links pointed at archived copies
    live: int  # links left pointing at the live web


# What lxml refuses in an attribute (C0 controls, DEL, the noncharacters U+FFFE/U+FFFF) yet a hostile page can
# put in a link as a character reference: percent-encoded, as a browser would send it.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def xml_safe(url: str) -> str:
    return NOT_XML.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), url)

def _absolute(base: str, ref: str) -> str | None:
    ref = ref.strip()
    if not ref or ref.startswith("#"):
        return None
    try:
        url = urljoin(base, ref)
        scheme = urlsplit(url).scheme.lower()
    except ValueError:  # a malformed IPv6 literal and the like: left as it is
        return None
    return url if scheme in ("http", "https") else None


def rewrite(data: bytes, content_type: str | None, page_url: str,
            lookup: Callable[[set[str]], dict[str, object]], href_for: Callable[[object], str],
            *, img_for: Callable[[object], str] | None = None) -> Rewritten:
    """``data`` (an HTML page fetched from ``page_url``) with its links rewritten: ``lookup`` is asked once
    with every absolute link target (each also without its fragment) and answers the ones the archive holds
    (any value); ``href_for``/``img_for`` turn such a value into the archived copy's address."""
    text, _ = decode_html(data, content_type)
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=False)
    try:
        root = lxml.html.document_fromstring(text.encode("utf-8", "surrogatepass"), parser=parser)
    except (etree.ParserError, ValueError):  # nothing an HTML parser can make a document of (an empty page)
        root = lxml.html.document_fromstring("<html><body></body></html>")
    base = page_url
    for b in list(root.iter("base")):
        if b.get("href") and base == page_url:
            base = urljoin(page_url, b.get("href").strip())
        b.drop_tree()
    for meta in list(root.iter("meta")):
        equiv = (meta.get("http-equiv") or "").strip().lower()
        if equiv in ("refresh", "content-type") or meta.get("charset") is not None:
            meta.drop_tree()
    targets: list[tuple[etree._Element, str, str]] = []
    for tag, attr in LINKS:
        for el in root.iter(tag):
            ref = el.get(attr)
            if ref is None:
                continue
            url = _absolute(base, ref)
            if url is not None:
                targets.append((el, attr, xml_safe(url)))
    asked = {u for _, _, url in targets for u in (url, urldefrag(url)[0])}
    found = lookup(asked) if asked else {}
    archived = live = 0
    for el, attr, url in targets:
        bare, fragment = urldefrag(url)
        hit, keep_fragment = (found[url], False) if url in found else (found.get(bare), bool(fragment))
        if el.tag == "img":
            if hit is not None and img_for is not None:
                el.set(attr, img_for(hit))
                archived += 1
            else:
                el.set(attr, url)  # absolute: the page's CSP keeps the live image from loading
            el.attrib.pop("srcset", None)
            continue
        classes = (el.get("class") or "").split()
        if hit is not None:
            el.set(attr, href_for(hit) + (f"#{fragment}" if keep_fragment else ""))
            el.set("data-archived-from", url)
            el.set("title", f"存档副本：{url}")
            el.set("class", " ".join([*classes, ARCHIVED_CLASS]))
            archived += 1
        else:
            el.set(attr, url)
            el.set("title", f"实时网页（非存档）：{url}")
            el.set("class", " ".join([*classes, LIVE_CLASS]))
            el.set("rel", "noopener noreferrer")
            live += 1
        el.set("target", "_top")  # a click opens the target whole, not inside the frame the page is shown in
    head = root.find("head")
    if head is None:
        head = etree.Element("head")
        root.insert(0, head)
    style = etree.Element("style")
    style.text = STYLE
    head.insert(0, style)
    head.insert(0, etree.Element("meta", charset="utf-8"))
    html = lxml.html.tostring(root.getroottree(), encoding="unicode", method="html")
    return Rewritten(html, archived, live)
