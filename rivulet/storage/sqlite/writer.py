"""The single writer thread: group commit, one savepoint per job (Datasette/huey style)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from rivulet.storage.base import StorageError

log = logging.getLogger("rivulet.storage")

# Upper bound of jobs folded into one commit: keeps the latency of the first job bounded.
MAX_GROUP = 256

_STOP = object()


class Job:
    __slots__ = ("fn", "future", "loop")

    def __init__(
        self,
        fn: Callable[[Any], Any],
        loop: asyncio.AbstractEventLoop | None,
        future: asyncio.Future[Any] | Future[Any],
    ) -> None:
        self.fn = fn
        self.loop = loop
        self.future = future


def _settle(done: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    # Runs on the event loop: one wake-up per committed group, not per job.
    for fut, result, exc in done:
        if fut.done():  # cancelled by its caller (or already failed by the writer's last resort)
            continue
        if exc is None:
            fut.set_result(result)
        else:
            fut.set_exception(exc)


class Writer(threading.Thread):
    """Owns the only write connection. Jobs queued while a commit is in flight share the next one."""

    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        make_txn: Callable[[sqlite3.Connection], Any],
        listeners: list[Callable[[], None]],
    ) -> None:
        super().__init__(name="rivulet-sqlite-writer", daemon=True)
        self._connect = connect
        self._make_txn = make_txn
        self._listeners = listeners
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        # Guards the check-then-enqueue of submit() against stop(): no job may land behind _STOP.
        self._lock = threading.Lock()
        self._stopping = False

    def submit(self, job: Job) -> None:
        with self._lock:
            if self._stopping:
                raise StorageError("storage is closed")
            self._queue.put(job)

    def start_and_wait(self) -> None:
        self.start()
        self._ready.wait()
        if self._startup_error is not None:
            raise StorageError(
                f"cannot open the database: {self._startup_error}"
            ) from self._startup_error

    def stop(self) -> None:
        with self._lock:
            if not self._stopping:
                self._stopping = True
                self._queue.put(_STOP)
        if self.is_alive():
            self.join()

    def run(self) -> None:
        try:
            conn = self._connect()
            txn = self._make_txn(conn)
        except BaseException as exc:  # reported to the thread that started us
            self._startup_error = exc
            self._ready.set()
            return
        self._ready.set()
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                break
            group: list[Job] = [first]
            while len(group) < MAX_GROUP:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stopping = True
                    break
                group.append(nxt)
            try:
                self._run_group(conn, txn, group)
            except BaseException as exc:
                # Never die with jobs waiting: a dead writer would leave every caller hanging.
                log.exception("writer failed outside a job")
                if conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                err = StorageError(f"writer failure: {exc}")
                self._resolve([(job, None, err) for job in group if not job.future.done()])
        try:
            conn.close()
        except sqlite3.Error:
            log.exception("closing the write connection failed")

    def _run_group(self, conn: sqlite3.Connection, txn: Any, group: list[Job]) -> None:
        outcomes: list[tuple[Job, Any, BaseException | None]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job in group:
                conn.execute("SAVEPOINT job")
                try:
                    result = job.fn(txn)
                except BaseException as exc:
                    conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
                    if isinstance(exc, sqlite3.Error):
                        log.exception("storage error in write job")
                        exc = StorageError(str(exc))
                    outcomes.append((job, None, exc))
                else:
                    conn.execute("RELEASE job")
                    outcomes.append((job, result, None))
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            log.exception("group commit failed; %d jobs rolled back", len(group))
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            err = StorageError(str(exc))
            outcomes = [(job, None, err) for job in group]
        else:
            for listener in self._listeners:
                try:
                    listener()
                except Exception:
                    log.exception("commit listener failed")
        self._resolve(outcomes)

    @staticmethod
    def _resolve(outcomes: list[tuple[Job, Any, BaseException | None]]) -> None:
        by_loop: dict[
            asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any, BaseException | None]]
        ] = {}
        for job, result, exc in outcomes:
            if job.loop is None:
                cf: Future[Any] = job.future  # type: ignore[assignment]
                if cf.done():  # cancelled by its caller
                    continue
                if exc is None:
                    cf.set_result(result)
                else:
                    cf.set_exception(exc)
            else:
                by_loop.setdefault(job.loop, []).append((job.future, result, exc))  # type: ignore[arg-type]
        for loop, done in by_loop.items():
            # A closed loop (shutdown) has nobody waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, done)
