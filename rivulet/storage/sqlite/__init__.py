"""SQLite backend: WAL, one group-committing writer thread, per-thread reader connections."""

from rivulet.storage.sqlite.store import SqliteStorage

__all__ = ["SqliteStorage"]
