"""ListStreams conformance (streams-api.md §1): scope, order, paging, the TableName filter and
validation, against a server of this module's own so the full listing is known."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from conftest import BOTO_CONFIG, CREDENTIALS, RunningServer, start_server

from streams.stream_helpers import (
    ACCOUNT,
    INVALID_START_STREAM_ARN,
    LABEL_RE,
    MALFORMED_ARNS,
    NUMBER_NOT_STRING,
    REGION,
    STRING_NOT_INTEGER,
    TABLE_NAME_PATTERN,
    RawResponse,
    create_stream_table,
    create_table,
    delete_table,
    disable_stream,
    enable_stream,
    invalid,
    latest_stream_arn,
    list_stream_pages,
    listed_streams,
    max_length,
    max_value,
    min_length,
    min_value,
    raw,
    raw_error,
    raw_ok,
    serialization,
    validation,
    wait_stream_status,
    without_metadata,
)


@pytest.fixture(scope="module")
def booted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, RawResponse]]:
    """This module's server, with the ListStreams answer it gave before any table existed."""
    srv = start_server(tmp_path_factory.mktemp("list-streams") / "data")
    first = raw(srv.port, "ListStreams", {})
    yield srv, first
    srv.stop()


@pytest.fixture(scope="module")
def srv(booted: tuple[RunningServer, RawResponse]) -> RunningServer:
    return booted[0]


@pytest.fixture(scope="module")
def ddb(srv: RunningServer) -> Any:
    return srv.client()


@pytest.fixture(scope="module")
def streams(srv: RunningServer) -> Any:
    return srv.streams()


def prefix() -> str:
    return f"ls{uuid.uuid4().hex[:10]}"


def entry(arn: str) -> dict[str, str]:
    """The ListStreams entry of a stream, derived from its ARN."""
    table = arn.split(":table/", 1)[1].split("/stream/", 1)[0]
    return {"StreamArn": arn, "TableName": table, "StreamLabel": arn.rsplit("/", 1)[1]}


def order_key(stream: dict[str, str]) -> tuple[str, tuple[int, ...]]:
    # TableName ascending, then StreamLabel descending (labels are fixed-width digits).
    return stream["TableName"], tuple(-ord(c) for c in stream["StreamLabel"])


def cycle(ddb: Any, streams: Any, table: str) -> str:
    """Disable the table's stream and enable a new one; return the new stream's ARN."""
    old = latest_stream_arn(ddb, table)
    disable_stream(ddb, table)
    wait_stream_status(streams, old, "DISABLED")
    return enable_stream(ddb, table)


def test_list_streams_empty_server(booted: tuple[RunningServer, RawResponse]) -> None:
    # A server without any stream answers an empty list (the key is always present).
    first = booted[1]
    assert first.status == 200
    assert first.json() == {"Streams": []}


def test_list_streams_entry_of_new_table(ddb: Any, streams: Any, table_name: str) -> None:
    # The entry has exactly StreamArn, TableName and StreamLabel; the ARN is
    # arn:aws:dynamodb:<region>:<account>:table/<T>/stream/<label> and matches DescribeTable.
    arn = create_stream_table(ddb, table_name)
    table = ddb.describe_table(TableName=table_name)["Table"]
    label = table["LatestStreamLabel"]
    assert LABEL_RE.fullmatch(label)
    assert arn == f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table_name}/stream/{label}"
    assert table["LatestStreamArn"] == arn
    got = streams.list_streams(TableName=table_name)
    assert without_metadata(got) == {
        "Streams": [{"StreamArn": arn, "TableName": table_name, "StreamLabel": label}]
    }


def signing_as(srv: RunningServer, service: str, region: str) -> Any:
    """A boto3 client of the server that signs with `region` in its credential scope."""
    return boto3.client(
        service,
        endpoint_url=srv.url,
        config=BOTO_CONFIG,
        **{**CREDENTIALS, "region_name": region},
    )


def test_list_streams_region_comes_from_the_signature(srv: RunningServer, table_name: str) -> None:
    # Q-M1: ARNs carry the region the request was signed for; a name an ARN cannot carry
    # (boto3 signs with "Local" as readily as with "eu-west-1") gives the server's region, so
    # every ARN handed out can be used again.
    create_stream_table(signing_as(srv, "dynamodb", "eu-west-1"), table_name)
    for region, expected in (("eu-west-1", "eu-west-1"), ("Local", REGION), ("US-EAST-1", REGION)):
        ddb, streams = (
            signing_as(srv, "dynamodb", region),
            signing_as(srv, "dynamodbstreams", region),
        )
        arn = ddb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        label = arn.rsplit("/", 1)[1]
        assert arn == f"arn:aws:dynamodb:{expected}:{ACCOUNT}:table/{table_name}/stream/{label}"
        described = streams.describe_stream(StreamArn=arn)["StreamDescription"]
        assert (described["StreamArn"], described["StreamStatus"]) == (arn, "ENABLED")
        assert streams.list_streams(TableName=table_name, Limit=1)["Streams"] == [
            {"StreamArn": arn, "TableName": table_name, "StreamLabel": label}
        ]


