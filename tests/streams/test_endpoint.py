"""The dedicated Streams listener (--streams-port): the four operations behave exactly as on the
main port, boto3 finds it through AWS_ENDPOINT_URL_DYNAMODB_STREAMS, and DynamoDB targets are
UnknownOperationException there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from conftest import BOTO_CONFIG, CREDENTIALS, RunningServer, free_port

from streams.stream_helpers import (
    GHOST_ARN,
    all_shards,
    create_stream_table,
    raw,
    read_iterator,
    shard_iterator,
    without_metadata,
)

UNKNOWN_OPERATION = {"__type": "com.amazon.coral.service#UnknownOperationException"}


def write(ddb: Any, table: str, count: int) -> None:
    for i in range(count):
        ddb.put_item(TableName=table, Item={"id": {"S": f"k{i}"}, "n": {"N": str(i)}})


def test_endpoint_serves_the_four_operations(
    ddb: Any, server: RunningServer, table_name: str
) -> None:
    # ListStreams, DescribeStream, GetShardIterator and GetRecords answer on the dedicated port
    # with the same data as on the main port; iterators work across the two ports.
    arn = create_stream_table(ddb, table_name)
    write(ddb, table_name, 8)
    main, dedicated = server.streams(), server.streams(dedicated=True)
    assert without_metadata(dedicated.list_streams(TableName=table_name)) == without_metadata(
        main.list_streams(TableName=table_name)
    )
    assert without_metadata(dedicated.describe_stream(StreamArn=arn)) == without_metadata(
        main.describe_stream(StreamArn=arn)
    )
    shards = all_shards(dedicated, arn)
    total = 0
    for shard in shards:
        shard_id = shard["ShardId"]
        on_main = read_iterator(main, shard_iterator(main, arn, shard_id)).records
        on_dedicated = read_iterator(dedicated, shard_iterator(dedicated, arn, shard_id)).records
        crossed = read_iterator(main, shard_iterator(dedicated, arn, shard_id)).records
        assert on_dedicated == on_main == crossed
        total += len(on_main)
    assert total == 8


def test_endpoint_found_through_environment(
    ddb: Any, server: RunningServer, table_name: str
) -> None:
    # boto3 in a fresh process, configured only by AWS_ENDPOINT_URL_DYNAMODB_STREAMS (and
    # AWS_ENDPOINT_URL_DYNAMODB for the table lookup), runs all four operations on the dedicated
    # port. The global AWS_ENDPOINT_URL points at a closed port, so a client that ignored the
    # service-specific variable would fail.
    create_stream_table(ddb, table_name)
    write(ddb, table_name, 5)
    script = """
import json, sys, boto3
table = sys.argv[1]
streams, ddb = boto3.client("dynamodbstreams"), boto3.client("dynamodb")
arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
listed = streams.list_streams(TableName=table)["Streams"]
shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
ids = []
for shard in shards:
    it = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    ids += [r["dynamodb"]["Keys"]["id"]["S"] for r in streams.get_records(ShardIterator=it)["Records"]]
print(json.dumps({"endpoint": streams.meta.endpoint_url, "listed": listed, "ids": sorted(ids)}))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL_DYNAMODB_STREAMS=f"http://127.0.0.1:{server.streams_port}",
        AWS_ENDPOINT_URL_DYNAMODB=server.url,
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}",
        AWS_ACCESS_KEY_ID="AKIDTEST",
        AWS_SECRET_ACCESS_KEY="secret",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_MAX_ATTEMPTS="1",
    )
    done = subprocess.run(
        [sys.executable, "-c", script, table_name],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["endpoint"] == f"http://127.0.0.1:{server.streams_port}"
    assert (
        out["listed"]
        == without_metadata(server.streams().list_streams(TableName=table_name))["Streams"]
    )
    assert out["ids"] == [f"k{i}" for i in range(5)]


@pytest.mark.parametrize(
    "target",
    [
        "DynamoDB_20120810.ListTables",
        "DynamoDB_20120810.DescribeTable",
        "DynamoDB_20120810.CreateTable",
        "DynamoDB_20120810.PutItem",
        "DynamoDB_20120810.GetItem",
        "DynamoDB_20120810.Query",
        "DynamoDB_20120810.DescribeEndpoints",
        "DynamoDBStreams_20120810.Nope",
        "DynamoDBStreams_20120810.listStreams",
    ],
)
def test_endpoint_rejects_other_targets(server: RunningServer, target: str) -> None:
    # The dedicated listener serves only DynamoDBStreams_20120810.*: anything else is
    # UnknownOperationException (Q-W1), without a message.
    response = raw(server.streams_port, target, {"TableName": "whatever"})
    assert response.answer() == (400, UNKNOWN_OPERATION)


def test_endpoint_rejects_dynamodb_client(server: RunningServer) -> None:
    # A boto3 DynamoDB client pointed at the streams port gets UnknownOperationException.
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{server.streams_port}",
        config=BOTO_CONFIG,
        **CREDENTIALS,
    )
    with pytest.raises(ClientError) as info:
        dynamodb.list_tables()
    assert info.value.response["Error"]["Code"] == "UnknownOperationException"


@pytest.mark.parametrize(
    ("operation", "body"),
    [
        ("ListStreams", {"Limit": 0}),
        ("ListStreams", {"TableName": "never-existed-table"}),
        ("DescribeStream", {"StreamArn": GHOST_ARN}),
        ("DescribeStream", {}),
        (
            "GetShardIterator",
            {"StreamArn": GHOST_ARN, "ShardId": "s" * 28, "ShardIteratorType": "X"},
        ),
        ("GetRecords", {"ShardIterator": "garbage"}),
    ],
)
def test_endpoint_same_answers_as_main_port(
    server: RunningServer, operation: str, body: dict[str, Any]
) -> None:
    # Both listeners give byte-for-byte the same status and JSON body, errors included, and
    # every response carries a 52-character request id.
    on_main = raw(server.port, operation, body)
    on_dedicated = raw(server.streams_port, operation, body)
    assert on_dedicated.answer() == on_main.answer()
    assert len(on_dedicated.headers["x-amzn-requestid"]) == 52
