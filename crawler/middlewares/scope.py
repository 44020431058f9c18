"""Keep a crawl inside the portal and out of traps (order 60, right after Scrapy's offsite check).

- a request (or a redirect) to a host that is not the portal's own is dropped: government pages
  copied to other domains are spam mirrors;
- each host gets at most ``max_pages`` requests (the profile's budget);
- URLs that differ only in their digits (calendars, session pages) share a budget per shape, and one
  path gets a bounded number of query variants (endless filters and sort orders).
"""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import parse_qsl, urlsplit

from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request
from scrapy.utils.httpobj import urlparse_cached

DIGITS = re.compile(r"\d+")


class ScopeMiddleware:
    def __init__(self, crawler, max_per_shape: int, max_query_variants: int) -> None:
        self.crawler = crawler
        self.max_per_shape = max_per_shape
        self.max_query_variants = max_query_variants
        self.per_host: Counter[str] = Counter()
        self.per_shape: Counter[str] = Counter()
        self.variants: dict[str, set[str]] = {}
        self.dropped: Counter[str] = Counter()

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        return cls(crawler, s.getint("NIANBAO_MAX_PER_SHAPE", 300), s.getint("NIANBAO_MAX_QUERY_VARIANTS", 30))

    def _drop(self, why: str) -> None:
        self.dropped[why] += 1
        raise IgnoreRequest(why)

    def process_request(self, request: Request, spider=None):
        if request.meta.get("nianbao_scoped") == request.url:
            return None  # a retry of the same URL (browser, challenge) was counted already
        spider = self.crawler.spider
        portal = spider.portals.get(request.meta.get("portal")) if spider is not None else None
        parts = urlsplit(request.url)
        host = parts.hostname or ""
        if portal is not None and not portal.covers(request.url) and not request.url.endswith("/robots.txt"):
            self._drop("off-site")
        if request.url.endswith("/robots.txt"):
            return None
        limit = portal.max_pages if portal is not None else 2000
        if self.per_host[host] >= limit:
            self._drop(f"over the budget of {limit} pages for {host}")
        query = sorted(k for k, _ in parse_qsl(parts.query, keep_blank_values=True))
        shape = f"{host}{DIGITS.sub('#', parts.path)}?{'&'.join(query)}"
        if self.per_shape[shape] >= self.max_per_shape:
            self._drop("too many URLs of one shape (a calendar or session trap)")
        if parts.query and request.method == "GET":
            seen = self.variants.setdefault(f"{host}{parts.path}", set())
            if parts.query not in seen and len(seen) >= self.max_query_variants:
                self._drop("too many query variants of one path")
            seen.add(parts.query)
        self.per_host[host] += 1
        self.per_shape[shape] += 1
        request.meta["nianbao_scoped"] = request.url
        return None


class OffsiteBySet(OffsiteMiddleware):
    """Scrapy's offsite check (order 50) with its policy unchanged, a host or a subdomain of one of the spider's
    ``allowed_domains``, looked up in a set. Scrapy's copies and compares the whole list, then runs one
    alternation of every domain, for each request twice (when scheduled and when downloaded): with 100 portals
    that was a fiftieth of the crawl's time in bench/crawl.py."""

    _domains: frozenset[str] | None = None

    def should_follow(self, request: Request, spider) -> bool:
        if self._domains is None:  # the spider's domains are fixed when it is made
            self._domains = frozenset(d for d in getattr(spider, "allowed_domains", None) or [] if d is not None)
        if not self._domains:
            return True  # allow all, as Scrapy does without allowed_domains
        host = urlparse_cached(request).hostname or ""
        if host in self._domains:
            return True
        # ^(.*\.)?(domain)$: the host ends with "." and the domain
        return any(host[i + 1:] in self._domains for i, c in enumerate(host) if c == ".")
