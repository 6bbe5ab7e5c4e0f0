"""DescribeStream: status, view type, key schema and shards sorted by id, with paging and the
CHILD_SHARDS filter (spec/streams-api.md section 2)."""

from __future__ import annotations

from typing import Any

from rivulet.api.context import ApiContext
from rivulet.api.streams_common import (
    SHARD_FILTER_ID,
    StreamsValidationException,
    arn_of,
    find_stream,
    shard_json,
    streams_operation,
)
from rivulet.api.validate import validate_request
from rivulet.protocol.service import RequestContext

DEFAULT_LIMIT = 100
SHARD_ID_LENGTH = (28, 65)


@streams_operation
async def describe_stream(
    api: ApiContext, body: dict[str, Any], ctx: RequestContext
) -> dict[str, Any]:
    body = validate_request("DynamoDBStreams.DescribeStream", body)
    parent = None
    if "ShardFilter" in body:
        parent = body["ShardFilter"]["ShardId"]
        low, high = SHARD_ID_LENGTH
        if len(parent) < low:
            bound = f"greater than or equal to {low}"
        elif len(parent) > high:
            bound = f"less than or equal to {high}"
        else:
            bound = ""
        if bound:
            raise StreamsValidationException(SHARD_FILTER_ID.format(value=parent, bound=bound))
    stream = find_stream(api, body["StreamArn"])
    limit = body.get("Limit", DEFAULT_LIMIT)
    shards = stream.shards
    if parent is not None:
        shards = [s for s in shards if s.parent_id == parent]
    if "ExclusiveStartShardId" in body:
        ids = [s.shard_id for s in shards]
        start = body["ExclusiveStartShardId"]
        # AWS answers an id that is not a shard of the stream with an empty page, not an error.
        shards = shards[ids.index(start) + 1 :] if start in ids else []
    page = shards[:limit]
    desc: dict[str, Any] = {
        "StreamArn": arn_of(api, ctx, stream),
        "StreamLabel": stream.label,
        "StreamStatus": stream.status,
        "StreamViewType": stream.view_type,
        "CreationRequestDateTime": stream.created_at,
        "TableName": stream.table_name,
        "KeySchema": [{"AttributeName": n, "KeyType": k} for n, k in stream.key_schema],
        "Shards": [shard_json(s) for s in page],
    }
    if len(shards) > limit:
        desc["LastEvaluatedShardId"] = page[-1].shard_id
    return {"StreamDescription": desc}
