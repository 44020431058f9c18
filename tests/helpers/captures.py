"""Captures built the way the crawler hands them over, for tests that feed an archive directly."""

from __future__ import annotations

import gzip

from archive import Capture


def http_capture(url: str, body: bytes, *, content_type: str = "text/html; charset=utf-8", gzip_it: bool = False,
                 status: int = 200, extra_headers: list[tuple[str, str]] | None = None, **kw) -> Capture:
    """A capture as the crawler would hand it over: decoded body, and the raw one when gzipped."""
    headers = [("Content-Type", content_type), *(extra_headers or [])]
    raw = None
    if gzip_it:
        raw = gzip.compress(body, mtime=0)
        headers.append(("Content-Encoding", "gzip"))
    headers.append(("Content-Length", str(len(raw if raw is not None else body))))
    return Capture(url=url, body=body, raw_body=raw, status=status, headers=headers,
                   request_headers=[("User-Agent", "nianbao-test")], **kw)
