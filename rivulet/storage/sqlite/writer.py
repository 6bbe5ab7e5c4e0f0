"""The only write connection: group commit, one savepoint per job, COMMIT and fsync pipelined.

Write jobs run in groups on the event loop that submitted them, each job in its own savepoint.
The group's COMMIT (writing its pages to the WAL, during which no Python runs) goes to the commit
thread while the loop goes on serving requests; jobs submitted meanwhile form the next group. With
`sync` (durability full) a group is acknowledged only after the sync thread has fsynced the WAL
following its COMMIT; the next group runs and commits during that fsync, so one fsync covers the
groups committed while the previous one was in flight.

Running the jobs on the loop rather than on a writer thread matters: a writer thread had to win the
GIL back from the busy loop after every SQLite call, and at 64 connections it spent two thirds of a
group waiting for it. Pipelining the fsync matters as much: it takes longer than running a group.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol

from rivulet.storage.base import StorageError

log = logging.getLogger("rivulet.storage")

# Upper bound of jobs folded into one commit: keeps the latency of the first job bounded.
MAX_GROUP = 256

_STOP = object()

Outcomes = list[tuple["Job", Any, BaseException | None]]


class Transaction(Protocol):
    """What the writer needs of the transaction object its jobs receive, beside the SQL: to drop
    a failed job's side effects (its in-memory undos, its figure changes) and to finish or drop
    the whole transaction's."""

    def mark(self) -> Any: ...

    def rollback_to(self, mark: Any) -> None: ...

    def before_commit(self) -> None: ...

    def committed(self) -> None: ...

    def rolled_back(self) -> None: ...


class Job:
    __slots__ = ("fn", "future", "long", "loop")

    def __init__(
        self,
        fn: Callable[[Any], Any],
        loop: asyncio.AbstractEventLoop | None,
        future: asyncio.Future[Any] | Future[Any],
        long: bool = False,
    ) -> None:
        self.fn = fn
        self.loop = loop  # where the group runs and the future resolves
        self.future = future
        # Runs alone, on the commit thread: a backfill must not stop the loop's reads meanwhile.
        self.long = long


class _Run:
    """A group for the commit thread to run, not only to commit (a long job)."""

    __slots__ = ("group",)

    def __init__(self, group: list[Job]) -> None:
        self.group = group


