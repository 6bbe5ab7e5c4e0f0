"""Stream records as GetRecords shows them: members, images per view type, SizeBytes, TTL identity,
the region splice (spec/records.md sections 1, 2, 4 and 5)."""

from __future__ import annotations

import base64
import re
from typing import Any

import orjson
import pytest

from rivulet.core.sizes import item_size
from rivulet.core.stream_records import build_record, region_prefix, with_region
from rivulet.core.types import Item

SEQ = "100000000000000000042"
CREATED_S = 1_764_158_400
KEY_NAMES = ("ForumName", "Subject")
KEYS: Item = {"ForumName": {"S": "DynamoDB"}, "Subject": {"S": "DynamoDB Thread 3"}}
OLD: Item = {
    "Subject": {"S": "DynamoDB Thread 3"},
    "ForumName": {"S": "DynamoDB"},
    "Views": {"N": "10"},
    "Tags": {"SS": ["a", "b"]},
}
NEW: Item = {
    "ForumName": {"S": "DynamoDB"},
    "Subject": {"S": "DynamoDB Thread 3"},
    "Views": {"N": "11"},
    "Answered": {"BOOL": True},
}
VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
EVENT_ID = re.compile(r"^[0-9a-f]{32}$")

# Sizes of the parts above (records.md section 4): Keys 9+8 + 7+17 = 41.
KEYS_SIZE = 41
OLD_SIZE = KEYS_SIZE + (5 + 2) + (4 + 2)  # Views: N 10 is 2 bytes; Tags: "a" + "b"
NEW_SIZE = KEYS_SIZE + (5 + 2) + (8 + 1)  # Views: N 11 is 2 bytes; Answered: BOOL is 1


def record(
    view_type: str,
    old: Item | None,
    new: Item | None,
    *,
    key_names: tuple[str, ...] = KEY_NAMES,
    service: bool = False,
) -> dict[str, Any]:
    raw = build_record(
        key_names=key_names,
        view_type=view_type,
        old=old,
        new=new,
        new_size=0 if new is None else item_size(new),
        seq=SEQ,
        created_s=CREATED_S,
        service=service,
    )
    out: dict[str, Any] = orjson.loads(raw)
    return out


def without_event_id(rec: dict[str, Any]) -> dict[str, Any]:
    assert EVENT_ID.match(rec["eventID"]), rec["eventID"]
    return {k: v for k, v in rec.items() if k != "eventID"}


def expected(
    event: str, view_type: str, new_image: Item | None, old_image: Item | None, size: int
) -> dict[str, Any]:
    dynamodb: dict[str, Any] = {"ApproximateCreationDateTime": CREATED_S, "Keys": KEYS}
    if new_image is not None:
        dynamodb["NewImage"] = new_image
    if old_image is not None:
        dynamodb["OldImage"] = old_image
    dynamodb |= {"SequenceNumber": SEQ, "SizeBytes": size, "StreamViewType": view_type}
    return {
        "eventName": event,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "dynamodb": dynamodb,
    }


# records.md section 2: which images each (event, view type) carries.
CASES = [
    ("INSERT", None, NEW, "KEYS_ONLY", None, None, KEYS_SIZE),
    ("INSERT", None, NEW, "NEW_IMAGE", NEW, None, KEYS_SIZE + NEW_SIZE),
    ("INSERT", None, NEW, "OLD_IMAGE", None, None, KEYS_SIZE),
    ("INSERT", None, NEW, "NEW_AND_OLD_IMAGES", NEW, None, KEYS_SIZE + NEW_SIZE),
    ("MODIFY", OLD, NEW, "KEYS_ONLY", None, None, KEYS_SIZE),
    ("MODIFY", OLD, NEW, "NEW_IMAGE", NEW, None, KEYS_SIZE + NEW_SIZE),
    ("MODIFY", OLD, NEW, "OLD_IMAGE", None, OLD, KEYS_SIZE + OLD_SIZE),
    ("MODIFY", OLD, NEW, "NEW_AND_OLD_IMAGES", NEW, OLD, KEYS_SIZE + NEW_SIZE + OLD_SIZE),
    ("REMOVE", OLD, None, "KEYS_ONLY", None, None, KEYS_SIZE),
    ("REMOVE", OLD, None, "NEW_IMAGE", None, None, KEYS_SIZE),
    ("REMOVE", OLD, None, "OLD_IMAGE", None, OLD, KEYS_SIZE + OLD_SIZE),
    ("REMOVE", OLD, None, "NEW_AND_OLD_IMAGES", None, OLD, KEYS_SIZE + OLD_SIZE),
]


