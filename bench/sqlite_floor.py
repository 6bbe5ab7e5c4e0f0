"""What SQLite alone costs per PutItem-like write, with no Python server around it.

    python bench/sqlite_floor.py [--dir /path/on/the/disk/to/test] [--rows 300000] [--group 32]

Builds Rivulet's schema (its `items` table is WITHOUT ROWID, keyed by (table_id, hash, pk, sk)) with `--rows`
random-key rows of ~300 bytes, then times transactions of `--group` such inserts (a group commit
of that many puts) and prints the CPU per insert and per COMMIT, for synchronous=NORMAL and FULL.
A random key dirties its own 4 KB B-tree page, which the COMMIT writes to the WAL and the next
checkpoint copies back: that, not Python, sets the floor of a durable put on SQLite.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import tempfile
import time

from rivulet.storage.sqlite import schema as q


def measure(directory: str, synchronous: str, rows: int, group: int, groups: int) -> None:
    path = os.path.join(directory, f"floor-{synchronous}.db")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA cache_size=-65536")  # as Rivulet's connections
    conn.executescript(q.SCHEMA)  # Rivulet's own schema and statement
    item = os.urandom(240)

    def one_group() -> tuple[float, float]:
        conn.execute("BEGIN IMMEDIATE")
        for _ in range(group):
            row = (1, random.getrandbits(62), os.urandom(12), b"s00", item, 250, None)
            conn.execute(q.PUT_ITEM, row)
        cpu, wall = time.thread_time(), time.perf_counter()
        conn.execute("COMMIT")
        return time.thread_time() - cpu, time.perf_counter() - wall

    for _ in range(rows // group):  # the table a benchmark run has built up
        one_group()
    commit_cpu = commit_wall = 0.0
    started = time.thread_time()
    for _ in range(groups):
        cpu, wall = one_group()
        commit_cpu += cpu
        commit_wall += wall
    total = time.thread_time() - started
    conn.close()
    n = groups * group
    print(
        f"synchronous={synchronous:<6} CPU per insert {total / n * 1e6:5.1f} µs "
        f"(COMMIT {commit_cpu / n * 1e6:5.1f} µs of it); COMMIT of {group}: "
        f"{commit_cpu / groups * 1e3:.2f} ms CPU, {commit_wall / groups * 1e3:.2f} ms wall"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--dir", default=None, help="where to put the database (default: a temp dir)"
    )
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--group", type=int, default=32)
    parser.add_argument("--groups", type=int, default=1000)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=opts.dir) as directory:
        print(
            f"SQLite {sqlite3.sqlite_version}, {opts.rows:,} rows, {opts.group} inserts per commit, in {directory}"
        )
        for synchronous in ("NORMAL", "FULL"):
            measure(directory, synchronous, opts.rows, opts.group, opts.groups)


if __name__ == "__main__":
    main()
