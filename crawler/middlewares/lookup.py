"""What the archive already holds, used in four ways (order 560):

- conditional requests: If-None-Match / If-Modified-Since from the last capture of the URL;
- a 304 answer is swapped for the archived copy, so the spider can still follow its links (the
  archive records the 304 itself, from the raw response);
- an attachment served without validators (``download.jsp?id=``: a recrawl cannot ask "changed?") is
  not downloaded again while the page linking it came back unchanged and its last capture is younger
  than the profile's ``recheck_days`` (``NIANBAO_RECHECK_DAYS``, per host): the archived copy stands
  and no capture is made (the archive extension counts it);
- resuming: URLs captured by an interrupted run of the same portals are served from the archive
  without touching the network, so a crawl cut by Ctrl-C or kill -9 picks up where it stopped.

On a worker of a distributed crawl the archive is elsewhere: the task carries what it holds for the
portal (``NIANBAO_PRIOR``, a JSON file of validators), and an unchanged page's body is read from the
shared location (``NIANBAO_SHARED``), where the archive's owner published it.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scrapy import signals
from scrapy.http import Request, Response
from scrapy.responsetypes import responsetypes
from scrapy.utils.httpobj import urlparse_cached

from archive.archive import Archive

log = logging.getLogger(__name__)
NOT_RECHECKED = "not-rechecked"  # the flag of an attachment served from the archive, not downloaded again


def load_prior(path: str | None) -> dict[str, dict]:
    """The validators a task carries, by URL and final URL (each a capture row's fields)."""
    if not path:
        return {}
    out: dict[str, dict] = {}
    for row in json.loads(Path(path).read_text("utf-8")):
        for u in (row.get("url"), row.get("final_url")):
            if u:
                out[u] = {"id": None, "run_id": None, **row}
    return out


class ArchiveLookupMiddleware:
    def __init__(self, archive_dir: str, resume_runs: list[int], hosts: list[str] | None = None,
                 prior: dict[str, dict] | None = None, shared: str | None = None,
                 recheck_days: dict[str, float] | None = None) -> None:
        self.archive = Archive.open(archive_dir, readonly=True)
        self.recheck_days = recheck_days or {}
        self.prior = prior or {}
        self.shared = None
        if shared:
            from archive.store.shared import SharedStore

            self.shared = SharedStore(shared)
        self.resume_runs = {int(r) for r in resume_runs}
        # the lookup reads the URLs the archive has for these hosts once: a URL it has never seen (most of a
        # first crawl) costs no query on the reactor thread
        self.lookup = self.archive.crawl_lookup(hosts)

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        hosts = sorted(s.getdict("DOWNLOAD_SLOTS"))  # the portals' own hosts
        mw = cls(s.get("NIANBAO_ARCHIVE"), s.getlist("NIANBAO_RESUME_RUNS"), hosts or None,
                 prior=load_prior(s.get("NIANBAO_PRIOR")), shared=s.get("NIANBAO_SHARED"),
                 recheck_days=s.getdict("NIANBAO_RECHECK_DAYS"))
        crawler.signals.connect(mw.close, signal=signals.spider_closed)
        return mw

    def close(self) -> None:
        """The read-only connection goes with the spider."""
        self.archive.close()

    def _last(self, url: str) -> dict | None:
        return self.lookup.last(url) or self.prior.get(url)

    def _body(self, sha256: str) -> bytes | None:
        if self.archive.has_blob(sha256):
            return self.archive.read_blob(sha256)
        if self.shared is not None:
            try:
                return self.shared.get_blob(sha256)
            except (OSError, RuntimeError) as e:  # not published, or damaged: the 304 is kept as it is
                log.warning("no shared copy of %s to follow an unchanged page's links: %s", sha256, e)
        return None

    def _archived(self, request: Request, row: dict, flag: str) -> Response | None:
        body = self._body(row["sha256"])
        if body is None:
            return None
        headers = {k: v for k, v in json.loads(row["headers"] or "[]")
                   if k.lower() not in ("content-encoding", "transfer-encoding", "content-length")}
        cls = responsetypes.from_args(headers=headers, url=row["final_url"], body=body[:4096])
        request.meta["nianbao_from_archive"] = flag
        return cls(url=request.url, status=200, headers=headers, body=body, request=request, flags=[flag])

    def process_request(self, request: Request, spider=None):
        if request.method != "GET" or request.meta.get("playwright"):
            return None
        row = self._last(request.url)
        if row is None:
            return None
        if self.resume_runs and int(row["run_id"] or 0) in self.resume_runs:
            return self._archived(request, row, "resumed")
        if self._not_rechecked(request, row) and (kept := self._archived(request, row, NOT_RECHECKED)):
            return kept
        if row["etag"] and b"If-None-Match" not in request.headers:
            request.headers[b"If-None-Match"] = row["etag"]
        if row["last_modified"] and b"If-Modified-Since" not in request.headers:
            request.headers[b"If-Modified-Since"] = row["last_modified"]
        request.meta["nianbao_validated"] = row["id"] or True
        return None

    def _not_rechecked(self, request: Request, row: dict) -> bool:
        """An attachment whose last capture had no validators, linked from a page that came back unchanged
        (the spider says so in ``nianbao_parent_unchanged``), captured less than ``recheck_days`` ago."""
        if request.meta.get("role") != "file" or not request.meta.get("nianbao_parent_unchanged"):
            return False
        days = self.recheck_days.get(urlparse_cached(request).hostname or "")
        if days is None or row["etag"] or row["last_modified"] or not row.get("fetched_at"):
            return False
        return datetime.now(UTC) - datetime.fromisoformat(row["fetched_at"]) < timedelta(days=days)

    def process_response(self, request: Request, response: Response, spider=None) -> Response:
        if response.status == 304 and request.meta.get("nianbao_validated"):
            row = self._last(request.url)
            archived = self._archived(request, row, "not-modified") if row else None
            if archived is not None:
                request.meta["nianbao_from_archive"] = None  # the 304 itself is archived (from the raw meta)
                return archived
        return response
