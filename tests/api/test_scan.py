"""Conformance of Scan against a live server: paging, parallel segments, filters, Select,
index scans and the error texts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from api_helpers import all_pages
from botocore.exceptions import ClientError

INVALID = "One or more parameter values were invalid: "
SCALARS = (
    "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed"
)


def error_of(call: Callable[[], Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call()
    err = info.value.response["Error"]
    return err["Code"], err["Message"]


def key(name: str, kind: str = "HASH") -> dict[str, str]:
    return {"AttributeName": name, "KeyType": kind}


def attr(name: str, kind: str = "S") -> dict[str, str]:
    return {"AttributeName": name, "AttributeType": kind}


def ident(item: dict[str, Any]) -> tuple[str, int]:
    return item["pk"]["S"], int(item["sk"]["N"])


ALL_ITEMS = {(f"p{p}", s) for p in range(20) for s in range(3)}


@pytest.fixture
def scan_table(ddb: Any, table_name: str) -> str:
    """pk S / sk N with 20 partitions x 3 items; LSI by-ls (KEYS_ONLY) on ls; GSI by-g (ALL) on g,
    which only items with sk 0 carry."""
    ddb.create_table(
        TableName=table_name,
        KeySchema=[key("pk"), key("sk", "RANGE")],
        AttributeDefinitions=[attr("pk"), attr("sk", "N"), attr("ls"), attr("g", "N")],
        BillingMode="PAY_PER_REQUEST",
        LocalSecondaryIndexes=[
            {
                "IndexName": "by-ls",
                "KeySchema": [key("pk"), key("ls", "RANGE")],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        GlobalSecondaryIndexes=[
            {"IndexName": "by-g", "KeySchema": [key("g")], "Projection": {"ProjectionType": "ALL"}}
        ],
    )
    for pk, sk in sorted(ALL_ITEMS):
        item: dict[str, Any] = {
            "pk": {"S": pk},
            "sk": {"N": str(sk)},
            "ls": {"S": f"l{sk}"},
            "v": {"N": str(int(pk[1:]) * 10 + sk)},
        }
        if sk == 0:
            item["g"] = {"N": str(int(pk[1:]) % 4)}
        ddb.put_item(TableName=table_name, Item=item)
    return table_name


def test_scan_returns_every_item(ddb: Any, scan_table: str) -> None:
    # DynamoDB rule: a scan without Limit (under 1 MB) returns every item in one page.
    got = ddb.scan(TableName=scan_table)
    assert {ident(i) for i in got["Items"]} == ALL_ITEMS
    assert (got["Count"], got["ScannedCount"]) == (60, 60)
    assert "LastEvaluatedKey" not in got


@pytest.mark.parametrize("limit", [1, 7, 60])
def test_scan_paging_visits_every_item_once(ddb: Any, scan_table: str, limit: int) -> None:
    # DynamoDB rule: Limit caps the items read per page; LastEvaluatedKey (the last key read,
    # also when the page happens to end the table) resumes after it, so paging sees each item once.
    pages = list(all_pages(ddb.scan, TableName=scan_table, Limit=limit))
    seen = [ident(i) for p in pages for i in p["Items"]]
    assert len(seen) == 60 and set(seen) == ALL_ITEMS
    assert all(p["ScannedCount"] <= limit for p in pages)
    assert len(pages) == 60 // limit + 1
    last = pages[0]["Items"][-1]
    assert pages[0]["LastEvaluatedKey"] == {"pk": last["pk"], "sk": last["sk"]}


def test_scan_keeps_partitions_together_in_sort_order(ddb: Any, scan_table: str) -> None:
    # DynamoDB rule: a scan walks partition by partition, each partition in sort-key order.
    seen = [ident(i) for i in ddb.scan(TableName=scan_table)["Items"]]
    partitions = [pk for pk, _ in seen[::3]]
    assert len(set(partitions)) == 20
    assert seen == [(pk, s) for pk in partitions for s in range(3)]


@pytest.mark.parametrize("total", [1, 2, 4, 7])
def test_parallel_scan_segments_are_disjoint_and_cover(
    ddb: Any, scan_table: str, total: int
) -> None:
    # DynamoDB rule: Segment/TotalSegments split the table into disjoint parts whose union is the
    # whole table; every part pages on its own.
    segments = []
    for segment in range(total):
        pages = all_pages(
            ddb.scan, TableName=scan_table, Segment=segment, TotalSegments=total, Limit=5
        )
        segments.append([ident(i) for p in pages for i in p["Items"]])
    flat = [x for seg in segments for x in seg]
    assert len(flat) == len(set(flat)) == 60
    assert set(flat) == ALL_ITEMS
    # A partition never spans two segments.
    owners = {pk: n for n, seg in enumerate(segments) for pk, _ in seg}
    assert all(owners[pk] == n for n, seg in enumerate(segments) for pk, _ in seg)


def test_scan_filter_counts(ddb: Any, scan_table: str) -> None:
    # DynamoDB rule: the filter runs after the read: ScannedCount counts items read, Count those
    # returned; Scan filters may use key attributes (Query filters may not).
    request = {
        "TableName": scan_table,
        "FilterExpression": "v BETWEEN :lo AND :hi AND sk <> :one AND begins_with(pk, :p)",
        "ExpressionAttributeValues": {
            ":lo": {"N": "100"},
            ":hi": {"N": "152"},
            ":one": {"N": "1"},
            ":p": {"S": "p1"},
        },
    }
    got = ddb.scan(**request)
    assert sorted(ident(i) for i in got["Items"]) == [
        ("p10", 0), ("p10", 2), ("p11", 0), ("p11", 2), ("p12", 0), ("p12", 2),
        ("p13", 0), ("p13", 2), ("p14", 0), ("p14", 2), ("p15", 0), ("p15", 2),
    ]  # fmt: skip
    assert (got["Count"], got["ScannedCount"]) == (12, 60)
    counted = ddb.scan(**request, Select="COUNT")
    assert "Items" not in counted and (counted["Count"], counted["ScannedCount"]) == (12, 60)
    pages = list(all_pages(ddb.scan, **request, Limit=10))
    assert [p["ScannedCount"] for p in pages] == [10] * 6 + [0]
    assert sum(p["Count"] for p in pages) == 12


def test_scan_projection(ddb: Any, scan_table: str) -> None:
    # DynamoDB rule: ProjectionExpression keeps only the named attributes.
    got = ddb.scan(
        TableName=scan_table,
        ProjectionExpression="#v",
        ExpressionAttributeNames={"#v": "v"},
        FilterExpression="pk = :p AND sk = :s",
        ExpressionAttributeValues={":p": {"S": "p3"}, ":s": {"N": "2"}},
    )
    assert got["Items"] == [{"v": {"N": "32"}}]


def test_scan_of_indexes(ddb: Any, scan_table: str) -> None:
    # DynamoDB rule: scanning an index returns its entries only (a sparse GSI holds the items
    # that have its key) with the index's projection; paging keys include the index key.
    gsi = ddb.scan(TableName=scan_table, IndexName="by-g")
    assert sorted(ident(i) for i in gsi["Items"]) == sorted((f"p{p}", 0) for p in range(20))
    assert set(gsi["Items"][0]) == {"pk", "sk", "ls", "v", "g"}
    lsi = ddb.scan(TableName=scan_table, IndexName="by-ls", Select="COUNT")
    assert (lsi["Count"], lsi["ScannedCount"]) == (60, 60)
    keys_only = ddb.scan(TableName=scan_table, IndexName="by-ls", Limit=1)
    assert set(keys_only["Items"][0]) == {"pk", "sk", "ls"}
    assert set(keys_only["LastEvaluatedKey"]) == {"pk", "sk", "ls"}
    pages = list(all_pages(ddb.scan, TableName=scan_table, IndexName="by-g", Limit=3))
    seen = [ident(i) for p in pages for i in p["Items"]]
    assert len(seen) == len(set(seen)) == 20
    assert set(pages[0]["LastEvaluatedKey"]) == {"pk", "sk", "g"}
    segments = [
        {
            ident(i)
            for p in all_pages(
                ddb.scan, TableName=scan_table, IndexName="by-g", Segment=s, TotalSegments=3
            )
            for i in p["Items"]
        }
        for s in range(3)
    ]
    assert sum(len(s) for s in segments) == 20 and set().union(*segments) == set(seen)


def test_scan_page_stops_after_one_megabyte(ddb: Any, hash_table: str) -> None:
    # DynamoDB rule: a scan page reads at most 1 MB: it ends with the item that takes the read
    # size past 1 MB and returns LastEvaluatedKey.
    blob = "y" * (100 * 1024)
    for i in range(25):
        ddb.put_item(TableName=hash_table, Item={"id": {"S": f"{i:02d}"}, "blob": {"S": blob}})
    pages = list(all_pages(ddb.scan, TableName=hash_table, Select="COUNT"))
    # Each item is 102,408 bytes: 11 of them pass 1 MB (1,048,576).
    assert [p["Count"] for p in pages] == [11, 11, 3]
    assert all("LastEvaluatedKey" in p for p in pages[:2])


SEGMENT_ERRORS = [
    (
        {"Segment": 1},
        "The TotalSegments parameter is required but was not present in the request when Segment "
        "parameter is present",
    ),
    (
        {"TotalSegments": 2},
        "The Segment parameter is required but was not present in the request when parameter "
        "TotalSegments is present",
    ),
    (
        {"Segment": 3, "TotalSegments": 3},
        "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
        "Segment: 3 is not less than TotalSegments: 3",
    ),
    (
        {"Segment": 0, "TotalSegments": 1000001},
        "1 validation error detected: Value '1000001' at 'totalSegments' failed to satisfy "
        "constraint: Member must have value less than or equal to 1000000",
    ),
]


@pytest.mark.parametrize(("extra", "message"), SEGMENT_ERRORS)
def test_scan_segment_errors(
    ddb: Any, hash_table: str, extra: dict[str, Any], message: str
) -> None:
    # DynamoDB rule: Segment and TotalSegments go together, and Segment < TotalSegments <= 1000000.
    assert error_of(lambda: ddb.scan(TableName=hash_table, **extra)) == (
        "ValidationException",
        message,
    )


def test_scan_start_key_from_another_segment(ddb: Any, scan_table: str) -> None:
    # DynamoDB rule: in a parallel scan, ExclusiveStartKey must belong to the scanned segment.
    first = ddb.scan(TableName=scan_table, Segment=0, TotalSegments=2, Limit=1)
    start = first["LastEvaluatedKey"]
    call = lambda: ddb.scan(  # noqa: E731
        TableName=scan_table, Segment=1, TotalSegments=2, ExclusiveStartKey=start
    )
    assert error_of(call) == (
        "ValidationException",
        "The provided starting key is invalid: Invalid ExclusiveStartKey. Please use "
        "ExclusiveStartKey with correct Segment. TotalSegments: 2 Segment: 1",
    )


OTHER_ERRORS = [
    ({"IndexName": "nope-index"}, "The table does not have the specified index: nope-index"),
    (
        {"IndexName": "by-g", "ConsistentRead": True},
        "Consistent reads are not supported on global secondary indexes",
    ),
    (
        {"Select": "ALL_PROJECTED_ATTRIBUTES"},
        INVALID + "Select type ALL_PROJECTED_ATTRIBUTES is not supported for table scans",
    ),
    (
        {"Select": "SPECIFIC_ATTRIBUTES"},
        INVALID
        + "Select type SPECIFIC_ATTRIBUTES requires AttributesToGet or ProjectionExpression",
    ),
    ({"ProjectionExpression": "sk[1]"}, f"{SCALARS}: Key: sk"),
    ({"ProjectionExpression": "v, ls.x"}, f"{SCALARS}: IndexKey: ls"),
    (
        {"ExclusiveStartKey": {"pk": {"S": "p1"}}},
        "The provided starting key is invalid: The provided key element does not match the schema",
    ),
    (
        {"ExclusiveStartKey": {"pk": {"S": "p1"}, "sk": {"S": "1"}}},
        "The provided starting key is invalid: The provided key element does not match the schema",
    ),
    (
        {"ExclusiveStartKey": {"pk": {"S": ""}, "sk": {"N": "1"}}},
        "The provided starting key is invalid: One or more parameter values are not valid. The "
        "AttributeValue for a key attribute cannot contain an empty string value. Key: pk",
    ),
    (
        {"IndexName": "by-g", "ExclusiveStartKey": {"pk": {"S": "p1"}, "sk": {"N": "1"}}},
        "The provided starting key is invalid",
    ),
    (
        {
            "IndexName": "by-g",
            "ExclusiveStartKey": {"pk": {"S": "p1"}, "sk": {"N": "1"}, "g": {"S": "1"}},
        },
        "The provided key element does not match the schema",
    ),
]


@pytest.mark.parametrize(("extra", "message"), OTHER_ERRORS)
def test_scan_request_errors(
    ddb: Any, scan_table: str, extra: dict[str, Any], message: str
) -> None:
    # DynamoDB rule: index names, consistent reads on GSIs, Select combinations, paths into key
    # attributes and ExclusiveStartKey shapes are validated with these texts.
    assert error_of(lambda: ddb.scan(TableName=scan_table, **extra)) == (
        "ValidationException",
        message,
    )


def test_scan_unknown_table(ddb: Any) -> None:
    # DynamoDB rule: a scan of a missing table is ResourceNotFoundException.
    assert error_of(lambda: ddb.scan(TableName="no-such-scan-table")) == (
        "ResourceNotFoundException",
        "Requested resource not found",
    )
