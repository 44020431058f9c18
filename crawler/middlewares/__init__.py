"""Downloader middlewares, one concern each (wired in :mod:`crawler.settings`)."""
