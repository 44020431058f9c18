"""The web app and JSON API over an archive (``nianbao serve``); see :mod:`archive.web.app`."""

from archive.web.app import create_app

__all__ = ["create_app"]
