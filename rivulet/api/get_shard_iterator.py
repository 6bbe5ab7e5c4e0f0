"""GetShardIterator: a signed position token for one shard (spec/streams-api.md section 3)."""

from __future__ import annotations

import math
from typing import Any

from rivulet.api.context import ApiContext
from rivulet.api.streams_common import (
    INVALID_SEQUENCE_NUMBER,
    SEQUENCE_NOT_ALLOWED,
    SEQUENCE_OUT_OF_RANGE,
    SEQUENCE_REQUIRED,
    SHARD_NOT_FOUND,
    TIMESTAMP_IN_FUTURE,
    TIMESTAMP_NOT_ALLOWED,
    TIMESTAMP_REQUIRED,
    TRIMMED,
    StreamsValidationException,
    find_stream,
    streams_operation,
)
from rivulet.api.validate import validate_request
from rivulet.core.iterators import IteratorToken, encode_iterator
from rivulet.core.stream_ids import parse_seq
from rivulet.engine.streams import Shard
from rivulet.errors import ResourceNotFoundException, TrimmedDataAccessException
from rivulet.protocol.service import RequestContext
from rivulet.storage.base import Reader

SEQUENCE_TYPES = ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")


def _check_arguments(body: dict[str, Any], now: float) -> int | None:
    """Which of SequenceNumber / Timestamp the type needs; returns the sequence counter."""
    kind = body["ShardIteratorType"]
    text = body.get("SequenceNumber")
    seq = None
    if kind in SEQUENCE_TYPES:
        if text is None:
            raise StreamsValidationException(SEQUENCE_REQUIRED.format(type=kind))
        seq = parse_seq(text)
        if seq is None:
            raise StreamsValidationException(INVALID_SEQUENCE_NUMBER)
    elif text is not None:
        raise StreamsValidationException(SEQUENCE_NOT_ALLOWED.format(type=kind))
    if kind == "AT_TIMESTAMP":
        if "Timestamp" not in body:
            raise StreamsValidationException(TIMESTAMP_REQUIRED)
        if body["Timestamp"] > now:
            raise StreamsValidationException(TIMESTAMP_IN_FUTURE)
    elif "Timestamp" in body:
        raise StreamsValidationException(TIMESTAMP_NOT_ALLOWED.format(type=kind))
    return seq


def _oldest(shard: Shard) -> int:
    return max(shard.start, shard.trimmed + 1)


def _latest(reader: Reader, shard: Shard) -> int:
    # Exactly after the last committed record (Q-S7), asked of storage, not of memory.
    last = reader.last_record_seq(shard.key)
    return _oldest(shard) if last is None else last + 1


def position(body: dict[str, Any], shard: Shard, seq: int | None, reader: Reader) -> int:
    """The first sequence counter the iterator reads."""
    kind = body["ShardIteratorType"]
    if kind == "TRIM_HORIZON":
        return _oldest(shard)
    if kind == "LATEST":
        return _latest(reader, shard)
    if kind == "AT_TIMESTAMP":
        # First record whose ApproximateCreationDateTime (whole seconds, rounded down) is at or
        # after the time, i.e. created at or after the next whole second; older than the trim
        # horizon means TRIM_HORIZON.
        found = reader.record_at_time(shard.key, math.ceil(body["Timestamp"]) * 1000)
        return _latest(reader, shard) if found is None else found
    assert seq is not None
    # Q-S3: below the shard's range or above its last number is not a position of this shard;
    # inside the range, a number that is not a record positions at the next record.
    if seq < shard.start or seq > shard.last:
        raise StreamsValidationException(
            SEQUENCE_OUT_OF_RANGE.format(seq=body["SequenceNumber"], shard=shard.shard_id)
        )
    pos = seq if kind == "AT_SEQUENCE_NUMBER" else seq + 1
    if pos <= shard.trimmed:
        raise TrimmedDataAccessException(TRIMMED)
    return pos


@streams_operation
async def get_shard_iterator(
    api: ApiContext, body: dict[str, Any], ctx: RequestContext
) -> dict[str, Any]:
    body = validate_request("DynamoDBStreams.GetShardIterator", body)
    now = api.db.clock.now()
    seq = _check_arguments(body, now)
    streams = api.db.streams
    stream = find_stream(api, body["StreamArn"])
    shard = stream.shard(body["ShardId"])
    if shard is None:
        raise ResourceNotFoundException(SHARD_NOT_FOUND)
    pos = position(body, shard, seq, api.db.storage.reader())
    token = IteratorToken(body["StreamArn"], stream.stream_id, shard.key, pos, int(now * 1000))
    return {"ShardIterator": encode_iterator(streams.iterator_key, token)}
