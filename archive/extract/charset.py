"""Decode HTML and text bytes: BOM, HTTP header, <meta>, then detection, GB* always as GB18030.

w3lib (Scrapy's own helper) keeps the browser order of precedence; charset-normalizer replaces its
ascii/utf-8/cp1252 fallback, which turns every undeclared GBK page into mojibake. A declared charset
that does not decode cleanly (a GBK body sent as ``charset=utf-8`` is common) is overruled.
"""

from __future__ import annotations

import charset_normalizer
from w3lib.encoding import (
    html_body_declared_encoding,
    html_to_unicode,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

GB_ALIASES = {"gb2312", "gbk", "x-gbk", "gb_2312-80", "csgb2312", "euc-cn", "cp936", "hz-gb-2312"}


def _gb18030(name: str | None) -> str | None:
    if not name:
        return None
    name = name.lower().replace("_", "-")
    return "gb18030" if name in GB_ALIASES or name.startswith("gb") else name


def detect(data: bytes) -> str | None:
    """Best statistical guess, GB family widened to GB18030."""
    best = charset_normalizer.from_bytes(data[:200_000]).best()
    return _gb18030(best.encoding) if best else None


def _clean(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
        return True
    except (UnicodeDecodeError, LookupError):
        return False


def declared_encoding(body: bytes, content_type: str | None) -> str | None:
    """The charset a page declares (BOM, header, ``<meta>``), resolved as Scrapy and w3lib resolve it, if
    it decodes the body cleanly; None when nothing is declared (detection is :func:`decode_html`'s job)."""
    name = read_bom(body)[0] or http_content_type_encoding(content_type or "") or html_body_declared_encoding(body)
    enc = resolve_encoding(name) if name else None
    # a GBK body sent as charset=utf-8 is common: a declaration that does not decode is overruled
    return enc if enc is not None and _clean(body, enc) else None


def decode_html(data: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return (text, encoding used)."""
    enc, text = html_to_unicode(content_type, data, auto_detect_fun=detect)
    enc = _gb18030(resolve_encoding(enc) or enc) or "utf-8"
    if _clean(data, enc):
        return data.decode(enc), enc
    # The winner does not decode cleanly: try the <meta> declaration, then detection.
    for candidate in (_gb18030(html_body_declared_encoding(data)), detect(data), "gb18030", "utf-8"):
        if candidate and _clean(data, candidate):
            return data.decode(candidate), candidate
    return text, enc


def decode_text(data: bytes) -> tuple[str, str]:
    """Plain text without any declaration: BOM, UTF-8, detection, GB18030."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace"), "utf-8"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace"), "utf-16"
    for candidate in ("utf-8", detect(data), "gb18030"):
        if candidate and _clean(data, candidate):
            return data.decode(candidate), candidate
    return data.decode("utf-8", "replace"), "utf-8"
