"""The trigger runtime: runs one shard worker per (enabled trigger, shard) in lineage order, under
per-shard leases in the database, inside `rivulet serve` or a `rivulet worker` process.

The supervisor re-reads triggers, streams and shards whenever something changed in this process
(a trigger was created, a shard finished) and at least every `refresh_interval` seconds (changes
made by other processes, new shards after rotation). Parents before children: a child shard
starts once its parent's checkpoint says done, or once the parent is gone (trimmed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from dataclasses import dataclass, field, replace
from pathlib import Path

import orjson

from rivulet.core.clock import Clock
from rivulet.storage.base import CheckpointRow, ShardRow, TriggerRow
from rivulet.triggers.config import TriggerConfig, parse_trigger
from rivulet.triggers.destinations import make_destination
from rivulet.triggers.filters import compile_filters
from rivulet.triggers.invokers import FunctionSettings, function_arn, make_invoker
from rivulet.triggers.item_sinks import ItemSink
from rivulet.triggers.shard_worker import Backoff, Mapping, ShardWorker
from rivulet.triggers.source import StreamSource, StreamView
from rivulet.triggers.store import LeaseLost, TriggerStore

log = logging.getLogger("rivulet.triggers")

STREAM_GONE = "PROBLEM: Stream not found"


@dataclass(frozen=True, slots=True)
class RuntimeSettings:
    data_dir: Path
    region: str = "us-east-1"
    account_id: str = "000000000000"
    owner: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    lease_ttl: float = 10.0  # a dead runtime's shards are taken over after this long
    refresh_interval: float = 1.0
    backoff: Backoff = field(default_factory=Backoff)
    endpoint_url: str | None = None  # given to functions as AWS_ENDPOINT_URL
    # False in a server whose triggers run in `rivulet worker` processes: it still binds new
    # triggers (pinning LATEST at once) but processes no shard.
    process: bool = True


@dataclass(slots=True)
class Active:
    row: TriggerRow
    mapping: Mapping
    workers: dict[int, asyncio.Task[None]] = field(default_factory=dict)  # shard_key -> task


def initial_checkpoints(
    config: TriggerConfig,
    row: TriggerRow,
    stream: StreamView,
    shards: list[ShardRow],
    source: StreamSource,
) -> dict[int, tuple[int, bool]]:
    """Pin LATEST when a trigger binds to a stream: nothing committed after this is missed
    (Q-T14). A stream created after the trigger is read from its start: all of it is new."""
    if config.starting_position != "LATEST" or stream.created_at >= row.created_at:
        return {}
    reader = source.storage.reader()
    pins: dict[int, tuple[int, bool]] = {}
    for shard in shards:
        if shard.end_seq is not None:
            pins[shard.shard_key] = (shard.end_seq, True)
        else:
            last = reader.last_record_seq(shard.shard_key) or 0
            pins[shard.shard_key] = (max(shard.start_seq, last), False)
    return pins


def function_settings(config: TriggerConfig, settings: RuntimeSettings) -> FunctionSettings:
    """How a trigger's function runs: one pool worker per lane when isolated."""
    return FunctionSettings(
        function=config.function,
        mapping_name=config.name,
        isolation=config.function_isolation,
        environment=dict(config.environment),
        region=settings.region,
        account_id=settings.account_id,
        pool_size=config.parallelization_factor,
        endpoint_url=settings.endpoint_url,
    )


