"""GetShardIterator conformance (streams-api.md §3): every iterator type with its exact position,
the Q-S3 decisions for sequence numbers outside a shard's records, AT_TIMESTAMP (sent as raw
JSON: botocore 1.43 does not model it), and validation. Most tests use a one-shard server so all
of a table's records are in one shard."""

from __future__ import annotations

import time
from typing import Any

import pytest
from conftest import RunningServer

from streams.stream_helpers import (
    ACCOUNT,
    FUTURE_TIMESTAMP,
    GHOST_ARN,
    GHOST_SHARD,
    INVALID_SEQUENCE_NUMBER,
    INVALID_STREAM_ARN,
    ITERATOR_TYPES,
    NOT_NULL,
    NUMBER_NOT_STRING,
    REGION,
    SHARD_NOT_FOUND,
    TIMESTAMP_REQUIRED,
    all_shards,
    create_stream_table,
    disable_stream,
    error,
    ids_of,
    invalid,
    max_length,
    min_length,
    out_of_range,
    put_ids,
    raw,
    raw_error,
    raw_ok,
    read_iterator,
    sequence_forbidden,
    sequence_required,
    serialization,
    shard_iterator,
    single_shard,
    stream_not_found,
    timestamp_forbidden,
    validation,
    wait_stream_status,
)

SEQ_OK = "100000000000000000001"


def seqs_of(records: list[dict[str, Any]]) -> list[str]:
    return [r["dynamodb"]["SequenceNumber"] for r in records]


def read(streams: Any, arn: str, shard_id: str, kind: str, **more: Any) -> list[str]:
    """Ids of the records readable from a new iterator of `kind`."""
    return ids_of(
        read_iterator(streams, shard_iterator(streams, arn, shard_id, kind, **more)).records
    )


def test_shard_iterator_format(
    ddb1: Any, streams1: Any, one_shard: RunningServer, table_name: str
) -> None:
    # The response has exactly ShardIterator: an opaque string of at most 2048 characters that
    # starts with the stream ARN (SDK endpoint rules parse it as an ARN).
    arn = create_stream_table(ddb1, table_name)
    shard = single_shard(streams1, arn)
    body = raw_ok(
        one_shard.port,
        "GetShardIterator",
        {"StreamArn": arn, "ShardId": shard["ShardId"], "ShardIteratorType": "TRIM_HORIZON"},
    )
    assert set(body) == {"ShardIterator"}
    assert body["ShardIterator"].startswith(arn + "|")
    assert len(body["ShardIterator"]) <= 2048


def test_shard_iterator_trim_horizon(ddb1: Any, streams1: Any, table_name: str) -> None:
    # TRIM_HORIZON starts at the oldest record: everything, in write order.
    arn = create_stream_table(ddb1, table_name)
    put_ids(ddb1, table_name, "a", "b", "c")
    shard = single_shard(streams1, arn)["ShardId"]
    assert read(streams1, arn, shard, "TRIM_HORIZON") == ["a", "b", "c"]


def test_shard_iterator_latest_is_exact(ddb1: Any, streams1: Any, table_name: str) -> None:
    # Q-S7: LATEST is exactly after the last committed record; the iterator is a reusable
    # position that later returns every record written after it was issued.
    arn = create_stream_table(ddb1, table_name)
    put_ids(ddb1, table_name, "a", "b")
    shard = single_shard(streams1, arn)["ShardId"]
    latest = shard_iterator(streams1, arn, shard, "LATEST")
    first = streams1.get_records(ShardIterator=latest)
    assert first["Records"] == []
    assert "NextShardIterator" in first
    put_ids(ddb1, table_name, "c")
    assert ids_of(streams1.get_records(ShardIterator=latest)["Records"]) == ["c"]
    put_ids(ddb1, table_name, "d")
    assert ids_of(streams1.get_records(ShardIterator=latest)["Records"]) == ["c", "d"]
    assert ids_of(streams1.get_records(ShardIterator=first["NextShardIterator"])["Records"]) == [
        "c",
        "d",
    ]


