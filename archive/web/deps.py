"""What the app, the API and the pages share: the archive per request, the validated parameter types,
the media types of originals and the content-security policies they are served with."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Path, Query, Request
from pydantic import Field

from archive import Archive

SHA256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the original, lower-case hex")]
PerPage = Annotated[int, Query(ge=1, le=200)]
Page = Annotated[int, Query(ge=1, le=100_000)]
Year = Annotated[int | None, Query(ge=1990, le=2100)]
# several years (?year=2022&year=2023), each checked like one
Years = Annotated[list[Annotated[int, Field(ge=1990, le=2100)]] | None, Query(max_length=30)]
MEDIA = {"pdf": "application/pdf", "html": "text/html; charset=utf-8", "docx":
         "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "doc": "application/msword",
         "wps": "application/vnd.ms-works", "text": "text/plain; charset=utf-8", "image": "application/octet-stream"}

PAGE_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-src 'self'; "
            "object-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'")
# Archived HTML: a unique origin with no script, no forms, no plugins, and nothing fetched but its own images.
ORIGINAL_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"
PDF_CSP = "default-src 'none'; object-src 'self'; frame-ancestors 'self'"


def archived_html_csp(origin: str) -> str:
    """An archived HTML page with its links rewritten: :data:`ORIGINAL_CSP`, plus images from the archived copies
    on our own origin (``/original/`` only), and a user's click on a link may open it in the whole tab (the
    links are ``target=_top``); nothing else, and still no script."""
    return ("sandbox allow-top-navigation-by-user-activation; default-src 'none'; "
            f"img-src data: {origin}/original/; style-src 'unsafe-inline'")


def attachment(name: str) -> str:
    """``Content-Disposition`` for a download named ``name`` (RFC 6266): UTF-8 in ``filename*`` (RFC 5987) and an
    ASCII fallback in ``filename`` for clients that read only that."""
    fallback = re.sub(r"[^A-Za-z0-9._-]+", "", name)
    if not fallback or fallback.startswith(("_", ".")):
        fallback = "nianbao" + fallback
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def get_archive(request: Request) -> Iterator[Archive]:
    yield from request.app.state.archive()


ArchiveDep = Annotated[Archive, Depends(get_archive)]
