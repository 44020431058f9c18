"""``nianbao serve``: the archive as web pages (server-rendered, Chinese, no CDN, no script needed) and
as a JSON API under ``/api`` with an OpenAPI description at ``/openapi.json``.

Safety: the app answers only to the Host names it is given (loopback by default; archive/web/access.py),
and with a token only to requests that carry it; the archive is opened read-only unless asked; archived
HTML is never run in our origin (it is served with ``Content-Security-Policy: sandbox`` and shown in a
sandboxed frame); every field is escaped by Jinja2's autoescape; ids and digests are validated by their
types and patterns.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.base import BaseHTTPMiddleware

from archive import Archive
from archive.errors import ArchiveError, BlobError, BlobMissing, CatalogError, NotFound
from archive.web import api, pages
from archive.web.access import LOOPBACK_NAMES, HostGate, TokenGate
from archive.web.deps import PAGE_CSP

if TYPE_CHECKING:
    from archive import PortalScope

HERE = Path(__file__).parent


# Swagger UI's start-up is an inline script: allowed on /docs only, everything else from our own origin
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; frame-ancestors 'self'")


def _api_docs(app: FastAPI) -> None:
    """``/docs``: the API's Swagger UI from files installed with us, no CDN (a machine with no internet, or
    a strict network, still reads it). fastapi-offline ships Swagger UI 5, which reads the OpenAPI 3.1 that
    FastAPI writes (swagger-ui-bundle's 4.15 cannot); only its files are used."""
    import fastapi_offline
    from fastapi.openapi.docs import get_swagger_ui_html

    files = Path(fastapi_offline.__file__).parent / "static"
    app.mount("/static/swagger", StaticFiles(directory=str(files)), name="swagger")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        page = get_swagger_ui_html(openapi_url="/openapi.json", title="nianbao API",
                                   swagger_js_url="/static/swagger/swagger-ui-bundle.js",
                                   swagger_css_url="/static/swagger/swagger-ui.css",
                                   swagger_favicon_url="data:,")
        page.headers["Content-Security-Policy"] = DOCS_CSP
        return page


class SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        return response


class ArchiveAccess:
    """Opens the archive per request (SQLite connections are per thread; opening is ~1 ms)."""

    def __init__(self, path: Path, readonly: bool) -> None:
        self.path, self.readonly = path, readonly

    def __call__(self) -> Iterator[Archive]:
        a = Archive.open(self.path, readonly=self.readonly)
        try:
            yield a
        finally:
            a.close()


def create_app(archive_dir: Path | str, *, portals: list[PortalScope] | None = None, readonly: bool = True,
               allowed_hosts: Sequence[str] = LOOPBACK_NAMES, token: str | None = None) -> FastAPI:
    """The web app over one archive; ``portals`` (from the profiles) feed the coverage page. It answers
    requests addressed to ``allowed_hosts`` (``*.example.org`` patterns too) and, given a ``token``, only
    those that carry it."""
    archive_dir = Path(archive_dir)
    try:  # fail at start, in words, rather than on the first request
        Archive.open(archive_dir, readonly=True).close()
    except (ArchiveError, CatalogError) as e:
        raise ArchiveError(str(e)) from e
    app = FastAPI(title="nianbao", version="1", docs_url=None, redoc_url=None,
                  description="The archive of 政府信息公开工作年度报告: reports, their cells and checks, search, "
                              "coverage, originals by SHA-256, and streamed exports.")
    app.state.archive = ArchiveAccess(archive_dir, readonly)
    app.state.portals = portals or []
    app.state.templates = Jinja2Templates(directory=str(HERE / "templates"))
    app.add_middleware(SecurityHeaders)
    if token is not None:
        app.add_middleware(TokenGate, token=token)
    app.add_middleware(HostGate, allowed_hosts=list(allowed_hosts), www_redirect=False)  # outermost
    _api_docs(app)  # before /static, which would take /static/swagger/… for its own
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)

    @app.exception_handler(404)
    @app.exception_handler(NotFound)  # the archive's own "no such report/original", said the same way
    async def not_found(request: Request, exc) -> HTMLResponse | JSONResponse:
        detail = getattr(exc, "detail", None) or str(exc) or "not found"
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": detail}, status_code=404)
        return app.state.templates.TemplateResponse(request, "error.html", {"message": detail}, status_code=404)

    @app.exception_handler(BlobError)  # an original the store lost or damaged: said, never served
    async def lost_original(request: Request, exc: BlobError) -> HTMLResponse | JSONResponse:
        gone = isinstance(exc, BlobMissing)
        status = 410 if gone else 500
        words = ("原件已从存储中丢失" if gone else "原件已损坏，内容与其 SHA-256 不符，因此不予提供") + \
            "。请运行 nianbao verify 检查存档。"
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(exc), "说明": words}, status_code=status)
        heading = "原件缺失" if gone else "原件已损坏"
        return app.state.templates.TemplateResponse(request, "error.html",
                                                    {"message": f"{words} ({exc})", "heading": heading},
                                                    status_code=status)

    return app
