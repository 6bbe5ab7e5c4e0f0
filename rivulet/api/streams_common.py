"""What the four Streams operations share: stream lookup by ARN, shard shapes, error texts."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from rivulet.api.context import ApiContext
from rivulet.core.stream_ids import parse_stream_arn, stream_arn, wire_seq
from rivulet.engine.streams import Shard, Stream
from rivulet.errors import DYNAMODB, ResourceNotFoundException, ValidationException
from rivulet.protocol.service import RequestContext

R = TypeVar("R")

# AWS's exact texts for these cases were never captured (spec/open-questions.md Q-E1); they are
# kept in this one table so they can be corrected in one place.
INVALID_STREAM_ARN = "Invalid StreamArn"
INVALID_START_STREAM_ARN = "Invalid ExclusiveStartStreamArn"
INVALID_ITERATOR = "Invalid ShardIterator"
INVALID_SEQUENCE_NUMBER = "Invalid SequenceNumber"
SEQUENCE_REQUIRED = "SequenceNumber is required when ShardIteratorType is {type}"
SEQUENCE_NOT_ALLOWED = "SequenceNumber must not be specified when ShardIteratorType is {type}"
TIMESTAMP_REQUIRED = "Timestamp is required when ShardIteratorType is AT_TIMESTAMP"
TIMESTAMP_NOT_ALLOWED = "Timestamp must not be specified when ShardIteratorType is {type}"
TIMESTAMP_IN_FUTURE = "Timestamp must not be in the future"
SEQUENCE_OUT_OF_RANGE = "SequenceNumber {seq} is not in the range of shard {shard}"
SHARD_FILTER_ID = (
    "1 validation error detected: Value '{value}' at 'ShardFilter.ShardId' failed to satisfy "
    "constraint: Member must have length {bound}"
)
# Observed on AWS.
STREAM_NOT_FOUND = "Requested resource not found: Stream: {arn} not found"
SHARD_NOT_FOUND = "Requested resource not found: Shard does not exist"
EXPIRED_ITERATOR = "The provided iterator exceeds the maximum age allowed."
TRIMMED = "The data you are trying to access has been trimmed."


class StreamsValidationException(ValidationException):
    """Streams errors all use the DynamoDB prefix (spec/open-questions.md Q-W3)."""

    prefix = DYNAMODB

    @property
    def type_name(self) -> str:
        return "ValidationException"


def streams_operation(
    op: Callable[[ApiContext, dict[str, Any], RequestContext], Awaitable[R]],
) -> Callable[[ApiContext, dict[str, Any], RequestContext], Awaitable[R]]:
    """Sends the shape validator's ValidationExceptions with the Streams prefix."""

    @functools.wraps(op)
    async def run(api: ApiContext, body: dict[str, Any], ctx: RequestContext) -> R:
        try:
            return await op(api, body, ctx)
        except ValidationException as exc:
            if isinstance(exc, StreamsValidationException):
                raise
            raise StreamsValidationException(exc.message) from None

    return run


def find_stream(api: ApiContext, arn: str) -> Stream:
    """The stream of a well-formed ARN (any region and account name it: they are ours)."""
    parsed = parse_stream_arn(arn)
    if parsed is None:
        raise StreamsValidationException(INVALID_STREAM_ARN)
    stream = api.db.streams.find(*parsed)
    if stream is None:
        raise ResourceNotFoundException(STREAM_NOT_FOUND.format(arn=arn))
    return stream


def arn_of(api: ApiContext, ctx: RequestContext, stream: Stream) -> str:
    return stream_arn(ctx.region, api.settings.account_id, stream.table_name, stream.label)


def shard_json(shard: Shard) -> dict[str, Any]:
    seq_range = {"StartingSequenceNumber": wire_seq(shard.start)}
    if shard.end is not None:
        seq_range["EndingSequenceNumber"] = wire_seq(shard.end)
    out: dict[str, Any] = {"ShardId": shard.shard_id}
    if shard.parent_id is not None:
        out["ParentShardId"] = shard.parent_id
    out["SequenceNumberRange"] = seq_range
    return out
