"""Full-text search: the text pieces (pure), the FTS5 index kept in step with the catalog, and queries.

Imports catalog, the parser's layout and archive.errors; never ingest, examine or web.
"""
