"""Portal profiles: what to crawl and how, as data (``*.toml``), so no portal needs code.

A profile names the portal and the agency, where to start, which hosts are the agency's own, whether
pages need a browser, the politeness settings, and optional hints for a site the heuristics miss::

    name = "ankang-xfj"
    agency = "安康市信访局"
    start_urls = ["http://xfj.ankang.gov.cn/"]
    allowed_hosts = ["xfj.ankang.gov.cn"]
    render = "auto"          # "auto": a browser only where a page needs one; "browser"; "never"
    robots = true
    delay = 1.0              # least seconds between requests to a host (robots.txt Crawl-delay may raise it)
    concurrency = 2          # at most this many requests at once per host
    max_pages = 2000
    recheck_days = 30        # an attachment served without ETag/Last-Modified, linked from an unchanged
                             # page, is downloaded again only this many days after its last capture
    schedule = ["0 6 * 1-3 *"]  # crontab lines overriding the scheduler's default (spiders/cron.py)
    deadline = "03-31"          # MM-DD the report is due, overriding the law's (archive/catalog/coverage.py)
    region = "陕西省安康市"      # where the agency is; level: 国 (central), 省, 市, 县 or 乡
    level = "市"
    parent = "安康市人民政府"    # the agency it answers to
    site_id = "6109000001"      # the portal's SiteIDCode (网站标识码)
    [hints]
    list_selector = "ul.list a"       # links inside are report candidates, whatever they say
    url_patterns = ["/zfxxgknb/"]     # regular expressions: matching URLs are followed as columns

Bundled profiles of real portals are in ``spiders/portals/``; an archive's own ``portals/`` adds or
overrides them. Many portals at once are registered from a CSV or JSONL file into the catalog instead
(:mod:`spiders.registry`); a TOML profile wins over a registry row of the same name.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import tomli_w

BUNDLED = Path(__file__).parent / "portals"
RENDER_MODES = ("auto", "browser", "never")
HINTS = ("list_selector", "url_patterns")
LEVELS = ("国", "省", "市", "县", "乡")  # central (部委), province, city, county, township


@lru_cache(maxsize=65536)
def url_host(url: str) -> str:
    """The URL's host, lower-cased (``""`` for none); the same navigation links recur on every page, so cached."""
    return urlsplit(url).hostname or ""


_SPACE = re.compile(r"\s")
_HOST = re.compile(r"https?://(?:[^@/?#]*@)?([^:/?#\[\]@]+)(?::\d*)?(?:[/?#]|\Z)", re.IGNORECASE)


def _host(url: str) -> str:
    """``urlsplit(url).hostname`` for a checked start URL, at a third of its cost (an IPv6 literal or anything
    odd goes to urlsplit)."""
    m = _HOST.match(url)
    return m.group(1).lower() if m else (urlsplit(url).hostname or "")


def is_http_url(url: str) -> bool:
    """An absolute http(s) URL with a host and no white space (a start URL)."""
    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname) and not _SPACE.search(url)
    except (ValueError, TypeError, AttributeError):
        return False


class ProfileError(ValueError):
    """A profile file is missing a field or holds a wrong value."""


