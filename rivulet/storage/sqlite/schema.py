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
-- Streams outlive their table (DISABLED, readable until retention ends), so they keep the
-- table's name and key schema. Sequence numbers are stored as the stream counter n (the wire
-- form is 10**20 + n); trimmed_seq keeps the counter above every number ever used.
CREATE TABLE IF NOT EXISTS streams (
    stream_id   INTEGER PRIMARY KEY AUTOINCREMENT,
    table_id    INTEGER NOT NULL,
    table_name  TEXT NOT NULL,
    label       TEXT NOT NULL,
    view_type   TEXT NOT NULL,
    key_schema  BLOB NOT NULL,
    created_at  REAL NOT NULL,
    disabled_at REAL,
    UNIQUE (table_name, label)
);
CREATE TABLE IF NOT EXISTS shards (
    shard_key   INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_id   INTEGER NOT NULL,
    shard_id    TEXT NOT NULL,
    parent_id   TEXT,
    bucket      INTEGER NOT NULL,
    start_seq   INTEGER NOT NULL,
    end_seq     INTEGER,
    created_at  REAL NOT NULL,
    closed_at   REAL,
    trimmed_seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS shards_stream ON shards(stream_id);
CREATE TABLE IF NOT EXISTS records (
    shard_key INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    created   INTEGER NOT NULL,
    key_id    INTEGER NOT NULL,
    payload   BLOB NOT NULL,
    PRIMARY KEY (shard_key, seq)
) WITHOUT ROWID;
-- Triggers (event source mappings): settings, per-shard checkpoints, per-shard leases that keep
-- two runtimes (serve and workers) off one shard, and cumulative figures for status/metrics.
CREATE TABLE IF NOT EXISTS triggers (
    uuid        TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    settings    BLOB NOT NULL,
    origin      TEXT NOT NULL,
    stream_id   INTEGER,
    state       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    created_at  REAL NOT NULL,
    modified_at REAL NOT NULL,
    last_result TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS trigger_checkpoints (
    uuid      TEXT NOT NULL,
    shard_key INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    done      INTEGER NOT NULL,
    window    BLOB,
    PRIMARY KEY (uuid, shard_key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS trigger_leases (
    uuid      TEXT NOT NULL,
    shard_key INTEGER NOT NULL,
    owner     TEXT NOT NULL,
    expires   REAL NOT NULL,
    PRIMARY KEY (uuid, shard_key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS trigger_figures (
    uuid    TEXT PRIMARY KEY,
    figures BLOB NOT NULL
);
-- TransactWriteItems ClientRequestTokens, committed with the transaction they made idempotent:
-- a retry after a crash finds the token exactly when the writes are there.
CREATE TABLE IF NOT EXISTS client_tokens (
    token        TEXT PRIMARY KEY,
    digest       BLOB NOT NULL,
    outcome      BLOB NOT NULL,
    completed_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS client_tokens_age ON client_tokens(completed_ms);
-- ItemCount and size of every table (index_id 0) and index, kept by the write jobs, so that
-- DescribeTable never counts a whole table.
CREATE TABLE IF NOT EXISTS stats (
    table_id INTEGER NOT NULL,
    index_id INTEGER NOT NULL,
    count    INTEGER NOT NULL,
    size     INTEGER NOT NULL,
    PRIMARY KEY (table_id, index_id)
) WITHOUT ROWID;
"""

GET_ITEM = "SELECT item FROM items WHERE table_id=? AND hash=? AND pk=? AND sk=?"
GET_ITEM_SIZED = "SELECT item, size FROM items WHERE table_id=? AND hash=? AND pk=? AND sk=?"
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
GET_STATS = "SELECT count, size FROM stats WHERE table_id=? AND index_id=?"
ADD_STATS = (
    "INSERT INTO stats VALUES (?,?,?,?) ON CONFLICT(table_id, index_id)"
    " DO UPDATE SET count=count+excluded.count, size=size+excluded.size"
)
SET_STATS = "INSERT OR REPLACE INTO stats VALUES (?,?,?,?)"
DELETE_STATS = "DELETE FROM stats WHERE table_id=? AND index_id=?"
COUNT_TABLE = "SELECT count(*), coalesce(sum(size), 0) FROM items WHERE table_id=?"
COUNT_INDEX = (
    "SELECT count(*), coalesce(sum(i.size), 0) FROM index_entries e JOIN items i"
    " ON i.table_id=? AND i.hash=e.t_hash AND i.pk=e.t_pk AND i.sk=e.t_sk WHERE e.index_id=?"
)
EXPIRED = (
    "SELECT hash, pk, sk, item, size FROM items WHERE table_id=? AND expires IS NOT NULL"
    " AND expires>=? AND expires<? ORDER BY expires LIMIT ?"
)
INSERT_STREAM = (
    "INSERT INTO streams(table_id, table_name, label, view_type, key_schema, created_at)"
    " VALUES (?,?,?,?,?,?)"
)
DISABLE_STREAM = "UPDATE streams SET disabled_at=? WHERE stream_id=?"
DELETE_STREAM = "DELETE FROM streams WHERE stream_id=?"
ALL_STREAMS = (
    "SELECT stream_id, table_id, table_name, label, view_type, key_schema, created_at,"
    " disabled_at FROM streams ORDER BY stream_id"
)
STREAM_LABEL_TAKEN = "SELECT 1 FROM streams WHERE table_name=? AND label=?"
INSERT_SHARD = (
    "INSERT INTO shards(stream_id, shard_id, parent_id, bucket, start_seq, created_at)"
    " VALUES (?,?,?,?,?,?)"
)
CLOSE_SHARD = "UPDATE shards SET end_seq=?, closed_at=? WHERE shard_key=?"
DELETE_SHARD = "DELETE FROM shards WHERE shard_key=?"
DELETE_SHARD_RECORDS = "DELETE FROM records WHERE shard_key=?"
ALL_SHARDS = (
    "SELECT shard_key, stream_id, shard_id, parent_id, bucket, start_seq, end_seq, created_at,"
    " closed_at, trimmed_seq FROM shards ORDER BY shard_key"
)
SHARD_STATE = "SELECT end_seq, trimmed_seq FROM shards WHERE shard_key=?"
APPEND_RECORD = "INSERT INTO records(shard_key, seq, created, key_id, payload) VALUES (?,?,?,?,?)"
READ_RECORDS = (
    "SELECT seq, created, key_id, payload FROM records WHERE shard_key=? AND seq>=?"
    " ORDER BY seq LIMIT ?"
)
LAST_RECORD = "SELECT max(seq) FROM records WHERE shard_key=?"
RECORD_AT_TIME = "SELECT seq FROM records WHERE shard_key=? AND created>=? ORDER BY seq LIMIT 1"
OLDEST_RECORDS = "SELECT seq, created FROM records WHERE shard_key=? ORDER BY seq LIMIT ?"
TRIM_RECORDS = "DELETE FROM records WHERE shard_key=? AND seq<=?"
SET_TRIMMED = "UPDATE shards SET trimmed_seq=max(trimmed_seq, ?) WHERE shard_key=?"
PUT_TRIGGER = "INSERT OR REPLACE INTO triggers VALUES (?,?,?,?,?,?,?,?,?,?)"
ALL_TRIGGERS = "SELECT * FROM triggers ORDER BY name"
DELETE_TRIGGER = "DELETE FROM triggers WHERE uuid=?"
DELETE_TRIGGER_CHECKPOINTS = "DELETE FROM trigger_checkpoints WHERE uuid=?"
DELETE_TRIGGER_LEASES = "DELETE FROM trigger_leases WHERE uuid=?"
DELETE_TRIGGER_FIGURES = "DELETE FROM trigger_figures WHERE uuid=?"
SET_CHECKPOINT = "INSERT OR REPLACE INTO trigger_checkpoints VALUES (?,?,?,?,?)"
DELETE_CHECKPOINT = "DELETE FROM trigger_checkpoints WHERE uuid=? AND shard_key=?"
CHECKPOINTS = "SELECT uuid, shard_key, seq, done, window FROM trigger_checkpoints WHERE uuid=?"
GET_LEASE = "SELECT owner, expires FROM trigger_leases WHERE uuid=? AND shard_key=?"
SET_LEASE = "INSERT OR REPLACE INTO trigger_leases VALUES (?,?,?,?)"
RELEASE_LEASE = "DELETE FROM trigger_leases WHERE uuid=? AND shard_key=? AND owner=?"
LEASES = "SELECT uuid, shard_key, owner, expires FROM trigger_leases WHERE uuid=?"
GET_FIGURES = "SELECT figures FROM trigger_figures WHERE uuid=?"
SET_FIGURES = "INSERT OR REPLACE INTO trigger_figures VALUES (?,?)"
GET_CLIENT_TOKEN = "SELECT digest, outcome FROM client_tokens WHERE token=? AND completed_ms>=?"
PUT_CLIENT_TOKEN = "INSERT OR REPLACE INTO client_tokens VALUES (?,?,?,?)"
EXPIRE_CLIENT_TOKENS = "DELETE FROM client_tokens WHERE completed_ms<?"
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
