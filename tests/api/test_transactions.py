"""TransactWriteItems and TransactGetItems against a live server: atomicity, CancellationReasons,
ClientRequestToken idempotency, limits."""

from __future__ import annotations

import signal
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from api_helpers import body, error_of, validation
from botocore.exceptions import ClientError
from conftest import RunningServer, start_server


def key(i: int | str) -> dict[str, Any]:
    return {"id": {"S": str(i)}}


def get(ddb: Any, table: str, i: int | str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = ddb.get_item(
        TableName=table, Key=key(i), ConsistentRead=True
    ).get("Item")
    return item


@pytest.fixture
def two_tables(ddb: Any, hash_table: str) -> tuple[str, str]:
    other = hash_table + "-2"
    ddb.create_table(
        TableName=other,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName=hash_table, Item={**key("a"), "v": {"N": "1"}})
    ddb.put_item(TableName=other, Item={**key("b"), "v": {"N": "1"}})
    return hash_table, other


def test_transact_write_items_applies_all_actions(ddb: Any, two_tables: tuple[str, str]) -> None:
    # Put, Update, Delete and ConditionCheck across tables commit together.
    first, second = two_tables
    out = ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": first, "Item": {**key("new"), "n": {"N": "2.50"}}}},
            {
                "Update": {
                    "TableName": first,
                    "Key": key("a"),
                    "UpdateExpression": "SET v = v + :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                    "ConditionExpression": "v = :one",
                }
            },
            {"Delete": {"TableName": second, "Key": key("b")}},
            {
                "ConditionCheck": {
                    "TableName": second,
                    "Key": key("missing"),
                    "ConditionExpression": "attribute_not_exists(id)",
                }
            },
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    assert sorted(out["ConsumedCapacity"], key=lambda c: c["TableName"]) == [
        {"TableName": first, "CapacityUnits": 4.0, "WriteCapacityUnits": 4.0},
        {"TableName": second, "CapacityUnits": 4.0, "WriteCapacityUnits": 4.0},
    ]
    assert get(ddb, first, "new") == {**key("new"), "n": {"N": "2.5"}}
    assert get(ddb, first, "a") == {**key("a"), "v": {"N": "2"}}
    assert get(ddb, second, "b") is None


def test_transact_write_items_cancellation_reasons(ddb: Any, two_tables: tuple[str, str]) -> None:
    # One failed condition cancels everything; CancellationReasons has one entry per action, in
    # order, with the stored item for ReturnValuesOnConditionCheckFailure=ALL_OLD.
    first, second = two_tables
    with pytest.raises(ClientError) as info:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": first, "Item": key("x")}},
                {
                    "ConditionCheck": {
                        "TableName": first,
                        "Key": key("a"),
                        "ConditionExpression": "v = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
                {"Delete": {"TableName": second, "Key": key("b")}},
                {
                    "Update": {
                        "TableName": second,
                        "Key": key("c"),
                        "UpdateExpression": "SET w = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                        "ConditionExpression": "attribute_exists(id)",
                    }
                },
            ]
        )
    response = info.value.response
    assert response["Error"] == {
        "Code": "TransactionCanceledException",
        "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, ConditionalCheckFailed, None, ConditionalCheckFailed]",
    }
    assert response["CancellationReasons"] == [
        {"Code": "None"},
        {
            "Code": "ConditionalCheckFailed",
            "Message": "The conditional request failed",
            "Item": {**key("a"), "v": {"N": "1"}},
        },
        {"Code": "None"},
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"},
    ]
    assert get(ddb, first, "x") is None
    assert get(ddb, second, "b") == {**key("b"), "v": {"N": "1"}}
    assert get(ddb, second, "c") is None


def test_transact_write_items_validation_error_reason(
    ddb: Any, two_tables: tuple[str, str]
) -> None:
    # An action that fails at write time (wrong operand type) cancels the transaction with a
    # ValidationError reason.
    first, _ = two_tables
    with pytest.raises(ClientError) as info:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": first, "Item": key("y")}},
                {
                    "Update": {
                        "TableName": first,
                        "Key": key("a"),
                        "UpdateExpression": "ADD v :s",
                        "ExpressionAttributeValues": {":s": {"SS": ["x"]}},
                    }
                },
            ]
        )
    response = info.value.response
    assert response["Error"]["Code"] == "TransactionCanceledException"
    assert response["CancellationReasons"] == [
        {"Code": "None"},
        {
            "Code": "ValidationError",
            "Message": "An operand in the update expression has an incorrect data type",
        },
    ]
    assert get(ddb, first, "y") is None


