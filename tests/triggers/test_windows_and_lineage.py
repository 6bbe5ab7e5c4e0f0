"""Tumbling windows with state between invocations, lineage across forced shard rotation, and
Python functions isolated in a subprocess pool (triggers.md 6, 11, 13)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import RunningServer

from triggers.trigger_helpers import (
    create_trigger,
    events,
    failures,
    file_destination,
    recorded,
    settle,
    start_trigger_server,
    status,
    stream_table,
    wait_for,
)

Server = tuple[RunningServer, Path]


def test_tumbling_window_carries_state_and_ends_with_a_final_invocation(
    tserver: Server, tddb: Any, tname: str
) -> None:
    server, out = tserver
    stream_table(tddb, tname, sort_key=True)
    create_trigger(
        server,
        name=tname,
        table=tname,
        function="trigger_apps.recorder:window_sum",
        tumbling_window_in_seconds=2,
    )
    written = 0
    for i in range(6):
        tddb.put_item(
            TableName=tname,
            Item={"pk": {"S": "k"}, "sk": {"S": f"{i:04d}"}, "n": {"N": str(i + 1)}},
        )
        written += i + 1
        time.sleep(0.15)
    finals = wait_for(
        lambda: (
            (f := [e for e in events(out, tname) if e["isFinalInvokeForWindow"]])
            and sum(e["state"]["total"] for e in f) == written
            and f
        ),
        timeout=20,
    )
    got = events(out, tname)
    shard = got[0]["shardId"]
    arn = tddb.describe_table(TableName=tname)["Table"]["LatestStreamArn"]
    for e in got:
        assert e["shardId"] == shard
        assert e["eventSourceARN"] == arn
        assert e["isWindowTerminatedEarly"] is False
        start, end = e["window"]["start"], e["window"]["end"]
        start_s = time.mktime(time.strptime(start, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
        end_s = time.mktime(time.strptime(end, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
        assert end_s - start_s == 2
        assert start_s % 2 == 0  # windows [k*W, (k+1)*W) in epoch seconds (Q-T15)
        for r in e["Records"]:
            created = r["dynamodb"]["ApproximateCreationDateTime"]
            assert start_s <= created < end_s
    # Within a window the state runs on from one invocation to the next; the final one has no
    # records and sees the window's whole sum.
    by_window: dict[str, list[dict[str, Any]]] = {}
    for e in got:
        by_window.setdefault(e["window"]["start"], []).append(e)
    for window_events in by_window.values():
        final = window_events[-1]
        assert final["isFinalInvokeForWindow"] is True
        assert final["Records"] == []
        running = 0
        for e in window_events[:-1]:
            assert e["state"] == ({} if running == 0 else {"total": running})
            running += sum(int(r["dynamodb"]["NewImage"]["n"]["N"]) for r in e["Records"])
        assert final["state"] == {"total": running}
    assert len(finals) == len(by_window)
    assert status(server, tname)["Figures"]["delivered"] == 6


@pytest.fixture(scope="module")
def rotating(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server, out = start_trigger_server(
        tmp_path_factory.mktemp("rotating"), "--stream-shards", "2", "--shard-rotation", "1s"
    )
    yield server, out
    server.stop()


def test_lineage_across_rotation_keeps_each_key_in_order(rotating: Server, tname: str) -> None:
    server, out = rotating
    ddb = server.client()
    stream_table(ddb, tname, sort_key=True)
    create_trigger(server, name=tname, table=tname, function="trigger_apps.recorder:record")
    keys = [f"key{i}" for i in range(6)]
    deadline = time.monotonic() + 3.5  # several rotations of 1 s
    n = 0
    while time.monotonic() < deadline:
        for key in keys:
            ddb.put_item(TableName=tname, Item={"pk": {"S": key}, "sk": {"S": f"{n:05d}"}})
        n += 1
        time.sleep(0.05)
    arn = ddb.describe_table(TableName=tname)["Table"]["LatestStreamArn"]
    shards = server.streams().describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    assert sum(1 for s in shards if "ParentShardId" in s) >= 2  # the stream really rotated
    wait_for(lambda: status(server, tname)["Figures"]["delivered"] == n * len(keys), timeout=30)
    per_key: dict[str, list[str]] = {}
    for e in events(out, tname):
        for r in e["Records"]:
            k = r["dynamodb"]["Keys"]
            per_key.setdefault(k["pk"]["S"], []).append(k["sk"]["S"])
    # Parents before children: every key's records arrive once each, in write order.
    assert per_key == {key: [f"{i:05d}" for i in range(n)] for key in keys}
    assert status(server, tname)["Shards"]["Finished"] >= 2


def test_subprocess_isolation_survives_a_crashing_and_a_hanging_handler(
    tserver: Server, tddb: Any, tname: str, tmp_path: Path
) -> None:
    server, out = tserver
    stream_table(tddb, tname, sort_key=True)
    dlq = tmp_path / "dlq.jsonl"
    create_trigger(
        server,
        name=tname,
        table=tname,
        function="trigger_apps.isolated:handle",
        function_isolation="subprocess",
        function_timeout=1,
        maximum_retry_attempts=0,
        batch_size=1,
        # A subprocess gets the Lambda environment and its own variables, not the server's.
        environment={"GREETING": "hello", "RIVULET_TEST_OUT": str(out)},
        destination_config=file_destination(dlq),
    )
    for sk, action in (("0", "ok"), ("1", "exit"), ("2", "hang"), ("3", "ok")):
        tddb.put_item(
            TableName=tname, Item={"pk": {"S": "k"}, "sk": {"S": sk}, "action": {"S": action}}
        )
    wait_for(lambda: len(recorded(out, tname)) == 2, timeout=20)
    lines = settle(lambda: recorded(out, tname))
    assert [line["event"]["Records"][0]["dynamodb"]["Keys"]["sk"]["S"] for line in lines] == [
        "0",
        "3",
    ]
    # Each function runs in its own process with the Lambda environment and its own variables.
    assert {line["greeting"] for line in lines} == {"hello"}
    assert {line["function_name"] for line in lines} == {"trigger_apps-isolated-handle"}
    assert all(line["pid"] != server.process.pid for line in lines)
    # The crash and the timeout, each discarded after one invocation.
    assert len(failures(dlq)) == 2
    assert server.process.poll() is None
    assert status(server, tname)["Figures"]["errors"] == 2
