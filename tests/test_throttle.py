"""The profile's delay is a floor: AutoThrottle may widen the gap to a slow host, never narrow it below
the host's own delay, and the delay is not randomised under it. robots.txt's Crawl-delay and a host
answering 429/503 raise the floor; a Retry-After holds the host until it ends. (The gaps measured at a
simulated portal's server are in tests/test_politeness.py.)"""

from __future__ import annotations

from time import monotonic

from scrapy import Request, signals
from scrapy.core.downloader import Slot
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import HtmlResponse
from scrapy.robotstxt import ProtegoRobotParser
from scrapy.utils.test import get_crawler

from crawler.middlewares.backoff import BackoffMiddleware, retry_after
from crawler.settings import build
from crawler.summary import throttled_line
from crawler.throttle import (
    CRAWL_DELAY_CAPPED,
    FLOOR,
    CrawlDelay,
    PoliteThrottle,
    floor_raised,
    host_held,
    throttled_hosts,
)
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


def _polite(**settings):
    """A throttle, the backoff middleware and the Crawl-delay reader on one crawler, as in a crawl."""
    crawler = get_crawler(settings_dict={
        "AUTOTHROTTLE_ENABLED": True, "ROBOTSTXT_OBEY": True, "USER_AGENT": "nianbao/1.0 (+https://example.org)",
        "DOWNLOAD_SLOTS": {HOST: {"delay": 0.5}}, **settings})
    throttle = PoliteThrottle.from_crawler(crawler)
    throttle.mindelay, throttle.maxdelay = 0.0, 30.0
    return crawler, throttle, BackoffMiddleware.from_crawler(crawler), CrawlDelay.from_crawler(crawler)


def _fast_answers(throttle: PoliteThrottle, slot: Slot, status: int = 200) -> None:
    response = HtmlResponse(f"http://{HOST}/zwgk/", body=b"<html></html>", status=status)
    for _ in range(10):
        throttle._adjust_delay(slot, 0.01, response)


def test_a_raised_floor_is_kept_however_fast_the_host_answers():
    crawler, throttle, _, _ = _polite()
    crawler.signals.send_catch_log(floor_raised, host=HOST, floor=2.0)
    crawler.signals.send_catch_log(floor_raised, host=HOST, floor=1.0)  # a floor is never lowered
    slot = Slot(2, 0.5, 0.0)
    _fast_answers(throttle, slot)
    assert slot.delay == 2.0
    assert crawler.stats.get_value(FLOOR + HOST) == 2.0


def test_the_gap_is_counted_from_the_hosts_last_answer():
    _, throttle, _, _ = _polite()
    slot = Slot(2, 0.5, 0.0)
    slot.lastseen = monotonic() - 10  # when the request left the queue: it may have reached the wire later
    throttle.slots = {HOST: slot}
    request = Request(f"http://{HOST}/zwgk/", meta={"download_slot": HOST, "download_latency": 0.01})
    before = monotonic()
    throttle._response_downloaded(HtmlResponse(request.url, body=b"<html></html>"), request, None)
    assert slot.lastseen >= before and slot.delay == 0.5


def test_a_hold_is_not_shrunk_before_it_ends_then_the_delay_eases_back():
    crawler, throttle, _, _ = _polite()
    slot = Slot(2, 0.5, 0.0)
    slot.lastseen = monotonic()
    crawler.signals.send_catch_log(host_held, host=HOST, until=slot.lastseen + 5.0)
    _fast_answers(throttle, slot)
    assert slot.delay >= 4.99  # the downloader waits delay from lastseen: the hold's end
    throttle.held[HOST] = monotonic() - 1  # over
    _fast_answers(throttle, slot)
    assert slot.delay == 0.5


def test_a_hold_that_is_over_gives_its_gap_back_even_when_only_304s_come():
    """A recrawl's answers are 304s, on which AutoThrottle never lowers a delay: the hold's end must."""
    crawler, throttle, _, _ = _polite()
    slot = Slot(2, 0.5, 0.0)
    throttle.slots = {HOST: slot}
    crawler.signals.send_catch_log(host_held, host=HOST, until=monotonic() + 120.0)
    assert slot.delay >= 119
    throttle.held[HOST] = monotonic() - 1  # the Retry-After has passed
    request = Request(f"http://{HOST}/zwgk/", meta={"download_slot": HOST, "download_latency": 0.01})
    throttle._response_downloaded(HtmlResponse(request.url, body=b"", status=304), request, None)
    assert slot.delay == 0.5 and HOST not in throttle.held


