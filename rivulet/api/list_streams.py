"""ListStreams: every stream within retention, newest first per table (spec Q-S1, Q-S2)."""

from __future__ import annotations

from typing import Any

from rivulet.api.context import ApiContext
from rivulet.api.streams_common import (
    INVALID_START_STREAM_ARN,
    StreamsValidationException,
    arn_of,
    streams_operation,
)
from rivulet.api.validate import validate_request
from rivulet.core.stream_ids import parse_stream_arn
from rivulet.protocol.service import RequestContext

DEFAULT_LIMIT = 100


@streams_operation
async def list_streams(
    api: ApiContext, body: dict[str, Any], ctx: RequestContext
) -> dict[str, Any]:
    body = validate_request("DynamoDBStreams.ListStreams", body)
    start = None
    if "ExclusiveStartStreamArn" in body:
        start = parse_stream_arn(body["ExclusiveStartStreamArn"])
        if start is None:
            raise StreamsValidationException(INVALID_START_STREAM_ARN)
    table = body.get("TableName")
    limit = body.get("Limit", DEFAULT_LIMIT)
    # TableName ascending, then label descending (newest first). Both come from the ARN, so a
    # cookie naming a stream that has since gone still resumes at the right place.
    streams = sorted(api.db.streams.streams.values(), key=lambda s: s.label, reverse=True)
    streams.sort(key=lambda s: s.table_name)
    if table is not None:
        streams = [s for s in streams if s.table_name == table]
    if start is not None:
        t, label = start
        streams = [
            s for s in streams if s.table_name > t or (s.table_name == t and s.label < label)
        ]
    page = streams[:limit]
    out: dict[str, Any] = {
        "Streams": [
            {"StreamArn": arn_of(api, ctx, s), "TableName": s.table_name, "StreamLabel": s.label}
            for s in page
        ]
    }
    if len(streams) > limit:
        out["LastEvaluatedStreamArn"] = out["Streams"][-1]["StreamArn"]
    return out
