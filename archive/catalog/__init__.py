"""The SQLite catalog: connection and migrations, read views, harvests and the scheduler's frontier, coverage,
exports, verify, and the words that describe its tables to Datasette.

Imports store, warc, capture, extract, the parser (names, layout) and errors; never examine, ingest, search or web.
"""

# what ``nianbao export`` writes (export.py); here so the CLI loads it light
EXPORT_FORMATS = ("jsonl", "csv", "xlsx", "warc", "wacz")
