"""The bytes on disk: content-addressed blobs, spooled bodies, fsync, file locks, the shared location.

Imports only archive.errors and archive.capture; never the catalog, the parser or Scrapy.
"""
