"""WAL checkpoints off the write path, on a thread and connection of their own.

SQLite's automatic checkpoint runs inside the COMMIT that crosses its threshold: that COMMIT
copies ~1000 pages back into the database file and fsyncs it while the writer, and every write
waiting on it, stands still. Here a background connection copies the log back (a PASSIVE
checkpoint, which never blocks the writer or readers) shortly after writes, and the writer's own
automatic checkpoint is raised to `RESTART_FRAMES`: it only fires when the log has grown that far
anyway, finds the background has already copied nearly everything, and lets the next write
transaction restart the log from its beginning (a log that is never fully copied back while
writes keep coming would otherwise grow without bound).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable

log = logging.getLogger("rivulet.storage")

# The writer's automatic checkpoint (pages of the log, 4 KB each): the bound on the log's size.
RESTART_FRAMES = 10_000
# How long after a commit the background checkpoint runs: the writes of that window share it.
DELAY = 0.2
# Pages a checkpoint may leave behind before it runs again at once.
LAG_FRAMES = 256


class Checkpointer:
    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        conn = self._connect()
        self._thread = threading.Thread(
            target=self._run, args=(conn,), name="rivulet-sqlite-checkpoint", daemon=True
        )
        self._thread.start()

    def committed(self) -> None:
        """A commit listener: a checkpoint is due shortly."""
        self._wake.set()

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self, conn: sqlite3.Connection) -> None:
        try:
            # stop() sets _stopped before _wake: checked after every clear, its wake-up is never lost.
            while not self._stopped.is_set():
                self._wake.wait()
                # Let the commits of the next moments land first: one checkpoint copies a page
                # once however many of them wrote it.
                if self._stopped.wait(DELAY):
                    return
                self._wake.clear()
                self._catch_up(conn)
        finally:
            conn.close()

    def _catch_up(self, conn: sqlite3.Connection) -> None:
        # Writes go on during a checkpoint: copy again while they left much behind, so the
        # writer's own checkpoint (at RESTART_FRAMES) finds little to copy when it restarts the log.
        # A reader's older snapshot can hold the copy back: stop when a pass gains nothing.
        before = -1
        while not self._stopped.is_set():
            try:
                _, logged, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.Error:
                # Not fatal: the writer's own checkpoint still bounds the log.
                log.exception("background checkpoint failed")
                return
            if logged - copied < LAG_FRAMES or copied <= before:
                return
            before = copied
