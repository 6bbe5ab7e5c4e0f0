"""The Lambda event of a batch and the on-failure record of a discarded batch (triggers.md 8, 12)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from rivulet.core.stream_ids import wire_seq
from rivulet.core.stream_records import SERVICE_IDENTITY


@dataclass(slots=True)
class Entry:
    """One stream record on its way to a function: its Lambda-form JSON, parsed only when a
    filter, a lane or a destination needs the object (most batches never do)."""

    seq: int  # the shard's sequence counter (the wire form is 10**20 + seq)
    created_ms: int
    raw: bytes  # the Lambda-form record's JSON
    lane: int = 0  # ParallelizationFactor lane: records of one partition key share a lane
    _record: dict[str, Any] | None = None

    @property
    def record(self) -> dict[str, Any]:
        if self._record is None:
            self._record = orjson.loads(self.raw)
        return self._record

    @property
    def size(self) -> int:
        return len(self.raw)

    @property
    def sequence_number(self) -> str:
        return wire_seq(self.seq)


# A TTL delete's identity as stored (GetRecords' capitalised members) and as Lambda shows it.
_STORED_IDENTITY = b',"userIdentity":' + orjson.dumps(SERVICE_IDENTITY) + b"}"
_LAMBDA_IDENTITY = b',"userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"}'
_SOURCE = b'"eventSource":"aws:dynamodb",'


class LambdaRecords:
    """Turns stored GetRecords records into Lambda's form by splicing bytes, without decoding:
    awsRegion after eventSource, lowercase userIdentity members, eventSourceARN last
    (triggers.md 12). The stored JSON is orjson's, so these byte patterns are exact, and an item's
    own attributes can never produce them (their values sit inside type descriptors)."""

    def __init__(self, region: str, stream_arn: str) -> None:
        self._source = _SOURCE + b'"awsRegion":' + orjson.dumps(region) + b","
        self._arn = b',"eventSourceARN":' + orjson.dumps(stream_arn) + b"}"

    def __call__(self, payload: bytes) -> bytes:
        body = payload.replace(_SOURCE, self._source, 1)
        if body.endswith(_STORED_IDENTITY):
            return body[: -len(_STORED_IDENTITY)] + _LAMBDA_IDENTITY + self._arn
        return body[:-1] + self._arn


def event_bytes(entries: Sequence[Entry], extra: dict[str, Any] | None = None) -> bytes:
    """`{"Records": [...]}` (plus e.g. the tumbling-window members) as JSON."""
    out = b'{"Records":[' + b",".join(e.raw for e in entries) + b"]"
    if extra:
        out += b"," + orjson.dumps(extra)[1:-1]
    return out + b"}"


def iso_ms(epoch: float) -> str:
    """ISO-8601 UTC with milliseconds, as the on-failure record's `timestamp`."""
    ms = int(epoch * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def iso_s(epoch: float) -> str:
    """ISO-8601 UTC in whole seconds, as approximateArrivalOf*Record and window bounds."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch)))


def failure_record(
    *,
    request_id: str,
    function_arn: str,
    condition: str,
    invoke_count: int,
    function_error: str | None,
    shard_id: str,
    stream_arn: str,
    entries: Sequence[Entry],
    now: float,
) -> dict[str, Any]:
    """AWS's on-failure invocation record for the discarded `entries` (positions only; the
    destinations add the records themselves under `payload`, as AWS does for S3)."""
    first, last = entries[0], entries[-1]
    return {
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            # "Unhandled" when the function failed; null when it answered with a partial batch
            # response that kept failing (observed on AWS).
            "functionError": function_error,
        },
        "version": "1.0",
        "timestamp": iso_ms(now),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": first.sequence_number,
            "endSequenceNumber": last.sequence_number,
            "approximateArrivalOfFirstRecord": iso_s(first.created_ms / 1000),
            "approximateArrivalOfLastRecord": iso_s(last.created_ms / 1000),
            "batchSize": len(entries),
            "streamArn": stream_arn,
        },
    }
