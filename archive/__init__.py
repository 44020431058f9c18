"""Everything after the download: store, WARC, catalog, ingest, examine (parse and place), search, web.

Never imports Scrapy. The names below load on first use (PEP 562), so ``import archive.parser`` in a
parse worker loads neither sqlite-utils nor the catalog::

    from archive import Archive
    with Archive.open("nianbao-archive") as a:
        print(a.stats())
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archive.archive import Archive
    from archive.capture import Capture, RedirectHop
    from archive.catalog.coverage import PortalScope
    from archive.errors import ArchiveError
    from archive.store.body import Body

_LAZY = {"Archive": "archive.archive", "ArchiveError": "archive.errors", "Body": "archive.store.body",
         "Capture": "archive.capture", "PortalScope": "archive.catalog.coverage", "RedirectHop": "archive.capture"}
__all__ = ["Archive", "ArchiveError", "Body", "Capture", "PortalScope", "RedirectHop"]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'archive' has no attribute {name!r}")
