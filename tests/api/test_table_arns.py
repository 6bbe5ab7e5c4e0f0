"""A table ARN wherever a TableName goes (botocore's `TableArn` shape), against a live server."""

from __future__ import annotations

from typing import Any

from api_helpers import body, error_of, validation
from conftest import RunningServer
from test_cli import aws_json

ARN_PREFIX = "arn:aws:dynamodb:us-east-1:000000000000:table/"
KEY_SCHEMA = [{"AttributeName": "id", "KeyType": "HASH"}]
ATTRIBUTES = [{"AttributeName": "id", "AttributeType": "S"}]
PATTERN = "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"


def test_item_operations_take_the_table_arn(ddb: Any, hash_table: str) -> None:
    # DynamoDB rule: PutItem, GetItem, UpdateItem, DeleteItem, Query and Scan name their table
    # by name or by ARN; both reach the same items.
    arn = ARN_PREFIX + hash_table
    ddb.put_item(TableName=arn, Item={"id": {"S": "a"}, "n": {"N": "1"}})
    assert ddb.get_item(TableName=hash_table, Key={"id": {"S": "a"}})["Item"] == {
        "id": {"S": "a"},
        "n": {"N": "1"},
    }
    updated = ddb.update_item(
        TableName=arn,
        Key={"id": {"S": "a"}},
        UpdateExpression="SET n = n + :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
        ReturnValues="UPDATED_NEW",
        ReturnConsumedCapacity="TOTAL",
    )
    # ConsumedCapacity names the table, not the ARN the request used.
    assert body(updated) == {
        "Attributes": {"n": {"N": "2"}},
        "ConsumedCapacity": {
            "TableName": hash_table,
            "CapacityUnits": 1.0,
            "WriteCapacityUnits": 1.0,
        },
    }
    assert ddb.get_item(TableName=arn, Key={"id": {"S": "a"}})["Item"]["n"] == {"N": "2"}
    query = ddb.query(
        TableName=arn,
        KeyConditionExpression="id = :a",
        ExpressionAttributeValues={":a": {"S": "a"}},
    )
    assert query["Items"] == [{"id": {"S": "a"}, "n": {"N": "2"}}]
    assert ddb.scan(TableName=arn)["Count"] == 1
    deleted = ddb.delete_item(TableName=arn, Key={"id": {"S": "a"}}, ReturnValues="ALL_OLD")
    assert deleted["Attributes"] == {"id": {"S": "a"}, "n": {"N": "2"}}
    assert ddb.scan(TableName=hash_table)["Items"] == []


def test_batches_answer_under_the_key_the_request_used(ddb: Any, hash_table: str) -> None:
    # The SDKs look responses up by the request's own key, so an ARN key is answered as the ARN.
    arn = ARN_PREFIX + hash_table
    ddb.batch_write_item(
        RequestItems={
            arn: [{"PutRequest": {"Item": {"id": {"S": "x"}}}}],
            hash_table: [{"PutRequest": {"Item": {"id": {"S": "y"}}}}],
        }
    )
    got = ddb.batch_get_item(
        RequestItems={
            arn: {"Keys": [{"id": {"S": "x"}}]},
            hash_table: {"Keys": [{"id": {"S": "y"}}]},
        }
    )
    assert body(got) == {
        "Responses": {arn: [{"id": {"S": "x"}}], hash_table: [{"id": {"S": "y"}}]},
        "UnprocessedKeys": {},
    }


def test_batch_write_of_one_item_by_name_and_by_arn_is_a_duplicate(
    ddb: Any, hash_table: str
) -> None:
    # The same item written twice in one batch is refused, however its table is named.
    arn = ARN_PREFIX + hash_table
    call = lambda: ddb.batch_write_item(  # noqa: E731
        RequestItems={
            arn: [{"PutRequest": {"Item": {"id": {"S": "same"}}}}],
            hash_table: [{"DeleteRequest": {"Key": {"id": {"S": "same"}}}}],
        }
    )
    assert error_of(call) == validation("Provided list of item keys contains duplicates")
    assert ddb.scan(TableName=hash_table)["Items"] == []


def test_transactions_take_the_table_arn(ddb: Any, hash_table: str) -> None:
    arn = ARN_PREFIX + hash_table
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": arn, "Item": {"id": {"S": "t1"}}}},
            {"Put": {"TableName": hash_table, "Item": {"id": {"S": "t2"}}}},
        ]
    )
    got = ddb.transact_get_items(
        TransactItems=[
            {"Get": {"TableName": arn, "Key": {"id": {"S": "t2"}}}},
            {"Get": {"TableName": arn, "Key": {"id": {"S": "t1"}}}},
        ]
    )
    assert [r["Item"] for r in got["Responses"]] == [{"id": {"S": "t2"}}, {"id": {"S": "t1"}}]
    # One item named through its ARN and through its name is still one item.
    call = lambda: ddb.transact_write_items(  # noqa: E731
        TransactItems=[
            {"Delete": {"TableName": arn, "Key": {"id": {"S": "t1"}}}},
            {
                "ConditionCheck": {
                    "TableName": hash_table,
                    "Key": {"id": {"S": "t1"}},
                    "ConditionExpression": "attribute_exists(id)",
                }
            },
        ]
    )
    assert error_of(call) == validation(
        "Transaction request cannot include multiple operations on one item"
    )


