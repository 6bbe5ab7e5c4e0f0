"""Stream records as DynamoDB Streams' GetRecords shows them (spec/records.md)."""

from __future__ import annotations

import os
from typing import Any

import orjson

from rivulet.core.sizes import item_size
from rivulet.core.types import Item

# Which images each view type carries (records.md section 2).
NEW_IMAGE_VIEWS = frozenset({"NEW_IMAGE", "NEW_AND_OLD_IMAGES"})
OLD_IMAGE_VIEWS = frozenset({"OLD_IMAGE", "NEW_AND_OLD_IMAGES"})

# TTL deletions carry the service identity; GetRecords uses capitalised member names.
SERVICE_IDENTITY = {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}


def event_name(old: Item | None, new: Item | None) -> str:
    if old is None:
        return "INSERT"
    return "REMOVE" if new is None else "MODIFY"


def build_record(
    *,
    key_names: tuple[str, ...],
    view_type: str,
    old: Item | None,
    new: Item | None,
    new_size: int,
    seq: str,
    created_s: int,
    service: bool,
) -> bytes:
    """The record's JSON without `awsRegion` (added when read: it is the region of the request).

    Images are whole items; an image the view type does not carry is omitted, never null.
    SizeBytes is the item size of Keys plus each included image (records.md section 4);
    `new_size` is the new item's size, already computed by the write.
    """
    source = new if new is not None else old
    assert source is not None
    keys = {name: source[name] for name in key_names}
    size = item_size(keys)
    dynamodb: dict[str, Any] = {"ApproximateCreationDateTime": created_s, "Keys": keys}
    if new is not None and view_type in NEW_IMAGE_VIEWS:
        dynamodb["NewImage"] = new
        size += new_size
    if old is not None and view_type in OLD_IMAGE_VIEWS:
        dynamodb["OldImage"] = old
        size += item_size(old)
    dynamodb["SequenceNumber"] = seq
    dynamodb["SizeBytes"] = size
    dynamodb["StreamViewType"] = view_type
    record: dict[str, Any] = {
        "eventID": os.urandom(16).hex(),
        "eventName": event_name(old, new),
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "dynamodb": dynamodb,
    }
    if service:
        record["userIdentity"] = SERVICE_IDENTITY
    return orjson.dumps(record)


def with_region(payload: bytes, region_prefix: bytes) -> bytes:
    """Splice `{"awsRegion":"<r>",` (region_prefix) in front of a stored record's members."""
    return region_prefix + payload[1:]


def region_prefix(region: str) -> bytes:
    return b'{"awsRegion":' + orjson.dumps(region) + b","
