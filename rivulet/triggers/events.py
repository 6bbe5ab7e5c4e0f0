"""The Lambda event of a batch and the on-failure record of a discarded batch (triggers.md 8, 12)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(slots=True)
class Entry:
    """One stream record on its way to a function."""

    seq: int  # the shard's sequence counter (the wire form is 10**20 + seq)
    created_ms: int
    record: dict[str, Any]  # the Lambda-form record
    size: int  # bytes of its JSON, for the 6 MB payload cap
    lane: int  # ParallelizationFactor lane: records of one partition key share a lane

    @property
    def sequence_number(self) -> str:
        return str(self.record["dynamodb"]["SequenceNumber"])


def lambda_record(payload: bytes, region: str, stream_arn: str) -> dict[str, Any]:
    """A stored GetRecords record as Lambda delivers it: awsRegion after eventSource,
    eventSourceARN last, and `userIdentity` with lowercase members (triggers.md 12)."""
    stored = orjson.loads(payload)
    record: dict[str, Any] = {
        "eventID": stored["eventID"],
        "eventName": stored["eventName"],
        "eventVersion": stored["eventVersion"],
        "eventSource": stored["eventSource"],
        "awsRegion": region,
        "dynamodb": stored["dynamodb"],
    }
    identity = stored.get("userIdentity")
    if identity is not None:
        record["userIdentity"] = {
            "type": identity["Type"],
            "principalId": identity["PrincipalId"],
        }
    record["eventSourceARN"] = stream_arn
    return record


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
