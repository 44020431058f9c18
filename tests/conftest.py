"""Shared fixtures: a fresh archive per test, the sample documents, capture builders."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from hypothesis import settings

from archive import Archive, Capture
from spiders.demo import DOCUMENTS

# The machine is shared and noisy: no test depends on how long an example takes.
settings.register_profile("nianbao", deadline=None, print_blob=True)
settings.load_profile("nianbao")

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = FIXTURES / "seeds"


@pytest.fixture
def archive(tmp_path: Path):
    a = Archive.open(tmp_path / "archive")
    yield a
    a.close()


@pytest.fixture
def docs() -> Path:
    return DOCUMENTS


def http_capture(url: str, body: bytes, *, content_type: str = "text/html; charset=utf-8", gzip_it: bool = False,
                 status: int = 200, extra_headers: list[tuple[str, str]] | None = None, **kw) -> Capture:
    """A capture as the crawler would hand it over: decoded body, and the raw one when gzipped."""
    headers = [("Content-Type", content_type), *(extra_headers or [])]
    raw = None
    if gzip_it:
        raw = gzip.compress(body, mtime=0)
        headers.append(("Content-Encoding", "gzip"))
    headers.append(("Content-Length", str(len(raw if raw is not None else body))))
    return Capture(url=url, body=body, raw_body=raw, status=status, headers=headers,
                   request_headers=[("User-Agent", "nianbao-test")], **kw)