def test_shard_iterator_at_and_after_sequence_number(
    ddb1: Any, streams1: Any, table_name: str
) -> None:
    # AT_SEQUENCE_NUMBER of a record re-reads it; AFTER_SEQUENCE_NUMBER starts right after it;
    # AFTER the last record behaves like LATEST.
    arn = create_stream_table(ddb1, table_name)
    put_ids(ddb1, table_name, "a", "b", "c")
    shard = single_shard(streams1, arn)["ShardId"]
    records = read_iterator(streams1, shard_iterator(streams1, arn, shard)).records
    s1, s2, s3 = seqs_of(records)
    assert read(streams1, arn, shard, "AT_SEQUENCE_NUMBER", SequenceNumber=s1) == ["a", "b", "c"]
    assert read(streams1, arn, shard, "AT_SEQUENCE_NUMBER", SequenceNumber=s2) == ["b", "c"]
    assert read(streams1, arn, shard, "AT_SEQUENCE_NUMBER", SequenceNumber=s3) == ["c"]
    assert read(streams1, arn, shard, "AFTER_SEQUENCE_NUMBER", SequenceNumber=s1) == ["b", "c"]
    assert read(streams1, arn, shard, "AFTER_SEQUENCE_NUMBER", SequenceNumber=s2) == ["c"]
    after_last = shard_iterator(streams1, arn, shard, "AFTER_SEQUENCE_NUMBER", SequenceNumber=s3)
    assert streams1.get_records(ShardIterator=after_last)["Records"] == []
    put_ids(ddb1, table_name, "d")
    assert ids_of(streams1.get_records(ShardIterator=after_last)["Records"]) == ["d"]


def test_shard_iterator_starting_sequence_number(ddb1: Any, streams1: Any, table_name: str) -> None:
    # The shard's StartingSequenceNumber is a valid AT_ target that reads every record
    # (observed on AWS); AFTER it is inside the range, so it positions at the first record.
    arn = create_stream_table(ddb1, table_name)
    put_ids(ddb1, table_name, "a", "b")
    shard = single_shard(streams1, arn)
    start = shard["SequenceNumberRange"]["StartingSequenceNumber"]
    for kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
        assert read(streams1, arn, shard["ShardId"], kind, SequenceNumber=start) == ["a", "b"]


def find_gap(ddb: Any, streams: Any, table: str, arn: str) -> tuple[str, list[dict[str, Any]], int]:
    """Write keys until some shard's consecutive records have a number between them that belongs
    to another shard; return (shard id, its records, index of the record after the gap)."""
    for n in range(60):
        put_ids(ddb, table, f"k{n}")
        for shard in all_shards(streams, arn):
            records = read_iterator(streams, shard_iterator(streams, arn, shard["ShardId"])).records
            numbers = [int(s) for s in seqs_of(records)]
            for i in range(1, len(numbers)):
                if numbers[i] - numbers[i - 1] > 1:
                    return shard["ShardId"], records, i
    raise AssertionError("60 keys never spread over two shards")


def test_shard_iterator_number_between_records(ddb: Any, streams: Any, table_name: str) -> None:
    # Q-S3: a number inside the shard's range that is not one of its records positions at the
    # next record with a higher number, for AT_ and AFTER_ alike (4-shard shared server: the
    # stream's one counter leaves gaps in each shard).
    arn = create_stream_table(ddb, table_name)
    shard, records, i = find_gap(ddb, streams, table_name, arn)
    between = str(int(records[i - 1]["dynamodb"]["SequenceNumber"]) + 1)
    expected = ids_of(records[i:])
    for kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
        assert read(streams, arn, shard, kind, SequenceNumber=between) == expected