def test_transact_write_items_client_request_token(ddb: Any, hash_table: str) -> None:
    # The same ClientRequestToken with the same request succeeds without applying it again;
    # the same token with a different request is IdempotentParameterMismatchException.
    token = str(uuid.uuid4())
    items = [
        {
            "Update": {
                "TableName": hash_table,
                "Key": key("counter"),
                "UpdateExpression": "ADD n :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        }
    ]
    first = ddb.transact_write_items(TransactItems=items, ClientRequestToken=token)
    second = ddb.transact_write_items(TransactItems=items, ClientRequestToken=token)
    assert body(first) == body(second) == {}
    assert get(ddb, hash_table, "counter") == {**key("counter"), "n": {"N": "1"}}
    changed = [
        {"Update": {**items[0]["Update"], "ExpressionAttributeValues": {":one": {"N": "2"}}}}
    ]
    mismatch = lambda: ddb.transact_write_items(TransactItems=changed, ClientRequestToken=token)  # noqa: E731
    assert error_of(mismatch) == (
        "IdempotentParameterMismatchException",
        "The request uses the same client token as a previous, but non-identical request.",
    )
    # A new token applies the request again.
    ddb.transact_write_items(TransactItems=items, ClientRequestToken=str(uuid.uuid4()))
    assert get(ddb, hash_table, "counter") == {**key("counter"), "n": {"N": "2"}}


def counter_update(table: str) -> list[dict[str, Any]]:
    return [
        {
            "Update": {
                "TableName": table,
                "Key": key("counter"),
                "UpdateExpression": "ADD n :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        }
    ]


def test_transact_write_items_token_retry_reports_read_capacity(ddb: Any, hash_table: str) -> None:
    # AWS: the first call returns the write units it consumed, a retry with the same token the
    # read units of finding it done (transactional: two per 4 KB read, two per KB written).
    token, items = str(uuid.uuid4()), counter_update(hash_table)
    first = ddb.transact_write_items(
        TransactItems=items, ClientRequestToken=token, ReturnConsumedCapacity="TOTAL"
    )
    retry = ddb.transact_write_items(
        TransactItems=items, ClientRequestToken=token, ReturnConsumedCapacity="TOTAL"
    )
    assert body(first) == {
        "ConsumedCapacity": [
            {"TableName": hash_table, "CapacityUnits": 2.0, "WriteCapacityUnits": 2.0}
        ]
    }
    assert body(retry) == {
        "ConsumedCapacity": [
            {"TableName": hash_table, "CapacityUnits": 2.0, "ReadCapacityUnits": 2.0}
        ]
    }
    assert get(ddb, hash_table, "counter") == {**key("counter"), "n": {"N": "1"}}


def test_transact_write_items_concurrent_retries_apply_once(
    server: RunningServer, ddb: Any, hash_table: str
) -> None:
    # Clients retrying while the first attempt is still running: one of them applies the
    # transaction, every other one finds the token done. Never applied twice.
    token, items = str(uuid.uuid4()), counter_update(hash_table)
    clients = [server.client() for _ in range(8)]
    start = threading.Barrier(len(clients))

    def call(client: Any) -> dict[str, Any]:
        start.wait()
        return body(client.transact_write_items(TransactItems=items, ClientRequestToken=token))

    with ThreadPoolExecutor(len(clients)) as pool:
        assert list(pool.map(call, clients)) == [{}] * len(clients)
    assert get(ddb, hash_table, "counter") == {**key("counter"), "n": {"N": "1"}}


def test_transact_write_items_token_survives_kill(tmp_path: Path) -> None:
    # The token commits with the transaction: a retry after kill -9 and a restart finds it (no
    # second ADD), and a different request under it is still a mismatch.
    data = tmp_path / "data"
    srv = start_server(data)
    try:
        ddb = srv.client()
        ddb.create_table(
            TableName="tokens",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        token, items = str(uuid.uuid4()), counter_update("tokens")
        ddb.transact_write_items(TransactItems=items, ClientRequestToken=token)
    finally:
        srv.stop(signal.SIGKILL)
    srv = start_server(data)
    try:
        ddb = srv.client()
        assert body(ddb.transact_write_items(TransactItems=items, ClientRequestToken=token)) == {}
        assert get(ddb, "tokens", "counter") == {**key("counter"), "n": {"N": "1"}}
        other = [{"Put": {"TableName": "tokens", "Item": key("other")}}]
        call = lambda: ddb.transact_write_items(TransactItems=other, ClientRequestToken=token)  # noqa: E731
        assert error_of(call) == (
            "IdempotentParameterMismatchException",
            "The request uses the same client token as a previous, but non-identical request.",
        )
        assert get(ddb, "tokens", "other") is None
    finally:
        srv.stop()


def test_transact_write_items_cancelled_token_can_be_retried(ddb: Any, hash_table: str) -> None:
    # A cancelled transaction is not remembered: retrying its token runs it again.
    token = str(uuid.uuid4())
    items = [
        {
            "Put": {
                "TableName": hash_table,
                "Item": key("gated"),
                "ConditionExpression": "attribute_exists(id)",
            }
        }
    ]
    call = lambda: ddb.transact_write_items(TransactItems=items, ClientRequestToken=token)  # noqa: E731
    assert error_of(call)[0] == "TransactionCanceledException"
    ddb.put_item(TableName=hash_table, Item={**key("gated"), "v": {"S": "old"}})
    ddb.transact_write_items(TransactItems=items, ClientRequestToken=token)
    assert get(ddb, hash_table, "gated") == key("gated")


def test_transact_write_items_resource_client(ddb_resource: Any, hash_table: str) -> None:
    # The resource's client serialises Python values for transactions.
    client = ddb_resource.meta.client
    client.transact_write_items(
        TransactItems=[{"Put": {"TableName": hash_table, "Item": {"id": "py", "n": 1, "s": {"a"}}}}]
    )
    out = client.transact_get_items(
        TransactItems=[{"Get": {"TableName": hash_table, "Key": {"id": "py"}}}]
    )
    assert out["Responses"] == [{"Item": {"id": "py", "n": 1, "s": {"a"}}}]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (
            [
                {"Put": {"TableName": "{t}", "Item": key(1)}},
                {"Delete": {"TableName": "{t}", "Key": key(1)}},
            ],
            "Transaction request cannot include multiple operations on one item",
        ),
        (
            [
                {
                    "Put": {"TableName": "{t}", "Item": key(1)},
                    "Delete": {"TableName": "{t}", "Key": key(2)},
                }
            ],
            "TransactItems can only contain one of Check, Put, Update or Delete",
        ),
        (
            [{}],
            "TransactItems can only contain one of Check, Put, Update or Delete",
        ),
        (
            [
                {
                    "Update": {
                        "TableName": "{t}",
                        "Key": key(1),
                        "UpdateExpression": "SET id = :v",
                        "ExpressionAttributeValues": {":v": {"S": "x"}},
                    }
                }
            ],
            "One or more parameter values were invalid: Cannot update attribute id. This "
            "attribute is part of the key",
        ),
        (
            [
                {
                    "Update": {
                        "TableName": "{t}",
                        "Key": key(1),
                        "UpdateExpression": "SET a = :v + :v",
                        "ExpressionAttributeValues": {":v": {"S": "x"}},
                    }
                }
            ],
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator "
            "or function: +, operand type: S",
        ),
        (
            [{"Put": {"TableName": "{t}", "Item": {"id": {"S": "1"}, "s": {"SS": []}}}}],
            "One or more parameter values were invalid: An string set  may not be empty",
        ),
        (
            [{"Delete": {"TableName": "{t}", "Key": {"id": {"N": "1"}}}}],
            "The provided key element does not match the schema",
        ),
    ],
)
def test_transact_write_items_request_errors(
    ddb: Any, hash_table: str, items: list[dict[str, Any]], message: str
) -> None:
    # Malformed transactions fail as a whole with a ValidationException, before any write.
    def bind(action: dict[str, Any]) -> dict[str, Any]:
        return {
            kind: {**spec, "TableName": hash_table} if spec.get("TableName") == "{t}" else spec
            for kind, spec in action.items()
        }

    call = lambda: ddb.transact_write_items(TransactItems=[bind(a) for a in items])  # noqa: E731
    assert error_of(call) == validation(message)
    assert ddb.scan(TableName=hash_table)["Items"] == []


def test_transact_write_items_100_action_limit(ddb: Any, hash_table: str) -> None:
    # Up to 100 actions per transaction.
    ddb.transact_write_items(
        TransactItems=[{"Put": {"TableName": hash_table, "Item": key(i)}} for i in range(100)]
    )
    assert ddb.scan(TableName=hash_table, Select="COUNT")["Count"] == 100
    code, message = error_of(
        lambda: ddb.transact_write_items(
            TransactItems=[{"Put": {"TableName": hash_table, "Item": key(i)}} for i in range(101)]
        )
    )
    assert code == "ValidationException"
    assert message.startswith("1 validation error detected: Value '[")
    assert message.endswith(
        "' at 'transactItems' failed to satisfy constraint: Member must have length less than "
        "or equal to 100"
    )


def test_transact_write_items_unknown_table(ddb: Any) -> None:
    # A missing table fails the request with ResourceNotFoundException.
    call = lambda: ddb.transact_write_items(  # noqa: E731
        TransactItems=[{"Put": {"TableName": "no-such-table", "Item": key(1)}}]
    )
    assert error_of(call) == ("ResourceNotFoundException", "Requested resource not found")


def test_transact_get_items(ddb: Any, two_tables: tuple[str, str]) -> None:
    # Responses are positional: an empty entry for a missing item; projections apply per Get.
    first, second = two_tables
    out = ddb.transact_get_items(
        TransactItems=[
            {"Get": {"TableName": first, "Key": key("a")}},
            {"Get": {"TableName": first, "Key": key("none")}},
            {
                "Get": {
                    "TableName": second,
                    "Key": key("b"),
                    "ProjectionExpression": "#v",
                    "ExpressionAttributeNames": {"#v": "v"},
                }
            },
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    assert out["Responses"] == [
        {"Item": {**key("a"), "v": {"N": "1"}}},
        {},
        {"Item": {"v": {"N": "1"}}},
    ]
    # The missing item is charged too: two units each, as DynamoDB charges a read that finds nothing.
    assert sorted(out["ConsumedCapacity"], key=lambda c: c["TableName"]) == [
        {"TableName": first, "CapacityUnits": 4.0, "ReadCapacityUnits": 4.0},
        {"TableName": second, "CapacityUnits": 2.0, "ReadCapacityUnits": 2.0},
    ]


def test_transact_get_items_errors(ddb: Any, two_tables: tuple[str, str]) -> None:
    # The same item twice, or a missing table, fail the whole request.
    first, _ = two_tables
    dup = lambda: ddb.transact_get_items(  # noqa: E731
        TransactItems=[
            {"Get": {"TableName": first, "Key": key("a")}},
            {"Get": {"TableName": first, "Key": key("a")}},
        ]
    )
    assert error_of(dup) == validation(
        "Transaction request cannot include multiple operations on one item"
    )
    missing = lambda: ddb.transact_get_items(  # noqa: E731
        TransactItems=[{"Get": {"TableName": "no-such-table", "Key": key("a")}}]
    )
    assert error_of(missing) == ("ResourceNotFoundException", "Requested resource not found")
    wrong_key = lambda: ddb.transact_get_items(  # noqa: E731
        TransactItems=[{"Get": {"TableName": first, "Key": {"id": {"N": "1"}}}}]
    )
    assert error_of(wrong_key) == validation("The provided key element does not match the schema")


def test_transact_numeric_keys_are_canonical(ddb: Any, table_name: str) -> None:
    # A number key written as "3.50" is the same item as "3.5", and is stored canonically.
    ddb.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "n", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "n", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": table_name,
                    "Key": {"n": {"N": "3.50"}},
                    "UpdateExpression": "SET a = :a",
                    "ExpressionAttributeValues": {":a": {"S": "x"}},
                }
            }
        ]
    )
    out = ddb.transact_get_items(
        TransactItems=[{"Get": {"TableName": table_name, "Key": {"n": {"N": "3.5"}}}}]
    )
    assert out["Responses"] == [{"Item": {"n": {"N": "3.5"}, "a": {"S": "x"}}}]