@pytest.mark.parametrize(
    ("event", "old", "new", "view_type", "new_image", "old_image", "size"),
    CASES,
    ids=[f"{c[0]}-{c[3]}" for c in CASES],
)
def test_record_per_event_and_view_type(
    event: str,
    old: Item | None,
    new: Item | None,
    view_type: str,
    new_image: Item | None,
    old_image: Item | None,
    size: int,
) -> None:
    rec = record(view_type, old, new)
    assert without_event_id(rec) == expected(event, view_type, new_image, old_image, size)
    # An image the view type does not carry is omitted: no key at all, never null or {}.
    assert ("NewImage" in rec["dynamodb"]) is (new_image is not None)
    assert ("OldImage" in rec["dynamodb"]) is (old_image is not None)
    assert "userIdentity" not in rec
    assert "awsRegion" not in rec  # spliced in when read
    assert "eventSourceARN" not in rec  # Lambda adds it; GetRecords never has it


def test_size_parts_are_what_the_rule_gives() -> None:
    # Guards the constants the table above is built from.
    assert (KEYS_SIZE, OLD_SIZE, NEW_SIZE) == (41, 54, 57)


def test_creation_time_is_an_integer_literal() -> None:
    raw = build_record(
        key_names=KEY_NAMES,
        view_type="KEYS_ONLY",
        old=None,
        new=NEW,
        new_size=item_size(NEW),
        seq=SEQ,
        created_s=CREATED_S,
        service=False,
    )
    assert b'"ApproximateCreationDateTime":1764158400,' in raw
    assert type(orjson.loads(raw)["dynamodb"]["ApproximateCreationDateTime"]) is int


def test_keys_follow_the_key_schema_and_come_from_the_surviving_image() -> None:
    # Keys hold only the key attributes, in key-schema order, whatever order the item has.
    insert = record("KEYS_ONLY", None, NEW)
    remove = record("KEYS_ONLY", OLD, None)
    assert list(insert["dynamodb"]["Keys"]) == ["ForumName", "Subject"]
    assert list(remove["dynamodb"]["Keys"]) == ["ForumName", "Subject"]
    assert insert["dynamodb"]["Keys"] == remove["dynamodb"]["Keys"] == KEYS
    hash_only = record("NEW_IMAGE", None, {"id": {"N": "7"}, "v": {"S": "x"}}, key_names=("id",))
    assert hash_only["dynamodb"]["Keys"] == {"id": {"N": "7"}}
    assert hash_only["dynamodb"]["NewImage"] == {"id": {"N": "7"}, "v": {"S": "x"}}


def test_images_are_whole_items_including_keys() -> None:
    rec = record("NEW_AND_OLD_IMAGES", OLD, KEYS)  # every non-key attribute removed
    assert rec["eventName"] == "MODIFY"
    assert rec["dynamodb"]["NewImage"] == KEYS  # an image of only the keys, not missing
    assert rec["dynamodb"]["OldImage"] == OLD
    assert rec["dynamodb"]["SizeBytes"] == KEYS_SIZE + KEYS_SIZE + OLD_SIZE


# The nine SizeBytes values of records.md section 4 -------------------------------------------

ID_101 = {"Id": {"N": "101"}}
NEW_ITEM = {"Message": {"S": "New item!"}, "Id": {"N": "101"}}
CHANGED_ITEM = {"Message": {"S": "This item has changed"}, "Id": {"N": "101"}}
HELLO = {"my_partition_key": {"S": "hello world"}}
FOOBAR = {"B": base64.b64encode(b"foobar").decode()}
ID_VALUE = {"id": {"S": "id_value"}}

