"""GetRecords racing the retention trimmer, made deterministic: the trim commits between the
iterator's checks and the read of the records. The reader must get TrimmedDataAccessException
(or "Shard does not exist" once the shard aged out), never a page that silently skips records."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from engine_helpers import definition, open_db

from rivulet.api.context import ApiContext
from rivulet.api.get_records import get_records
from rivulet.api.get_shard_iterator import get_shard_iterator
from rivulet.config import Settings
from rivulet.core.clock import FakeClock
from rivulet.engine.database import Database
from rivulet.engine.streams import StreamConfig
from rivulet.engine.writes import Mutation
from rivulet.errors import ResourceNotFoundException, TrimmedDataAccessException
from rivulet.protocol.service import RequestContext
from rivulet.storage.base import RecordRow

CTX = RequestContext("test", "us-east-1")
ONE_SHARD = StreamConfig(shards=1, rotation=60.0, retention=300.0)


class TrimmingReader:
    """A real reader whose read_records lets `before_read` commit first (once)."""

    def __init__(self, reader: Any, before_read: Callable[[], None]) -> None:
        self._reader = reader
        self._before_read: Callable[[], None] | None = before_read

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)

    def read_records(self, shard_key: int, from_seq: int, limit: int) -> list[RecordRow]:
        if self._before_read is not None:
            self._before_read()
            self._before_read = None
        rows: list[RecordRow] = self._reader.read_records(shard_key, from_seq, limit)
        return rows


def trim_during_next_read(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """The retention trimmer commits between GetRecords' iterator check and its read."""
    reader = db.storage.reader()
    trim = lambda: db.storage.run_sync(db.streams.trim)  # noqa: E731
    monkeypatch.setattr(db.storage, "reader", lambda: TrimmingReader(reader, trim))


async def put(db: Database, pk: str) -> None:
    t = db.table("tbl")
    await db.write(Mutation(t, {"pk": {"S": pk}}, lambda old: {"pk": {"S": pk}}))


async def trim_horizon(api: ApiContext) -> str:
    stream = next(iter(api.db.streams.streams.values()))
    shard = stream.shards[0]
    arn = f"arn:aws:dynamodb:us-east-1:000000000000:table/tbl/stream/{stream.label}"
    body = {"StreamArn": arn, "ShardId": shard.shard_id, "ShardIteratorType": "TRIM_HORIZON"}
    got = orjson.loads(orjson.dumps(await get_shard_iterator(api, body, CTX)))
    return str(got["ShardIterator"])


def run(tmp_path: Path, scenario: Callable[[ApiContext, FakeClock], Any]) -> None:
    clock = FakeClock()

    async def main() -> None:
        db = await open_db(tmp_path / "data", clock, ONE_SHARD)
        try:
            await db.create_table(definition("tbl"))
            await scenario(ApiContext(db, Settings(data_dir=tmp_path / "data")), clock)
        finally:
            db.close()

    asyncio.run(main())


def test_trim_committed_during_the_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario(api: ApiContext, clock: FakeClock) -> None:
        db = api.db
        await put(db, "old")
        iterator = await trim_horizon(api)  # points at "old"
        clock.advance(301)
        await put(db, "new")  # within retention
        trim_during_next_read(db, monkeypatch)
        with pytest.raises(TrimmedDataAccessException) as err:
            await get_records(api, {"ShardIterator": iterator}, CTX)
        assert err.value.message == "The data you are trying to access has been trimmed."
        monkeypatch.undo()
        # The iterator the trimmer did not overtake reads "new", the record it kept.
        page = orjson.loads(await get_records(api, {"ShardIterator": await trim_horizon(api)}, CTX))
        assert [r["dynamodb"]["Keys"] for r in page["Records"]] == [{"pk": {"S": "new"}}]

    run(tmp_path, scenario)


def test_shard_aged_out_during_the_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario(api: ApiContext, clock: FakeClock) -> None:
        db = api.db
        await put(db, "old")
        iterator = await trim_horizon(api)
        # Disable the stream (its shard closes), then let the whole stream age out mid-read.
        t = db.table("tbl")
        await db.run(lambda txn: db.streams.disable(txn, t))
        clock.advance(301)
        trim_during_next_read(db, monkeypatch)
        with pytest.raises(ResourceNotFoundException) as err:
            await get_records(api, {"ShardIterator": iterator}, CTX)
        assert err.value.message == "Requested resource not found: Shard does not exist"

    run(tmp_path, scenario)
