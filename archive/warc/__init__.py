"""WARC files: the writer (request, response, revisit, gzip member per record) and reading records back.

Imports archive.store, archive.capture and archive.errors; never the catalog or the parser.
"""
