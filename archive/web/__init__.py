"""The web app and JSON API over an archive (``nianbao serve``); see :mod:`archive.web.app`.

Reads only through the Archive facade (plus archive.errors and the parser's layout): no SQL here.
"""

from archive.web.app import create_app

__all__ = ["create_app"]
