"""Scrapy settings for a nianbao crawl: politeness, the middlewares and the archive extension.

Behaviour is changed here (or by a portal profile), never by editing the spider.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from archive.archive import nianbao_version
from crawler import concurrency
from spiders.profiles import PortalProfile

CONTACT = os.environ.get("NIANBAO_CONTACT", "https://github.com/search?q=nianbao+government+reports")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium_path() -> str | None:
    """Debian's chromium (or $NIANBAO_CHROMIUM); None lets Playwright use its own download."""
    for candidate in (os.environ.get("NIANBAO_CHROMIUM"), shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def playwright_browser_installed() -> bool:
    cache = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache" / "ms-playwright")
    return any(cache.glob("chromium*"))


def browser_available() -> bool:
    try:
        import scrapy_playwright  # noqa: F401
    except ImportError:
        return False
    return chromium_path() is not None or playwright_browser_installed()


def build(archive_dir: Path, portals: list[PortalProfile], *, browser: bool, resume_runs: list[int],
          overrides: dict | None = None) -> dict:
    # the profile's delay is a floor: not randomised below it (Scrapy's default draws 0.5x to 1.5x)
    slots = {host: {"concurrency": min(2, p.concurrency), "delay": p.delay, "randomize_delay": False}
             for p in portals for host in p.allowed_hosts}
    settings = {
        "BOT_NAME": "nianbao",
        "USER_AGENT": f"nianbao/{nianbao_version()} (+{CONTACT}; archiving government information-disclosure "
                      "annual reports)",
        "ROBOTSTXT_OBEY": True,  # a profile with robots = false opts its own requests out
        # sized to the crawl's hosts below (crawler/concurrency.py); 16 is only where a crawl of few hosts starts
        "CONCURRENT_REQUESTS": 16,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
        "DOWNLOAD_SLOTS": slots,
        # the next request goes to the host with the fewest in the downloader (Scrapy's default, said here: a plain
        # priority queue would hand one large portal's many requests out first, to wait for its floor in its slot,
        # each holding one of the global cap)
        "SCHEDULER_PRIORITY_QUEUE": "scrapy.pqueues.DownloaderAwarePriorityQueue",
        "NIANBAO_MAX_IN_FLIGHT": None,  # the most requests in flight at once (None: $NIANBAO_MAX_IN_FLIGHT or 512)
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": min((p.delay for p in portals), default=1.0),
        "AUTOTHROTTLE_MAX_DELAY": 30.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        "DOWNLOAD_TIMEOUT": 60,
        "DOWNLOAD_MAXSIZE": 512 * 1024 * 1024,
        "DOWNLOAD_WARNSIZE": 64 * 1024 * 1024,
        "REDIRECT_MAX_TIMES": 5,
        "RETRY_TIMES": 2,
        "DEPTH_LIMIT": 0,  # hops are bounded by the spider, pagination does not count
        "COOKIES_ENABLED": True,
        "TELNETCONSOLE_ENABLED": False,
        # Measured in bench/crawl.py: Scrapy re-reads a generator callback's source for every response
        # (bound methods miss its weak cache), and starts CONCURRENT_ITEMS tasks per callback output;
        # the spider yields requests only, and its callbacks return no values.
        "WARN_ON_GENERATOR_RETURN_VALUE": False,
        "CONCURRENT_ITEMS": 8,
        "LOG_LEVEL": "ERROR",  # problems are reported in the run's summary, in plain words
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
            "crawler.middlewares.scope.OffsiteBySet": 50,  # the same policy, quicker
            "crawler.middlewares.scope.ScopeMiddleware": 60,
            "crawler.middlewares.browser_scope.BrowserScopeMiddleware": 70,  # Chromium kept in the same scope
            "crawler.middlewares.challenge.ChallengeMiddleware": 540,
            # after decompression (590), before MetaRefresh (580) reads the text
            "crawler.middlewares.encoding.EncodingMiddleware": 585,
            "crawler.middlewares.lookup.ArchiveLookupMiddleware": 560,
            "crawler.middlewares.backoff.BackoffMiddleware": 555,  # sees 429/503 before RetryMiddleware (550)
            "crawler.middlewares.raw.RawResponseMiddleware": 950,
        },
        "RANDOMIZE_DOWNLOAD_DELAY": False,
        "REQUEST_FINGERPRINTER_CLASS": "crawler.fingerprints.RouteFingerprinter",  # an app's #route is a page
        "EXTENSIONS": {"crawler.archiving.ArchiveExtension": 100, "crawler.live.LiveProgress": 200,
                       # AutoThrottle held to each host's floor, raised by robots.txt's Crawl-delay
                       # (crawler/throttle.py)
                       "scrapy.extensions.throttle.AutoThrottle": None, "crawler.throttle.PoliteThrottle": 0,
                       "crawler.throttle.CrawlDelay": 0},
        "NIANBAO_ARCHIVE": str(archive_dir),
        "NIANBAO_BROWSER": browser,
        "NIANBAO_RESUME_RUNS": resume_runs,
        # attachments without validators are downloaded again only this many days after their last capture
        "NIANBAO_RECHECK_DAYS": {host: p.recheck_days for p in portals for host in p.allowed_hosts},
    }
    if browser:
        launch: dict = {"headless": True, "args": CHROMIUM_ARGS}
        if (exe := chromium_path()) is not None:
            launch["executable_path"] = exe
        settings.update({
            "DOWNLOAD_HANDLERS": {"http": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
                                  "https": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"},
            "PLAYWRIGHT_BROWSER_TYPE": "chromium",
            "PLAYWRIGHT_LAUNCH_OPTIONS": launch,
            "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": 60_000,
            "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": 4,
            # the page's own requests (scripts fetching a list) name us too, not only the navigation; no
            # service worker, whose requests no route sees (the browser's scope: crawler/middlewares/browser_scope.py)
            "PLAYWRIGHT_CONTEXTS": {"default": {"user_agent": settings["USER_AGENT"], "service_workers": "block"}},
        })
    settings.update(overrides or {})
    # what an override asks for outright is kept (a benchmark's "before" sets CONCURRENT_REQUESTS 16)
    sized = concurrency.sized(slots, concurrency.ceiling(settings["NIANBAO_MAX_IN_FLIGHT"]))
    settings.update({k: v for k, v in sized.items() if k not in (overrides or {})})
    return settings