CHECKED = [
    # (key names, view type, old, new, event, SizeBytes)
    (KEY_NAMES, "KEYS_ONLY", None, {**KEYS, "Body": {"S": "x" * 50}}, "INSERT", 41),
    (("Id",), "NEW_AND_OLD_IMAGES", None, NEW_ITEM, "INSERT", 26),
    (("Id",), "NEW_AND_OLD_IMAGES", NEW_ITEM, CHANGED_ITEM, "MODIFY", 59),
    (("Id",), "NEW_AND_OLD_IMAGES", CHANGED_ITEM, None, "REMOVE", 38),
    (("my_partition_key",), "NEW_IMAGE", None, {**HELLO, "binary_key": FOOBAR}, "INSERT", 70),
    (("my_partition_key",), "NEW_IMAGE", None, HELLO, "INSERT", 54),
    (("id",), "NEW_AND_OLD_IMAGES", None, {**ID_VALUE, "id2": {"S": "id2_value"}}, "INSERT", 32),
    (("id",), "NEW_AND_OLD_IMAGES", None, ID_VALUE, "INSERT", 20),
    (
        ("id",),
        "NEW_AND_OLD_IMAGES",
        ID_VALUE,
        {**ID_VALUE, "id2": {"S": "id2_new_value"}},
        "MODIFY",
        46,
    ),
]


@pytest.mark.parametrize(("key_names", "view_type", "old", "new", "event", "size"), CHECKED)
def test_size_bytes_of_the_nine_checked_aws_records(
    key_names: tuple[str, ...],
    view_type: str,
    old: Item | None,
    new: Item | None,
    event: str,
    size: int,
) -> None:
    rec = record(view_type, old, new, key_names=key_names)
    assert rec["eventName"] == event
    assert rec["dynamodb"]["SizeBytes"] == size


# TTL deletions, eventID, region ---------------------------------------------------------------


@pytest.mark.parametrize("view_type", VIEW_TYPES)
def test_service_deletion_carries_the_capitalised_identity(view_type: str) -> None:
    rec = record(view_type, OLD, None, service=True)
    assert rec["userIdentity"] == {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}
    assert rec["eventName"] == "REMOVE"
    plain = record(view_type, OLD, None)
    assert {k: v for k, v in rec.items() if k not in ("userIdentity", "eventID")} == {
        k: v for k, v in plain.items() if k != "eventID"
    }


def test_event_ids_are_32_lowercase_hex_and_unique() -> None:
    ids = [record("KEYS_ONLY", None, NEW)["eventID"] for _ in range(200)]
    assert all(EVENT_ID.match(i) for i in ids), ids
    assert len(set(ids)) == 200


@pytest.mark.parametrize("region", ["us-east-1", "eu-central-1", "ddblocal", 'we"ird\\région'])
def test_region_splice_gives_valid_json_with_aws_region(region: str) -> None:
    raw = build_record(
        key_names=KEY_NAMES,
        view_type="NEW_AND_OLD_IMAGES",
        old=OLD,
        new=NEW,
        new_size=item_size(NEW),
        seq=SEQ,
        created_s=CREATED_S,
        service=True,
    )
    spliced = with_region(raw, region_prefix(region))
    assert spliced.startswith(b'{"awsRegion":' + orjson.dumps(region) + b',"eventID":"')
    rec = orjson.loads(spliced)
    assert rec == {"awsRegion": region, **orjson.loads(raw)}
    assert list(rec) == [
        "awsRegion",
        "eventID",
        "eventName",
        "eventVersion",
        "eventSource",
        "dynamodb",
        "userIdentity",
    ]


def test_size_bytes_counts_the_new_image_by_the_size_the_write_computed() -> None:
    # The write passes the stored item's size in; the record must not recount it differently.
    raw = build_record(
        key_names=KEY_NAMES,
        view_type="NEW_IMAGE",
        old=OLD,
        new=NEW,
        new_size=1000,
        seq=SEQ,
        created_s=CREATED_S,
        service=False,
    )
    assert orjson.loads(raw)["dynamodb"]["SizeBytes"] == KEYS_SIZE + 1000
