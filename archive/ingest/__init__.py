"""Getting originals in: the writer and its service process, local files, WARC import, worker hand-overs.

Imports store, warc, catalog, examine and the parser; never search (the facade reindexes) or web.
"""
