"""One trigger on one shard: read from the checkpoint, filter, batch, invoke, retry, bisect,
discard to the on-failure destination, commit the checkpoint (triggers.md 4-9, 11).

A round reads records after the checkpoint, drops those no filter matches, cuts a batch
(BatchSize per lane, 6 MB, one tumbling window), delivers each lane's part concurrently and
commits the checkpoint past everything the round read, with the figures, in one job that also
checks the lease. Nothing is committed before the function succeeded or the records were
discarded, so a crash re-delivers at most the batch in flight (at-least-once, never a skip).
"""

from __future__ import annotations

import asyncio
import logging
import uuid as uuidlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from rivulet.core.clock import Clock
from rivulet.storage.base import ShardRow
from rivulet.triggers.config import TriggerConfig
from rivulet.triggers.destinations import Destination
from rivulet.triggers.events import Entry, LambdaRecords, event_bytes, failure_record, iso_s
from rivulet.triggers.filters import RecordFilter
from rivulet.triggers.invocation import Event, Invocation, Invoker
from rivulet.triggers.responses import judge
from rivulet.triggers.source import StreamSource, StreamView
from rivulet.triggers.store import LeaseLost, TriggerStore

log = logging.getLogger("rivulet.triggers")

MAX_PAYLOAD = 6 * 1024 * 1024  # the synchronous invoke payload limit: a batch is cut before it
MAX_WINDOW_STATE = 1024 * 1024  # tumbling-window state per shard; larger ends the window early
IDLE_WAIT = 1.0  # re-check a quiet shard (closed? trimmed?) at least this often


@dataclass(slots=True)
class Figures:
    """Counts since the last commit; added to the trigger's cumulative figures with it."""

    counts: dict[str, int] = field(default_factory=dict)
    latest: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, n: int = 1) -> None:
        if n:
            self.counts[name] = self.counts.get(name, 0) + n

    def take(self) -> tuple[dict[str, int], dict[str, Any]]:
        counts, latest = self.counts, self.latest
        self.counts, self.latest = {}, {}
        return counts, latest


@dataclass(slots=True)
class Mapping:
    """What every shard worker of one trigger shares."""

    uuid: str
    name: str
    config: TriggerConfig
    function_arn: str
    invoker: Invoker
    filter: RecordFilter | None
    destination: Destination | None  # None: discarded records are only logged (as on AWS)
    stream: StreamView


@dataclass(frozen=True, slots=True)
class Backoff:
    """Retry delays: base * 2**(n-1), capped. Our own faults use the same curve."""

    base: float = 0.1
    cap: float = 10.0

    def delay(self, attempt: int) -> float:
        return float(min(self.cap, self.base * 2 ** max(0, attempt - 1)))


