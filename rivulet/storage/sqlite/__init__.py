"""SQLite backend: WAL, one group-committing write connection, per-thread reader connections."""

from rivulet.storage.sqlite.store import SqliteStorage

__all__ = ["SqliteStorage"]
