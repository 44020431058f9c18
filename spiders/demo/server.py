"""A simulated government portal on a loopback address, for the demo, the tests and the benchmarks.

Each portal gets its own host (127.0.0.2, 127.0.0.3, …) so per-host behaviour is real. Pages behave
like a plain CMS: ETag and Last-Modified, 304 on conditional requests, gzip for text when asked.
A page may also be dynamic (a function of the request: POST list proxies, cookie challenges), slow,
a redirect, or an error, or served without validators (no ETag or Last-Modified, as many
``download.jsp`` attachments are). Every request is recorded with the time it arrived, so a test can
read the gaps between requests to a host.
"""

from __future__ import annotations

import gzip
import hashlib
import selectors
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Page:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    last_modified: float = 1642642200.0  # 2022-01-20 01:30 UTC
    delay: float = 0.0  # seconds before answering (a slow host)
    conditional: bool = True  # answers If-None-Match / If-Modified-Since with 304
    validators: bool = True  # False: no ETag nor Last-Modified, and no 304 (a recrawl cannot ask "changed?")

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased: HTTP header names are case-insensitive


Dynamic = Callable[[Request], Page]


@dataclass
class Hit:
    method: str
    path: str
    status: int
    bytes: int
    headers: dict[str, str]  # names lower-cased: HTTP header names are case-insensitive
    body: bytes = b""  # what a POST sent (a benchmark replays requests exactly)
    at: float = 0.0  # time.monotonic() when the request arrived (the gaps between requests to a host)


class Site:
    """Pages by path (or path?query); a test may change them while the server runs."""

    def __init__(self, pages: dict[str, Page | Dynamic] | None = None, *, gzip_text: bool = True,
                 delay: float = 0.0, name: str = "") -> None:
        self.pages: dict[str, Page | Dynamic] = dict(pages or {})
        self.gzip_text = gzip_text
        self.delay = delay
        self.name = name
        self.hits: list[Hit] = []
        self.lock = threading.Lock()
        self.active = 0  # requests being answered now, and the most there ever were at once
        self.max_active = 0

    def add(self, path: str, page: Page | Dynamic) -> None:
        with self.lock:
            self.pages[path] = page

    def lookup(self, req: Request, raw_path: str) -> Page:
        with self.lock:
            entry = self.pages.get(raw_path) or self.pages.get(req.path)
        if entry is None:
            return Page("<html><body><h1>404 页面不存在</h1></body></html>".encode(), status=404)
        return entry(req) if callable(entry) else entry

    def bytes_sent(self) -> int:
        with self.lock:
            return sum(h.bytes for h in self.hits)


class _Handler(BaseHTTPRequestHandler):
    server_version = "DemoCMS/1.0"
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet: tests read .hits instead
        pass

    def _serve(self, head: bool = False) -> None:
        self.arrived = time.monotonic()
        site: Site = self.server.site  # type: ignore[attr-defined]
        with site.lock:
            site.active += 1
            site.max_active = max(site.max_active, site.active)
        try:
            self._answer(site, head)
        finally:
            with site.lock:
                site.active -= 1

    def _answer(self, site: Site, head: bool) -> None:
        parts = urlsplit(self.path)
        form: dict[str, list[str]] = {}
        sent = b""
        if self.command == "POST":
            length = int(self.headers.get("Content-Length") or 0)
            sent = self.rfile.read(length) if length else b""
            form = parse_qs(sent.decode("utf-8", "replace"))
        req = Request(self.command, parts.path, parse_qs(parts.query), form,
                      {k.lower(): v for k, v in self.headers.items()})
        raw = parts.path + (f"?{parts.query}" if parts.query else "")
        page = site.lookup(req, raw)
        if page.delay or site.delay:
            time.sleep(page.delay or site.delay)
        status, body = page.status, page.body
        validators = [("ETag", page.etag), ("Last-Modified", formatdate(page.last_modified, usegmt=True))]
        headers = [("Content-Type", page.content_type), *(validators if page.validators else []), *page.headers]
        inm, ims = self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
        if status == 200 and page.conditional and page.validators and self.command == "GET" and (
                (inm and inm == page.etag) or (not inm and ims and ims == formatdate(page.last_modified, usegmt=True))):
            status, body = 304, b""
        elif status == 200 and site.gzip_text and page.content_type.startswith(("text/", "application/json")) and \
                "gzip" in (self.headers.get("Accept-Encoding") or ""):
            body = gzip.compress(body, mtime=0)
            headers.append(("Content-Encoding", "gzip"))
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and status != 304:
            self.wfile.write(body)
        with site.lock:
            site.hits.append(Hit(self.command, raw, status, len(body),
                                 {k.lower(): v for k, v in self.headers.items()}, sent, self.arrived))

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve(head=True)