@dataclass
class PortalProfile:
    name: str
    start_urls: list[str]
    agency: str | None = None
    allowed_hosts: list[str] = field(default_factory=list)
    render: str = "auto"
    robots: bool = True
    delay: float = 1.0
    concurrency: int = 2
    max_pages: int = 2000
    recheck_days: float = 30
    hints: dict = field(default_factory=dict)
    schedule: list[str] | None = None
    deadline: str | None = None
    region: str | None = None
    level: str | None = None
    parent: str | None = None
    site_id: str | None = None

    def __post_init__(self) -> None:
        if not self.start_urls:
            raise ProfileError(f"portal {self.name!r} has no start_urls")
        if isinstance(self.start_urls, str):
            self.start_urls = [self.start_urls]
        for url in self.start_urls:
            if not is_http_url(url):
                raise ProfileError(f"portal {self.name!r}: {url!r} is not an http(s) URL")
        if self.render not in RENDER_MODES:
            raise ProfileError(f"portal {self.name!r}: render must be one of {', '.join(RENDER_MODES)}")
        if isinstance(self.recheck_days, bool) or not isinstance(self.recheck_days, int | float) \
                or not 0 <= self.recheck_days < float("inf"):
            raise ProfileError(f"portal {self.name!r}: recheck_days must be a number of days, 0 or more "
                               f"(0: download such attachments on every crawl), not {self.recheck_days!r}")
        self._check_numbers()
        if self.level is not None and self.level not in LEVELS:
            raise ProfileError(f"portal {self.name!r}: level must be one of {'/'.join(LEVELS)}, not {self.level!r}")
        if not self.allowed_hosts:
            self.allowed_hosts = sorted({urlsplit(u).hostname or "" for u in self.start_urls})
        self._check_hints()
        self._check_schedule()

    @classmethod
    def trusted(cls, **values) -> PortalProfile:
        """A profile from values checked already (a registry row, validated by ``__init__`` when it was
        imported): the checks cost ~15 µs a profile, 1.5 s for the 100,000 a national scheduler loads at
        every start, so they are not run again. Missing keys take the defaults, as in ``__init__``."""
        self = cls.__new__(cls)
        self.__dict__.update(_defaults(), **values)
        if not self.allowed_hosts:
            self.allowed_hosts = sorted({_host(u) for u in self.start_urls})
        return self

    def _check_numbers(self) -> None:
        def number(v) -> bool:
            return not isinstance(v, bool) and isinstance(v, int | float) and 0 <= v < float("inf")

        if not number(self.delay):
            raise ProfileError(f"portal {self.name!r}: delay must be a number of seconds, 0 or more, "
                               f"not {self.delay!r}")
        for key in ("concurrency", "max_pages"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ProfileError(f"portal {self.name!r}: {key} must be a whole number, 1 or more, not {v!r}")
        if not isinstance(self.robots, bool):
            raise ProfileError(f"portal {self.name!r}: robots must be true or false, not {self.robots!r}")

    def covers(self, url: str) -> bool:
        """The portal's scope, for the spider's links, Scrapy's requests and the browser's alike: the agency's
        own hosts only (copies of government pages elsewhere are spam mirrors)."""
        return url_host(url) in self.allowed_hosts

    def _check_schedule(self) -> None:
        from datetime import date

        from spiders.cron import ScheduleError, trigger

        if isinstance(self.schedule, str):
            self.schedule = [self.schedule]
        if self.schedule is not None:
            try:
                trigger(self.schedule, self.name)
            except ScheduleError as e:
                raise ProfileError(f"portal {self.name!r}: schedule: {e}") from e
        if self.deadline is not None:
            try:
                month, day = (int(x) for x in str(self.deadline).split("-"))
                date(2001, month, day)
            except ValueError:
                raise ProfileError(f"portal {self.name!r}: deadline {self.deadline!r} should be MM-DD, "
                                   f"e.g. \"01-31\"") from None

    def _check_hints(self) -> None:
        """Wrong hints fail when the profile loads, in words, not mid-crawl."""
        from cssselect import GenericTranslator, SelectorError

        unknown = set(self.hints) - set(HINTS)
        if unknown:
            raise ProfileError(f"portal {self.name!r}: unknown hints {sorted(unknown)} (known: {', '.join(HINTS)})")
        if (sel := self.hints.get("list_selector")) is not None:
            try:
                GenericTranslator().css_to_xpath(sel)
            except SelectorError as e:
                raise ProfileError(f"portal {self.name!r}: list_selector {sel!r} is not a CSS selector: {e}") from e
        patterns = self.hints.get("url_patterns", [])
        if not isinstance(patterns, list):
            raise ProfileError(f"portal {self.name!r}: url_patterns must be a list of regular expressions")
        for pat in patterns:
            try:
                re.compile(pat)
            except re.error as e:
                raise ProfileError(f"portal {self.name!r}: bad url_patterns {pat!r}: {e}") from e

    @classmethod
    def for_url(cls, url: str, name: str | None = None) -> PortalProfile:
        """A profile for a front-page URL, named after its host unless a name is given."""
        host = urlsplit(url).hostname or "portal"
        return cls(name=name or slug(host), start_urls=[url])

    def to_toml(self) -> str:
        data = {k: v for k, v in asdict(self).items() if v is not None and v != {}}
        return tomli_w.dumps(data)


@lru_cache(maxsize=1)
def _default_fields() -> tuple[dict, tuple]:
    """The fields' plain defaults, and the fields whose default is made fresh for each profile."""
    from dataclasses import MISSING, fields

    plain = {f.name: f.default for f in fields(PortalProfile) if f.default is not MISSING}
    made = tuple((f.name, f.default_factory) for f in fields(PortalProfile) if f.default_factory is not MISSING)
    return plain, made


def _defaults() -> dict:
    """Each field's default, fresh lists and dicts included (for :meth:`PortalProfile.trusted`)."""
    plain, made = _default_fields()
    out = dict(plain)
    for name, factory in made:
        out[name] = factory()
    return out


def slug(text: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_.-]+", "-", text).strip("-").lower() or "portal"


def load(path: Path) -> PortalProfile:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ProfileError(f"cannot read the portal profile {path}: {e}") from e
    try:
        return PortalProfile(**data)
    except TypeError as e:
        raise ProfileError(f"{path}: {e}") from e


def directories(extra: Path | None = None) -> list[Path]:
    return [d for d in (extra, BUNDLED) if d is not None and d.is_dir()]


def load_all(extra: Path | None = None) -> dict[str, PortalProfile]:
    """Every profile found, the archive's own directory first (it may override bundled ones)."""
    out: dict[str, PortalProfile] = {}
    for d in reversed(directories(extra)):
        for path in sorted(d.glob("*.toml")):
            p = load(path)
            out[p.name] = p
    return out


def save(profile: PortalProfile, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{slug(profile.name)}.toml"
    path.write_text(profile.to_toml(), "utf-8")
    return path
