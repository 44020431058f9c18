"""Who may read the archive over HTTP: the names it answers to, and the optional read token.

The Host allow-list (Starlette's ``TrustedHostMiddleware``, with any IP literal let through) is always
on: a page on another site that rebinds its own name to 127.0.0.1 (DNS rebinding) still sends its own
name as Host, and gets a 400. The
token is for serving beyond loopback: every request carries it, as ``Authorization: Bearer``, or as the
cookie a browser is given when it first opens a page with ``?token=`` (then sent on without the token in
its address bar).
"""

from __future__ import annotations

import hmac
import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import urlencode

from starlette._utils import parse_host_header  # the parser TrustedHostMiddleware itself uses
from starlette.datastructures import URL, Headers, QueryParams
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import cookie_parser
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARD_BINDS = ("0.0.0.0", "::", "")
COOKIE = "nianbao_token"


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server to this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may resolve to anything


def serving_hosts(bind: str, extra: Sequence[str] = ()) -> list[str]:
    """The Host names a server bound to ``bind`` answers: loopback names, the bound address itself, this
    machine's names, and ``extra`` (``--allowed-host``)."""
    names = [*LOOPBACK_NAMES]
    if bind not in WILDCARD_BINDS:
        names.append(bind.strip("[]"))
    if not is_loopback(bind):
        names += [socket.gethostname(), socket.getfqdn()]
    names += extra
    return list(dict.fromkeys(n.lower() for n in names if n))


class TokenGate:
    """ASGI middleware: no page, API answer or original without the read token."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        if not token:
            raise ValueError("an empty token would let everybody in")
        self.app, self.token = app, token.encode()

    def _valid(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        auth = headers.get("authorization", "")
        bearer = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        cookie = cookie_parser(headers.get("cookie", "")).get(COOKIE)
        if self._valid(bearer) or self._valid(cookie):
            await self.app(scope, receive, send)
            return
        url, query = URL(scope=scope), QueryParams(scope.get("query_string", b""))
        if self._valid(query.get("token")):  # a browser's first visit: keep it in a cookie instead
            rest = [(k, v) for k, v in query.multi_items() if k != "token"]
            response = RedirectResponse(str(url.replace(query=urlencode(rest))), status_code=303)
            response.set_cookie(COOKIE, self.token.decode(), httponly=True, samesite="strict",
                                secure=url.scheme == "https")
        elif url.path.startswith("/api/"):
            response = JSONResponse({"detail": "a read token is needed: Authorization: Bearer <token>"},
                                    status_code=401, headers={"WWW-Authenticate": "Bearer"})
        else:
            response = PlainTextResponse("需要访问令牌 (a read token is needed): open this page with ?token=…",
                                         status_code=401, headers={"WWW-Authenticate": "Bearer"})
        await response(scope, receive, send)


class HostGate(TrustedHostMiddleware):
    """Starlette's Host allow-list, letting any IP literal through as well (``http://192.168.1.5:8000``,
    ``http://[::1]:8000``): DNS rebinding needs a name the attacker controls, and a browser that was sent to
    an address by number sends that number as Host, so only names need to be on the list."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            parsed = parse_host_header(Headers(scope=scope).get("host"))
            if parsed is not None:
                try:
                    ipaddress.ip_address(parsed.host.strip("[]"))
                except ValueError:
                    pass
                else:
                    await self.app(scope, receive, send)
                    return
        await super().__call__(scope, receive, send)