def test_shard_iterator_number_outside_shard(
    ddb1: Any, streams1: Any, one_shard: RunningServer, table_name: str
) -> None:
    # Q-S3: below the shard's StartingSequenceNumber, or above its last record's number, is a
    # ValidationException (AT_ and AFTER_ alike).
    arn = create_stream_table(ddb1, table_name)
    put_ids(ddb1, table_name, "a", "b")
    shard = single_shard(streams1, arn)
    records = read_iterator(streams1, shard_iterator(streams1, arn, shard["ShardId"])).records
    last = int(records[-1]["dynamodb"]["SequenceNumber"])
    below = str(int(shard["SequenceNumberRange"]["StartingSequenceNumber"]) - 1)
    for number in (below, str(last + 1), "9" * 40):
        for kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
            request = {
                "StreamArn": arn,
                "ShardId": shard["ShardId"],
                "ShardIteratorType": kind,
                "SequenceNumber": number,
            }
            got = raw_error(one_shard.port, "GetShardIterator", request)
            expected = out_of_range(number, shard["ShardId"])
            assert got == validation(expected), (kind, number)


def test_shard_iterator_closed_shard(
    ddb1: Any, streams1: Any, one_shard: RunningServer, table_name: str
) -> None:
    # TRIM_HORIZON, LATEST and AT_ the ending number are valid on a closed shard: reading
    # returns what remains and then no NextShardIterator; beyond the ending number is invalid.
    arn = create_stream_table(ddb1, table_name)
    put_ids(ddb1, table_name, "a", "b")
    shard_id = single_shard(streams1, arn)["ShardId"]
    disable_stream(ddb1, table_name)
    shard = wait_stream_status(streams1, arn, "DISABLED")["Shards"][0]
    ending = shard["SequenceNumberRange"]["EndingSequenceNumber"]
    whole = read_iterator(streams1, shard_iterator(streams1, arn, shard_id))
    assert (ids_of(whole.records), whole.ended) == (["a", "b"], True)
    latest = streams1.get_records(ShardIterator=shard_iterator(streams1, arn, shard_id, "LATEST"))
    assert latest["Records"] == []
    assert "NextShardIterator" not in latest
    at_end = read_iterator(
        streams1,
        shard_iterator(streams1, arn, shard_id, "AT_SEQUENCE_NUMBER", SequenceNumber=ending),
    )
    assert (ids_of(at_end.records), at_end.ended) == (["b"], True)
    beyond = {
        "StreamArn": arn,
        "ShardId": shard_id,
        "ShardIteratorType": "AT_SEQUENCE_NUMBER",
        "SequenceNumber": str(int(ending) + 1),
    }
    expected = out_of_range(beyond["SequenceNumber"], shard_id)
    assert raw_error(one_shard.port, "GetShardIterator", beyond) == validation(expected)


def test_shard_iterator_unknown_stream_and_shard(
    ddb1: Any, streams1: Any, one_shard: RunningServer, table_name: str
) -> None:
    # A well-formed ARN of no stream: "Stream: <arn> not found"; a well-formed shard id that is
    # not a shard of this stream (unknown, or another stream's): "Shard does not exist".
    arn = create_stream_table(ddb1, table_name)
    other = create_stream_table(ddb1, table_name + "-2")
    other_shard = single_shard(streams1, other)["ShardId"]
    own_shard = single_shard(streams1, arn)["ShardId"]
    cases = [
        (GHOST_ARN, own_shard, stream_not_found(GHOST_ARN)),
        (arn, GHOST_SHARD, SHARD_NOT_FOUND),
        (arn, other_shard, SHARD_NOT_FOUND),
    ]
    for stream_arn, shard_id, message in cases:
        request = {"StreamArn": stream_arn, "ShardId": shard_id, "ShardIteratorType": "LATEST"}
        got = raw_error(one_shard.port, "GetShardIterator", request)
        assert got == error("ResourceNotFoundException", message)
    with pytest.raises(streams1.exceptions.ResourceNotFoundException):
        shard_iterator(streams1, arn, GHOST_SHARD)


# --- AT_TIMESTAMP (raw JSON: Timestamp as epoch seconds) ----------------------------------------


def timestamp_iterator(srv: RunningServer, arn: str, shard_id: str, timestamp: float) -> str:
    body = raw_ok(
        srv.port,
        "GetShardIterator",
        {
            "StreamArn": arn,
            "ShardId": shard_id,
            "ShardIteratorType": "AT_TIMESTAMP",
            "Timestamp": timestamp,
        },
    )
    it: str = body["ShardIterator"]
    return it


