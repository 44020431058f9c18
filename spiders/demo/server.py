"""A simulated government portal on a loopback address, for the demo and the tests.

Each portal gets its own host (127.0.0.2, 127.0.0.3, …) so per-host behaviour is real. Pages behave
like a plain CMS: ETag and Last-Modified, 304 on conditional requests, gzip for text when asked.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Page:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    last_modified: float = 1642642200.0  # 2022-01-20 01:30 UTC

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


@dataclass
class Hit:
    method: str
    path: str
    status: int
    bytes: int
    headers: dict[str, str]


class Site:
    """Pages by path; a test may change them while the server runs (a re-upload, a new report)."""

    def __init__(self, pages: dict[str, Page] | None = None, *, gzip_text: bool = True) -> None:
        self.pages: dict[str, Page] = dict(pages or {})
        self.gzip_text = gzip_text
        self.hits: list[Hit] = []
        self.lock = threading.Lock()

    def add(self, path: str, page: Page) -> None:
        with self.lock:
            self.pages[path] = page


class _Handler(BaseHTTPRequestHandler):
    server_version = "DemoCMS/1.0"
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet: tests read .hits instead
        pass

    def _serve(self, head: bool) -> None:
        site: Site = self.server.site  # type: ignore[attr-defined]
        path = urlsplit(self.path).path
        with site.lock:
            page = site.pages.get(path)
        if page is None:
            body = "<html><body><h1>404 页面不存在</h1></body></html>".encode()
            page = Page(body, status=404)
        status, body = page.status, page.body
        headers = [("Content-Type", page.content_type), ("ETag", page.etag),
                   ("Last-Modified", formatdate(page.last_modified, usegmt=True)), *page.headers]
        inm, ims = self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
        if status == 200 and ((inm and inm == page.etag) or (not inm and ims and
                                                               ims == formatdate(page.last_modified, usegmt=True))):
            status, body = 304, b""
        elif status == 200 and site.gzip_text and page.content_type.startswith("text/") and \
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
            site.hits.append(Hit(self.command, path, status, len(body), dict(self.headers.items())))

    def do_GET(self) -> None:
        self._serve(head=False)

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
