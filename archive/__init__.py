"""Everything after the download: blob store, catalog, extraction, parser, exports, WARC.

Never imports Scrapy, so it can be used, tested and re-run over old originals on its own::

    from archive import Archive
    with Archive.open("nianbao-archive") as a:
        print(a.stats())
"""

from archive.archive import Archive, ArchiveError
from archive.body import Body
from archive.capture import Capture, RedirectHop

__all__ = ["Archive", "ArchiveError", "Body", "Capture", "RedirectHop"]