def sleep_past(instant: float) -> None:
    """Sleep until the wall clock is a little past `instant`."""
    time.sleep(max(0.0, instant - time.time()) + 0.05)


def two_seconds_apart(ddb: Any, streams: Any, table: str) -> tuple[str, str, int, int]:
    """Create `table` with a stream, write "a" 0.6-0.85 s into a second and "b" in the next
    second; return the stream ARN, its shard and the two records' ApproximateCreationDateTime
    values (whole seconds)."""
    arn = create_stream_table(ddb, table)
    shard = single_shard(streams, arn)["ShardId"]
    now = time.time()
    if not 0.6 <= now % 1 <= 0.85:
        sleep_past(int(now) + (0.6 if now % 1 < 0.6 else 1.6))
    put_ids(ddb, table, "a")
    sleep_past(int(time.time()) + 1)
    put_ids(ddb, table, "b")
    records = read_iterator(streams, shard_iterator(streams, arn, shard)).records
    t1, t2 = (int(r["dynamodb"]["ApproximateCreationDateTime"].timestamp()) for r in records)
    assert t1 < t2  # precondition: the two writes are in different seconds
    return arn, shard, t1, t2


def test_shard_iterator_at_timestamp(
    ddb1: Any, streams1: Any, one_shard: RunningServer, table_name: str
) -> None:
    # Q-S8 / model: AT_TIMESTAMP points at the first record created at or after Timestamp, else
    # the next later record; a timestamp older than the trim horizon behaves as TRIM_HORIZON;
    # with no record at or after it, reading waits for the next write like LATEST.
    arn, shard, t1, t2 = two_seconds_apart(ddb1, streams1, table_name)

    def at(timestamp: float) -> list[str]:
        return ids_of(
            read_iterator(streams1, timestamp_iterator(one_shard, arn, shard, timestamp)).records
        )

    assert at(t1) == ["a", "b"]
    assert at(t2) == ["b"]
    assert at(t2 - 0.001) == ["b"]
    assert at(0) == ["a", "b"]
    sleep_past(t2 + 1)
    beyond = timestamp_iterator(one_shard, arn, shard, t2 + 1)
    assert streams1.get_records(ShardIterator=beyond)["Records"] == []
    put_ids(ddb1, table_name, "c")
    assert ids_of(streams1.get_records(ShardIterator=beyond)["Records"]) == ["c"]


def test_shard_iterator_at_timestamp_whole_seconds(
    ddb1: Any, streams1: Any, one_shard: RunningServer, table_name: str
) -> None:
    # streams-api.md §3.1 / model text: the comparison is against ApproximateCreationDateTime,
    # which is whole seconds rounded down. "a" was created at t1 + 0.6..0.85 s, so its
    # ApproximateCreationDateTime t1 is before Timestamp t1 + 0.5: the iterator starts at "b".
    arn, shard, t1, _ = two_seconds_apart(ddb1, streams1, table_name)
    iterator = timestamp_iterator(one_shard, arn, shard, t1 + 0.5)
    assert ids_of(read_iterator(streams1, iterator).records) == ["b"]


def test_shard_iterator_at_timestamp_in_future(
    ddb1: Any, streams1: Any, one_shard: RunningServer, table_name: str
) -> None:
    # A Timestamp in the future is a ValidationException (model).
    arn = create_stream_table(ddb1, table_name)
    shard = single_shard(streams1, arn)["ShardId"]
    request = {
        "StreamArn": arn,
        "ShardId": shard,
        "ShardIteratorType": "AT_TIMESTAMP",
        "Timestamp": time.time() + 3600,
    }
    assert raw_error(one_shard.port, "GetShardIterator", request) == validation(FUTURE_TIMESTAMP)


# --- validation --------------------------------------------------------------------------------


def request(kind: str = "TRIM_HORIZON", **more: Any) -> dict[str, Any]:
    return {"StreamArn": GHOST_ARN, "ShardId": GHOST_SHARD, "ShardIteratorType": kind, **more}


