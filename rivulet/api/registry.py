"""The operation table: X-Amz-Target -> handler, bound to one ApiContext."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from rivulet.api.batch_get_item import batch_get_item
from rivulet.api.batch_write_item import batch_write_item
from rivulet.api.context import ApiContext
from rivulet.api.create_table import create_table
from rivulet.api.delete_item import delete_item
from rivulet.api.delete_table import delete_table
from rivulet.api.describe_endpoints import describe_endpoints
from rivulet.api.describe_limits import describe_limits
from rivulet.api.describe_stream import describe_stream
from rivulet.api.describe_table import describe_table
from rivulet.api.get_item import get_item
from rivulet.api.get_records import get_records
from rivulet.api.get_shard_iterator import get_shard_iterator
from rivulet.api.list_streams import list_streams
from rivulet.api.list_tables import list_tables
from rivulet.api.list_tags_of_resource import list_tags_of_resource
from rivulet.api.put_item import put_item
from rivulet.api.query import query
from rivulet.api.scan import scan
from rivulet.api.tag_resource import tag_resource
from rivulet.api.time_to_live import describe_time_to_live, update_time_to_live
from rivulet.api.transact_get_items import transact_get_items
from rivulet.api.transact_write_items import transact_write_items
from rivulet.api.triggers import TRIGGER_OPERATIONS, TRIGGERS_PREFIX
from rivulet.api.untag_resource import untag_resource
from rivulet.api.update_item import update_item
from rivulet.api.update_table import update_table
from rivulet.protocol.service import Handler

DYNAMODB_PREFIX = "DynamoDB_20120810."
STREAMS_PREFIX = "DynamoDBStreams_20120810."

Operation = Callable[..., Awaitable[Any]]

DYNAMODB_OPERATIONS: dict[str, Operation] = {
    "BatchGetItem": batch_get_item,
    "BatchWriteItem": batch_write_item,
    "CreateTable": create_table,
    "DeleteItem": delete_item,
    "DeleteTable": delete_table,
    "DescribeEndpoints": describe_endpoints,
    "DescribeLimits": describe_limits,
    "DescribeTable": describe_table,
    "DescribeTimeToLive": describe_time_to_live,
    "GetItem": get_item,
    "ListTables": list_tables,
    "ListTagsOfResource": list_tags_of_resource,
    "PutItem": put_item,
    "Query": query,
    "Scan": scan,
    "TagResource": tag_resource,
    "TransactGetItems": transact_get_items,
    "TransactWriteItems": transact_write_items,
    "UntagResource": untag_resource,
    "UpdateItem": update_item,
    "UpdateTable": update_table,
    "UpdateTimeToLive": update_time_to_live,
}


STREAMS_OPERATIONS: dict[str, Operation] = {
    "DescribeStream": describe_stream,
    "GetRecords": get_records,
    "GetShardIterator": get_shard_iterator,
    "ListStreams": list_streams,
}


def streams_operations(api: ApiContext) -> dict[str, Handler]:
    """The Streams targets only: what the dedicated streams listener serves."""
    return {STREAMS_PREFIX + name: partial(op, api) for name, op in STREAMS_OPERATIONS.items()}


def operations(api: ApiContext) -> dict[str, Handler]:
    """Every served target, bound to `api`: the main port answers both services."""
    ops: dict[str, Handler] = {
        DYNAMODB_PREFIX + name: partial(op, api) for name, op in DYNAMODB_OPERATIONS.items()
    }
    ops.update(streams_operations(api))
    ops.update(
        {TRIGGERS_PREFIX + name: partial(op, api) for name, op in TRIGGER_OPERATIONS.items()}
    )
    return ops
