"""Where trigger runtimes read streams: committed shards and records straight from storage.

The same code serves the runtime inside `rivulet serve` and `rivulet worker` processes on the same
data dir; only the change signal differs. In the server a commit listener wakes readers the
moment a write commits (StreamManager); a worker watches the database's data version.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import orjson

from rivulet.core.stream_ids import stream_arn
from rivulet.engine.keyring import KeyringError
from rivulet.engine.streams import Sealer, StreamManager, record_aad
from rivulet.storage.base import ShardRow, Storage, StreamRow


@dataclass(frozen=True, slots=True)
class StreamView:
    stream_id: int
    table_name: str
    arn: str
    key_names: tuple[str, ...]
    created_at: float
    disabled_at: float | None


@dataclass(frozen=True, slots=True)
class RawRecord:
    seq: int
    created_ms: int
    payload: bytes  # the opened GetRecords JSON, without awsRegion


class ChangeSignal(Protocol):
    """Versions that move when a commit may have added records to a stream."""

    def version(self, stream_id: int) -> int: ...

    async def wait(self, stream_id: int, version: int, timeout: float) -> None:
        """Return once `version(stream_id)` differs from `version`, or after `timeout`."""
        ...


class CommitSignal:
    """In the server: woken by the storage commit listener of the stream manager."""

    def __init__(self, streams: StreamManager) -> None:
        self.streams = streams

    def version(self, stream_id: int) -> int:
        return self.streams.version(stream_id)

    async def wait(self, stream_id: int, version: int, timeout: float) -> None:
        await self.streams.wait_for_records(stream_id, version, timeout)


class DataVersionSignal:
    """In a worker process: SQLite's data_version moves on every commit of another process.
    Polled every `interval` seconds by one task; one version for all streams."""

    def __init__(self, storage: Storage, interval: float = 0.01) -> None:
        self.storage = storage
        self.interval = interval
        self._version = 0
        self._last = -1
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _watch(self) -> None:
        reader = self.storage.reader()
        while True:
            current = reader.data_version()
            if current != self._last:
                self._last = current
                self._version += 1
                self._changed.set()
                self._changed = asyncio.Event()
            await asyncio.sleep(self.interval)

    def version(self, stream_id: int) -> int:
        return self._version

    async def wait(self, stream_id: int, version: int, timeout: float) -> None:
        if self._version != version:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)


class StreamSource:
    def __init__(
        self,
        storage: Storage,
        sealer: Callable[[], Sealer],
        signal: ChangeSignal,
        region: str,
        account_id: str,
    ) -> None:
        self.storage = storage
        self._sealer_factory = sealer
        self._sealer = sealer()
        self.signal = signal
        self.region = region
        self.account_id = account_id

    def view(self, row: StreamRow) -> StreamView:
        names = tuple(name for name, _ in orjson.loads(row.key_schema))
        arn = stream_arn(self.region, self.account_id, row.table_name, row.label)
        return StreamView(
            row.stream_id, row.table_name, arn, names, row.created_at, row.disabled_at
        )

    def streams(self) -> list[StreamView]:
        return [self.view(row) for row in self.storage.reader().streams()]

    def shards(self) -> list[ShardRow]:
        """Every shard of every stream, as committed."""
        return self.storage.reader().shards()

    def shard_state(self, shard_key: int) -> tuple[int | None, int] | None:
        """(committed end or None while open, trimmed mark), or None once the shard is gone."""
        return self.storage.reader().shard_state(shard_key)

    def read(self, stream_id: int, shard_key: int, from_seq: int, limit: int) -> list[RawRecord]:
        rows = self.storage.reader().read_records(shard_key, from_seq, limit)
        out = []
        for row in rows:
            aad = record_aad(stream_id, row.seq)
            try:
                payload = self._sealer.unseal(row.key_id, row.payload, aad)
            except KeyringError:
                # A data key added since this process opened the keyring: load it and retry.
                self._sealer = self._sealer_factory()
                payload = self._sealer.unseal(row.key_id, row.payload, aad)
            out.append(RawRecord(row.seq, row.created_ms, payload))
        return out
