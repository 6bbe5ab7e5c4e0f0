"""The database engine: catalog, writes, reads, indexes, TTL. The only layer that opens storage transactions."""
