"""SQLite schema and every SQL statement of the backend, kept as constants."""

SCHEMA_VERSION = 1

# AUTOINCREMENT on catalog ids: a table or index id is never reused, even after a crash,
# so stale rows of a dropped incarnation can never be mistaken for a new one's.
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS tables (
    table_id   INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    definition BLOB NOT NULL,
    created_at REAL NOT NULL,
    deleted_at REAL
);
CREATE UNIQUE INDEX IF NOT EXISTS tables_live_name ON tables(name) WHERE deleted_at IS NULL;
CREATE TABLE IF NOT EXISTS index_ids (
    index_id INTEGER PRIMARY KEY AUTOINCREMENT
);
CREATE TABLE IF NOT EXISTS items (
    table_id INTEGER NOT NULL,
    hash     INTEGER NOT NULL,
    pk       BLOB NOT NULL,
    sk       BLOB NOT NULL,
    item     BLOB NOT NULL,
    size     INTEGER NOT NULL,
    expires  INTEGER,
    PRIMARY KEY (table_id, hash, pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_expiry ON items(table_id, expires) WHERE expires IS NOT NULL;
CREATE TABLE IF NOT EXISTS index_entries (
    index_id INTEGER NOT NULL,
    hash     INTEGER NOT NULL,
    pk       BLOB NOT NULL,
    sk       BLOB NOT NULL,
    t_hash   INTEGER NOT NULL,
    t_pk     BLOB NOT NULL,
    t_sk     BLOB NOT NULL,
    PRIMARY KEY (index_id, hash, pk, sk, t_hash, t_pk, t_sk)
) WITHOUT ROWID;
"""

GET_ITEM = "SELECT item FROM items WHERE table_id=? AND hash=? AND pk=? AND sk=?"
PUT_ITEM = "INSERT OR REPLACE INTO items(table_id, hash, pk, sk, item, size, expires) VALUES (?,?,?,?,?,?,?)"
DELETE_ITEM = "DELETE FROM items WHERE table_id=? AND hash=? AND pk=? AND sk=?"
SET_EXPIRY = "UPDATE items SET expires=? WHERE table_id=? AND hash=? AND pk=? AND sk=?"
ITER_TABLE = "SELECT hash, pk, sk, item, size FROM items WHERE table_id=?"
DELETE_TABLE_ITEMS = "DELETE FROM items WHERE table_id=?"
DELETE_INDEX_ENTRIES = "DELETE FROM index_entries WHERE index_id=?"
PUT_INDEX_ENTRY = "INSERT OR REPLACE INTO index_entries VALUES (?,?,?,?,?,?,?)"
DELETE_INDEX_ENTRY = (
    "DELETE FROM index_entries WHERE index_id=? AND hash=? AND pk=? AND sk=?"
    " AND t_hash=? AND t_pk=? AND t_sk=?"
)
INSERT_TABLE = "INSERT INTO tables(name, definition, created_at) VALUES (?,?,?)"
UPDATE_TABLE = "UPDATE tables SET definition=? WHERE table_id=?"
DROP_TABLE = "UPDATE tables SET deleted_at=? WHERE table_id=?"
NEXT_INDEX_ID = "INSERT INTO index_ids DEFAULT VALUES"
LIVE_TABLES = "SELECT table_id, name, definition, created_at FROM tables WHERE deleted_at IS NULL ORDER BY name"
TABLE_STATS = "SELECT count(*), coalesce(sum(size), 0) FROM items WHERE table_id=?"
INDEX_STATS = (
    "SELECT count(*), coalesce(sum(i.size), 0) FROM index_entries e JOIN items i"
    " ON i.table_id=? AND i.hash=e.t_hash AND i.pk=e.t_pk AND i.sk=e.t_sk WHERE e.index_id=?"
)
EXPIRED = (
    "SELECT hash, pk, sk, item, size FROM items WHERE table_id=? AND expires IS NOT NULL"
    " AND expires>=? AND expires<? ORDER BY expires LIMIT ?"
)
GET_META = "SELECT value FROM meta WHERE key=?"
SET_META = "INSERT OR REPLACE INTO meta(key, value) VALUES (?,?)"

QUERY = "SELECT hash, pk, sk, item, size FROM items WHERE table_id=? AND hash=? AND pk=?"
SCAN = "SELECT hash, pk, sk, item, size FROM items WHERE table_id=? AND hash>=? AND hash<?"
SCAN_AFTER = " AND (hash, pk, sk) > (?, ?, ?)"
SCAN_INDEX = (
    "SELECT e.hash, e.pk, e.sk, i.hash, i.pk, i.sk, i.item, i.size FROM index_entries e JOIN items i"
    " ON i.table_id=? AND i.hash=e.t_hash AND i.pk=e.t_pk AND i.sk=e.t_sk"
    " WHERE e.index_id=? AND e.hash>=? AND e.hash<?"
)
SCAN_INDEX_AFTER = " AND (e.hash, e.pk, e.sk, e.t_hash, e.t_pk, e.t_sk) > (?, ?, ?, ?, ?, ?)"

INDEX_JOIN = (
    "SELECT e.sk, i.hash, i.pk, i.sk, i.item, i.size FROM index_entries e JOIN items i"
    " ON i.table_id=? AND i.hash=e.t_hash AND i.pk=e.t_pk AND i.sk=e.t_sk"
)
