"""GetRecords: up to 1000 records / 1 MB of one shard from an iterator (streams-api.md section 4).

The records are stored as their JSON (sealed); the response splices the opened bytes, each with
the request's region in front, without decoding them.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from rivulet.api.context import ApiContext
from rivulet.api.streams_common import (
    EXPIRED_ITERATOR,
    INVALID_ITERATOR,
    SHARD_NOT_FOUND,
    TRIMMED,
    StreamsValidationException,
    streams_operation,
)
from rivulet.api.validate import validate_request
from rivulet.core.iterators import IteratorToken, decode_iterator, encode_iterator, is_expired
from rivulet.core.stream_records import region_prefix, with_region
from rivulet.engine.streams import Shard, Stream, StreamManager
from rivulet.errors import (
    ExpiredIteratorException,
    ResourceNotFoundException,
    TrimmedDataAccessException,
)
from rivulet.protocol.service import RequestContext

MAX_LIMIT = 1000
MAX_BYTES = 1024 * 1024


@streams_operation
async def get_records(api: ApiContext, body: dict[str, Any], ctx: RequestContext) -> bytes:
    body = validate_request("DynamoDBStreams.GetRecords", body)
    limit = body.get("Limit", MAX_LIMIT)
    streams = api.db.streams
    # Check order (stream-model.md section 6): decode, expiry, existence, trimming.
    token = decode_iterator(streams.iterator_key, body["ShardIterator"])
    if token is None:
        raise StreamsValidationException(INVALID_ITERATOR)
    now_ms = int(api.db.clock.now() * 1000)
    if is_expired(token, now_ms):
        raise ExpiredIteratorException(EXPIRED_ITERATOR)
    stream, shard = _readable_shard(streams, token)
    reader = api.db.storage.reader()
    end = None
    if shard.end is not None:
        # Closed in memory: trust it only once committed. Read before the records, so every
        # record of a shard seen closed is already visible.
        state = reader.shard_state(shard.key)
        if state is None:
            raise ResourceNotFoundException(SHARD_NOT_FOUND)
        end = state[0]
    version = streams.version(stream.stream_id)
    rows = reader.read_records(shard.key, token.position, limit)
    wait = streams.config.read_wait
    if not rows and end is None and wait > 0:
        # At the end of an open shard: answer as soon as a commit brings a record, rather
        # than let a consumer that polls without pausing spin on empty pages.
        deadline = time.monotonic() + wait
        while not rows and (left := deadline - time.monotonic()) > 0:
            if not await streams.wait_for_records(stream.stream_id, version, left):
                break
            version = streams.version(stream.stream_id)
            rows = reader.read_records(shard.key, token.position, limit)
    # Again: the trimmer may have committed while we read (it moves the trim point and drops
    # aged-out shards in memory first), and records past a trimmed position would skip some.
    _readable_shard(streams, token)
    payloads = streams.open_records(stream, rows)
    taken, size = 0, 0
    for payload in payloads:
        size += len(payload)
        if taken and size > MAX_BYTES:
            break
        taken += 1
    prefix = region_prefix(ctx.region)
    out = b'{"Records":[' + b",".join(with_region(p, prefix) for p in payloads[:taken]) + b"]"
    next_pos = rows[taken - 1].seq + 1 if taken else token.position
    # The response that reaches the end of a closed shard omits NextShardIterator (Q-S6).
    finished = end is not None and (next_pos > end or (taken == len(rows) < limit))
    if not finished:
        nxt = IteratorToken(token.arn, token.stream_id, token.shard_key, next_pos, now_ms)
        out += b',"NextShardIterator":' + orjson.dumps(encode_iterator(streams.iterator_key, nxt))
    return out + b"}"


def _readable_shard(streams: StreamManager, token: IteratorToken) -> tuple[Stream, Shard]:
    """The iterator's stream and shard, unless gone or trimmed past the iterator's position."""
    stream = streams.streams.get(token.stream_id)
    shard = None if stream is None else stream.shard_by_key(token.shard_key)
    if stream is None or shard is None:
        raise ResourceNotFoundException(SHARD_NOT_FOUND)
    if token.position <= shard.trimmed:
        raise TrimmedDataAccessException(TRIMMED)
    return stream, shard
