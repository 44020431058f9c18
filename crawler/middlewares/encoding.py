"""Decide an HTML page's charset once, the archive's way, before anything reads ``response.text``.

Scrapy falls back to ascii/utf-8/cp1252 for a page that declares nothing, so an undeclared GBK page
turns to mojibake in MetaRefreshMiddleware and in the spider alike. This middleware runs
:func:`archive.extract.charset.decode_html` (header, ``<meta>``, then charset-normalizer; GB* as
GB18030) for such pages only and re-makes the response with that encoding, so every later reader
shares one decoded text.
"""

from __future__ import annotations

from scrapy.http import HtmlResponse, Request, Response

from archive.extract.charset import declared_encoding, decode_html


class EncodingMiddleware:
    def process_response(self, request: Request, response: Response, spider=None) -> Response:
        if not isinstance(response, HtmlResponse):
            return response
        if request.meta.get("playwright"):
            request.meta["nianbao_charset"] = response.encoding  # the browser's DOM, re-encoded by scrapy-playwright
            return response
        ctype = response.headers.get("Content-Type", b"").decode("latin-1")
        if enc := declared_encoding(response.body, ctype):
            request.meta["nianbao_charset"] = enc
            return response  # Scrapy reads it the same way
        _, enc = decode_html(response.body, ctype)
        request.meta["nianbao_charset"] = enc  # the spider may trust response.text
        return response.replace(encoding=enc)
