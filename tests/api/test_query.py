"""Conformance of Query against a live server: key conditions, order, paging, filters, Select,
projections, indexes and the error texts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from api_helpers import all_pages
from botocore.exceptions import ClientError

INVALID = "One or more parameter values were invalid: "


def error_of(call: Callable[[], Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call()
    err = info.value.response["Error"]
    return err["Code"], err["Message"]


def key(name: str, kind: str = "HASH") -> dict[str, str]:
    return {"AttributeName": name, "KeyType": kind}


def attr(name: str, kind: str = "S") -> dict[str, str]:
    return {"AttributeName": name, "AttributeType": kind}


def create(ddb: Any, name: str, sk_type: str) -> str:
    ddb.create_table(
        TableName=name,
        KeySchema=[key("pk"), key("sk", "RANGE")],
        AttributeDefinitions=[attr("pk"), attr("sk", sk_type)],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def sort_keys(response: dict[str, Any], kind: str) -> list[Any]:
    return [item["sk"][kind] for item in response["Items"]]


@pytest.fixture
def indexed_table(ddb: Any, table_name: str) -> str:
    """pk S / sk N, LSI by-ls (KEYS_ONLY), GSI by-gk (gk S, gs N; INCLUDE inc), 10 items in
    partition "p" (item 7 has no gk: it is not in the GSI) and one item in partition "q"."""
    ddb.create_table(
        TableName=table_name,
        KeySchema=[key("pk"), key("sk", "RANGE")],
        AttributeDefinitions=[attr("pk"), attr("sk", "N"), attr("ls"), attr("gk"), attr("gs", "N")],
        BillingMode="PAY_PER_REQUEST",
        LocalSecondaryIndexes=[
            {
                "IndexName": "by-ls",
                "KeySchema": [key("pk"), key("ls", "RANGE")],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-gk",
                "KeySchema": [key("gk"), key("gs", "RANGE")],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["inc"]},
            }
        ],
    )
    for i in range(10):
        item = {
            "pk": {"S": "p"},
            "sk": {"N": str(i)},
            "ls": {"S": f"l{9 - i}"},
            "gs": {"N": str(i // 3)},
            "inc": {"S": f"x{i}"},
            "oth": {"S": f"o{i}"},
            "nested": {"M": {"a": {"L": [{"N": str(i)}, {"S": "z"}]}}},
        }
        if i != 7:
            item["gk"] = {"S": "g"}
        ddb.put_item(TableName=table_name, Item=item)
    ddb.put_item(TableName=table_name, Item={"pk": {"S": "q"}, "sk": {"N": "0"}, "ls": {"S": "l"}})
    return table_name


# --- key conditions and order ----------------------------------------------------------------

NUMBERS = [
    "-10000000000",
    "-100",
    "-2.5",
    "-2",
    "-0.001",
    "0",
    "0.001",
    "1",
    "1.5",
    "2",
    "10",
    "10000000000",
]


@pytest.mark.parametrize(
    ("condition", "values", "expected"),
    [
        ("sk = :a", {":a": "1.5"}, ["1.5"]),
        ("sk < :a", {":a": "-2"}, ["-10000000000", "-100", "-2.5"]),
        ("sk <= :a", {":a": "-2"}, ["-10000000000", "-100", "-2.5", "-2"]),
        ("sk > :a", {":a": "2"}, ["10", "10000000000"]),
        ("sk >= :a", {":a": "2"}, ["2", "10", "10000000000"]),
        (":a < sk", {":a": "2"}, ["10", "10000000000"]),
        ("sk BETWEEN :a AND :b", {":a": "-2", ":b": "0.001"}, ["-2", "-0.001", "0", "0.001"]),
        ("sk BETWEEN :a AND :b", {":a": "3", ":b": "3"}, []),
    ],
)
def test_query_number_sort_key_conditions(
    ddb: Any, table_name: str, condition: str, values: dict[str, str], expected: list[str]
) -> None:
    # DynamoDB rule: numeric sort keys compare as numbers (negative, fractional, large).
    create(ddb, table_name, "N")
    for n in reversed(NUMBERS):
        ddb.put_item(TableName=table_name, Item={"pk": {"S": "p"}, "sk": {"N": n}})
    got = ddb.query(
        TableName=table_name,
        KeyConditionExpression=f"pk = :p AND {condition}",
        ExpressionAttributeValues={":p": {"S": "p"}, **{k: {"N": v} for k, v in values.items()}},
    )
    assert sort_keys(got, "N") == expected
    assert (got["Count"], got["ScannedCount"]) == (len(expected), len(expected))


def test_query_numbers_in_numeric_order_both_ways(ddb: Any, table_name: str) -> None:
    # DynamoDB rule: results come in ascending sort-key order; ScanIndexForward=false reverses.
    create(ddb, table_name, "N")
    for n in [
        "7",
        "-3.25",
        "1E+38",
        "-1E+38",
        "0.5",
        "100",
        "99.99",
        "-0.5",
        "12345678901234567890",
    ]:
        ddb.put_item(TableName=table_name, Item={"pk": {"S": "p"}, "sk": {"N": n}})
    request = {
        "TableName": table_name,
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": "p"}},
    }
    ascending = [
        "-100000000000000000000000000000000000000",
        "-3.25",
        "-0.5",
        "0.5",
        "7",
        "99.99",
        "100",
        "12345678901234567890",
        "100000000000000000000000000000000000000",
    ]
    assert sort_keys(ddb.query(**request), "N") == ascending
    assert sort_keys(ddb.query(**request, ScanIndexForward=False), "N") == ascending[::-1]


STRINGS = ["", "A", "Z", "a", "aa", "ab", "abc", "b", "é", "\uffff", "😀"]  # UTF-8 byte order


@pytest.mark.parametrize(
    ("condition", "values", "expected"),
    [
        ("begins_with(sk, :a)", {":a": "a"}, ["a", "aa", "ab", "abc"]),
        ("begins_with(sk, :a)", {":a": "ab"}, ["ab", "abc"]),
        ("begins_with(sk, :a)", {":a": "é"}, ["é"]),
        ("sk < :a", {":a": "aa"}, ["A", "Z", "a"]),
        ("sk >= :a", {":a": "b"}, ["b", "é", "\uffff", "😀"]),
        ("sk BETWEEN :a AND :b", {":a": "Z", ":b": "ab"}, ["Z", "a", "aa", "ab"]),
        ("sk > :a", {":a": "\uffff"}, ["😀"]),
    ],
)
def test_query_string_sort_key_conditions(
    ddb: Any, table_name: str, condition: str, values: dict[str, str], expected: list[str]
) -> None:
    # DynamoDB rule: string sort keys compare by UTF-8 bytes (so U+FFFF sorts before an emoji,
    # unlike UTF-16 order); begins_with matches a byte prefix.
    create(ddb, table_name, "S")
    for s in STRINGS[1:]:
        ddb.put_item(TableName=table_name, Item={"pk": {"S": "p"}, "sk": {"S": s}})
    got = ddb.query(
        TableName=table_name,
        KeyConditionExpression=f"pk = :p AND {condition}",
        ExpressionAttributeValues={":p": {"S": "p"}, **{k: {"S": v} for k, v in values.items()}},
    )
    assert sort_keys(got, "S") == expected


def test_query_string_order(ddb: Any, table_name: str) -> None:
    # DynamoDB rule: string sort keys are ordered by their UTF-8 bytes.
    create(ddb, table_name, "S")
    for s in reversed(STRINGS[1:]):
        ddb.put_item(TableName=table_name, Item={"pk": {"S": "p"}, "sk": {"S": s}})
    got = ddb.query(
        TableName=table_name,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
    )
    assert sort_keys(got, "S") == STRINGS[1:]


BINARIES = [b"\x00", b"\x00\x00", b"\x01", b"\x7f", b"\x80", b"\x80\x00", b"\xfe\xff", b"\xff"]


@pytest.mark.parametrize(
    ("condition", "values", "expected"),
    [
        ("sk > :a", {":a": b"\x7f"}, BINARIES[4:]),
        ("begins_with(sk, :a)", {":a": b"\x80"}, [b"\x80", b"\x80\x00"]),
        ("begins_with(sk, :a)", {":a": b"\x00"}, [b"\x00", b"\x00\x00"]),
        ("sk BETWEEN :a AND :b", {":a": b"\x01", ":b": b"\x80"}, [b"\x01", b"\x7f", b"\x80"]),
        ("sk <= :a", {":a": b"\x00\x00"}, [b"\x00", b"\x00\x00"]),
    ],
)
def test_query_binary_sort_key_conditions(
    ddb: Any, table_name: str, condition: str, values: dict[str, bytes], expected: list[bytes]
) -> None:
    # DynamoDB rule: binary sort keys compare as unsigned bytes (0x80 sorts after 0x7f).
    create(ddb, table_name, "B")
    for b in reversed(BINARIES):
        ddb.put_item(TableName=table_name, Item={"pk": {"S": "p"}, "sk": {"B": b}})
    got = ddb.query(
        TableName=table_name,
        KeyConditionExpression=f"pk = :p AND {condition}",
        ExpressionAttributeValues={":p": {"S": "p"}, **{k: {"B": v} for k, v in values.items()}},
    )
    assert sort_keys(got, "B") == expected


def test_query_binary_order(ddb: Any, table_name: str) -> None:
    # DynamoDB rule: binary sort keys are ordered as unsigned bytes, shorter prefix first.
    create(ddb, table_name, "B")
    for b in reversed(BINARIES):
        ddb.put_item(TableName=table_name, Item={"pk": {"S": "p"}, "sk": {"B": b}})
    got = ddb.query(
        TableName=table_name,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
        ScanIndexForward=False,
    )
    assert sort_keys(got, "B") == BINARIES[::-1]


def test_query_only_the_partition(ddb: Any, range_table: str) -> None:
    # DynamoDB rule: a query returns the items of exactly one partition key value.
    for pk in ("a", "ab", "b"):
        for sk in ("1", "2"):
            ddb.put_item(TableName=range_table, Item={"pk": {"S": pk}, "sk": {"S": sk}})
    got = ddb.query(
        TableName=range_table,
        KeyConditionExpression="#k = :p",
        ExpressionAttributeNames={"#k": "pk"},
        ExpressionAttributeValues={":p": {"S": "a"}},
    )
    assert [(i["pk"]["S"], i["sk"]["S"]) for i in got["Items"]] == [("a", "1"), ("a", "2")]
    none = ddb.query(
        TableName=range_table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "zz"}},
    )
    assert (none["Items"], none["Count"], none["ScannedCount"]) == ([], 0, 0)


def test_query_hash_only_table(ddb: Any, hash_table: str) -> None:
    # DynamoDB rule: on a table without a sort key, a query returns at most the one item.
    ddb.put_item(TableName=hash_table, Item={"id": {"S": "x"}, "v": {"N": "1"}})
    got = ddb.query(
        TableName=hash_table,
        KeyConditionExpression="id = :i",
        ExpressionAttributeValues={":i": {"S": "x"}},
    )
    assert got["Items"] == [{"id": {"S": "x"}, "v": {"N": "1"}}]


def test_query_legacy_key_conditions(ddb: Any, indexed_table: str) -> None:
    # DynamoDB rule: the legacy KeyConditions parameter selects the same items.
    got = ddb.query(
        TableName=indexed_table,
        KeyConditions={
            "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]},
            "sk": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "2"}, {"N": "4"}]},
        },
        AttributesToGet=["sk"],
    )
    assert got["Items"] == [{"sk": {"N": "2"}}, {"sk": {"N": "3"}}, {"sk": {"N": "4"}}]


# --- paging ------------------------------------------------------------------------------------


@pytest.mark.parametrize("forward", [True, False])
@pytest.mark.parametrize("limit", [1, 3, 4])
def test_query_paging_visits_every_item_once(
    ddb: Any, indexed_table: str, forward: bool, limit: int
) -> None:
    # DynamoDB rule: Limit caps the items evaluated per page; LastEvaluatedKey (the last key
    # evaluated, even when no item follows) resumes the query right after it.
    pages = list(
        all_pages(
            ddb.query,
            TableName=indexed_table,
            KeyConditionExpression="pk = :p AND sk >= :s",
            ExpressionAttributeValues={":p": {"S": "p"}, ":s": {"N": "1"}},
            Limit=limit,
            ScanIndexForward=forward,
        )
    )
    seen = [int(item["sk"]["N"]) for page in pages for item in page["Items"]]
    assert seen == (list(range(1, 10)) if forward else list(range(9, 0, -1)))
    assert all(page["Count"] == len(page["Items"]) <= limit for page in pages)
    assert pages[0]["LastEvaluatedKey"] == {"pk": {"S": "p"}, "sk": {"N": str(seen[limit - 1])}}
    # 9 items: a last page that is exactly full still has a LastEvaluatedKey, then an empty page.
    assert len(pages) == 9 // limit + 1


@pytest.mark.parametrize("index", ["by-ls", "by-gk"])
@pytest.mark.parametrize("forward", [True, False])
def test_query_index_paging_visits_every_item_once(
    ddb: Any, indexed_table: str, index: str, forward: bool
) -> None:
    # DynamoDB rule: on an index, LastEvaluatedKey holds the table key plus the index key, and
    # paging visits every indexed item once, also when several items share an index key.
    hash_name, hash_value = ("pk", "p") if index == "by-ls" else ("gk", "g")
    pages = list(
        all_pages(
            ddb.query,
            TableName=indexed_table,
            IndexName=index,
            KeyConditionExpression="#h = :h",
            ExpressionAttributeNames={"#h": hash_name},
            ExpressionAttributeValues={":h": {"S": hash_value}},
            Limit=2,
            ScanIndexForward=forward,
        )
    )
    items = [item for page in pages for item in page["Items"]]
    sks = [int(item["sk"]["N"]) for item in items]
    if index == "by-ls":
        # ls runs l9..l0 as sk runs 0..9.
        assert sks == (list(range(9, -1, -1)) if forward else list(range(10)))
        assert set(pages[0]["LastEvaluatedKey"]) == {"pk", "sk", "ls"}
    else:
        assert sorted(sks) == [0, 1, 2, 3, 4, 5, 6, 8, 9]  # 7 has no gk
        order = [int(item["gs"]["N"]) for item in items]
        assert order == sorted(order, reverse=not forward)
        assert set(pages[0]["LastEvaluatedKey"]) == {"pk", "sk", "gk", "gs"}


def test_query_page_stops_after_one_megabyte(ddb: Any, range_table: str) -> None:
    # DynamoDB rule: a page reads at most 1 MB: it ends with the item that takes the read size
    # past 1 MB and returns LastEvaluatedKey; the next pages carry on from there.
    blob = "x" * (100 * 1024)
    for i in range(30):
        ddb.put_item(
            TableName=range_table,
            Item={"pk": {"S": "big"}, "sk": {"S": f"{i:02d}"}, "data": {"S": blob}},
        )
    request = {
        "TableName": range_table,
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": "big"}},
        "ProjectionExpression": "sk",
    }
    first = ddb.query(**request)
    # Each item is 102,413 bytes: 10 of them are under 1 MB (1,048,576), 11 are over.
    assert (first["Count"], first["ScannedCount"]) == (11, 11)
    assert first["LastEvaluatedKey"] == {"pk": {"S": "big"}, "sk": {"S": "10"}}
    pages = list(all_pages(ddb.query, **request))
    assert [p["Count"] for p in pages] == [11, 11, 8]
    assert [i["sk"]["S"] for p in pages for i in p["Items"]] == [f"{i:02d}" for i in range(30)]
    # The 1 MB cap applies before the filter, and to COUNT as well.
    del request["ProjectionExpression"]
    counted = ddb.query(**request, Select="COUNT")
    assert (counted["Count"], counted["ScannedCount"]) == (11, 11)


# --- filters, Select, projections ------------------------------------------------------------


def test_query_filter_counts(ddb: Any, indexed_table: str) -> None:
    # DynamoDB rule: FilterExpression runs after the read: ScannedCount counts items read, Count
    # the items returned; Limit caps the items read, not the items returned.
    request = {
        "TableName": indexed_table,
        "KeyConditionExpression": "pk = :p",
        "FilterExpression": "inc IN (:a, :b) OR nested.a[0] = :n",
        "ExpressionAttributeValues": {
            ":p": {"S": "p"},
            ":a": {"S": "x1"},
            ":b": {"S": "x8"},
            ":n": {"N": "5"},
        },
    }
    got = ddb.query(**request)
    assert [i["sk"]["N"] for i in got["Items"]] == ["1", "5", "8"]
    assert (got["Count"], got["ScannedCount"]) == (3, 10)
    limited = ddb.query(**request, Limit=4)
    assert [i["sk"]["N"] for i in limited["Items"]] == ["1"]
    assert (limited["Count"], limited["ScannedCount"]) == (1, 4)
    assert limited["LastEvaluatedKey"] == {"pk": {"S": "p"}, "sk": {"N": "3"}}
    counted = ddb.query(**request, Select="COUNT")
    assert "Items" not in counted
    assert (counted["Count"], counted["ScannedCount"]) == (3, 10)


def test_query_select_and_projection(ddb: Any, indexed_table: str) -> None:
    # DynamoDB rule: ProjectionExpression returns just the named paths (nested ones too);
    # Select SPECIFIC_ATTRIBUTES goes with it; ALL_ATTRIBUTES returns whole items.
    base = {
        "TableName": indexed_table,
        "KeyConditionExpression": "pk = :p AND sk = :s",
        "ExpressionAttributeValues": {":p": {"S": "p"}, ":s": {"N": "3"}},
    }
    got = ddb.query(
        **base,
        ProjectionExpression="#o, nested.a[1], nope",
        ExpressionAttributeNames={"#o": "oth"},
    )
    assert got["Items"] == [{"oth": {"S": "o3"}, "nested": {"M": {"a": {"L": [{"S": "z"}]}}}}]
    got = ddb.query(**base, Select="SPECIFIC_ATTRIBUTES", ProjectionExpression="sk")
    assert got["Items"] == [{"sk": {"N": "3"}}]
    got = ddb.query(**base, Select="ALL_ATTRIBUTES")
    assert set(got["Items"][0]) == {"pk", "sk", "ls", "gk", "gs", "inc", "oth", "nested"}


def test_query_lsi_projections(ddb: Any, indexed_table: str) -> None:
    # DynamoDB rule: an LSI returns its projected attributes (table key + index key for
    # KEYS_ONLY) by default, and fetches other attributes from the table when asked.
    base = {
        "TableName": indexed_table,
        "IndexName": "by-ls",
        "KeyConditionExpression": "pk = :p AND ls = :l",
        "ExpressionAttributeValues": {":p": {"S": "p"}, ":l": {"S": "l6"}},
    }
    keys_only = {"pk": {"S": "p"}, "sk": {"N": "3"}, "ls": {"S": "l6"}}
    assert ddb.query(**base)["Items"] == [keys_only]
    assert ddb.query(**base, Select="ALL_PROJECTED_ATTRIBUTES")["Items"] == [keys_only]
    assert set(ddb.query(**base, Select="ALL_ATTRIBUTES")["Items"][0]) == {
        "pk", "sk", "ls", "gk", "gs", "inc", "oth", "nested"
    }  # fmt: skip
    assert ddb.query(**base, ProjectionExpression="oth")["Items"] == [{"oth": {"S": "o3"}}]
    # A filter on a non-projected attribute of an LSI reads it from the table.
    values = {**base["ExpressionAttributeValues"], ":o": {"S": "o3"}}
    filtered = ddb.query(
        **{**base, "ExpressionAttributeValues": values}, FilterExpression="oth = :o"
    )
    assert filtered["Items"] == [keys_only]


def test_query_gsi_projections(ddb: Any, indexed_table: str) -> None:
    # DynamoDB rule: a GSI holds only its projected attributes (keys + INCLUDE list) and cannot
    # fetch from the table: ALL_ATTRIBUTES is rejected, and a projection or filter naming a
    # non-projected attribute sees it as absent.
    base = {
        "TableName": indexed_table,
        "IndexName": "by-gk",
        "KeyConditionExpression": "gk = :g AND gs = :s",
        "ExpressionAttributeValues": {":g": {"S": "g"}, ":s": {"N": "3"}},
    }
    got = ddb.query(**base)
    assert got["Items"] == [
        {"pk": {"S": "p"}, "sk": {"N": "9"}, "gk": {"S": "g"}, "gs": {"N": "3"}, "inc": {"S": "x9"}}
    ]
    assert ddb.query(**base, ProjectionExpression="inc, oth")["Items"] == [{"inc": {"S": "x9"}}]
    missing = ddb.query(
        **{
            **base,
            "ExpressionAttributeValues": {**base["ExpressionAttributeValues"], ":o": {"S": "o9"}},
        },
        FilterExpression="oth = :o",
    )
    assert (missing["Count"], missing["ScannedCount"]) == (0, 1)
    assert error_of(lambda: ddb.query(**base, Select="ALL_ATTRIBUTES")) == (
        "ValidationException",
        INVALID + "Select type ALL_ATTRIBUTES is not supported for global secondary index by-gk "
        "because its projection type is not ALL",
    )


def test_query_sparse_gsi(ddb: Any, indexed_table: str) -> None:
    # DynamoDB rule: items without the index key attributes are not in a GSI; writes that add or
    # remove the attribute move the item into or out of the index.
    def gsi_sks() -> list[int]:
        got = ddb.query(
            TableName=indexed_table,
            IndexName="by-gk",
            KeyConditionExpression="gk = :g",
            ExpressionAttributeValues={":g": {"S": "g"}},
        )
        return sorted(int(i["sk"]["N"]) for i in got["Items"])

    assert gsi_sks() == [0, 1, 2, 3, 4, 5, 6, 8, 9]
    p = {"S": "p"}
    ddb.update_item(
        TableName=indexed_table,
        Key={"pk": p, "sk": {"N": "7"}},
        UpdateExpression="SET gk = :g",
        ExpressionAttributeValues={":g": {"S": "g"}},
    )
    ddb.update_item(
        TableName=indexed_table, Key={"pk": p, "sk": {"N": "0"}}, UpdateExpression="REMOVE gk"
    )
    assert gsi_sks() == [1, 2, 3, 4, 5, 6, 7, 8, 9]


def test_query_consistent_read_on_indexes(ddb: Any, indexed_table: str) -> None:
    # DynamoDB rule: ConsistentRead is allowed on an LSI but not on a GSI.
    lsi = ddb.query(
        TableName=indexed_table,
        IndexName="by-ls",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "q"}},
        ConsistentRead=True,
    )
    assert lsi["Count"] == 1
    call = lambda: ddb.query(  # noqa: E731
        TableName=indexed_table,
        IndexName="by-gk",
        KeyConditionExpression="gk = :g",
        ExpressionAttributeValues={":g": {"S": "g"}},
        ConsistentRead=True,
    )
    assert error_of(call) == (
        "ValidationException",
        "Consistent reads are not supported on global secondary indexes",
    )


# --- errors ------------------------------------------------------------------------------------

P = {":p": {"S": "p"}}
KEY_CONDITION_ERRORS = [
    ("sk = :s", {":s": {"N": "1"}}, "Query condition missed key schema element: pk"),
    ("pk > :p", P, "Query key condition not supported"),
    ("begins_with(pk, :p)", P, "Query key condition not supported"),
    (
        "pk = :p OR sk = :s",
        {**P, ":s": {"N": "1"}},
        "Invalid operator used in KeyConditionExpression: OR",
    ),
    (
        "pk = :p AND sk <> :s",
        {**P, ":s": {"N": "1"}},
        "Invalid operator used in KeyConditionExpression: <>",
    ),
    (
        "pk = :p AND sk IN (:s)",
        {**P, ":s": {"N": "1"}},
        "Invalid operator used in KeyConditionExpression: IN",
    ),
    (
        "pk = :p AND NOT sk = :s",
        {**P, ":s": {"N": "1"}},
        "Invalid operator used in KeyConditionExpression: NOT",
    ),
    (
        "pk = :p AND attribute_exists(sk)",
        P,
        "Invalid operator used in KeyConditionExpression: attribute_exists",
    ),
    (
        "pk = :p AND contains(sk, :s)",
        {**P, ":s": {"N": "1"}},
        "Invalid operator used in KeyConditionExpression: contains",
    ),
    (
        "pk = :p AND size(sk) = :s",
        {**P, ":s": {"N": "1"}},
        "KeyConditionExpressions cannot contain nested operations",
    ),
    (
        "pk = :p AND sk.x = :s",
        {**P, ":s": {"N": "1"}},
        "KeyConditionExpressions cannot have conditions on nested attributes",
    ),
    ("pk = :p AND pk = :p", P, "KeyConditionExpressions must only contain one condition per key"),
    (
        "pk = :p AND sk > :s AND sk < :s",
        {**P, ":s": {"N": "1"}},
        "KeyConditionExpressions must only contain one condition per key",
    ),
    (
        "pk = :p AND :p = :p",
        P,
        "Invalid condition in KeyConditionExpression: No key attribute specified",
    ),
    ("pk = :p AND oth = :p", P, "Query condition missed key schema element: sk"),
    ("pk = :p AND sk = :p", P, INVALID + "Condition parameter type does not match schema type"),
    (
        "pk = :s",
        {":s": {"N": "1"}},
        INVALID + "Condition parameter type does not match schema type",
    ),
    (
        "pk = :p AND begins_with(sk, :s)",
        {**P, ":s": {"N": "1"}},
        "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
        "operator or function: begins_with, operand type: N",
    ),
    (
        "pk = :p AND sk BETWEEN :b AND :a",
        {**P, ":a": {"N": "1"}, ":b": {"N": "3"}},
        "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater "
        "than or equal to lower bound; lower bound operand: AttributeValue: {N:3}, upper bound "
        "operand: AttributeValue: {N:1}",
    ),
    (
        "pk = :p AND sk = :s",
        P,
        "Invalid KeyConditionExpression: An expression attribute value used in expression is not defined; attribute value: :s",
    ),
    (
        "pk = :p",
        {**P, ":u": {"S": "u"}},
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:u}",
    ),
]


@pytest.mark.parametrize(("condition", "values", "message"), KEY_CONDITION_ERRORS)
def test_query_key_condition_errors(
    ddb: Any, indexed_table: str, condition: str, values: dict[str, Any], message: str
) -> None:
    # DynamoDB rule: a KeyConditionExpression must be one equality on the partition key and at
    # most one of =, <, <=, >, >=, BETWEEN, begins_with on the sort key, with the schema's types.
    call = lambda: ddb.query(  # noqa: E731
        TableName=indexed_table, KeyConditionExpression=condition, ExpressionAttributeValues=values
    )
    assert error_of(call) == ("ValidationException", message)


def test_query_index_key_condition_uses_index_schema(ddb: Any, indexed_table: str) -> None:
    # DynamoDB rule: on an index, the key condition is checked against the index's key schema.
    call = lambda: ddb.query(  # noqa: E731
        TableName=indexed_table,
        IndexName="by-gk",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues=P,
    )
    assert error_of(call) == (
        "ValidationException",
        "Query condition missed key schema element: gk",
    )


OTHER_ERRORS = [
    (
        {},
        "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
    ),
    ({"IndexName": "nope-index"}, "The table does not have the specified index: nope-index"),
    (
        {"FilterExpression": "sk > :p"},
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk",
    ),
    (
        {"FilterExpression": "begins_with(pk, :p)"},
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: pk",
    ),
    (
        {"IndexName": "by-ls", "FilterExpression": "ls > :p"},
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: ls",
    ),
    (
        {"ProjectionExpression": "pk.a"},
        "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: Key: pk",
    ),
    (
        {"ProjectionExpression": "gs[0]"},
        "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: IndexKey: gs",
    ),
    (
        {"FilterExpression": "gk.x = :p"},
        "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: IndexKey: gk",
    ),
    (
        {"Select": "SPECIFIC_ATTRIBUTES"},
        INVALID
        + "Select type SPECIFIC_ATTRIBUTES requires AttributesToGet or ProjectionExpression",
    ),
    (
        {"Select": "COUNT", "ProjectionExpression": "oth"},
        "Cannot specify the ProjectionExpression when choosing to get COUNT",
    ),
    ({"ExclusiveStartKey": {"pk": {"S": "p"}}}, "The provided starting key is invalid"),
    (
        {"ExclusiveStartKey": {"pk": {"S": "p"}, "sk": {"S": "1"}}},
        "The provided key element does not match the schema",
    ),
    (
        {"ExclusiveStartKey": {"pk": {"S": "q"}, "sk": {"N": "1"}}},
        "The provided starting key is outside query boundaries based on provided conditions",
    ),
    (
        {
            "IndexName": "by-ls",
            "ExclusiveStartKey": {"pk": {"S": "p"}, "sk": {"N": "1"}, "oth": {"S": "l1"}},
        },
        "The provided starting key is invalid",
    ),
    (
        {
            "IndexName": "by-ls",
            "ExclusiveStartKey": {"pk": {"S": "p"}, "sk": {"S": "1"}, "ls": {"S": "l1"}},
        },
        "The provided starting key is invalid: The provided key element does not match the schema",
    ),
]


@pytest.mark.parametrize(("extra", "message"), OTHER_ERRORS)
def test_query_request_errors(
    ddb: Any, indexed_table: str, extra: dict[str, Any], message: str
) -> None:
    # DynamoDB rule: index names, filters on key attributes, paths into key attributes, Select
    # combinations and ExclusiveStartKey shapes are validated with these texts.
    request: dict[str, Any] = {"TableName": indexed_table}
    if extra:
        request.update(KeyConditionExpression="pk = :p", ExpressionAttributeValues=P)
    assert error_of(lambda: ddb.query(**request, **extra)) == ("ValidationException", message)


def test_query_start_key_outside_range_condition(ddb: Any, indexed_table: str) -> None:
    # DynamoDB rule: with a sort-key condition, ExclusiveStartKey must satisfy it, and must be in
    # the queried partition.
    def call(start_pk: str, start_sk: str) -> Callable[[], Any]:
        return lambda: ddb.query(
            TableName=indexed_table,
            KeyConditionExpression="pk = :p AND sk > :s",
            ExpressionAttributeValues={":p": {"S": "p"}, ":s": {"N": "2"}},
            ExclusiveStartKey={"pk": {"S": start_pk}, "sk": {"N": start_sk}},
        )

    assert error_of(call("p", "1")) == (
        "ValidationException",
        "The provided starting key does not match the range key predicate",
    )
    assert error_of(call("q", "5")) == (
        "ValidationException",
        "The query can return at most one row and cannot be restarted",
    )
    resumed = call("p", "7")()
    assert [i["sk"]["N"] for i in resumed["Items"]] == ["8", "9"]


def test_query_unknown_table(ddb: Any) -> None:
    # DynamoDB rule: data-plane operations on a missing table say just "Requested resource not found".
    call = lambda: ddb.query(  # noqa: E731
        TableName="no-such-query-table",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues=P,
    )
    assert error_of(call) == ("ResourceNotFoundException", "Requested resource not found")


def test_query_binary_values_round_trip(ddb: Any, table_name: str) -> None:
    # DynamoDB rule: binary keys come back exactly as written (every byte value).
    create(ddb, table_name, "B")
    raw = bytes(range(256))
    ddb.put_item(TableName=table_name, Item={"pk": {"S": "p"}, "sk": {"B": raw}})
    got = ddb.query(
        TableName=table_name,
        KeyConditionExpression="pk = :p AND sk = :b",
        ExpressionAttributeValues={":p": {"S": "p"}, ":b": {"B": raw}},
    )
    assert got["Items"] == [{"pk": {"S": "p"}, "sk": {"B": raw}}]


def test_query_consumed_capacity_counts_items_read(ddb: Any, range_table: str) -> None:
    # DynamoDB rule: a query consumes capacity for every item it reads, before the filter: one
    # unit per started 4 KB of the summed item sizes, half of that for eventually consistent reads.
    for i in range(10):
        item = {"pk": {"S": "c"}, "sk": {"S": f"{i}"}, "fill": {"S": "z" * 1000}}  # 1,010 bytes
        ddb.put_item(TableName=range_table, Item=item)
    request = {
        "TableName": range_table,
        "KeyConditionExpression": "pk = :p",
        "FilterExpression": "fill = :none",
        "ExpressionAttributeValues": {":p": {"S": "c"}, ":none": {"S": "-"}},
        "ReturnConsumedCapacity": "TOTAL",
    }
    got = ddb.query(**request)
    assert got["Count"] == 0
    assert got["ConsumedCapacity"] == {
        "TableName": range_table,
        "CapacityUnits": 1.5,
        "ReadCapacityUnits": 1.5,
    }  # 10,100 bytes = 3 started 4 KB blocks, halved
    strong = ddb.query(**request, ConsistentRead=True)
    assert strong["ConsumedCapacity"]["CapacityUnits"] == 3.0


def test_query_consumed_capacity_of_an_index(ddb: Any, indexed_table: str) -> None:
    # DynamoDB rule: with ReturnConsumedCapacity INDEXES, a GSI query charges the index, not the table.
    got = ddb.query(
        TableName=indexed_table,
        IndexName="by-gk",
        KeyConditionExpression="gk = :g",
        ExpressionAttributeValues={":g": {"S": "g"}},
        ReturnConsumedCapacity="INDEXES",
    )
    assert got["ConsumedCapacity"] == {
        "TableName": indexed_table,
        "CapacityUnits": 0.5,
        "ReadCapacityUnits": 0.5,
        "Table": {"CapacityUnits": 0.0, "ReadCapacityUnits": 0.0},
        "GlobalSecondaryIndexes": {"by-gk": {"CapacityUnits": 0.5, "ReadCapacityUnits": 0.5}},
    }
