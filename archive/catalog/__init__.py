"""The SQLite catalog: connection and migrations, read views, harvests, coverage, exports, verify.

Imports archive.store, archive.warc, archive.parser (names and layout only) and archive.errors; never ingest or web.
"""

EXPORT_FORMATS = ("jsonl", "csv", "warc")  # what ``nianbao export`` writes (export.py); here so the CLI loads it light