class ShardWorker:
    def __init__(
        self,
        mapping: Mapping,
        shard: ShardRow,
        position: int,
        window_state: dict[str, Any] | None,
        source: StreamSource,
        store: TriggerStore,
        owner: str,
        clock: Clock,
        backoff: Backoff,
    ) -> None:
        self.m = mapping
        self.config = mapping.config
        self.shard = shard
        self.position = position  # the next sequence counter to read
        self.source = source
        self.store = store
        self.owner = owner
        self.clock = clock
        self.backoff = backoff
        self.figures = Figures()
        self._to_lambda = LambdaRecords(source.region, mapping.stream.arn)
        windowed = self.config.tumbling_window_in_seconds > 0
        # Lanes keep each partition key in order while ParallelizationFactor batches run at once;
        # a tumbling window carries one state per shard, so it runs as a single lane.
        self.lanes = 1 if windowed else self.config.parallelization_factor
        self.window = window_state  # {"start": epoch s, "state": {...}} while a window is open
        self.invoking = 0  # invocations started and not returned (one per lane)

    # The loop ------------------------------------------------------------------------------------
    async def run(self) -> bool:
        """Process the shard until it ends (True) or it disappears (False)."""
        while True:
            state = self.source.shard_state(self.shard.shard_key)
            if state is None:
                return False
            end, trimmed = state
            if self.position <= trimmed:
                await self._skip_trimmed(trimmed)
            entries, last_read, window_end = await self._gather(end)
            if entries:
                await self._deliver_round(entries)
            elif window_end is None and last_read < self.position:
                if end is not None and self.position > end:
                    await self._finish_window(terminated_early=False)
                    await self._commit(end, done=True)
                    return True
                continue
            if window_end is not None:
                await self._finish_window(terminated_early=False)
            await self._commit(max(last_read, self.position - 1), done=False)
            self.position = max(self.position, last_read + 1)

    async def _skip_trimmed(self, trimmed: int) -> None:
        # The checkpoint points at data retention already removed: say so loudly, never silently.
        lost = trimmed - self.position + 1
        log.error(
            "trigger %s: %d record(s) of shard %s were trimmed by retention before they were "
            "processed; continuing after sequence number %d",
            self.m.name,
            lost,
            self.shard.shard_id,
            10**20 + trimmed,
        )
        self.figures.add("trimmed_unprocessed", lost)
        self.figures.latest["last_result"] = "PROBLEM: Records expired before processing"
        self.position = trimmed + 1

    async def _gather(self, end: int | None) -> tuple[list[Entry], int, int | None]:
        """Read one batch: (entries, last sequence read incl. filtered ones, window boundary)."""
        config = self.config
        per_lane = config.batch_size
        lane_counts = [0] * self.lanes
        entries: list[Entry] = []
        size = 0
        last = self.position - 1
        deadline: float | None = None
        window_w = config.tumbling_window_in_seconds
        while True:
            version = self.source.signal.version(self.m.stream.stream_id)
            limit = min(10000, per_lane * self.lanes - len(entries)) or 1
            # Off the event loop: up to 10,000 rows read, decrypted and spliced would otherwise
            # hold up the server's requests (SQLite and AES-GCM release the GIL, so it also
            # runs beside them on the other core).
            raws = await asyncio.to_thread(
                self.source.read, self.m.stream.stream_id, self.shard.shard_key, last + 1, limit
            )
            for raw in raws:
                if window_w:
                    start = (raw.created_ms // 1000) // window_w * window_w
                    if self.window is not None and start != self.window["start"]:
                        return entries, last, self.window["start"] + window_w
                    if self.window is None:
                        self.window = {"start": start, "state": {}}
                entry = Entry(raw.seq, raw.created_ms, self._to_lambda(raw.payload))
                self.figures.add("polled")
                if self.m.filter is not None and not self.m.filter.matches(entry.record):
                    self.figures.add("filtered")
                    last = raw.seq
                    continue
                lane = entry.lane = self._lane(entry)
                if lane_counts[lane] >= per_lane or (entries and size + entry.size > MAX_PAYLOAD):
                    return entries, last, None
                lane_counts[lane] += 1
                size += entry.size
                entries.append(entry)
                last = raw.seq
            if len(entries) >= per_lane * self.lanes:
                return entries, last, None
            now = self.clock.monotonic()
            if entries:
                if config.maximum_batching_window_in_seconds == 0:
                    return entries, last, None
                if deadline is None:
                    deadline = now + config.maximum_batching_window_in_seconds
                if now >= deadline:
                    return entries, last, None
                timeout = deadline - now
            elif last >= self.position:
                return entries, last, None  # only filtered records: move the checkpoint past them
            else:
                if end is not None and last >= end:
                    return entries, last, None
                # A window closes when the clock passes its end, not only on the next record.
                if self.window is not None and self.clock.now() >= self.window["start"] + window_w:
                    return entries, last, self.window["start"] + window_w
                timeout = IDLE_WAIT
            if not raws or len(raws) < limit:
                await self.source.signal.wait(self.m.stream.stream_id, version, timeout)
                if not entries and last < self.position:
                    return entries, last, None  # woken or idle: let run() re-check the shard

    def _lane(self, entry: Entry) -> int:
        if self.lanes == 1:
            return 0
        key = entry.record["dynamodb"]["Keys"][self.m.stream.key_names[0]]
        return zlib.crc32(orjson.dumps(key)) % self.lanes

    # Delivery ------------------------------------------------------------------------------------
    async def _deliver_round(self, entries: list[Entry]) -> None:
        if self.lanes == 1:
            await self._deliver(entries)
        else:
            parts: dict[int, list[Entry]] = {}
            for e in entries:
                parts.setdefault(e.lane, []).append(e)
            lanes = [asyncio.ensure_future(self._deliver(part)) for part in parts.values()]
            try:
                await asyncio.gather(*lanes)
            except Exception:
                # One lane failed (e.g. the lease is gone): the others must not go on alone.
                for lane in lanes:
                    lane.cancel()
                raise
        age_ms = int(self.clock.now() * 1000) - entries[-1].created_ms
        self.figures.latest["iterator_age_ms"] = max(0, age_ms)

    async def _deliver(self, entries: Sequence[Entry]) -> None:
        """The retry algorithm of triggers.md 7 for one batch (or bisected half)."""
        config = self.config
        attempts = 0
        not_invoked = 0
        last_request = ""
        function_error: str | None = "Unhandled"
        while entries:
            entries = await self._expire(entries, attempts, last_request, function_error)
            if not entries:
                return
            last_request = str(uuidlib.uuid4())
            invocation = await self._invoke(entries, last_request)
            if invocation.not_invoked is not None:
                # Never reached the function: not counted against MaximumRetryAttempts (Q-T16).
                not_invoked += 1
                self.figures.add("not_invoked")
                self.figures.latest["last_result"] = "PROBLEM: Function call failed"
                log.warning(
                    "trigger %s: function %s could not be invoked: %s",
                    self.m.name,
                    config.function,
                    invocation.not_invoked,
                )
                await self._flush()
                await asyncio.sleep(self.backoff.delay(not_invoked))
                continue
            verdict = judge(
                invocation,
                [e.sequence_number for e in entries],
                config.report_batch_item_failures,
                windowed=self.window is not None,
            )
            if verdict.ok:
                self.figures.add("delivered", len(entries))
                self.figures.latest["last_result"] = "OK"
                if verdict.state is not None and self.window is not None:
                    self.window["state"] = verdict.state
                return
            attempts += 1
            function_error = verdict.function_error
            self.figures.add("errors")
            # Lambda's FailedInvokeEventCount: the records of the failed invocation.
            self.figures.add("failed_invoke", len(entries) - verdict.retry_from)
            self.figures.latest["last_result"] = "PROBLEM: Function call failed"
            self._log_failure(invocation, entries, attempts)
            if verdict.retry_from:
                # Records before the lowest reported failure are done (ReportBatchItemFailures).
                self.figures.add("delivered", verdict.retry_from)
                entries = entries[verdict.retry_from :]
            retries = config.maximum_retry_attempts
            if retries != -1 and attempts > retries:
                if verdict.partial:
                    # Observed on AWS: only the failing record is discarded (batchSize 1); the
                    # records after it, which the last invocation processed, go on.
                    await self._discard(
                        entries[:1], "RetryAttemptsExhausted", attempts, last_request, None
                    )
                    entries, attempts = entries[1:], 0
                    continue
                await self._discard(
                    entries, "RetryAttemptsExhausted", attempts, last_request, function_error
                )
                return
            if config.bisect_batch_on_function_error and len(entries) > 1:
                # Splitting uses no retry attempt; each half is processed fully, in order.
                half = len(entries) // 2
                self.figures.add("bisected")
                await self._deliver(entries[:half])
                await self._deliver(entries[half:])
                return
            self.figures.add("retries")
            await self._flush()  # status shows a stuck shard while it is stuck
            await asyncio.sleep(self.backoff.delay(attempts))

    async def _invoke(self, entries: Sequence[Entry], request_id: str) -> Invocation:
        window = None if self.window is None else self._window_fields(final=False, early=False)
        return await self._call(event_bytes(entries, window), request_id)

    async def _call(self, event: Event, request_id: str) -> Invocation:
        # Never invoke without an unexpired lease: once it lapsed or another runtime took the
        # shard, that runtime delivers from the checkpoint, and two must not run one shard.
        now = self.clock.now()
        if not self.store.holds_lease(self.m.uuid, self.shard.shard_key, self.owner, now):
            raise LeaseLost(f"lease on shard {self.shard.shard_key} of trigger {self.m.uuid} lost")
        self.figures.add("invocations")
        self.invoking += 1  # stays up if the call is cancelled: the function may still run
        invocation = await self.m.invoker.invoke(event, request_id, self.config.function_timeout)
        self.invoking -= 1
        return invocation

    def _window_fields(self, final: bool, early: bool) -> dict[str, Any]:
        assert self.window is not None
        start = self.window["start"]
        return {
            "shardId": self.shard.shard_id,
            "eventSourceARN": self.m.stream.arn,
            "window": {
                "start": iso_s(start),
                "end": iso_s(start + self.config.tumbling_window_in_seconds),
            },
            "state": self.window["state"],
            "isFinalInvokeForWindow": final,
            "isWindowTerminatedEarly": early,
        }

    async def _finish_window(self, terminated_early: bool) -> None:
        """The final invocation of a window; the shard waits until it succeeds (triggers.md 11)."""
        if self.window is None:
            return
        attempt = 0
        while True:
            request_id = str(uuidlib.uuid4())
            event: dict[str, Any] = {
                "Records": [],
                **self._window_fields(final=True, early=terminated_early),
            }
            invocation = await self._call(event, request_id)
            if judge(invocation, [], False, windowed=True).ok:
                self.window = None
                return
            attempt += 1
            self.figures.add("errors")
            self._log_failure(invocation, [], attempt)
            await asyncio.sleep(self.backoff.delay(attempt))

    async def _expire(
        self,
        entries: Sequence[Entry],
        attempts: int,
        request_id: str,
        function_error: str | None,
    ) -> Sequence[Entry]:
        """Drop (to the destination) records older than MaximumRecordAgeInSeconds."""
        max_age = self.config.maximum_record_age_in_seconds
        if max_age == -1:
            return entries
        oldest_ok = (self.clock.now() - max_age) * 1000
        cut = 0
        while cut < len(entries) and entries[cut].created_ms // 1000 * 1000 < oldest_ok:
            cut += 1
        if cut:
            await self._discard(
                entries[:cut],
                "RecordAgeExceeded",
                attempts,
                request_id or str(uuidlib.uuid4()),
                function_error if attempts else None,
            )
        return entries[cut:]

    async def _discard(
        self,
        entries: Sequence[Entry],
        condition: str,
        attempts: int,
        request_id: str,
        function_error: str | None,
    ) -> None:
        """Give up on records: the on-failure destination gets AWS's record and the records."""
        self.figures.add("dropped", len(entries))
        record = failure_record(
            request_id=request_id,
            function_arn=self.m.function_arn,
            condition=condition,
            invoke_count=attempts,
            function_error=function_error,
            shard_id=self.shard.shard_id,
            stream_arn=self.m.stream.arn,
            entries=entries,
            now=self.clock.now(),
        )
        log.error(
            "trigger %s: %d record(s) of shard %s discarded (%s after %d invocation(s)), "
            "sequence numbers %s..%s%s",
            self.m.name,
            len(entries),
            self.shard.shard_id,
            condition,
            attempts,
            entries[0].sequence_number,
            entries[-1].sequence_number,
            "" if self.m.destination else "; no on-failure destination: the records are dropped",
        )
        if self.m.destination is None:
            return
        failure = {**record, "payload": {"Records": [e.record for e in entries]}}
        attempt = 0
        while True:
            try:
                await self.m.destination.send(self.m.name, failure)
            except Exception as exc:
                # Our side (a sink that is down): retry without end rather than lose the data.
                attempt += 1
                log.error(
                    "trigger %s: on-failure destination %s failed (attempt %d): %s",
                    self.m.name,
                    self.m.destination.description,
                    attempt,
                    exc,
                )
                await asyncio.sleep(self.backoff.delay(attempt))
                continue
            self.figures.add("sent_to_destination", len(entries))
            return

    def _log_failure(self, invocation: Invocation, entries: Sequence[Entry], attempt: int) -> None:
        error = invocation.error
        if error is not None:
            detail: dict[str, Any] = error.as_json(invocation.request_id)
        else:
            detail = {"requestId": invocation.request_id, "response": invocation.response}
        log.warning(
            "trigger %s: invocation failed (attempt %d, %d record(s), shard %s): %s",
            self.m.name,
            attempt,
            len(entries),
            self.shard.shard_id,
            orjson.dumps(detail, default=str).decode(),
        )

    # Checkpoints -----------------------------------------------------------------------------------
    async def _flush(self) -> None:
        counts, latest = self.figures.take()
        await self.store.commit(
            self.m.uuid, self.shard.shard_key, self.owner, self.clock.now(), None, counts, latest
        )

    async def _commit(self, seq: int, done: bool) -> None:
        window = None if self.window is None else orjson.dumps(self.window)
        if window is not None and len(window) > MAX_WINDOW_STATE:
            await self._finish_window(terminated_early=True)
            window = None
        counts, latest = self.figures.take()
        await self.store.commit(
            self.m.uuid,
            self.shard.shard_key,
            self.owner,
            self.clock.now(),
            (seq, done, window),
            counts,
            latest,
        )