class PortalServer:
    """Serve a :class:`Site` on ``host`` (a loopback address) in a background thread."""

    def __init__(self, site: Site, host: str = "127.0.0.2", port: int = 0) -> None:
        self.site = site
        self.httpd = ThreadingHTTPServer((host, port), _Handler)
        self.httpd.site = site  # type: ignore[attr-defined]
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def host(self) -> str:
        return self.httpd.server_address[0]

    def start(self) -> PortalServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> PortalServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def loopback_hosts(n: int, block: int) -> list[str]:
    """``n`` loopback addresses from ``127.0.<block>.1``, 250 to a block (``127.0.<block + 1>.1`` next)."""
    return [f"127.0.{block + i // 250}.{1 + i % 250}" for i in range(n)]


class _CountedHandler(_Handler):
    def _serve(self, head: bool = False) -> None:
        many: ManyPortalServers = self.server.many  # type: ignore[attr-defined]
        with many.lock:
            many.active += 1
            many.max_active = max(many.max_active, many.active)
        try:
            super()._serve(head)
        finally:
            with many.lock:
                many.active -= 1


class _ListeningServer(ThreadingHTTPServer):
    request_queue_size = 128  # listen()'s backlog (5 by default): a crawl opens many connections at once
    daemon_threads = True

    def server_bind(self) -> None:
        """HTTPServer's, without its reverse DNS lookup of the address (75 ms each for 127.0.16.x here)."""
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


class ManyPortalServers:
    """Many sites, each on its own loopback address, accepted by one thread (hundreds of
    :class:`PortalServer` would be hundreds of polling threads); each connection is answered on its own
    thread as there. Counts the requests being answered at once, over all the sites (``max_active``)."""

    def __init__(self, sites: list[Site], hosts: list[str]) -> None:
        self.lock = threading.Lock()
        self.active = 0
        self.max_active = 0
        self.servers: list[_ListeningServer] = []
        self.selector = selectors.DefaultSelector()
        self._stop = threading.Event()
        try:
            for site, host in zip(sites, hosts, strict=True):
                httpd = _ListeningServer((host, 0), _CountedHandler)
                httpd.site = site  # type: ignore[attr-defined]
                httpd.many = self  # type: ignore[attr-defined]
                self.servers.append(httpd)
                self.selector.register(httpd.socket, selectors.EVENT_READ, httpd)
        except BaseException:
            self._close()
            raise
        self.thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def urls(self) -> list[str]:
        return [f"http://{h.server_address[0]}:{h.server_address[1]}" for h in self.servers]

    def _accept(self) -> None:
        while not self._stop.is_set():
            for key, _ in self.selector.select(timeout=0.2):
                key.data._handle_request_noblock()  # what serve_forever calls: accept, then a thread

    def start(self) -> ManyPortalServers:
        self.thread.start()
        return self

    def _close(self) -> None:
        self.selector.close()
        for httpd in self.servers:
            httpd.server_close()

    def stop(self) -> None:
        self._stop.set()
        if self.thread.is_alive():
            self.thread.join()
        self._close()

    def __enter__(self) -> ManyPortalServers:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