def test_control_plane_takes_the_table_arn(ddb: Any, table_name: str) -> None:
    # CreateTable with an ARN creates the table the ARN names; the other control-plane
    # operations find it by ARN.
    arn = ARN_PREFIX + table_name
    created = ddb.create_table(
        TableName=arn,
        KeySchema=KEY_SCHEMA,
        AttributeDefinitions=ATTRIBUTES,
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]
    assert (created["TableName"], created["TableArn"]) == (table_name, arn)
    assert ddb.describe_table(TableName=arn)["Table"]["TableName"] == table_name
    ddb.update_time_to_live(
        TableName=arn, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"}
    )
    assert ddb.describe_time_to_live(TableName=arn)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "exp",
    }
    updated = ddb.update_table(
        TableName=arn,
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
    )["TableDescription"]
    assert updated["ProvisionedThroughput"]["ReadCapacityUnits"] == 3
    call = lambda: ddb.create_table(  # noqa: E731
        TableName=table_name,
        KeySchema=KEY_SCHEMA,
        AttributeDefinitions=ATTRIBUTES,
        BillingMode="PAY_PER_REQUEST",
    )
    assert error_of(call) == ("ResourceInUseException", f"Table already exists: {table_name}")
    assert ddb.delete_table(TableName=arn)["TableDescription"]["TableStatus"] == "DELETING"
    assert error_of(lambda: ddb.describe_table(TableName=table_name)) == (
        "ResourceNotFoundException",
        f"Requested resource not found: Table: {table_name} not found",
    )


def test_arn_of_a_missing_table_is_not_found(ddb: Any, table_name: str) -> None:
    arn = ARN_PREFIX + table_name
    assert error_of(lambda: ddb.get_item(TableName=arn, Key={"id": {"S": "a"}})) == (
        "ResourceNotFoundException",
        "Requested resource not found",
    )
    assert error_of(lambda: ddb.describe_table(TableName=arn)) == (
        "ResourceNotFoundException",
        f"Requested resource not found: Table: {table_name} not found",
    )


def test_a_string_that_is_not_a_table_arn_is_checked_as_a_name(ddb: Any, hash_table: str) -> None:
    # Only a well-formed table ARN takes the name's place; anything else is a name, and fails the
    # name's pattern (and length) exactly as before.
    for bad in (
        f"arn:aws:dynamodb:us-east-1:000000000000:table/{hash_table}/stream/x",
        f"arn:aws:dynamodb:us-east-1:123:table/{hash_table}",
        f"arn:aws:s3:us-east-1:000000000000:table/{hash_table}",
        "arn:aws:dynamodb:us-east-1:000000000000:table/ab",
    ):
        assert error_of(lambda bad=bad: ddb.get_item(TableName=bad, Key={"id": {"S": "a"}})) == (
            validation(
                f"1 validation error detected: Value '{bad}' at 'tableName' failed to satisfy "
                f"constraint: {PATTERN}"
            )
        ), bad
    long_name = "arn:aws:dynamodb:us-east-1:000000000000:table/" + "a" * 256
    assert error_of(lambda: ddb.describe_table(TableName=long_name)) == validation(
        "TableName must be at least 3 characters long and at most 255 characters long"
    )
    # A batch key is checked the same way, as a map key.
    bad = f"arn:aws:dynamodb:us-east-1:123:table/{hash_table}"
    assert error_of(
        lambda: ddb.batch_get_item(RequestItems={bad: {"Keys": [{"id": {"S": "a"}}]}})
    ) == validation(
        "1 validation error detected: Value '{\"" + bad + '":{"Keys":[{"id":{"S":"a"}}]}}\''
        " at 'requestItems' failed to satisfy constraint: Map keys must satisfy constraint: "
        "[Member must have length less than or equal to 255, Member must have length greater "
        "than or equal to 3, " + PATTERN + "]"
    )


def test_cli_takes_the_table_arn(server: RunningServer, hash_table: str) -> None:
    arn = ARN_PREFIX + hash_table
    aws_json(server, "put-item", "--table-name", arn, "--item", '{"id": {"S": "cli"}}')
    got = aws_json(server, "get-item", "--table-name", arn, "--key", '{"id": {"S": "cli"}}')
    assert got == {"Item": {"id": {"S": "cli"}}}
    described = aws_json(server, "describe-table", "--table-name", arn)
    assert described["Table"]["TableArn"] == arn
