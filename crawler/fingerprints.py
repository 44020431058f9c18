"""Request fingerprints that keep the URL's fragment.

Scrapy's fingerprint drops it, so ``/gkmlpt/index#2629`` and ``/gkmlpt/index#2630``, two columns of
广东's single-page disclosure app, would be one request and the second never made. The spider keeps a
fragment only when it is such a route (anchors like ``#top`` are dropped, spiders/links.py), so
keeping the fragments left costs no duplicate page.
"""

from __future__ import annotations

from scrapy.http import Request
from scrapy.utils.request import fingerprint


class RouteFingerprinter:
    """Scrapy's fingerprint of method, URL (fragment included) and body."""

    @classmethod
    def from_crawler(cls, crawler) -> RouteFingerprinter:
        return cls()

    def fingerprint(self, request: Request) -> bytes:
        return fingerprint(request, keep_fragments=True)
