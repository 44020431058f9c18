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

# Longest first: a UTF-32LE BOM begins with the UTF-16LE one. Python's "utf-16"/"utf-32" codecs read the BOM.
WIDE_BOMS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"),
             (b"\xfe\xff", "utf-16"))
GB_ALIASES = {"gb2312", "gbk", "x-gbk", "gb_2312-80", "csgb2312", "euc-cn", "cp936", "hz-gb-2312"}


def _gb18030(name: str | None) -> str | None:
    if not name:
        return None
    name = name.lower().replace("_", "-")
    return "gb18030" if name in GB_ALIASES or name.startswith("gb") else name


def wide_encoding(data: bytes) -> str | None:
    """UTF-16 or UTF-32 (what Windows tools save as "Unicode"), by the BOM or, without one, by where the zero
    bytes of ASCII characters fall (markup, digits and spaces are ASCII). None for any other encoding."""
    for bom, enc in WIDE_BOMS:
        if data.startswith(bom):
            return enc
    n = min(len(data), 4096) // 4 * 4
    if n < 32:
        return None
    units = n // 4
    zeros = [data[i:n:4].count(0) / units for i in range(4)]  # share of zero bytes at each offset mod 4
    if min(zeros[2], zeros[3]) > 0.95 and zeros[0] < 0.05:
        enc = "utf-32-le"
    elif min(zeros[0], zeros[1]) > 0.95 and zeros[3] < 0.05:
        enc = "utf-32-be"
    elif min(zeros[1], zeros[3]) > 0.3 and max(zeros[0], zeros[2]) < 0.05:
        enc = "utf-16-le"
    elif min(zeros[0], zeros[2]) > 0.3 and max(zeros[1], zeros[3]) < 0.05:
        enc = "utf-16-be"
    else:
        return None
    try:
        data[:n].decode(enc)
    except UnicodeDecodeError as e:
        if e.start < n - 4:  # a surrogate pair cut at the end of the sample is still text
            return None
    return enc


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
    if wide := wide_encoding(data):  # w3lib reads a BOM, but not a <meta> or a guess in UTF-16 (zero bytes)
        return data.decode(wide, "replace").lstrip("\ufeff"), wide
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
    if wide := wide_encoding(data):
        return data.decode(wide, "replace").lstrip("\ufeff"), wide
    for candidate in ("utf-8", detect(data), "gb18030"):
        if candidate and _clean(data, candidate):
            return data.decode(candidate), candidate
    return data.decode("utf-8", "replace"), "utf-8"
