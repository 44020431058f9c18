"""What the app, the API and the pages share: the archive per request, the validated parameter types,
the media types of originals and the content-security policies they are served with."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

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


def get_archive(request: Request) -> Iterator[Archive]:
    yield from request.app.state.archive()


ArchiveDep = Annotated[Archive, Depends(get_archive)]
