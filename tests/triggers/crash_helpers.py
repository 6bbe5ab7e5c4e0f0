"""Shared by the trigger crash and worker tests: writers that count per key, what the
`crash_apps.log_records` handler recorded, and the check of deliveries against the stream."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conftest import RunningServer
from streams.stream_helpers import read_by_shard

FUNCTION = "trigger_apps.crash_apps:log_records"


def config_file(path: Path, table: str, batch_size: int) -> Path:
    """A `--config` TOML file with one trigger on `table` running `log_records`."""
    path.write_text(
        "[[triggers]]\n"
        f'name = "{table}-trigger"\n'
        f'table = "{table}"\n'
        f'function = "{FUNCTION}"\n'
        'starting_position = "TRIM_HORIZON"\n'
        f"batch_size = {batch_size}\n"
    )
    return path


def counter_table(ddb: Any, table: str) -> None:
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )


@dataclass
class CounterWriter:
    """A load thread (stream_helpers.LoadWriter): sets `n` of its keys, round-robin, to the next
    value of each key's counter. `counters` (the last value sent per key) outlives the writer,
    so a writer started after a restart continues above whatever the killed one sent."""

    client: Any
    table: str
    keys: list[str]
    counters: dict[str, int]
    pause: float = 0.0  # seconds between rounds over the keys
    acked: list[tuple[str, int]] = field(default_factory=list)
    error: BaseException | None = None

    def write(self, key: str) -> None:
        n = self.counters[key] = self.counters.get(key, 0) + 1
        self.client.update_item(
            TableName=self.table,
            Key={"pk": {"S": key}},
            UpdateExpression="SET n = :n",
            ExpressionAttributeValues={":n": {"N": str(n)}},
        )
        self.acked.append((key, n))

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                for key in self.keys:
                    self.write(key)
                time.sleep(self.pause)
        except Exception as exc:  # the server was killed under us: the rest is unacknowledged
            self.error = exc

    def acknowledged(self) -> int:
        return len(self.acked)


def writers_for(
    server: RunningServer,
    table: str,
    keys: list[str],
    threads: int,
    counters: dict[str, int],
    pause: float = 0.0,
) -> list[CounterWriter]:
    """`threads` writers, each with its own share of `keys` (one writer per key keeps each
    key's writes in order)."""
    return [
        CounterWriter(server.client(), table, keys[i::threads], counters, pause)
        for i in range(threads)
    ]


@dataclass(frozen=True, slots=True)
class Delivery:
    """One record as one invocation got it; `call` is the invocation's line number."""

    call: int
    pid: int
    started: float
    ended: float
    seq: str
    id: str
    key: str
    n: int


def deliveries(out: Path, table: str) -> list[Delivery]:
    """Every record every invocation got, in the order the invocations logged them."""
    path = out / f"{table}.jsonl"
    if not path.exists():
        return []
    text = path.read_text()
    # A line being appended may be read in part: only lines with their newline are complete.
    complete = text[: text.rfind("\n") + 1]
    found = []
    for call, line in enumerate(complete.splitlines()):
        entry = json.loads(line)
        for r in entry["records"]:
            found.append(
                Delivery(
                    call,
                    entry["pid"],
                    entry["started"],
                    entry["ended"],
                    r["seq"],
                    r["id"],
                    r["key"],
                    r["n"],
                )
            )
    return found


@dataclass
class StreamTruth:
    """The stream as GetRecords shows it: what every trigger must deliver."""

    records: dict[str, dict[str, Any]]  # eventID -> record
    shard_of: dict[str, str]  # eventID -> ShardId
    by_key: dict[str, list[int]]  # key -> counters in stream order


def stream_truth(server: RunningServer, ddb: Any, table: str) -> StreamTruth:
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    truth = StreamTruth({}, {}, {})
    for shard_id, records in read_by_shard(server.streams(), arn).items():
        for r in records:
            truth.records[r["eventID"]] = r
            truth.shard_of[r["eventID"]] = shard_id
            key = r["dynamodb"]["Keys"]["pk"]["S"]
            truth.by_key.setdefault(key, []).append(int(r["dynamodb"]["NewImage"]["n"]["N"]))
    return truth


def all_delivered(out: Path, table: str, truth: StreamTruth) -> bool:
    return {d.id for d in deliveries(out, table)} >= set(truth.records)


def check_deliveries(
    got: list[Delivery], truth: StreamTruth, acked: list[tuple[str, int]]
) -> list[Delivery]:
    """Every acknowledged write is in the stream, in per-key order; every stream record was
    delivered, as it is in the stream, and nothing else was; per key the first deliveries are in
    write order. Returns the re-deliveries (all but the first
    delivery of each record)."""
    for key, counters in truth.by_key.items():
        assert counters == sorted(set(counters)), key  # increasing: the order of the writes
    acked_by_key: dict[str, list[int]] = {}
    for key, n in acked:
        acked_by_key.setdefault(key, []).append(n)
    for key, ns in acked_by_key.items():
        assert set(ns) <= set(truth.by_key.get(key, [])), key

    first: dict[str, Delivery] = {}
    again: list[Delivery] = []
    for d in got:
        record = truth.records.get(d.id)
        assert record is not None, f"delivered a record the stream does not have: {d}"
        ddb = record["dynamodb"]
        assert (d.seq, d.key, d.n) == (
            ddb["SequenceNumber"],
            ddb["Keys"]["pk"]["S"],
            int(ddb["NewImage"]["n"]["N"]),
        )
        if d.id in first:
            again.append(d)
        else:
            first[d.id] = d
    assert set(first) == set(truth.records), "records never delivered"
    first_by_key: dict[str, list[int]] = {}
    for d in first.values():  # dicts keep insertion order: the order of first delivery
        first_by_key.setdefault(d.key, []).append(d.n)
    assert first_by_key == truth.by_key
    return again


def handoffs(got: list[Delivery], shard_of: dict[str, str]) -> int:
    """How often a shard's invocations changed from one process to another."""
    last: dict[str, int] = {}
    count = 0
    for d in got:
        shard = shard_of[d.id]
        count += shard in last and last[shard] != d.pid
        last[shard] = d.pid
    return count


def not_in_flight(got: list[Delivery], shard_of: dict[str, str]) -> list[Delivery]:
    """Re-deliveries of a record whose process went on to invoke a later batch of the shard:
    only a batch in flight when the shard changed hands (its process killed, or its lease
    taken) may come again, as its checkpoint was not committed."""
    calls: dict[str, list[tuple[int, int]]] = {}  # shard -> (call, pid) in log order
    for d in got:
        shard_calls = calls.setdefault(shard_of[d.id], [])
        if not shard_calls or shard_calls[-1][0] != d.call:
            shard_calls.append((d.call, d.pid))
    previous: dict[str, Delivery] = {}
    wrong = []
    for d in got:
        prev = previous.get(d.id)
        if prev is not None:
            between = [pid for call, pid in calls[shard_of[d.id]] if prev.call < call < d.call]
            if prev.pid in between:
                wrong.append(d)
        previous[d.id] = d
    return wrong