def without(member: str) -> dict[str, Any]:
    body = request()
    del body[member]
    return body


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (without("StreamArn"), invalid(None, "streamArn", NOT_NULL)),
        (without("ShardId"), invalid(None, "shardId", NOT_NULL)),
        (without("ShardIteratorType"), invalid(None, "shardIteratorType", NOT_NULL)),
        (
            {**request(), "StreamArn": "arn:aws:dynamodb:x"},
            invalid("arn:aws:dynamodb:x", "streamArn", min_length(37)),
        ),
        ({**request(), "ShardId": "shardId-1"}, invalid("shardId-1", "shardId", min_length(28))),
        (
            {**request(), "ShardId": GHOST_SHARD + "0" * 29},
            invalid(GHOST_SHARD + "0" * 29, "shardId", max_length(65)),
        ),
        (request("FOO"), invalid("FOO", "shardIteratorType", ITERATOR_TYPES)),
        (request("trim_horizon"), invalid("trim_horizon", "shardIteratorType", ITERATOR_TYPES)),
        (
            request("AT_SEQUENCE_NUMBER", SequenceNumber="1" * 20),
            invalid("1" * 20, "sequenceNumber", min_length(21)),
        ),
        (
            request("AT_SEQUENCE_NUMBER", SequenceNumber="1" * 41),
            invalid("1" * 41, "sequenceNumber", max_length(40)),
        ),
        (
            request("AT_SEQUENCE_NUMBER", SequenceNumber="1" * 20 + "a"),
            INVALID_SEQUENCE_NUMBER,
        ),
        (request("AFTER_SEQUENCE_NUMBER", SequenceNumber="-" + "1" * 20), INVALID_SEQUENCE_NUMBER),
        (request("AT_SEQUENCE_NUMBER"), sequence_required("AT_SEQUENCE_NUMBER")),
        (request("AFTER_SEQUENCE_NUMBER"), sequence_required("AFTER_SEQUENCE_NUMBER")),
        (request("TRIM_HORIZON", SequenceNumber=SEQ_OK), sequence_forbidden("TRIM_HORIZON")),
        (request("LATEST", SequenceNumber=SEQ_OK), sequence_forbidden("LATEST")),
        (request("AT_TIMESTAMP"), TIMESTAMP_REQUIRED),
        (request("TRIM_HORIZON", Timestamp=1700000000), timestamp_forbidden("TRIM_HORIZON")),
        (request("LATEST", Timestamp=1700000000), timestamp_forbidden("LATEST")),
        (
            request("AT_SEQUENCE_NUMBER", SequenceNumber=SEQ_OK, Timestamp=1700000000),
            timestamp_forbidden("AT_SEQUENCE_NUMBER"),
        ),
    ],
)
def test_shard_iterator_validation(
    server: RunningServer, body: dict[str, Any], message: str
) -> None:
    # Required members, lengths, the type enum, digits-only sequence numbers and the
    # SequenceNumber/Timestamp pairing rules are checked before the stream is looked up
    # (the ARN names no stream): ValidationException.
    assert raw_error(server.port, "GetShardIterator", body) == validation(message)


@pytest.mark.parametrize(
    "arn",
    [
        f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders/stream/not-a-label",
        f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders/2025-11-26T11:58:02.123",
        "x" * 60,
    ],
)
def test_shard_iterator_malformed_arn(server: RunningServer, arn: str) -> None:
    # A well-sized but malformed StreamArn is a ValidationException (observed on AWS).
    body = {"StreamArn": arn, "ShardId": GHOST_SHARD, "ShardIteratorType": "LATEST"}
    assert raw_error(server.port, "GetShardIterator", body) == validation(INVALID_STREAM_ARN)


def test_shard_iterator_wrong_json_types(server: RunningServer) -> None:
    # Q-W2: a member of the wrong JSON type is a SerializationException.
    response = raw(server.port, "GetShardIterator", {**request(), "ShardId": 7})
    assert response.answer() == (400, serialization(NUMBER_NOT_STRING))
