"""`rivulet tail`: the record formatting (pure), the shard walker against a scripted client, and
the command against a live server (lineage across a rotation, `--from latest`, errors)."""

from __future__ import annotations

import json
import os
import re
import selectors
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import RunningServer, free_port

from rivulet.tail.format import format_record, format_value, json_line, record_text
from rivulet.tail.walker import ShardWalker
from streams.stream_helpers import (
    TTL_IDENTITY,
    S,
    all_shards,
    ancestors,
    create_stream_table,
    create_table,
    wait_until,
)

NOON = 1764158400  # 2025-11-26T12:00:00Z
KEYS = {"pk": {"S": "order#1"}, "sk": {"N": "7"}}
OLD = {**KEYS, "status": {"S": "NEW"}, "total": {"N": "25"}, "note": {"S": "gift"}}
NEW = {**KEYS, "status": {"S": "PAID"}, "total": {"N": "25"}, "paid": {"BOOL": True}}


def record(
    event: str,
    view: str,
    new: dict[str, Any] | None = None,
    old: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A GetRecords record (wire form) carrying the images that `view` includes (records.md §2)."""
    stream: dict[str, Any] = {"ApproximateCreationDateTime": NOON, "Keys": KEYS}
    if new is not None and view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
        stream["NewImage"] = new
    if old is not None and view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
        stream["OldImage"] = old
    stream.update(SequenceNumber="100000000000000000001", SizeBytes=10, StreamViewType=view)
    return {
        "eventID": "0b9f6c1e2d3a4b5c8e7f6a5b4c3d2e1f",
        "eventName": event,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": stream,
        **extra,
    }


def line(rec: dict[str, Any]) -> str:
    return format_record(rec, ["pk", "sk"], UTC)


# ---- formatting -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        (
            "NEW_AND_OLD_IMAGES",
            "12:00:00 INSERT pk='order#1' sk=7 | note='gift', status='NEW', total=25",
        ),
        ("NEW_IMAGE", "12:00:00 INSERT pk='order#1' sk=7 | note='gift', status='NEW', total=25"),
        ("OLD_IMAGE", "12:00:00 INSERT pk='order#1' sk=7"),
        ("KEYS_ONLY", "12:00:00 INSERT pk='order#1' sk=7"),
    ],
)
def test_format_insert_shows_the_new_attributes(view: str, expected: str) -> None:
    assert line(record("INSERT", view, new=OLD)) == expected


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        (
            "NEW_AND_OLD_IMAGES",
            "12:00:00 MODIFY pk='order#1' sk=7 | -note='gift', +paid=True, status: 'NEW' -> 'PAID'",
        ),
        (
            "NEW_IMAGE",
            "12:00:00 MODIFY pk='order#1' sk=7 | new: paid=True, status='PAID', total=25",
        ),
        (
            "OLD_IMAGE",
            "12:00:00 MODIFY pk='order#1' sk=7 | old: note='gift', status='NEW', total=25",
        ),
        ("KEYS_ONLY", "12:00:00 MODIFY pk='order#1' sk=7"),
    ],
)
def test_format_modify_shows_what_changed(view: str, expected: str) -> None:
    assert line(record("MODIFY", view, new=NEW, old=OLD)) == expected


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        (
            "NEW_AND_OLD_IMAGES",
            "12:00:00 REMOVE pk='order#1' sk=7 | note='gift', status='NEW', total=25",
        ),
        ("OLD_IMAGE", "12:00:00 REMOVE pk='order#1' sk=7 | note='gift', status='NEW', total=25"),
        ("NEW_IMAGE", "12:00:00 REMOVE pk='order#1' sk=7"),
        ("KEYS_ONLY", "12:00:00 REMOVE pk='order#1' sk=7"),
    ],
)
def test_format_remove_shows_the_old_attributes(view: str, expected: str) -> None:
    assert line(record("REMOVE", view, old=OLD)) == expected


def test_format_ttl_delete_is_marked() -> None:
    # records.md §5: only TTL deletes carry userIdentity (capitalised members in GetRecords).
    ttl = record("REMOVE", "NEW_AND_OLD_IMAGES", old=OLD, userIdentity=TTL_IDENTITY)
    assert (
        line(ttl) == "12:00:00 REMOVE (ttl) pk='order#1' sk=7 | note='gift', status='NEW', total=25"
    )
    keys_only = record("REMOVE", "KEYS_ONLY", old=OLD, userIdentity=TTL_IDENTITY)
    assert line(keys_only) == "12:00:00 REMOVE (ttl) pk='order#1' sk=7"


def test_format_modify_ignores_set_order_and_number_spelling() -> None:
    # The same set in another order, or 1.0 vs 1, is not a change worth showing.
    old = {
        **KEYS,
        "tags": {"SS": ["a", "b"]},
        "n": {"N": "1.0"},
        "m": {"M": {"x": {"NS": ["1", "2"]}}},
    }
    new = {
        **KEYS,
        "tags": {"SS": ["b", "a"]},
        "n": {"N": "1"},
        "m": {"M": {"x": {"NS": ["2", "1"]}}},
    }
    new_with_change = {**new, "n": {"N": "2"}}
    assert line(record("MODIFY", "NEW_AND_OLD_IMAGES", new=new, old=old)) == (
        "12:00:00 MODIFY pk='order#1' sk=7"
    )
    assert line(record("MODIFY", "NEW_AND_OLD_IMAGES", new=new_with_change, old=old)) == (
        "12:00:00 MODIFY pk='order#1' sk=7 | n: 1.0 -> 2"
    )


def test_format_modify_of_a_key_only_item() -> None:
    # records.md §2: removing every non-key attribute leaves an image equal to the keys.
    assert line(record("MODIFY", "NEW_AND_OLD_IMAGES", new=KEYS, old=OLD)) == (
        "12:00:00 MODIFY pk='order#1' sk=7 | -note='gift', -status='NEW', -total=25"
    )
    assert (
        line(record("MODIFY", "NEW_IMAGE", new=KEYS, old=OLD))
        == "12:00:00 MODIFY pk='order#1' sk=7"
    )


def test_format_key_order_follows_the_key_schema_then_names() -> None:
    rec = record("INSERT", "KEYS_ONLY", new=KEYS)
    assert format_record(rec, ["sk", "pk"], UTC) == "12:00:00 INSERT sk=7 pk='order#1'"
    assert format_record(rec, [], UTC) == "12:00:00 INSERT pk='order#1' sk=7"


def test_format_time_accepts_epoch_numbers_and_datetimes() -> None:
    rec = record("INSERT", "KEYS_ONLY")
    rec["dynamodb"]["ApproximateCreationDateTime"] = 1764158401.0
    assert line(rec).startswith("12:00:01 INSERT")
    # boto3's default parser turns the wire number into a datetime.
    rec["dynamodb"]["ApproximateCreationDateTime"] = datetime.fromtimestamp(NOON + 62, UTC)
    assert line(rec).startswith("12:01:02 INSERT")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"S": "it's"}, '"it\'s"'),
        ({"N": "-1.5E+3"}, "-1.5E+3"),
        ({"B": "Zm9vYmFy"}, "b'foobar'"),
        ({"B": b"\x00\xff"}, "b'\\x00\\xff'"),
        ({"BOOL": False}, "False"),
        ({"NULL": True}, "None"),
        ({"SS": ["a", "b"]}, "{'a', 'b'}"),
        ({"NS": ["1", "2.5"]}, "{1, 2.5}"),
        ({"BS": ["AA=="]}, "{b'\\x00'}"),
        ({"L": [{"N": "1"}, {"S": "x"}, {"L": []}]}, "[1, 'x', []]"),
        ({"M": {"a": {"M": {}}, "b": {"BOOL": True}}}, "{'a': {}, 'b': True}"),
    ],
)
def test_format_value_plain_python_form(value: dict[str, Any], expected: str) -> None:
    assert format_value(value) == expected


def test_format_value_truncates_long_values() -> None:
    assert format_value({"S": "x" * 100}) == "'" + "x" * 56 + "..."
    assert len(format_value({"S": "x" * 100})) == 60
    assert format_value({"S": "x" * 58}) == "'" + "x" * 58 + "'"  # exactly 60: kept whole
    assert format_value({"L": [{"N": "12345"}] * 3}, width=12) == "[12345, 1..."


@pytest.mark.parametrize(
    ("event", "colour"), [("INSERT", "green"), ("MODIFY", "yellow"), ("REMOVE", "red")]
)
def test_record_text_is_coloured_by_event(event: str, colour: str) -> None:
    text = record_text(record(event, "KEYS_ONLY"), ["pk", "sk"], UTC)
    assert text.plain == f"12:00:00 {event} pk='order#1' sk=7"
    assert str(text.style) == colour
    assert [(span.start, span.end, str(span.style)) for span in text.spans] == [(9, 15, "bold")]


def test_json_line_is_the_wire_record_plus_table_and_shard() -> None:
    rec = record("MODIFY", "NEW_AND_OLD_IMAGES", new=NEW, old=OLD)
    got = json_line(rec, "Orders", "shardId-00000001764158400000-0000abcd")
    assert "\n" not in got
    assert json.loads(got) == {
        **rec,
        "tableName": "Orders",
        "shardId": "shardId-00000001764158400000-0000abcd",
    }


def test_json_line_restores_the_wire_form_of_parsed_values() -> None:
    # A record from a default boto3 client (datetime, bytes) still prints as DynamoDB JSON.
    rec = record("INSERT", "NEW_IMAGE", new={**KEYS, "b": {"B": b"foobar"}})
    rec["dynamodb"]["ApproximateCreationDateTime"] = datetime.fromtimestamp(NOON, UTC)
    got = json.loads(json_line(rec, "T", "s"))
    assert got["dynamodb"]["ApproximateCreationDateTime"] == NOON
    assert got["dynamodb"]["NewImage"]["b"] == {"B": "Zm9vYmFy"}


# ---- the shard walker against a scripted client ---------------------------------------------


class ScriptedStreams:
    """A dynamodbstreams client over in-memory shards; iterators are `shard|position`."""

    def __init__(self, shards: dict[str, dict[str, Any]]) -> None:
        self.shards = shards  # id -> {"parent": id|None, "closed": bool, "records": [seq, ...]}
        self.calls: list[tuple[str, ...]] = []
        self.failures: list[str] = []  # error codes raised by the next get_records calls

    def describe_stream(self, StreamArn: str, ExclusiveStartShardId: str = "") -> Any:
        # Pages of two shards, to exercise ExclusiveStartShardId paging.
        ids = sorted(i for i in self.shards if i > ExclusiveStartShardId)
        page = ids[:2]
        self.calls.append(("describe", ExclusiveStartShardId))
        shards = []
        for shard_id in page:
            shard = self.shards[shard_id]
            entry: dict[str, Any] = {
                "ShardId": shard_id,
                "SequenceNumberRange": {"StartingSequenceNumber": "1"},
            }
            if shard["closed"]:
                entry["SequenceNumberRange"]["EndingSequenceNumber"] = "9"
            if shard["parent"]:
                entry["ParentShardId"] = shard["parent"]
            shards.append(entry)
        description = {
            "TableName": "T",
            "StreamStatus": "ENABLED",
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "Shards": shards,
        }
        if len(ids) > 2:
            description["LastEvaluatedShardId"] = page[-1]
        return {"StreamDescription": description}

    def get_shard_iterator(
        self, StreamArn: str, ShardId: str, ShardIteratorType: str, SequenceNumber: str = ""
    ) -> Any:
        self.calls.append(("iterator", ShardId, ShardIteratorType, SequenceNumber))
        records = self.shards[ShardId]["records"]
        position = {
            "TRIM_HORIZON": 0,
            "LATEST": len(records),
            "AFTER_SEQUENCE_NUMBER": records.index(SequenceNumber) + 1
            if SequenceNumber in records
            else 0,
        }[ShardIteratorType]
        return {"ShardIterator": f"{ShardId}|{position}"}

    def get_records(self, ShardIterator: str, Limit: int) -> Any:
        shard_id, position = ShardIterator.split("|")
        self.calls.append(("read", shard_id, position))
        if self.failures:
            code = self.failures.pop(0)
            raise ClientError({"Error": {"Code": code, "Message": code}}, "GetRecords")
        shard = self.shards[shard_id]
        records = shard["records"][int(position) :]
        response: dict[str, Any] = {
            "Records": [
                {"eventName": "INSERT", "dynamodb": {"SequenceNumber": seq}} for seq in records
            ]
        }
        if not shard["closed"]:
            response["NextShardIterator"] = f"{shard_id}|{len(shard['records'])}"
        return response


def sequences(batch: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    return [(shard_id, rec["dynamodb"]["SequenceNumber"]) for shard_id, rec in batch]


def test_walker_reads_parents_before_children_from_trim_horizon() -> None:
    client = ScriptedStreams(
        {
            "s1": {"parent": None, "closed": True, "records": ["11", "12"]},
            "s2": {"parent": None, "closed": False, "records": ["21"]},
            "s3": {"parent": "s1", "closed": False, "records": ["31"]},
        }
    )
    walker = ShardWalker(client, "arn", from_latest=False)
    walker.start()
    assert walker.table_name == "T"
    assert walker.key_names == ["id"]
    assert walker.reading == ["s1", "s2"]  # s3 waits for its parent
    assert sequences(walker.poll()) == [("s1", "11"), ("s1", "12"), ("s2", "21")]
    # s1 ended (no NextShardIterator): the next pass re-describes and starts its child.
    assert sequences(walker.poll()) == [("s3", "31")]
    assert walker.reading == ["s2", "s3"]
    client.shards["s2"]["records"].append("22")
    assert sequences(walker.poll()) == [("s2", "22")]
    # DescribeStream was paged with ExclusiveStartShardId each time.
    assert [call for call in client.calls if call[0] == "describe"] == [
        ("describe", ""), ("describe", "s2"), ("describe", ""), ("describe", "s2")
    ]  # fmt: skip


def test_walker_from_latest_skips_closed_shards() -> None:
    client = ScriptedStreams(
        {
            "s1": {"parent": None, "closed": True, "records": ["11"]},
            "s2": {"parent": "s1", "closed": False, "records": ["21"]},
        }
    )
    walker = ShardWalker(client, "arn", from_latest=True)
    walker.start()
    assert walker.reading == ["s2"]
    assert ("iterator", "s2", "LATEST", "") in client.calls
    assert walker.poll() == []
    client.shards["s2"]["records"].append("22")
    assert sequences(walker.poll()) == [("s2", "22")]
    # The shard rotates: s2 closes after one more record, and its child is read from the start.
    client.shards["s2"]["records"].append("23")
    client.shards["s2"]["closed"] = True
    client.shards["s3"] = {"parent": "s2", "closed": False, "records": ["31"]}
    assert sequences(walker.poll()) == [("s2", "23")]
    assert sequences(walker.poll()) == [("s3", "31")]


def test_walker_resumes_after_the_last_record_when_the_iterator_expired() -> None:
    client = ScriptedStreams({"s1": {"parent": None, "closed": False, "records": ["11", "12"]}})
    walker = ShardWalker(client, "arn", from_latest=False)
    walker.start()
    assert sequences(walker.poll()) == [("s1", "11"), ("s1", "12")]
    client.failures.append("ExpiredIteratorException")
    client.shards["s1"]["records"].append("13")
    assert walker.poll() == []
    assert client.calls[-1] == ("iterator", "s1", "AFTER_SEQUENCE_NUMBER", "12")
    assert sequences(walker.poll()) == [("s1", "13")]


def test_walker_restarts_at_trim_horizon_when_trimmed() -> None:
    notices: list[str] = []
    client = ScriptedStreams({"s1": {"parent": None, "closed": False, "records": ["11"]}})
    walker = ShardWalker(client, "arn", from_latest=False, notice=notices.append)
    walker.start()
    client.failures.append("TrimmedDataAccessException")
    assert walker.poll() == []
    assert notices == ["records of s1 were trimmed before they were read; skipping ahead"]
    assert client.calls[-1] == ("iterator", "s1", "TRIM_HORIZON", "")
    assert sequences(walker.poll()) == [("s1", "11")]


def test_walker_treats_a_vanished_shard_as_ended() -> None:
    client = ScriptedStreams(
        {
            "s1": {"parent": None, "closed": True, "records": ["11"]},
            "s2": {"parent": "s1", "closed": False, "records": ["21"]},
        }
    )
    walker = ShardWalker(client, "arn", from_latest=False)
    walker.start()
    client.failures.append("ResourceNotFoundException")  # s1 aged out before it was read
    assert walker.poll() == []
    assert sequences(walker.poll()) == [("s2", "21")]


# ---- the command against a live server ------------------------------------------------------


TAIL = [sys.executable, "-m", "rivulet", "tail"]


def tail_env() -> dict[str, str]:
    # No credentials at all: the command must fall back to dummy ones for a local server.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RIVULET_"))}
    env.update(
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONUNBUFFERED="1",
    )
    return env


def tail_command(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`rivulet tail ARGS` run to its end without credentials (plus `env`), output as text."""
    return subprocess.run(
        [*TAIL, *args],
        env={**tail_env(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_tail(server: RunningServer, *args: str) -> subprocess.CompletedProcess[str]:
    return tail_command(*args, "--endpoint-url", server.url)


def wait_for_rotation(streams: Any, arn: str, before: set[str]) -> list[dict[str, Any]]:
    """Poll DescribeStream until every shard in `before` is closed and has a child."""

    def rotated() -> list[dict[str, Any]] | None:
        shards = all_shards(streams, arn)
        closed = {
            s["ShardId"] for s in shards if "EndingSequenceNumber" in s["SequenceNumberRange"]
        }
        parents = {s.get("ParentShardId") for s in shards}
        return shards if before <= closed and before <= parents else None

    return wait_until(rotated, f"a rotation of {before}", timeout=30)


def change_of(rec: dict[str, Any]) -> tuple[Any, ...]:
    """(eventName, Keys, OldImage, NewImage) of a record (None for an absent image)."""
    stream = rec["dynamodb"]
    return (rec["eventName"], stream["Keys"], stream.get("OldImage"), stream.get("NewImage"))


def test_tail_trim_horizon_json_follows_lineage_across_a_rotation(
    rotating: RunningServer, table_name: str
) -> None:
    # stream-model.md §3-4: a consumer reading parents before children sees each item's records
    # in the order of its modifications, even when a rotation closed the shard in between.
    ddb, streams = rotating.client(), rotating.streams()
    arn = create_stream_table(ddb, table_name)
    ids = [f"k{i}" for i in range(6)]
    for key in ids:
        ddb.put_item(TableName=table_name, Item={"id": S(key), "v": S("1")})
    # Once the shards open after the puts have rotated, every later record lands in a child.
    open_now = {
        s["ShardId"]
        for s in all_shards(streams, arn)
        if "EndingSequenceNumber" not in s["SequenceNumberRange"]
    }
    wait_for_rotation(streams, arn, open_now)
    for key in ids:
        ddb.update_item(
            TableName=table_name,
            Key={"id": S(key)},
            UpdateExpression="SET v = :v",
            ExpressionAttributeValues={":v": S("2")},
        )
    for key in ids[:3]:
        ddb.delete_item(TableName=table_name, Key={"id": S(key)})

    done = run_tail(rotating, table_name, "--from", "trim-horizon", "--json", "--max-records", "15")
    assert done.returncode == 0, done.stderr
    assert done.stderr == f"rivulet tail: following {arn} from trim-horizon (Ctrl-C to stop)\n"
    lines = [json.loads(text) for text in done.stdout.splitlines()]
    assert len(lines) == 15

    by_key: dict[str, list[dict[str, Any]]] = {}
    for rec in lines:
        assert rec["tableName"] == table_name
        by_key.setdefault(rec["dynamodb"]["Keys"]["id"]["S"], []).append(rec)
    one, two = {"v": S("1")}, {"v": S("2")}
    for key in ids:
        expected = [
            ("INSERT", {"id": S(key)}, None, {"id": S(key), **one}),
            ("MODIFY", {"id": S(key)}, {"id": S(key), **one}, {"id": S(key), **two}),
        ]
        if key in ids[:3]:
            expected.append(("REMOVE", {"id": S(key)}, {"id": S(key), **two}, None))
        assert [change_of(rec) for rec in by_key[key]] == expected

    # Each key's MODIFY came from a descendant of its INSERT's shard (the rotation happened in
    # between), and its REMOVE from the MODIFY's shard or a descendant of it.
    shards = all_shards(streams, arn)
    for key in ids:
        shard_ids = [rec["shardId"] for rec in by_key[key]]
        assert shard_ids[0] in ancestors(shards, shard_ids[1]), (key, shard_ids)
        if len(shard_ids) == 3:
            assert shard_ids[2] == shard_ids[1] or shard_ids[1] in ancestors(shards, shard_ids[2])
    # Within each shard the output is in sequence order.
    per_shard: dict[str, list[int]] = {}
    for rec in lines:
        per_shard.setdefault(rec["shardId"], []).append(int(rec["dynamodb"]["SequenceNumber"]))
    assert all(seqs == sorted(seqs) for seqs in per_shard.values())
    # The JSON is the wire record: epoch-seconds time, no SDK conversions.
    assert isinstance(lines[0]["dynamodb"]["ApproximateCreationDateTime"], int)


def read_line(stream: Any, timeout: float) -> str:
    """One line from a child's pipe, or "" when the deadline passes first."""
    selector = selectors.DefaultSelector()
    selector.register(stream, selectors.EVENT_READ)
    try:
        return stream.readline() if selector.select(timeout) else ""
    finally:
        selector.close()


def test_tail_from_latest_shows_only_later_writes(
    server: RunningServer, ddb: Any, table_name: str
) -> None:
    arn = create_stream_table(ddb, table_name)
    ddb.put_item(TableName=table_name, Item={"id": S("before"), "v": S("1")})
    child = subprocess.Popen(
        [*TAIL, table_name, "--json", "--max-records", "2"],
        env={**tail_env(), "RIVULET_ENDPOINT": server.url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready = read_line(child.stderr, 30)
        assert ready == f"rivulet tail: following {arn} from latest (Ctrl-C to stop)\n"
        ddb.update_item(
            TableName=table_name,
            Key={"id": S("before")},
            UpdateExpression="SET v = :v",
            ExpressionAttributeValues={":v": S("2")},
        )
        ddb.put_item(TableName=table_name, Item={"id": S("after")})
        out, err = child.communicate(timeout=60)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == 0, err
    assert err == ""
    got = [change_of(json.loads(text)) for text in out.splitlines()]
    assert sorted(got, key=lambda r: r[0]) == [
        ("INSERT", {"id": S("after")}, None, {"id": S("after")}),
        (
            "MODIFY",
            {"id": S("before")},
            {"id": S("before"), "v": S("1")},
            {"id": S("before"), "v": S("2")},
        ),
    ]


def test_tail_text_output_on_a_pipe_has_no_colour(
    server: RunningServer, ddb: Any, table_name: str
) -> None:
    create_stream_table(ddb, table_name, "NEW_AND_OLD_IMAGES")
    ddb.put_item(TableName=table_name, Item={"id": S("a"), "n": {"N": "1"}, "tags": {"SS": ["x"]}})
    ddb.update_item(
        TableName=table_name,
        Key={"id": S("a")},
        UpdateExpression="SET n = :two REMOVE tags",
        ExpressionAttributeValues={":two": {"N": "2"}},
    )
    ddb.delete_item(TableName=table_name, Key={"id": S("a")})
    done = run_tail(server, table_name, "--from", "trim-horizon", "--max-records", "3")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert all(re.match(r"^\d\d:\d\d:\d\d ", text) for text in lines), lines
    assert [text[9:] for text in lines] == [
        "INSERT id='a' | n=1, tags={'x'}",
        "MODIFY id='a' | n: 1 -> 2, -tags={'x'}",
        "REMOVE id='a' | n=2",
    ]


def test_tail_marks_ttl_deletes(server: RunningServer, ddb: Any, table_name: str) -> None:
    # records.md §5: a TTL expiry is a REMOVE carrying userIdentity; tail marks it "(ttl)".
    # (The shared server sweeps expired items every 0.2 s.)
    create_stream_table(ddb, table_name, "NEW_AND_OLD_IMAGES")
    ddb.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"}
    )
    # Expired a minute ago (TTL ignores values more than five years in the past).
    expires = str(int(time.time()) - 60)
    ddb.put_item(TableName=table_name, Item={"id": S("a"), "expires": {"N": expires}})
    done = run_tail(server, table_name, "--from", "trim-horizon", "--max-records", "2")
    assert done.returncode == 0, done.stderr
    assert [text[9:] for text in done.stdout.splitlines()] == [
        f"INSERT id='a' | expires={expires}",
        f"REMOVE (ttl) id='a' | expires={expires}",
    ]


def test_tail_keys_only_stream_with_a_stream_arn(
    server: RunningServer, ddb: Any, table_name: str
) -> None:
    arn = create_stream_table(ddb, table_name, "KEYS_ONLY")
    ddb.put_item(TableName=table_name, Item={"id": S("a"), "n": {"N": "1"}})
    done = run_tail(
        server, table_name, "--stream-arn", arn, "--from", "trim-horizon", "--max-records", "1"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout[9:] == "INSERT id='a'\n"


def test_tail_on_the_dedicated_streams_port(
    server: RunningServer, ddb: Any, table_name: str
) -> None:
    # The streams listener answers DescribeTable with UnknownOperationException: the stream is
    # found through ListStreams instead.
    arn = create_stream_table(ddb, table_name, "KEYS_ONLY")
    ddb.put_item(TableName=table_name, Item={"id": S("a")})
    streams_url = f"http://127.0.0.1:{server.streams_port}"
    done = tail_command(
        table_name,
        "--from",
        "trim-horizon",
        "--max-records",
        "1",
        env={"AWS_ENDPOINT_URL_DYNAMODB_STREAMS": streams_url},
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == f"rivulet tail: following {arn} from trim-horizon (Ctrl-C to stop)\n"
    assert done.stdout[9:] == "INSERT id='a'\n"


def test_tail_errors(server: RunningServer, ddb: Any, table_name: str) -> None:
    plain = table_name
    create_table(ddb, plain)
    done = run_tail(server, plain)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        f"Error: table {plain} has no stream; enable one with UpdateTable "
        "--stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES\n"
    )

    missing = table_name + "-missing"
    done = run_tail(server, missing)
    assert (done.returncode, done.stdout, done.stderr) == (
        1, "", f"Error: table {missing} does not exist\n"
    )  # fmt: skip

    other = table_name + "-other"
    arn = create_stream_table(ddb, other)
    done = run_tail(server, plain, "--stream-arn", arn)
    assert (done.returncode, done.stdout, done.stderr) == (
        1, "", f"Error: stream {arn} belongs to table {other}, not {plain}\n"
    )  # fmt: skip


def test_tail_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = tail_command("T", "--endpoint-url", url, timeout=120)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == f'Error: Could not connect to the endpoint URL: "{url}/"\n'
