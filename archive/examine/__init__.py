"""From blobs to documents, reports and revisions: parse in workers, place by the identity rule, reparse.

Imports store, catalog, the parser and extract; never ingest, search or web.
"""