def _settle(done: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    # Runs on the event loop: one wake-up per committed group, not per job.
    for fut, result, exc in done:
        if fut.done():  # cancelled by its caller (or already failed by the writer's last resort)
            continue
        if exc is None:
            fut.set_result(result)
        else:
            fut.set_exception(exc)


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


class Writer:
    """Owns the write connection. `submit` is for jobs awaited on an event loop, `run_sync` for
    callers without one (start-up, the command line); both serialize on the same lock, which is
    held from BEGIN to the end of COMMIT."""

    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        make_txn: Callable[[sqlite3.Connection], Transaction],
        listeners: list[Callable[[], None]],
        sync: Callable[[], None] | None = None,
    ) -> None:
        self._connect = connect
        # Makes every commit so far durable (fsync of the WAL); None when commits need no sync.
        self._sync = sync
        self._make_txn = make_txn
        self._listeners = listeners
        self._conn: sqlite3.Connection | None = None
        self._txn: Transaction | None = None
        self._lock = threading.Lock()  # the transaction; released by the commit thread
        # Guards the queue of jobs and the flags below (submit may come from any thread).
        self._state = threading.Lock()
        self._pending: deque[Job] = deque()
        self._flush_scheduled = False
        self._committing = False
        self._stopping = False
        self._commits: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._syncs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._commit_loop, name="rivulet-sqlite-commit", daemon=True),
            threading.Thread(target=self._sync_loop, name="rivulet-sqlite-fsync", daemon=True),
        ]

    @property
    def running(self) -> bool:
        return self._conn is not None and not self._stopping

    def start_and_wait(self) -> None:
        try:
            conn = self._connect()
            self._txn = self._make_txn(conn)
        except (sqlite3.Error, OSError) as exc:
            raise StorageError(f"cannot open the database: {exc}") from exc
        self._conn = conn
        for thread in self._threads:
            thread.start()

    # Submitting --------------------------------------------------------------------------------
    def submit(self, job: Job) -> None:
        assert job.loop is not None
        with self._state:
            if self._stopping:
                raise StorageError("storage is closed")
            self._pending.append(job)
            if self._flush_scheduled or self._committing:
                return  # the next flush, or the end of the commit in flight, takes it
            self._flush_scheduled = True
        loop = job.loop
        if _on_loop(loop):
            loop.call_soon(self._flush)
        else:
            loop.call_soon_threadsafe(self._flush)

    def run_sync(self, fn: Callable[[Any], Any]) -> Any:
        """Run one job in its own transaction on the calling thread (waits for a commit in flight)."""
        with self._lock:
            self._live()
            [(_, result, exc)] = self._run_here([Job(fn, None, Future())])
        if exc is not None:
            raise exc
        return result

    def _run_here(self, group: list[Job]) -> Outcomes:
        """Run, commit and make durable one group on the calling thread (self._lock held)."""
        try:
            outcomes, committed = self._commit(self._run_jobs(group))
        except BaseException as exc:
            log.exception("write group failed outside a job")
            self._rollback()
            return _failed_jobs(group, exc)
        if committed:
            try:
                self._make_durable()
            except StorageError as exc:
                return _failed(outcomes, exc)
            self._notify()
        return outcomes

    def _make_durable(self) -> None:
        if self._sync is not None:
            try:
                self._sync()
            except OSError as exc:
                log.exception("fsync of the write-ahead log failed")
                raise StorageError(f"fsync failed: {exc}") from exc

    def _live(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StorageError("storage is closed")
        return self._conn

    # Groups --------------------------------------------------------------------------------------
    def _take_group(self) -> list[Job]:
        """The next group: a long job alone, else the jobs up to the next long one.
        Called with self._state held."""
        pending = self._pending
        if pending and pending[0].long:
            return [pending.popleft()]
        group: list[Job] = []
        while pending and len(group) < MAX_GROUP and not pending[0].long:
            group.append(pending.popleft())
        return group

    def _flush(self) -> None:
        """On an event loop: run the pending jobs as one group and hand its COMMIT over."""
        with self._state:
            self._flush_scheduled = False
            # Once stopping, stop() commits what is left, on its own thread.
            if self._committing or self._stopping or not self._pending:
                return
            group = self._take_group()
            self._committing = True
        self._lock.acquire()  # only ever waits for a run_sync
        if group[0].long:
            self._commits.put(_Run(group))
            return
        try:
            outcomes = self._run_jobs(group)
        except BaseException as exc:
            # Never leave a caller hanging: a failure outside a job fails the whole group.
            log.exception("write group failed outside a job")
            self._rollback()
            self._lock.release()
            self._finish_group(_failed_jobs(group, exc), start_next=True)
            return
        self._commits.put(outcomes)

    def _run_jobs(self, group: list[Job]) -> Outcomes:
        conn, txn = self._live(), self._txn
        assert txn is not None
        outcomes: Outcomes = []
        conn.execute("BEGIN IMMEDIATE")
        for job in group:
            conn.execute("SAVEPOINT job")
            mark = txn.mark()
            try:
                result = job.fn(txn)
            except BaseException as exc:
                conn.execute("ROLLBACK TO job")
                conn.execute("RELEASE job")
                txn.rollback_to(mark)
                if isinstance(exc, sqlite3.Error):
                    log.exception("storage error in write job")
                    exc = StorageError(str(exc))
                outcomes.append((job, None, exc))
            else:
                conn.execute("RELEASE job")
                outcomes.append((job, result, None))
        return outcomes

    def _commit(self, outcomes: Outcomes) -> tuple[Outcomes, bool]:
        """COMMIT the open transaction; on failure every job of the group fails."""
        txn = self._txn
        assert txn is not None
        try:
            txn.before_commit()
            self._live().execute("COMMIT")
        except sqlite3.Error as exc:
            log.exception("group commit failed; %d jobs rolled back", len(outcomes))
            self._rollback()
            return _failed(outcomes, StorageError(str(exc))), False
        txn.committed()
        return outcomes, True

    def _rollback(self) -> None:
        """Roll the open transaction back, with the in-memory changes of all its jobs."""
        conn = self._conn
        if conn is not None and conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        if self._txn is not None:
            self._txn.rolled_back()

    def _notify(self) -> None:
        for listener in self._listeners:
            try:
                listener()
            except Exception:
                log.exception("commit listener failed")

    def _commit_loop(self) -> None:
        while True:
            item = self._commits.get()
            if item is _STOP:
                self._syncs.put(_STOP)
                return
            try:
                outcomes = self._run_jobs(item.group) if isinstance(item, _Run) else item
                outcomes, committed = self._commit(outcomes)
            except BaseException as exc:
                log.exception("write group failed outside a job")
                self._rollback()
                jobs = item.group if isinstance(item, _Run) else [job for job, _, _ in item]
                outcomes, committed = _failed_jobs(jobs, exc), False
            finally:
                self._lock.release()
            try:
                if committed and self._sync is not None:
                    self._start_next()  # runs while this group's fsync is in flight
                    self._syncs.put(outcomes)
                else:
                    if committed:
                        self._notify()
                    self._finish_group(outcomes, start_next=True)
            except Exception:  # the thread must live on: later groups depend on it
                log.exception("resolving a committed group failed")

    def _sync_loop(self) -> None:
        stopping = False
        while not stopping:
            batch = [self._syncs.get()]
            while True:  # every group committed meanwhile shares this fsync
                try:
                    batch.append(self._syncs.get_nowait())
                except queue.Empty:
                    break
            if _STOP in batch:
                stopping = True
                batch = [b for b in batch if b is not _STOP]
                if not batch:
                    return
            failure: StorageError | None = None
            try:
                self._make_durable()
            except StorageError as exc:
                failure = exc
            if failure is None:
                self._notify()
            for outcomes in batch:
                try:
                    self._finish_group(outcomes if failure is None else _failed(outcomes, failure))
                except Exception:
                    log.exception("resolving a durable group failed")

    def _next_loop(self) -> asyncio.AbstractEventLoop | None:
        """Mark the commit done; the loop that should run the next group, if one is waiting."""
        with self._state:
            self._committing = False
            if self._pending and not self._flush_scheduled and not self._stopping:
                self._flush_scheduled = True
                return self._pending[0].loop
        return None

    def _start_next(self) -> None:
        loop = self._next_loop()
        if loop is not None:
            _call(loop, self._flush)

    def _finish_group(self, outcomes: Outcomes, start_next: bool = False) -> None:
        """Resolve the group's futures, one wake-up per loop; with `start_next`, also start the
        next group (in the same wake-up when it runs on the same loop)."""
        by_loop: dict[asyncio.AbstractEventLoop, list[Any]] = {}
        for job, result, exc in outcomes:
            assert job.loop is not None
            by_loop.setdefault(job.loop, []).append((job.future, result, exc))
        nxt = self._next_loop() if start_next else None
        if nxt is not None and nxt not in by_loop:
            by_loop[nxt] = []
        for loop, done in by_loop.items():
            _call(loop, self._settle_then, done, self._flush if loop is nxt else None)

    @staticmethod
    def _settle_then(
        done: list[tuple[asyncio.Future[Any], Any, BaseException | None]],
        after: Callable[[], None] | None,
    ) -> None:
        _settle(done)
        if after is not None:
            after()

    # Stopping ----------------------------------------------------------------------------------
    def stop(self) -> None:
        """Refuse new jobs, commit every queued one (on this thread), then close."""
        with self._state:
            if self._stopping:
                return
            self._stopping = True
        while True:
            with self._lock:  # waits for the commit in flight
                with self._state:
                    group = self._take_group()
                if not group:
                    break
                outcomes = self._run_here(group)
            self._finish_group(outcomes)
        self._commits.put(_STOP)  # the commit thread passes it on to the sync thread
        for thread in self._threads:
            thread.join()
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except sqlite3.Error:
                log.exception("closing the write connection failed")


def _failed(outcomes: Outcomes, err: BaseException) -> Outcomes:
    return [(job, None, err) for job, _, _ in outcomes]


def _failed_jobs(group: list[Job], exc: BaseException) -> Outcomes:
    err = StorageError(f"writer failure: {exc}")
    return [(job, None, err) for job in group]


def _call(loop: asyncio.AbstractEventLoop, fn: Callable[..., None], *args: Any) -> None:
    """Run fn on loop, from any thread; a closed loop (shutdown) has nobody waiting any more."""
    with contextlib.suppress(RuntimeError):
        if _on_loop(loop):
            loop.call_soon(fn, *args)
        else:
            loop.call_soon_threadsafe(fn, *args)
