"""Attachments served without ETag or Last-Modified cannot be asked "changed?": the archived copy stands
while the page linking them comes back unchanged and the copy is younger than the profile's
recheck_days, then they are downloaded again. (The crawl twice over a simulated portal is in
tests/test_politeness.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from scrapy import Request
from scrapy.http import Response
from scrapy.settings import Settings
from scrapy.statscollectors import MemoryStatsCollector

from archive import Archive
from crawler.archiving import NOT_RECHECKED_STAT, ArchiveExtension
from crawler.middlewares.lookup import NOT_RECHECKED, ArchiveLookupMiddleware
from crawler.settings import build
from helpers.captures import http_capture
from spiders.profiles import PortalProfile, ProfileError

HOST = "127.0.0.64"  # nothing listens: only the archive is read
URL = f"http://{HOST}/download.jsp?id=1"
BODY = b"PK\x03\x04 a report's DOCX, served as application/octet-stream"


def lookup(tmp_path, *, days: float = 30, age_days: float = 1, validators: bool = False) -> ArchiveLookupMiddleware:
    """The look-up of an archive holding one capture of the attachment, ``age_days`` old."""
    extra = [("ETag", '"abc"')] if validators else []
    with Archive.open(tmp_path / "archive") as a, a.writer() as w:
        w.add(http_capture(URL, BODY, content_type="application/octet-stream", extra_headers=extra,
                           fetched_at=datetime.now(UTC) - timedelta(days=age_days)))
    return ArchiveLookupMiddleware(str(tmp_path / "archive"), [], [HOST], recheck_days={HOST: days})


def attachment(*, page_unchanged: bool = True) -> Request:
    return Request(URL, meta={"role": "file", "nianbao_parent_unchanged": page_unchanged})


def test_a_young_copy_linked_from_an_unchanged_page_stands(tmp_path):
    mw = lookup(tmp_path)
    kept = mw.process_request(attachment())
    assert kept is not None and kept.body == BODY and kept.flags == [NOT_RECHECKED]
    assert kept.request.meta["nianbao_from_archive"] == NOT_RECHECKED  # no capture, counted as kept
    mw.close()


def test_a_kept_attachment_is_counted_and_makes_no_capture(tmp_path):
    crawler = SimpleNamespace(settings=Settings({"NIANBAO_ARCHIVE": str(tmp_path)}))
    crawler.stats = MemoryStatsCollector(crawler)
    ext = ArchiveExtension(crawler)
    queued: list = []
    ext.worker = SimpleNamespace(put=queued.append)
    request = Request(URL, meta={"nianbao_from_archive": NOT_RECHECKED})
    ext.response_received(Response(URL, body=BODY, request=request, flags=[NOT_RECHECKED]), request, None)
    assert queued == [] and crawler.stats.get_value(NOT_RECHECKED_STAT) == 1


@pytest.mark.parametrize("why", ["page changed", "past recheck_days", "recheck_days 0", "has validators"])
def test_otherwise_the_attachment_is_downloaded(tmp_path, why):
    mw = lookup(tmp_path, age_days=31 if why == "past recheck_days" else 1,
                days=0 if why == "recheck_days 0" else 30, validators=why == "has validators")
    request = attachment(page_unchanged=why != "page changed")
    assert mw.process_request(request) is None
    assert (b"If-None-Match" in request.headers) == (why == "has validators")  # those can ask "changed?"
    mw.close()


def test_recheck_days_is_a_profile_setting_carried_per_host(tmp_path):
    assert PortalProfile(name="t", start_urls=[f"http://{HOST}/"]).recheck_days == 30
    portal = PortalProfile(name="t", start_urls=[f"http://{HOST}/"], recheck_days=7)
    assert build(tmp_path, [portal], browser=False, resume_runs=[])["NIANBAO_RECHECK_DAYS"] == {HOST: 7}
    for bad in (-1, "30", True, float("inf")):
        with pytest.raises(ProfileError, match="recheck_days"):
            PortalProfile(name="t", start_urls=[f"http://{HOST}/"], recheck_days=bad)
