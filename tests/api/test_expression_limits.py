"""DynamoDB's expression limits against a live server: 4 KB per expression string, document paths
at most 32 levels deep, at most 100 operands after IN."""

from __future__ import annotations

from typing import Any

from api_helpers import error_of, validation

ITEM = {"id": {"S": "a"}, "n": {"N": "1"}}


def padded_condition(size: int) -> str:
    """`attribute_not_exists(id) OR b = :v` padded with spaces to exactly `size` bytes."""
    text = "attribute_not_exists(id) OR b = :v"
    return text + " " * (size - len(text))


def test_expression_of_4_kb_passes_and_one_byte_more_fails(ddb: Any, hash_table: str) -> None:
    # DynamoDB rule: an expression string is at most 4 KB (4,096 bytes); the size counts spaces.
    ddb.put_item(
        TableName=hash_table,
        Item=ITEM,
        ConditionExpression=padded_condition(4096),
        ExpressionAttributeValues={":v": {"S": "x"}},
    )
    call = lambda: ddb.put_item(  # noqa: E731
        TableName=hash_table,
        Item={"id": {"S": "a"}, "n": {"N": "2"}},
        ConditionExpression=padded_condition(4097),
        ExpressionAttributeValues={":v": {"S": "x"}},
    )
    assert error_of(call) == validation(
        "Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; "
        "expression size: 4097"
    )
    assert ddb.get_item(TableName=hash_table, Key={"id": {"S": "a"}})["Item"] == ITEM


def test_expression_size_is_counted_in_utf8_bytes(ddb: Any, hash_table: str) -> None:
    # 2,000 two-byte characters: 2,000 characters but 4,000 bytes, plus the rest of the text.
    name = "é" * 2000
    text = "#n = :v OR #n = :w"
    call = lambda: ddb.scan(  # noqa: E731
        TableName=hash_table,
        FilterExpression=text + " " * 100,
        ExpressionAttributeNames={"#n": "n"},
        ExpressionAttributeValues={":v": {"S": name}, ":w": {"S": "x"}},
    )
    assert call()["Count"] == 0  # values do not count toward the expression's size
    projection = "n, " + "é" * 2100
    call = lambda: ddb.get_item(  # noqa: E731
        TableName=hash_table, Key={"id": {"S": "a"}}, ProjectionExpression=projection
    )
    assert error_of(call) == validation(
        "Invalid ProjectionExpression: Expression size has exceeded the maximum allowed size; "
        "expression size: 4203"
    )


def test_every_expression_kind_has_the_size_limit(ddb: Any, range_table: str) -> None:
    long_set = "SET " + ", ".join(f"a{i} = :v" for i in range(600))
    assert len(long_set) > 4096
    call = lambda: ddb.update_item(  # noqa: E731
        TableName=range_table,
        Key={"pk": {"S": "p"}, "sk": {"S": "s"}},
        UpdateExpression=long_set,
        ExpressionAttributeValues={":v": {"N": "1"}},
    )
    assert error_of(call) == validation(
        "Invalid UpdateExpression: Expression size has exceeded the maximum allowed size; "
        f"expression size: {len(long_set)}"
    )
    key_condition = "pk = :p" + " " * 4090
    call = lambda: ddb.query(  # noqa: E731
        TableName=range_table,
        KeyConditionExpression=key_condition,
        ExpressionAttributeValues={":p": {"S": "p"}},
    )
    assert error_of(call) == validation(
        "Invalid KeyConditionExpression: Expression size has exceeded the maximum allowed size; "
        "expression size: 4097"
    )
    assert ddb.scan(TableName=range_table)["Items"] == []


def test_document_path_of_32_levels_passes_and_33_fails(ddb: Any, hash_table: str) -> None:
    # DynamoDB rule: a document path has at most 32 levels; map keys and list indexes both count.
    nested: dict[str, Any] = {"S": "deep"}
    for _ in range(31):
        nested = {"M": {"m": nested}}
    ddb.put_item(TableName=hash_table, Item={"id": {"S": "d"}, "m": nested})
    path32 = ".".join(["m"] * 32)
    got = ddb.get_item(TableName=hash_table, Key={"id": {"S": "d"}}, ProjectionExpression=path32)
    assert got["Item"] == {"m": nested}
    for path33, levels in ((path32 + ".m", 33), (path32 + "[0][1]", 34)):
        call = lambda path=path33: ddb.get_item(  # noqa: E731
            TableName=hash_table, Key={"id": {"S": "d"}}, ProjectionExpression=path
        )
        assert error_of(call) == validation(
            "Invalid ProjectionExpression: The document path has too many nesting levels; "
            f"nesting levels: {levels}"
        )
    call = lambda: ddb.update_item(  # noqa: E731
        TableName=hash_table,
        Key={"id": {"S": "d"}},
        UpdateExpression="REMOVE " + path32 + ".m",
    )
    assert error_of(call) == validation(
        "Invalid UpdateExpression: The document path has too many nesting levels; "
        "nesting levels: 33"
    )
    assert ddb.get_item(TableName=hash_table, Key={"id": {"S": "d"}})["Item"]["m"] == nested


def test_in_takes_at_most_100_operands(ddb: Any, hash_table: str) -> None:
    ddb.put_item(TableName=hash_table, Item=ITEM)
    values = {f":v{i}": {"N": str(i)} for i in range(101)}

    def scan(count: int) -> Any:
        names = [f":v{i}" for i in range(count)]
        return ddb.scan(
            TableName=hash_table,
            FilterExpression=f"n IN ({', '.join(names)})",
            ExpressionAttributeValues={k: values[k] for k in names},
        )

    assert scan(100)["Items"] == [ITEM]
    assert error_of(lambda: scan(101)) == validation(
        "Invalid FilterExpression: The IN operator is provided with too many number of "
        "operands; number of operands: 101"
    )
