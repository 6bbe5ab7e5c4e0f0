"""Where time matters, the trigger runtime runs in-process on a FakeClock: records older than
MaximumRecordAgeInSeconds are discarded to the destination without invoking the function, and a
checkpoint that retention overtook is reported, not silently skipped (triggers.md 4, 7)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import definition, open_db

from rivulet.core.clock import FakeClock
from rivulet.core.values import key_of
from rivulet.engine.database import Database
from rivulet.engine.streams import StreamConfig
from rivulet.engine.writes import Mutation
from rivulet.triggers.admin import TriggerAdmin
from rivulet.triggers.config import parse_trigger
from rivulet.triggers.item_sinks import EngineItemSink
from rivulet.triggers.runtime import RuntimeSettings, TriggerRuntime
from rivulet.triggers.shard_worker import Backoff
from rivulet.triggers.source import CommitSignal, StreamSource
from rivulet.triggers.store import TriggerStore
from triggers.trigger_helpers import failures

CONFIG = StreamConfig(shards=1, rotation=3600.0, retention=300.0, trim_interval=1.0)
HANDLER = """
import json, os
def handle(event, context):
    with open(os.path.join({out!r}, "calls.jsonl"), "a") as f:
        f.write(json.dumps([r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]) + "\\n")
"""


async def put(db: Database, table: str, pk: str) -> None:
    t = db.table(table)
    item = {"pk": {"S": pk}}
    await db.write(Mutation(t, key_of(item, t.key), lambda old: item))


def run_with_runtime(
    tmp_path: Path,
    clock: FakeClock,
    scenario: Callable[[Database, TriggerAdmin], Awaitable[None]],
) -> None:
    async def main() -> None:
        db = await open_db(tmp_path / "data", clock, CONFIG)
        keyring = db.streams.sealer
        assert keyring is not None
        source = StreamSource(
            db.storage, lambda: keyring, CommitSignal(db.streams), "us-east-1", "000000000000"
        )  # type: ignore[arg-type, return-value]
        runtime = TriggerRuntime(
            TriggerStore(db.storage, db.run),
            source,
            # No periodic refresh or lease renewal within a test: only commits and changes
            # wake the supervisor.
            RuntimeSettings(
                data_dir=tmp_path / "data",
                backoff=Backoff(0.01, 0.05),
                refresh_interval=3600,
                lease_ttl=3600,
            ),
            clock,
            EngineItemSink(db),
        )
        await runtime.start()
        db.streams.on_new_stream(runtime.poke)  # as app.Server wires it
        try:
            await scenario(db, TriggerAdmin(runtime, clock))
        finally:
            await runtime.stop()
            db.close()

    asyncio.run(main())


async def eventually(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    for _ in range(int(timeout / 0.02)):
        value = check()
        if value:
            return value
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out; last value {check()!r}")


@pytest.fixture
def handler_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"age_handler_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(HANDLER.format(out=str(tmp_path)))
    monkeypatch.syspath_prepend(str(tmp_path))
    return f"{name}:handle"


def calls(tmp_path: Path) -> list[list[str]]:
    path = tmp_path / "calls.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def test_records_past_the_maximum_age_go_to_the_destination_uninvoked(
    tmp_path: Path, handler_module: str
) -> None:
    clock = FakeClock()
    dlq = tmp_path / "dlq.jsonl"

    async def scenario(db: Database, admin: TriggerAdmin) -> None:
        await db.create_table(definition("Orders"))
        await put(db, "Orders", "old-1")
        await put(db, "Orders", "old-2")
        clock.advance(61)  # older than the 60 s maximum by the time the trigger reads them
        await put(db, "Orders", "fresh")
        await admin.create(
            {
                "name": "aged",
                "table": "Orders",
                "function": handler_module,
                "starting_position": "TRIM_HORIZON",
                "maximum_record_age_in_seconds": 60,
                "destination_config": {"OnFailure": {"Destination": f"file:{dlq}"}},
            }
        )
        await eventually(lambda: calls(tmp_path))
        await eventually(lambda: failures(dlq))

    run_with_runtime(tmp_path, clock, scenario)
    assert calls(tmp_path) == [["fresh"]]
    (line,) = failures(dlq)
    failure = line["failure"]
    assert failure["requestContext"]["condition"] == "RecordAgeExceeded"
    assert failure["requestContext"]["approximateInvokeCount"] == 0
    assert failure["responseContext"]["functionError"] is None
    assert failure["DDBStreamBatchInfo"]["batchSize"] == 2
    assert (
        failure["DDBStreamBatchInfo"]["approximateArrivalOfFirstRecord"] == "2025-11-26T12:00:00Z"
    )
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in failure["payload"]["Records"]] == [
        "old-1",
        "old-2",
    ]


def test_a_checkpoint_overtaken_by_retention_is_reported(
    tmp_path: Path, handler_module: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()

    async def scenario(db: Database, admin: TriggerAdmin) -> None:
        await db.create_table(definition("Orders"))
        await admin.create(
            {
                "name": "slowpoke",
                "table": "Orders",
                "function": handler_module,
                "starting_position": "TRIM_HORIZON",
            }
        )
        await put(db, "Orders", "first")
        await eventually(lambda: calls(tmp_path) == [["first"]])
        await admin.set_enabled("slowpoke", False)
        await put(db, "Orders", "lost-1")
        await put(db, "Orders", "lost-2")
        clock.advance(CONFIG.retention + 1)
        await db.run(db.streams.trim)
        await put(db, "Orders", "after")
        await admin.set_enabled("slowpoke", True)
        await eventually(lambda: calls(tmp_path) == [["first"], ["after"]])
        status = await eventually(
            lambda: next(s for s in admin.status() if s["Name"] == "slowpoke")
        )
        assert status["LastProcessingResult"] == "OK"

    with caplog.at_level(logging.ERROR, logger="rivulet.triggers"):
        run_with_runtime(tmp_path, clock, scenario)
    (message,) = [r.getMessage() for r in caplog.records if "trimmed" in r.getMessage()]
    assert message.startswith(
        "trigger slowpoke: 2 record(s) of shard shardId-"
    ) and message.endswith(
        "were trimmed by retention before they were processed; continuing after sequence number "
        "100000000000000000004"
    )


def test_checkpoints_of_shards_removed_by_retention_are_dropped(
    tmp_path: Path, handler_module: str
) -> None:
    clock = FakeClock()

    async def scenario(db: Database, admin: TriggerAdmin) -> None:
        table = await db.create_table(definition("Orders"))
        await admin.create(
            {
                "name": "keeper",
                "table": "Orders",
                "function": handler_module,
                "starting_position": "TRIM_HORIZON",
            }
        )
        await put(db, "Orders", "first")
        await eventually(lambda: calls(tmp_path) == [["first"]])
        stream = db.streams.active[table.table_id]
        (parent,) = stream.open
        await db.run(lambda txn: db.streams.rotate(txn, stream))
        await put(db, "Orders", "second")  # in the child, once the parent is finished
        await eventually(lambda: calls(tmp_path) == [["first"], ["second"]])
        uuid = admin.row("keeper").uuid
        assert parent.key in admin.store.checkpoints(uuid)
        clock.advance(CONFIG.retention + 1)
        await db.run(db.streams.trim)  # the closed parent is past retention: gone
        await admin.runtime.refresh()
        (child,) = db.streams.active[table.table_id].open
        assert sorted(admin.store.checkpoints(uuid)) == [child.key]

    run_with_runtime(tmp_path, clock, scenario)


def test_a_trigger_waiting_for_its_table_starts_when_the_stream_is_created(
    tmp_path: Path, handler_module: str
) -> None:
    clock = FakeClock()

    async def scenario(db: Database, admin: TriggerAdmin) -> None:
        early = {
            "name": "early",
            "table": "Later",
            "function": handler_module,
            "starting_position": "LATEST",
        }
        await admin.apply_config([parse_trigger(early)])
        await db.create_table(definition("Later"))
        await put(db, "Later", "first")  # the whole new stream is read, LATEST or not
        await eventually(lambda: calls(tmp_path) == [["first"]])

    run_with_runtime(tmp_path, clock, scenario)
