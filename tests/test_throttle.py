"""The profile's delay is a floor: AutoThrottle may widen the gap to a slow host, never narrow it below
the host's own delay, and the delay is not randomised under it."""

from __future__ import annotations

from scrapy.core.downloader import Slot
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.settings import build
from crawler.throttle import PoliteThrottle
from spiders.profiles import PortalProfile

HOST = "127.0.0.9"


def _throttle(cls):
    crawler = get_crawler(settings_dict={"AUTOTHROTTLE_ENABLED": True, "AUTOTHROTTLE_MAX_DELAY": 30.0,
                                         "DOWNLOAD_SLOTS": {HOST: {"delay": 0.5, "randomize_delay": False}}})
    ext = cls.from_crawler(crawler)
    ext.mindelay, ext.maxdelay = 0.0, 30.0  # what spider_opened sets from DOWNLOAD_DELAY (0: every host has a slot)
    return ext


def test_a_fast_host_keeps_its_floor_and_a_slow_one_is_given_more():
    response = HtmlResponse(f"http://{HOST}/zwgk/", body=b"<html></html>", status=200)
    plain, polite = Slot(2, 0.5, False), Slot(2, 0.5, False)
    scrapys, ours = _throttle(AutoThrottle), _throttle(PoliteThrottle)
    for _ in range(10):  # answers in 10 ms, again and again
        scrapys._adjust_delay(plain, 0.01, response)
        ours._adjust_delay(polite, 0.01, response)
    assert plain.delay < 0.5  # Scrapy's own: towards the latency, under the profile's delay
    assert polite.delay == 0.5
    slow = Slot(2, 0.5, False)
    _throttle(PoliteThrottle)._adjust_delay(slow, 4.0, response)
    assert slow.delay == 4.0  # backing off from a slow host is kept


def test_the_crawl_settings_wire_the_floor_and_do_not_randomise_under_it(tmp_path):
    portal = PortalProfile(name="t", start_urls=[f"http://{HOST}/"], delay=1.5)
    settings = build(tmp_path, [portal], browser=False, resume_runs=[])
    assert settings["EXTENSIONS"]["crawler.throttle.PoliteThrottle"] is not None
    assert settings["EXTENSIONS"]["scrapy.extensions.throttle.AutoThrottle"] is None
    assert settings["DOWNLOAD_SLOTS"][HOST] == {"concurrency": 2, "delay": 1.5, "randomize_delay": False}
    assert settings["RANDOMIZE_DOWNLOAD_DELAY"] is False