def test_list_streams_table_without_stream(ddb: Any, srv: RunningServer, table_name: str) -> None:
    # A table that never had a stream, and a name that never existed (Q-S1), list nothing.
    create_table(ddb, table_name)
    assert raw_ok(srv.port, "ListStreams", {"TableName": table_name}) == {"Streams": []}
    never = f"never-{uuid.uuid4().hex}"
    assert raw_ok(srv.port, "ListStreams", {"TableName": never}) == {"Streams": []}


def test_list_streams_disabled_streams_stay_listed(ddb: Any, streams: Any, table_name: str) -> None:
    # Every stream within retention is listed in any status, newest first for one table:
    # after two disable/enable cycles the table has two DISABLED streams and one ENABLED.
    first = create_stream_table(ddb, table_name)
    second = cycle(ddb, streams, table_name)
    third = cycle(ddb, streams, table_name)
    assert len({first, second, third}) == 3
    assert listed_streams(streams, TableName=table_name) == [
        entry(third),
        entry(second),
        entry(first),
    ]
    statuses = [
        streams.describe_stream(StreamArn=a)["StreamDescription"]["StreamStatus"]
        for a in (first, second)
    ]
    assert statuses == ["DISABLED", "DISABLED"]
    assert wait_stream_status(streams, third, "ENABLED")["StreamArn"] == third


def test_list_streams_deleted_and_recreated_table(ddb: Any, streams: Any, table_name: str) -> None:
    # Both incarnations of a deleted and re-created table are listed; the old stream still
    # describes as DISABLED with the original table name.
    old = create_stream_table(ddb, table_name)
    delete_table(ddb, table_name)
    new = create_stream_table(ddb, table_name)
    assert new != old
    assert listed_streams(streams, TableName=table_name) == [entry(new), entry(old)]
    desc = wait_stream_status(streams, old, "DISABLED")
    assert (desc["StreamArn"], desc["TableName"]) == (old, table_name)


def test_list_streams_order_table_name_then_newest(ddb: Any, streams: Any) -> None:
    # Q-S2: TableName ascending (code point order), then StreamLabel descending.
    p = prefix()
    names = [f"{p}-b", f"{p}-a_", f"{p}-a", f"{p}-aB", f"{p}-a0", f"{p}-a.b"]
    arns = {name: create_stream_table(ddb, name) for name in names}
    newer_a = cycle(ddb, streams, f"{p}-a")
    full = listed_streams(streams)
    assert full == sorted(full, key=order_key)
    mine = [s for s in full if s["TableName"].startswith(p)]
    assert mine == [
        entry(newer_a),
        entry(arns[f"{p}-a"]),
        entry(arns[f"{p}-a.b"]),
        entry(arns[f"{p}-a0"]),
        entry(arns[f"{p}-aB"]),
        entry(arns[f"{p}-a_"]),
        entry(arns[f"{p}-b"]),
    ]


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_list_streams_paging_one_table(ddb: Any, streams: Any, table_name: str, limit: int) -> None:
    # LastEvaluatedStreamArn is the ARN of the page's last stream, present only while more
    # streams follow (Q-S9): never on the final page, even when that page is exactly full.
    first = create_stream_table(ddb, table_name)
    second = cycle(ddb, streams, table_name)
    third = cycle(ddb, streams, table_name)
    expected = [entry(third), entry(second), entry(first)]
    got = list_stream_pages(streams, TableName=table_name, Limit=limit)
    chunks = [expected[i : i + limit] for i in range(0, 3, limit)]
    assert [page["Streams"] for page in got] == chunks
    for page in got[:-1]:
        assert page["LastEvaluatedStreamArn"] == page["Streams"][-1]["StreamArn"]
    assert "LastEvaluatedStreamArn" not in got[-1]


def test_list_streams_paging_everything(ddb: Any, streams: Any) -> None:
    # Paging the whole account with a small Limit yields the same sequence as one big page;
    # only full pages with more to come carry the cookie.
    p = prefix()
    for suffix in ("x", "y", "z"):
        create_stream_table(ddb, f"{p}-{suffix}")
    one_page = list_stream_pages(streams, Limit=100)
    assert len(one_page) == 1
    everything = one_page[0]["Streams"]
    assert len(everything) >= 3
    got = list_stream_pages(streams, Limit=2)
    assert [s for page in got for s in page["Streams"]] == everything
    for page in got[:-1]:
        assert len(page["Streams"]) == 2
        assert page["LastEvaluatedStreamArn"] == page["Streams"][-1]["StreamArn"]
    assert "LastEvaluatedStreamArn" not in got[-1]


