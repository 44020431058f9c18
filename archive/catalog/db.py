"""The SQLite catalog (through sqlite-utils): WAL, full fsync on commit, explicit migrations.

Writers take ``BEGIN IMMEDIATE`` so concurrent processes queue on the write lock instead of failing
half-way; sqlite-utils calls nested inside a transaction become savepoints.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils

from archive.capture import iso, utcnow
from archive.catalog.migrations import LATEST, MIGRATIONS, read_only_views
from archive.errors import CatalogDamaged, CatalogError

BUSY_TIMEOUT_MS = 60_000


class Catalog:
    """One connection to ``catalog.db``; :meth:`transaction` wraps every write."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        if readonly and not self.path.exists():
            raise CatalogError(f"no catalog at {self.path}")
        try:
            self._connect(readonly)
        except sqlite3.DatabaseError as e:  # not a database, cut short, a page overwritten
            with contextlib.suppress(Exception):
                self.conn.close()
            raise CatalogDamaged(self.path, str(e)) from e

    def _connect(self, readonly: bool) -> None:
        if readonly:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                                   check_same_thread=False)
        else:
            conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if not readonly:
            with self.db.ensure_autocommit_on():
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        if not readonly:
            self.migrate()
        elif self.version() > LATEST:
            raise CatalogError(self._too_new())
        else:
            read_only_views(conn, self.version())

    def problems(self, *, quick: bool = False) -> list[str]:
        """What SQLite's own check finds wrong with the file (``quick_check`` skips the index contents);
        empty when it is sound."""
        try:
            found = [r[0] for r in self.conn.execute("PRAGMA quick_check" if quick else "PRAGMA integrity_check")]
        except sqlite3.DatabaseError as e:
            return [str(e)]
        return [] if found == ["ok"] else found

    def _too_new(self) -> str:
        return (f"the catalog {self.path} has schema version {self.version()}, newer than this nianbao "
                f"understands ({LATEST}); upgrade nianbao")

    def version(self) -> int:
        if not self.db["_migrations"].exists():
            return 0
        row = self.conn.execute("SELECT max(version) FROM _migrations").fetchone()
        return row[0] or 0

    def migrate(self) -> list[int]:
        """Apply pending migrations in order; return the versions applied."""
        applied: list[int] = []
        with self.transaction():
            if not self.db["_migrations"].exists():
                self.db["_migrations"].create({"version": int, "name": str, "applied_at": str}, pk="version")
        current = self.version()
        if current > LATEST:
            raise CatalogError(self._too_new())
        for version, name, fn in MIGRATIONS:
            if version <= current:
                continue
            with self.transaction():
                # Re-check under the write lock: another process may have migrated meanwhile.
                if self.version() >= version:
                    continue
                fn(self.db)
                self.db["_migrations"].insert({"version": version, "name": name, "applied_at": iso(utcnow())})
            applied.append(version)
        return applied

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any exception; nested use is a savepoint."""
        if self.conn.in_transaction:
            with self.db.atomic():
                yield self.db
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    def one(self, sql: str, params: tuple | dict = ()) -> dict | None:
        cur = self.conn.execute(sql, params)
        cols = [c[0] for c in cur.description]
        row = cur.fetchone()
        return dict(zip(cols, row, strict=True)) if row else None

    def rows(self, sql: str, params: tuple | dict = ()) -> Iterator[dict]:
        return self.db.query(sql, params)

    def scalar(self, sql: str, params: tuple | dict = ()):
        row = self.conn.execute(sql, params).fetchone()
        return row[0] if row else None

    def set(self, table: str, key: str, value, fields: dict) -> None:
        """``UPDATE table SET fields WHERE key = value``: a list or mapping stored as JSON, as sqlite-utils does.

        sqlite-utils' ``update`` reads the table's columns and the row back on every call; placing a national
        harvest's reports updates a few rows per report, where those reads were a tenth of the owner's import.
        So it neither checks that the row exists nor converts dates: give it plain values (the callers do)."""
        if not fields:
            return
        cols = list(fields)
        vals = [json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list, tuple)) else v for v in fields.values()]
        self.conn.execute(f"UPDATE {table} SET {', '.join(f'[{c}] = ?' for c in cols)} WHERE [{key}] = ?",
                          (*vals, value))

    def close(self) -> None:
        self.conn.close()
