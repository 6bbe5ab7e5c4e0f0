"""Input shapes of the four DynamoDB Streams operations (same node format as shapes.py).

Written by hand from botocore's `dynamodbstreams` model (1.44.8): the model is small and its
limits of 100 / 1000 live only in the documentation ("The upper limit is 100"), while AWS
enforces them with ValidationException (observed, see spec/streams-api.md section 0).
"""

from typing import Any

from rivulet.api.shapes import Node

_TABLE_NAME = ("string", "", {"pattern": "[a-zA-Z0-9_.-]+", "min": 3, "max": 255}, None)
_STREAM_ARN: dict[str, Any] = {"min": 37, "max": 1024}
_SHARD_ID: dict[str, Any] = {"min": 28, "max": 65}
_ITERATOR_TYPES = (
    "TRIM_HORIZON",
    "LATEST",
    "AT_SEQUENCE_NUMBER",
    "AFTER_SEQUENCE_NUMBER",
    "AT_TIMESTAMP",
)

# fmt: off
STREAM_OPERATIONS: dict[str, Node] = {
    "ListStreams": ("structure", "ListStreamsInput", {}, (
        ("TableName", _TABLE_NAME),
        ("Limit", ("integer", "", {"min": 1, "max": 100}, None)),
        ("ExclusiveStartStreamArn", ("string", "", _STREAM_ARN, None)),
    )),
    "DescribeStream": ("structure", "DescribeStreamInput", {}, (
        ("StreamArn", ("string", "", {"required": True, **_STREAM_ARN}, None)),
        ("Limit", ("integer", "", {"min": 1, "max": 100}, None)),
        ("ExclusiveStartShardId", ("string", "", _SHARD_ID, None)),
        ("ShardFilter", ("structure", "ShardFilter", {}, (
            ("Type", ("string", "", {"required": True, "enum": ("CHILD_SHARDS",)}, None)),
            # Its length is checked by describe_stream, whose message names `ShardFilter.ShardId`
            # as AWS's does (observed: the error text contains that exact spelling).
            ("ShardId", ("string", "", {"required": True}, None)),
        ))),
    )),
    "GetShardIterator": ("structure", "GetShardIteratorInput", {}, (
        ("StreamArn", ("string", "", {"required": True, **_STREAM_ARN}, None)),
        ("ShardId", ("string", "", {"required": True, **_SHARD_ID}, None)),
        ("ShardIteratorType", ("string", "", {"required": True, "enum": _ITERATOR_TYPES}, None)),
        ("SequenceNumber", ("string", "", {"min": 21, "max": 40}, None)),
        ("Timestamp", ("timestamp", "", {}, None)),
    )),
    "GetRecords": ("structure", "GetRecordsInput", {}, (
        ("ShardIterator", ("string", "", {"required": True, "min": 1, "max": 2048}, None)),
        ("Limit", ("integer", "", {"min": 1, "max": 1000}, None)),
    )),
}
# fmt: on
