"""Every error the archive raises to its callers, side by side (as sqlite-utils keeps its own).

Each message says what went wrong and what to do; the CLI and the web app print it as it is. This
module imports nothing of the project, so any layer may raise these.
"""

from __future__ import annotations

from pathlib import Path


class ArchiveError(Exception):
    """An archive cannot be opened or used as asked; the message says what to do."""


class AliasError(ArchiveError):
    """Two agency names that cannot be merged (or one that cannot be unmerged) as asked: the same name, a cycle,
    a year both names hold a report on; the message says which and what to do."""


class ParserUnavailable(ArchiveError):
    """No parser process could run (too little memory allowed to load it); the documents stay queued."""


class CatalogError(Exception):
    """The catalog cannot be opened or is from an incompatible version."""


class CatalogDamaged(CatalogError):
    """SQLite cannot read the catalog file (cut short, overwritten); the message says how to recover."""

    def __init__(self, path: Path, detail: str) -> None:
        self.path = path
        super().__init__(f"the catalog {path} is damaged ({detail}). Nothing is lost: the WARC files and blobs "
                         f"hold every capture. Rebuild it with `nianbao recover --archive {path.parent}` "
                         f"(the damaged file is kept beside it).")


class BlobError(Exception):
    """A blob could not be stored or read."""


class BlobMissing(BlobError):
    """The catalog names an original the store does not hold (``nianbao verify`` lists them all)."""


class BlobCorrupt(BlobError):
    """An original whose bytes no longer match its SHA-256: never served or parsed as if they did."""


class NotFound(LookupError):
    """No report (or original) matches what was asked for."""


class LockHeld(RuntimeError):
    """Someone else holds the lock; ``holder`` says who (pid, host, since, what), when known."""

    def __init__(self, path: Path, holder: dict | None, what: str) -> None:
        self.path, self.holder, self.what = path, holder or {}, what
        who = (f"pid {self.holder.get('pid')} on {self.holder.get('host')}, since {self.holder.get('since')}"
               if self.holder else "another process")
        super().__init__(f"{what} is already held by {who} (lock file {path})")


class SharedError(RuntimeError):
    """The shared location cannot be read or written; the message says which and why."""


class QueryError(ValueError):
    """A query that cannot be searched, said in words."""


class CaptureError(ValueError):
    """One capture the archive cannot keep as it is (a field that is not text); the others go on."""


class HintError(ValueError):
    """An agency or year given with files to ingest that no report could have (an empty name, year 1899)."""


class SettingError(ValueError):
    """A crawl setting (or the environment variable behind it) that cannot be used; the message names it."""


class ExtractionError(Exception):
    """The document cannot be read (broken file, over a safety limit); the message says why."""


class TornRecord(ValueError):
    """A record whose block ends before its Content-Length: the file was cut (a copy stopped half-way)."""


__all__ = ["ArchiveError", "BlobCorrupt", "BlobError", "BlobMissing", "CaptureError", "CatalogDamaged",
           "CatalogError", "ExtractionError", "HintError", "LockHeld", "NotFound",
           "ParserUnavailable", "QueryError", "SharedError", "TornRecord"]