def test_robots_txt_crawl_delay_raises_the_floor_and_an_absurd_one_is_capped():
    crawler, throttle, _, _ = _polite()
    request = Request(f"http://{HOST}/zwgk/")
    ours = b"User-agent: nianbao\nCrawl-delay: 2\n\nUser-agent: *\nCrawl-delay: 9\n"
    crawler.signals.send_catch_log(signals.robots_parsed, robotparser=ProtegoRobotParser(ours, None), request=request)
    assert throttle.floors[HOST] == 2.0  # the group naming us, not *
    absurd = b"User-agent: *\nCrawl-delay: 3600\n"
    crawler.signals.send_catch_log(signals.robots_parsed, robotparser=ProtegoRobotParser(absurd, None), request=request)
    assert throttle.floors[HOST] == 60.0
    assert crawler.stats.get_value(CRAWL_DELAY_CAPPED) == 1
    assert throttled_hosts(crawler.stats.get_stats()) == [{
        "host": HOST, "answers": 0, "retry_after_max": None, "waited_max": None, "crawl_delay": 3600.0,
        "floor_s": 60.0}]


def test_retry_after_in_seconds_or_as_a_date():
    assert retry_after(b"2") == 2.0
    assert retry_after(" 120 ") == 120.0
    assert retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412480.0) == 30.0  # 07:28:00 GMT
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412500.0) == 0.0  # past: at once
    assert retry_after(b"-5") == 0.0
    assert retry_after(None) is None and retry_after(b"soon") is None and retry_after("nan") is None


def test_a_host_answering_429_is_held_as_asked_and_backed_off_when_it_keeps_on():
    crawler, throttle, backoff, _ = _polite(NIANBAO_MAX_RETRY_AFTER=300.0)
    request = Request(f"http://{HOST}/zwgk/")

    def answer(status: int, retry: str | None = None) -> float:
        headers = {"Retry-After": retry} if retry else {}
        before = monotonic()
        assert backoff.process_response(request, HtmlResponse(request.url, status=status, headers=headers,
                                                               body=b"busy")).status == status
        return before

    t = answer(429, "3")
    assert t + 3.0 <= throttle.held[HOST] <= monotonic() + 3.0
    assert throttle.floors[HOST] == 0.5  # one answer is no pattern
    answer(503)  # no Retry-After: no hold, but the second answer doubles the floor (to at least 1 s)
    assert throttle.floors[HOST] == 1.0
    answer(429, "3600")
    assert throttle.floors[HOST] == 2.0
    assert throttle.held[HOST] <= monotonic() + 300.0  # the most nianbao waits
    answer(200)
    assert throttled_hosts(crawler.stats.get_stats()) == [{
        "host": HOST, "answers": 3, "retry_after_max": 3600.0, "waited_max": 300.0, "crawl_delay": None,
        "floor_s": 2.0}]


def test_the_summary_says_in_words_who_asked_to_slow_down():
    assert throttled_line({"host": "127.0.0.61", "answers": 4, "retry_after_max": 3.0, "waited_max": 3.0,
                           "crawl_delay": None, "floor_s": 4.0}) == \
        "127.0.0.61 answered 429/503 4 times; waited as asked (Retry-After up to 3 s); delay raised to 4 s"
    assert throttled_line({"host": "127.0.0.60", "answers": 0, "retry_after_max": None, "waited_max": None,
                           "crawl_delay": 2.0, "floor_s": 2.0}) == \
        "127.0.0.60's robots.txt asks 2 s between requests: obeyed"
    assert "3600 s between requests: 60 s kept" in throttled_line(
        {"host": "h", "answers": 0, "crawl_delay": 3600.0, "floor_s": 60.0})


def test_the_settings_wire_crawl_delay_and_backoff(tmp_path):
    portal = PortalProfile(name="t", start_urls=[f"http://{HOST}/"])
    settings = build(tmp_path, [portal], browser=False, resume_runs=[])
    order = settings["DOWNLOADER_MIDDLEWARES"]
    # 429/503 are seen before Scrapy's RetryMiddleware (550) retries them, after the archive's look-up
    assert 550 < order["crawler.middlewares.backoff.BackoffMiddleware"] < order[
        "crawler.middlewares.lookup.ArchiveLookupMiddleware"]
    assert settings["EXTENSIONS"]["crawler.throttle.CrawlDelay"] is not None