class TriggerRuntime:
    def __init__(
        self,
        store: TriggerStore,
        source: StreamSource,
        settings: RuntimeSettings,
        clock: Clock,
        items: ItemSink | None,
    ) -> None:
        self.store = store
        self.source = source
        self.settings = settings
        self.clock = clock
        self.items = items
        self.active: dict[str, Active] = {}
        self._poke = asyncio.Event()
        # The supervisor and the API (a trigger created) both refresh: one at a time, or both
        # would start a worker on the same shard.
        self._refreshing = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._last_renewal = 0.0
        # Other runtimes' latest lease expiry, and when this runtime saw it move (a renewal).
        self._expiries: dict[str, tuple[float, float | None]] = {}
        self._problems: dict[str, str] = {}  # trigger -> the problem last written to its figures

    # Lifecycle -----------------------------------------------------------------------------------
    async def start(self) -> None:
        """Bind and start what is enabled now (so LATEST is pinned before any request), then
        keep supervising in the background."""
        await self.refresh()
        self._task = asyncio.create_task(self._supervise())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for uuid in list(self.active):
            await self._deactivate(uuid)
        if self.items is not None:
            await self.items.close()

    def poke(self) -> None:
        """Something changed (a trigger saved, a shard finished): refresh soon."""
        self._poke.set()

    async def _supervise(self) -> None:
        # Often enough to renew leases every third of their TTL (a short --lease-ttl).
        interval = min(self.settings.refresh_interval, self.settings.lease_ttl / 3)
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poke.wait(), interval)
            self._poke.clear()
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("trigger supervisor failed; retrying")

    # Supervision ---------------------------------------------------------------------------------
    async def refresh(self) -> None:
        async with self._refreshing:
            await self._refresh()

    async def _refresh(self) -> None:
        rows = {row.uuid: row for row in self.store.triggers()}
        for uuid in list(self.active):
            row = rows.get(uuid)
            current = self.active[uuid].row
            if (
                row is None
                or row.state != "Enabled"
                or row.settings != current.settings
                or row.stream_id != current.stream_id
            ):
                await self._deactivate(uuid)
        streams = {s.stream_id: s for s in self.source.streams()}
        shards: dict[int, list[ShardRow]] = {}
        for shard in self.source.shards():
            shards.setdefault(shard.stream_id, []).append(shard)
        checkpoints: dict[str, dict[int, CheckpointRow]] = {}
        for row in rows.values():
            if row.state != "Enabled":
                continue
            active = self.active.get(row.uuid)
            config = (
                active.mapping.config
                if active is not None
                else parse_trigger(orjson.loads(row.settings))
            )
            bound = await self._bind(row, config, streams, shards)
            if bound is None:
                continue
            row, stream = bound
            if active is None:
                try:
                    mapping = self._mapping(row, config, stream)
                except ValueError as exc:
                    await self._problem(row.uuid, f"PROBLEM: {exc}")
                    continue
                active = self.active[row.uuid] = Active(row, mapping)
            self._problems.pop(row.uuid, None)  # running again: a new problem is news
            # Read after binding, which may have pinned LATEST.
            checkpoints[row.uuid] = self.store.checkpoints(row.uuid)
            if self.settings.process:
                await self._start_shards(
                    active, shards.get(stream.stream_id, []), checkpoints[row.uuid]
                )
        live = {s.shard_key for ss in shards.values() for s in ss}
        await self._forget_gone_shards(rows, live, checkpoints)
        await self._renew_leases()

    async def _problem(self, uuid: str, text: str) -> None:
        """Show a problem as the trigger's last result, written once, not at every refresh."""
        if self._problems.get(uuid) != text:
            await self.store.figures(uuid, {}, {"last_result": text})
            self._problems[uuid] = text

    async def _forget_gone_shards(
        self,
        rows: dict[str, TriggerRow],
        live: set[int],
        known: dict[str, dict[int, CheckpointRow]],
    ) -> None:
        """Checkpoints of shards that retention removed are of no further use. Shard keys only
        grow, so a key above every shard seen is a shard created since, not a gone one."""
        if not live:
            return
        newest = max(live)
        for uuid in rows:
            held = known[uuid] if uuid in known else self.store.checkpoints(uuid)
            gone = [k for k in held if k not in live and k < newest]
            if gone:
                await self.store.delete_checkpoints(uuid, gone)

    async def _bind(
        self,
        row: TriggerRow,
        config: TriggerConfig,
        streams: dict[int, StreamView],
        shards: dict[int, list[ShardRow]],
    ) -> tuple[TriggerRow, StreamView] | None:
        """The stream the trigger reads. A trigger declared on a table follows the table: it
        binds to the table's stream when there is one, and once the stream it read is disabled
        and drained it moves on to the table's newer stream, from its start."""
        stream = None if row.stream_id is None else streams.get(row.stream_id)
        if stream is not None and (config.table is None or stream.disabled_at is None):
            return row, stream
        candidates = [
            s
            for s in streams.values()
            if (config.table is not None and s.table_name == config.table and s.disabled_at is None)
            or (config.event_source_arn is not None and s.arn == config.event_source_arn)
        ]
        newer = [s for s in candidates if stream is None or s.created_at > stream.created_at]
        if stream is not None and (
            not newer or not self._drained(row.uuid, shards.get(stream.stream_id, []))
        ):
            return row, stream
        if not newer:
            if row.stream_id is not None or config.event_source_arn is not None:
                await self._problem(row.uuid, STREAM_GONE)
            return None
        target = max(newer, key=lambda s: s.created_at)
        pins = initial_checkpoints(
            config, row, target, shards.get(target.stream_id, []), self.source
        )
        bound = replace(row, stream_id=target.stream_id)
        await self.store.put(bound, pins)
        log.info("trigger %s reads stream %s", row.name, target.arn)
        return bound, target

    def _drained(self, uuid: str, shards: list[ShardRow]) -> bool:
        checkpoints = self.store.checkpoints(uuid)
        return all(
            shard.end_seq is not None
            and (cp := checkpoints.get(shard.shard_key)) is not None
            and cp.done
            for shard in shards
        )

    def _mapping(self, row: TriggerRow, config: TriggerConfig, stream: StreamView) -> Mapping:
        settings = self.settings
        function = function_settings(config, settings)
        destination = None
        if config.on_failure is not None:
            destination = make_destination(
                config.on_failure, data_dir=settings.data_dir, items=self.items
            )
        return Mapping(
            uuid=row.uuid,
            name=row.name,
            config=config,
            function_arn=function_arn(function),
            invoker=make_invoker(function),
            filter=compile_filters(config.filter_criteria),
            destination=destination,
            stream=stream,
        )

    async def _start_shards(
        self,
        active: Active,
        shards: list[ShardRow],
        checkpoints: dict[int, CheckpointRow],
    ) -> None:
        """Lease and start this runtime's share of the shards that are ready (parent done)."""
        uuid = active.row.uuid
        by_id = {s.shard_id: s for s in shards}

        def done(shard: ShardRow) -> bool:
            cp = checkpoints.get(shard.shard_key)
            return cp is not None and cp.done

        ready = {}
        for shard in shards:
            parent = None if shard.parent_id is None else by_id.get(shard.parent_id)
            if not done(shard) and (parent is None or done(parent)):
                ready[shard.shard_key] = shard
        now = self.clock.now()
        owner, ttl = self.settings.owner, self.settings.lease_ttl
        # Runtimes share the ready shards evenly; each counts the live runtimes by the leases
        # they hold, itself included (the KCL's lease taker).
        others: dict[str, list[int]] = {}
        for lease in self.store.leases(uuid):
            if lease.owner != owner and lease.expires > now and lease.shard_key in ready:
                others.setdefault(lease.owner, []).append(lease.shard_key)
                self._saw_expiry(lease.owner, lease.expires, now)
        share = -(-len(ready) // (len(others) + 1))
        leased = {key for keys in others.values() for key in keys}
        free = [key for key in ready if key not in active.workers and key not in leased]
        wanted = free[: max(0, share - len(active.workers))]
        held = await self.store.take_leases(uuid, wanted, owner, now, ttl) if wanted else []
        for key in held:
            self._start_worker(active, ready[key], 0.0)
        if len(active.workers) >= share or not others:
            return
        # Short of its share with nothing free: take one shard from a runtime above its share,
        # if it is seen renewing (a dead one's leases just run out, sooner than a steal starts).
        victim, keys = max(others.items(), key=lambda item: len(item[1]))
        renewed = self._expiries[victim][1]
        if (
            len(keys) > share
            and renewed is not None
            and now - renewed < ttl
            and await self.store.steal_lease(uuid, max(keys), victim, owner, now, ttl)
        ):
            # The victim invokes no more once its lease is gone, but the invocation it has in
            # flight may run until the function timeout: start after it.
            delay = ttl + active.mapping.config.function_timeout
            self._start_worker(active, ready[max(keys)], delay)

    def _saw_expiry(self, owner: str, expires: float, now: float) -> None:
        latest, renewed = self._expiries.get(owner, (expires, None))
        if expires > latest:
            latest, renewed = expires, now
        self._expiries[owner] = (latest, renewed)

    def _start_worker(self, active: Active, shard: ShardRow, delay: float) -> None:
        active.workers[shard.shard_key] = asyncio.create_task(
            self._run_worker(active, shard, delay)
        )

    async def _run_worker(self, active: Active, shard: ShardRow, delay: float) -> None:
        name = active.row.name
        worker: ShardWorker | None = None
        try:
            await asyncio.sleep(delay)
            # Read under the lease: a previous owner may have moved it until it lost the lease.
            cp = self.store.checkpoints(active.row.uuid).get(shard.shard_key)
            if cp is not None and cp.done:
                return
            # A new trigger starts at the oldest record still kept; only a checkpoint that
            # retention overtook is a loss (ShardWorker reports it).
            position = (cp.seq if cp is not None else max(shard.start_seq, shard.trimmed_seq)) + 1
            window = None if cp is None or cp.window is None else orjson.loads(cp.window)
            worker = ShardWorker(
                active.mapping,
                shard,
                position,
                window,
                self.source,
                self.store,
                self.settings.owner,
                self.clock,
                self.settings.backoff,
            )
            finished = await worker.run()
            if finished:
                log.info("trigger %s finished shard %s", name, shard.shard_id)
        except LeaseLost:
            log.warning(
                "trigger %s: shard %s was taken over by another runtime", name, shard.shard_id
            )
        except Exception:
            # Our own fault (storage, keys): back off and let the supervisor start it again.
            log.exception("trigger %s: shard %s failed; restarting", name, shard.shard_id)
            await asyncio.sleep(self.settings.backoff.cap)
        finally:
            active.workers.pop(shard.shard_key, None)
            # Cancelled mid-invocation (stop, disable), the function may still run: a thread
            # cannot be stopped. The lease then runs out instead, keeping others off the shard.
            if worker is None or not worker.invoking:
                with contextlib.suppress(Exception):
                    await self.store.release_leases(
                        [(active.row.uuid, shard.shard_key)], self.settings.owner
                    )
            self.poke()

    async def _renew_leases(self) -> None:
        now = self.clock.now()
        if now - self._last_renewal < self.settings.lease_ttl / 3:
            return
        self._last_renewal = now
        for active in list(self.active.values()):
            keys = list(active.workers)
            if not keys:
                continue
            held = set(
                await self.store.take_leases(
                    active.row.uuid, keys, self.settings.owner, now, self.settings.lease_ttl
                )
            )
            for key in keys:
                if key not in held and (task := active.workers.get(key)) is not None:
                    task.cancel()

    async def _deactivate(self, uuid: str) -> None:
        active = self.active.pop(uuid)
        tasks = list(active.workers.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await active.mapping.invoker.close()
        if active.mapping.destination is not None:
            await active.mapping.destination.close()

    def mapping(self, uuid: str) -> Mapping | None:
        active = self.active.get(uuid)
        return None if active is None else active.mapping