def test_list_streams_resume_after_unknown_cookie(ddb: Any, streams: Any) -> None:
    # Q-S2: resuming continues strictly after the cookie's position in the order, so an ARN of
    # a stream that no longer (or never) exists still works without error.
    p = prefix()
    arns = {s: create_stream_table(ddb, f"{p}-{s}") for s in ("a", "b", "c")}
    ghost = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{p}-b0/stream/2000-01-01T00:00:00.000"
    full = listed_streams(streams)
    after = [s for s in full if order_key(s) > order_key(entry(ghost))]
    got = streams.list_streams(ExclusiveStartStreamArn=ghost, Limit=2)
    assert got["Streams"] == after[:2]
    assert got["Streams"][0] == entry(arns["c"])


def test_list_streams_resume_after_deleted_table(ddb: Any, streams: Any) -> None:
    # A cookie whose table was deleted in between resumes without error.
    p = prefix()
    arns = {s: create_stream_table(ddb, f"{p}-{s}") for s in ("a", "b", "c")}
    full = listed_streams(streams)
    position = full.index(entry(arns["b"]))
    ddb.delete_table(TableName=f"{p}-b")
    got = streams.list_streams(ExclusiveStartStreamArn=arns["b"], Limit=1)
    assert got["Streams"] == [full[position + 1]] == [entry(arns["c"])]


def test_list_streams_default_limit_is_100(tmp_path: Path) -> None:
    # Without Limit a page holds 100 streams.
    own = start_server(tmp_path / "data")
    try:
        ddb, streams = own.client(), own.streams()
        arns = [create_stream_table(ddb, f"d{i:03d}") for i in range(101)]
        first = streams.list_streams()
        assert [s["StreamArn"] for s in first["Streams"]] == arns[:100]
        assert first["LastEvaluatedStreamArn"] == arns[99]
        second = streams.list_streams(ExclusiveStartStreamArn=arns[99])
        assert [s["StreamArn"] for s in second["Streams"]] == [arns[100]]
        assert "LastEvaluatedStreamArn" not in second
    finally:
        own.stop()


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        ({"Limit": 0}, invalid(0, "limit", min_value(1))),
        ({"Limit": -1}, invalid(-1, "limit", min_value(1))),
        ({"Limit": 101}, invalid(101, "limit", max_value(100))),
        ({"TableName": "ab"}, invalid("ab", "tableName", min_length(3))),
        ({"TableName": "a" * 256}, invalid("a" * 256, "tableName", max_length(255))),
        ({"TableName": "bad name!"}, invalid("bad name!", "tableName", TABLE_NAME_PATTERN)),
        ({"TableName": "bad/name"}, invalid("bad/name", "tableName", TABLE_NAME_PATTERN)),
        (
            {"ExclusiveStartStreamArn": "arn:aws:dynamodb:x"},
            invalid("arn:aws:dynamodb:x", "exclusiveStartStreamArn", min_length(37)),
        ),
    ],
)
def test_list_streams_constraint_violations(
    srv: RunningServer, request_body: dict[str, Any], message: str
) -> None:
    # Limit must be 1..100 and TableName 3..255 of [a-zA-Z0-9_.-]; botocore checks only minimums,
    # so these arrive from raw clients: ValidationException in the AWS standard form.
    assert raw_error(srv.port, "ListStreams", request_body) == validation(message)


@pytest.mark.parametrize("cookie", MALFORMED_ARNS)
def test_list_streams_malformed_cookie(srv: RunningServer, cookie: str) -> None:
    # A well-sized but malformed ExclusiveStartStreamArn is a ValidationException (observed).
    got = raw_error(srv.port, "ListStreams", {"ExclusiveStartStreamArn": cookie})
    assert got == validation(INVALID_START_STREAM_ARN)


def test_list_streams_limit_bounds_accepted(srv: RunningServer) -> None:
    # 1 and 100 are inside the range.
    assert "Streams" in raw_ok(srv.port, "ListStreams", {"Limit": 1})
    assert "Streams" in raw_ok(srv.port, "ListStreams", {"Limit": 100})


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"Limit": "5"}, serialization(STRING_NOT_INTEGER)),
        ({"TableName": 5}, serialization(NUMBER_NOT_STRING)),
        (b"[]", serialization()),
    ],
)
def test_list_streams_wrong_json_types(srv: RunningServer, data: Any, expected: Any) -> None:
    # Q-W2: a body that is not an object, or a member of the wrong JSON type, is a
    # SerializationException, before any constraint is checked.
    assert raw(srv.port, "ListStreams", data).answer() == (400, expected)
