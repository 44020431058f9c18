"""Decide an HTML page's charset once, the archive's way, before anything reads ``response.text``.

Scrapy falls back to ascii/utf-8/cp1252 for a page that declares nothing, so an undeclared GBK page
turns to mojibake in MetaRefreshMiddleware and in the spider alike. This middleware runs
:func:`archive.extract.charset.decode_html` (header, ``<meta>``, then charset-normalizer; GB* as
GB18030) for such pages only and re-makes the response with that encoding, so every later reader
shares one decoded text.
"""

from __future__ import annotations

from scrapy.http import HtmlResponse, Request, Response
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom, resolve_encoding

from archive.extract.charset import decode_html


def declared(body: bytes, content_type: str) -> str | None:
    """The charset a page declares (BOM, header, ``<meta>``), in Scrapy's order, if it decodes the body."""
    name = read_bom(body)[0] or http_content_type_encoding(content_type) or html_body_declared_encoding(body)
    enc = resolve_encoding(name) if name else None
    if enc is None:
        return None
    try:
        body.decode(enc)  # C speed; a GBK body sent as charset=utf-8 is common and must be overruled
    except (UnicodeDecodeError, LookupError):
        return None
    return enc


class EncodingMiddleware:
    def process_response(self, request: Request, response: Response, spider=None) -> Response:
        if not isinstance(response, HtmlResponse):
            return response
        if request.meta.get("playwright"):
            request.meta["nianbao_charset"] = response.encoding  # the browser's DOM, re-encoded by scrapy-playwright
            return response
        ctype = response.headers.get("Content-Type", b"").decode("latin-1")
        if enc := declared(response.body, ctype):
            request.meta["nianbao_charset"] = enc
            return response  # Scrapy reads it the same way
        _, enc = decode_html(response.body, ctype)
        request.meta["nianbao_charset"] = enc  # the spider may trust response.text
        return response.replace(encoding=enc)
