"""What the archive holds for a crawl's hosts: the validators (ETag / Last-Modified) for conditional
requests, and the last good capture of a URL, to resume an interrupted run or follow a 304."""

from __future__ import annotations

import functools

from archive.catalog.db import Catalog

CAPTURE_FIELDS = "id, run_id, status, headers, etag, last_modified, sha256, final_url, fetched_at"


class CrawlLookup:
    """Look-ups for one crawl of ``hosts`` (read on the crawl's event loop, so cheap for unseen URLs)."""

    def __init__(self, catalog: Catalog, hosts: list[str] | None = None) -> None:
        self.catalog = catalog
        self.hosts = list(hosts or [])

    def _marks(self) -> str:
        return ",".join("?" * len(self.hosts))

    @functools.cached_property
    def known(self) -> set[str] | None:
        """The URLs the archive has for these hosts, read once: a URL it has never seen (most of a first
        crawl) costs no query. None (every URL is looked up) without hosts."""
        if not self.hosts:
            return None
        known: set[str] = set()
        for r in self.catalog.rows(
                f"SELECT url, final_url FROM captures WHERE host IN ({self._marks()}) AND sha256 IS NOT NULL",
                tuple(self.hosts)):
            known.update(u for u in (r["url"], r["final_url"]) if u)
        return known

    def may_know(self, url: str) -> bool:
        """False when the archive surely holds nothing of ``url``."""
        return self.known is None or url in self.known

    def last(self, url: str) -> dict | None:
        """The last successful capture of ``url`` (as its request or final URL) with a body, or None."""
        if not self.may_know(url):
            return None
        return self.catalog.one(
            f"""SELECT {CAPTURE_FIELDS} FROM captures
               WHERE (final_url = ? OR url = ?) AND status BETWEEN 200 AND 299 AND sha256 IS NOT NULL
               ORDER BY id DESC LIMIT 1""", (url, url))

    def validators(self) -> list[dict]:
        """The last capture of each of the hosts' URLs that carries an ETag or Last-Modified (what a
        distributed crawl task carries to its worker)."""
        rows: dict[str, dict] = {}
        for r in self.catalog.rows(
                f"""SELECT url, final_url, status, headers, etag, last_modified, sha256, kind FROM captures
                    WHERE host IN ({self._marks()}) AND status BETWEEN 200 AND 299 AND sha256 IS NOT NULL
                    AND (etag IS NOT NULL OR last_modified IS NOT NULL) ORDER BY id""", tuple(self.hosts)):
            rows[r["final_url"] or r["url"]] = dict(r)
        return list(rows.values())
