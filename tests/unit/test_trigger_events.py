"""Stored GetRecords records become Lambda records by splicing bytes (triggers.md 12)."""

from __future__ import annotations

import orjson

from rivulet.core.stream_records import build_record
from rivulet.triggers.events import Entry, LambdaRecords, event_bytes

ARN = "arn:aws:dynamodb:eu-west-1:000000000000:table/Orders/stream/2026-11-26T12:00:00.000"
OLD = {"pk": {"S": "order#1"}, "note": {"S": '"userIdentity":{"PrincipalId":"x"}'}}


def stored(service: bool) -> bytes:
    return build_record(
        key_names=("pk",),
        view_type="NEW_AND_OLD_IMAGES",
        old=OLD,
        new=None,
        new_size=0,
        seq="100000000000000000007",
        created_s=1764158400,
        service=service,
    )


def test_a_ttl_delete_gets_lowercase_identity_and_the_lambda_member_order() -> None:
    payload = stored(service=True)
    record = orjson.loads(LambdaRecords("eu-west-1", ARN)(payload))
    source = orjson.loads(payload)
    assert list(record) == [
        "eventID",
        "eventName",
        "eventVersion",
        "eventSource",
        "awsRegion",
        "dynamodb",
        "userIdentity",
        "eventSourceARN",
    ]
    assert record == {
        "eventID": source["eventID"],
        "eventName": "REMOVE",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1764158400,
            "Keys": {"pk": {"S": "order#1"}},
            "OldImage": OLD,
            "SequenceNumber": "100000000000000000007",
            "SizeBytes": source["dynamodb"]["SizeBytes"],
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "userIdentity": {"type": "Service", "principalId": "dynamodb.amazonaws.com"},
        "eventSourceARN": ARN,
    }


def test_a_user_delete_has_no_identity_even_when_an_attribute_looks_like_one() -> None:
    record = orjson.loads(LambdaRecords("eu-west-1", ARN)(stored(service=False)))
    assert "userIdentity" not in record
    assert record["dynamodb"]["OldImage"] == OLD
    assert list(record)[-1] == "eventSourceARN"


def test_event_bytes_and_lazy_entries() -> None:
    to_lambda = LambdaRecords("us-east-1", ARN)
    entries = [Entry(7, 1764158400000, to_lambda(stored(service=False)))]
    assert entries[0].sequence_number == "100000000000000000007"
    assert entries[0].size == len(entries[0].raw)
    event = orjson.loads(event_bytes(entries, {"shardId": "s", "state": {}}))
    assert list(event) == ["Records", "shardId", "state"]
    assert event["Records"] == [entries[0].record]
    assert orjson.loads(event_bytes([])) == {"Records": []}
