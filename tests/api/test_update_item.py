"""UpdateItem against a live server: the UpdateExpression language, ReturnValues, conditions,
legacy AttributeUpdates/Expected (KCL lease patterns) and the error texts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from api_helpers import error_of, validation
from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

KEY = {"id": {"S": "u"}}
START = {
    "id": {"S": "u"},
    "n": {"N": "5"},
    "s": {"S": "str"},
    "l": {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}, {"N": "3"}]},
    "m": {"M": {"x": {"M": {"y": {"S": "z"}}}, "k": {"N": "1"}}},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2"]},
}


class Updater:
    """Runs UpdateItem on one key and returns the response body."""

    def __init__(self, ddb: Any, table: str, key: dict[str, Any] = KEY) -> None:
        self.ddb, self.table, self.key = ddb, table, key

    def __call__(
        self,
        expression: str | None = None,
        values: dict[str, Any] | None = None,
        names: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        if expression is not None:
            kwargs["UpdateExpression"] = expression
        if values is not None:
            kwargs["ExpressionAttributeValues"] = values
        if names is not None:
            kwargs["ExpressionAttributeNames"] = names
        out = self.ddb.update_item(TableName=self.table, Key=self.key, **kwargs)
        return {k: v for k, v in out.items() if k != "ResponseMetadata"}

    def error(self, *args: Any, **kwargs: Any) -> tuple[str, str]:
        return error_of(lambda: self(*args, **kwargs))

    def item(self) -> dict[str, Any] | None:
        got: dict[str, Any] | None = self.ddb.get_item(
            TableName=self.table, Key=self.key, ConsistentRead=True
        ).get("Item")
        return got


@pytest.fixture
def update(ddb: Any, hash_table: str) -> Updater:
    ddb.put_item(TableName=hash_table, Item=START)
    return Updater(ddb, hash_table)


def test_update_item_set_arithmetic(update: Updater) -> None:
    # SET supports + and - on numbers, with exact decimal arithmetic.
    out = update(
        "SET n = n + :a, m.k = m.k - :b",
        {":a": {"N": "1.50"}, ":b": {"N": "0.25"}},
        ReturnValues="UPDATED_NEW",
    )
    assert out == {"Attributes": {"n": {"N": "6.5"}, "m": {"M": {"k": {"N": "0.75"}}}}}
    out = update("SET n = :big - n", {":big": {"N": "1E+37"}}, ReturnValues="UPDATED_NEW")
    assert out == {"Attributes": {"n": {"N": "9999999999999999999999999999999999993.5"}}}
    # A result that needs more than 38 significant digits is rejected.
    assert update.error("SET n = n + :big", {":big": {"N": "1E+37"}}) == validation(
        "Attempting to store more than 38 significant digits in a Number"
    )


def test_update_item_set_if_not_exists(update: Updater) -> None:
    # if_not_exists(path, value) keeps an existing value and otherwise uses the operand.
    out = update(
        "SET n = if_not_exists(n, :z), fresh = if_not_exists(fresh, :z)",
        {":z": {"N": "0"}},
        ReturnValues="UPDATED_NEW",
    )
    assert out == {"Attributes": {"n": {"N": "5"}, "fresh": {"N": "0"}}}


def test_update_item_counter_on_missing_item(ddb: Any, hash_table: str) -> None:
    # The atomic-counter idiom creates the item on first use.
    counter = Updater(ddb, hash_table, {"id": {"S": "counter"}})
    for expected in ("1", "2", "3"):
        out = counter(
            "SET hits = if_not_exists(hits, :zero) + :one",
            {":zero": {"N": "0"}, ":one": {"N": "1"}},
            ReturnValues="UPDATED_NEW",
        )
        assert out == {"Attributes": {"hits": {"N": expected}}}


def test_update_item_list_append(update: Updater) -> None:
    # list_append concatenates lists in argument order (prepend by swapping the operands).
    out = update(
        "SET l = list_append(:front, list_append(l, :back))",
        {":front": {"L": [{"S": "f"}]}, ":back": {"L": [{"S": "b"}]}},
        ReturnValues="UPDATED_NEW",
    )
    assert out["Attributes"]["l"]["L"] == [
        {"S": "f"},
        {"N": "0"},
        {"N": "1"},
        {"N": "2"},
        {"N": "3"},
        {"S": "b"},
    ]


def test_update_item_nested_paths_and_list_indexes(update: Updater) -> None:
    # SET reaches into maps and list elements; an index past the end appends.
    update(
        "SET m.x.y = :v, m.#new = :v, l[1] = :v, l[10] = :w",
        {":v": {"S": "set"}, ":w": {"S": "appended"}},
        {"#new": "new"},
    )
    item = update.item()
    assert item is not None
    assert item["m"] == {
        "M": {"x": {"M": {"y": {"S": "set"}}}, "k": {"N": "1"}, "new": {"S": "set"}}
    }
    assert item["l"] == {"L": [{"N": "0"}, {"S": "set"}, {"N": "2"}, {"N": "3"}, {"S": "appended"}]}


def test_update_item_remove_list_elements(update: Updater) -> None:
    # REMOVE of several list elements uses the indexes of the list before the update;
    # out-of-range indexes and missing attributes are ignored.
    out = update("REMOVE l[0], l[2], l[9], nope, m.x.y", ReturnValues="ALL_NEW")
    assert out["Attributes"]["l"] == {"L": [{"N": "1"}, {"N": "3"}]}
    assert out["Attributes"]["m"] == {"M": {"x": {"M": {}}, "k": {"N": "1"}}}


def test_update_item_add_and_delete(update: Updater) -> None:
    # ADD adds to numbers and sets (creating them if missing); DELETE removes set members and
    # removes the attribute when the set becomes empty.
    out = update(
        "ADD n :one, ss :more, newnum :one, newset :nums DELETE ns :all",
        {
            ":one": {"N": "1"},
            ":more": {"SS": ["b", "c"]},
            ":nums": {"NS": ["7"]},
            ":all": {"NS": ["1", "2", "3"]},
        },
        ReturnValues="ALL_NEW",
    )
    attributes = out["Attributes"]
    assert attributes["n"] == {"N": "6"}
    assert sorted(attributes["ss"]["SS"]) == ["a", "b", "c"]
    assert attributes["newnum"] == {"N": "1"}
    assert attributes["newset"] == {"NS": ["7"]}
    assert "ns" not in attributes


def test_update_item_all_clauses_together(update: Updater) -> None:
    # One expression may hold a SET, REMOVE, ADD and DELETE clause, in any order and case.
    update(
        "delete ss :a add n :one remove s set t = :t",
        {":a": {"SS": ["a"]}, ":one": {"N": "1"}, ":t": {"BOOL": True}},
    )
    item = update.item()
    assert item is not None
    assert item["ss"] == {"SS": ["b"]}
    assert item["n"] == {"N": "6"}
    assert "s" not in item
    assert item["t"] == {"BOOL": True}


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("NONE", {}),
        ("ALL_OLD", {"Attributes": START}),
        (
            "UPDATED_OLD",
            {"Attributes": {"n": {"N": "5"}, "m": {"M": {"x": {"M": {"y": {"S": "z"}}}}}}},
        ),
        (
            "ALL_NEW",
            {
                "Attributes": {
                    **START,
                    "n": {"N": "6"},
                    "m": {"M": {"x": {"M": {"y": {"S": "new"}}}, "k": {"N": "1"}}},
                    "added": {"S": "new"},
                }
            },
        ),
        (
            "UPDATED_NEW",
            {
                "Attributes": {
                    "n": {"N": "6"},
                    "m": {"M": {"x": {"M": {"y": {"S": "new"}}}}},
                    "added": {"S": "new"},
                }
            },
        ),
    ],
)
def test_update_item_return_values(update: Updater, mode: str, expected: dict[str, Any]) -> None:
    # UPDATED_OLD/UPDATED_NEW return only the updated paths (nested paths stay nested);
    # attributes that did not exist before are absent from UPDATED_OLD.
    out = update(
        "SET n = n + :one, m.x.y = :v, added = :v",
        {":one": {"N": "1"}, ":v": {"S": "new"}},
        ReturnValues=mode,
    )
    assert out == expected


def test_update_item_updated_old_of_list_element(update: Updater) -> None:
    # UPDATED_OLD of a list element returns just that element, inside its list.
    out = update("SET l[2] = :v", {":v": {"S": "x"}}, ReturnValues="UPDATED_OLD")
    assert out == {"Attributes": {"l": {"L": [{"N": "2"}]}}}


def test_update_item_creates_missing_item(ddb: Any, hash_table: str) -> None:
    # UpdateItem on a missing key creates the item; ALL_OLD then returns nothing.
    fresh = Updater(ddb, hash_table, {"id": {"S": "fresh"}})
    out = fresh("SET a = :a", {":a": {"S": "x"}}, ReturnValues="ALL_OLD")
    assert out == {}
    assert fresh.item() == {"id": {"S": "fresh"}, "a": {"S": "x"}}


def test_update_item_without_expression_creates_key_only_item(ddb: Any, hash_table: str) -> None:
    # An UpdateItem with only a Key creates an item holding just the key.
    bare = Updater(ddb, hash_table, {"id": {"S": "bare"}})
    assert bare(ReturnValues="ALL_NEW") == {"Attributes": {"id": {"S": "bare"}}}
    assert bare.item() == {"id": {"S": "bare"}}


def test_update_item_remove_on_missing_item_creates_nothing(ddb: Any, hash_table: str) -> None:
    # Removing attributes from an item that does not exist leaves nothing behind.
    ghost = Updater(ddb, hash_table, {"id": {"S": "ghost"}})
    assert ghost("REMOVE a", ReturnValues="ALL_NEW") == {}
    assert ghost.item() is None


def test_update_item_condition(update: Updater) -> None:
    # The condition is evaluated against the stored item; on failure nothing changes and
    # ReturnValuesOnConditionCheckFailure=ALL_OLD returns the stored item.
    update("SET n = :v", {":v": {"N": "6"}, ":old": {"N": "5"}}, ConditionExpression="n = :old")
    with pytest.raises(ClientError) as info:
        update(
            "SET n = :v",
            {":v": {"N": "7"}, ":old": {"N": "5"}},
            ConditionExpression="n = :old",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert info.value.response["Error"] == {
        "Code": "ConditionalCheckFailedException",
        "Message": "The conditional request failed",
    }
    assert info.value.response["Item"] == {**START, "n": {"N": "6"}}
    assert update.item() == {**START, "n": {"N": "6"}}


def test_update_item_condition_functions(update: Updater) -> None:
    # size, begins_with, contains, attribute_type, IN, BETWEEN, NOT and boolean logic work in
    # conditions on nested paths.
    update(
        "SET ok = :t",
        {
            ":t": {"BOOL": True},
            ":two": {"N": "2"},
            ":st": {"S": "st"},
            ":a": {"S": "a"},
            ":L": {"S": "L"},
            ":lo": {"N": "4"},
            ":hi": {"N": "6"},
            ":x": {"S": "x"},
        },
        ConditionExpression=(
            "size(ss) = :two AND begins_with(s, :st) AND contains(ss, :a) "
            "AND attribute_type(l, :L) AND n BETWEEN :lo AND :hi AND NOT (s IN (:x, :a)) "
            "AND (attribute_exists(m.x.y) OR attribute_not_exists(nope)) AND size(l) > :two"
        ),
    )
    item = update.item()
    assert item is not None
    assert item["ok"] == {"BOOL": True}


def test_update_item_resource_api(ddb_resource: Any, hash_table: str) -> None:
    # The resource API's update_item with Decimal values and conditions.
    table = ddb_resource.Table(hash_table)
    table.put_item(Item={"id": "r", "count": 1, "tags": {"a"}})
    out = table.update_item(
        Key={"id": "r"},
        UpdateExpression="SET #c = #c + :inc ADD tags :t",
        ExpressionAttributeNames={"#c": "count"},
        ExpressionAttributeValues={":inc": Decimal("2.5"), ":t": {"b"}},
        ConditionExpression=Attr("count").lt(10),
        ReturnValues="ALL_NEW",
    )
    assert out["Attributes"] == {"id": "r", "count": Decimal("3.5"), "tags": {"a", "b"}}


@pytest.mark.parametrize(
    ("expression", "values", "message"),
    [
        (
            "SET s = s + :n",
            {":n": {"N": "1"}},
            "An operand in the update expression has an incorrect data type",
        ),
        (
            "SET z = nope + :n",
            {":n": {"N": "1"}},
            "The provided expression refers to an attribute that does not exist in the item",
        ),
        (
            "SET m.nope.deep = :n",
            {":n": {"N": "1"}},
            "The document path provided in the update expression is invalid for update",
        ),
        (
            "SET s.field = :n",
            {":n": {"N": "1"}},
            "The document path provided in the update expression is invalid for update",
        ),
        (
            "SET n[0] = :n",
            {":n": {"N": "1"}},
            "The document path provided in the update expression is invalid for update",
        ),
        (
            "ADD s :n",
            {":n": {"N": "1"}},
            "An operand in the update expression has an incorrect data type",
        ),
        (
            "DELETE ss :n",
            {":n": {"NS": ["1"]}},
            "An operand in the update expression has an incorrect data type",
        ),
        (
            "SET l = list_append(l, s)",
            None,
            "An operand in the update expression has an incorrect data type",
        ),
        (
            "SET big = :v",
            {":v": {"S": "x" * 409600}},
            "Item size to update has exceeded the maximum allowed size",
        ),
    ],
)
def test_update_item_runtime_errors(
    update: Updater, expression: str, values: dict[str, Any] | None, message: str
) -> None:
    # Errors that depend on the stored item are reported with DynamoDB's texts, and nothing
    # is written.
    assert update.error(expression, values) == validation(message)
    assert update.item() == START


@pytest.mark.parametrize(
    ("expression", "values", "names", "message"),
    [
        ("SET", None, None, 'Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "SET"'),
        (
            "SET a = :v,",
            {":v": {"S": "1"}},
            None,
            'Invalid UpdateExpression: Syntax error; token: "<EOF>", near: ","',
        ),
        ("", None, None, "Invalid UpdateExpression: The expression can not be empty;"),
        (
            "SET a = :v SET b = :v",
            {":v": {"S": "1"}},
            None,
            'Invalid UpdateExpression: The "SET" section can only be used once in an update '
            "expression;",
        ),
        (
            "SET a = :v, a = :v",
            {":v": {"S": "1"}},
            None,
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
            "rewrite one of these paths; path one: [a], path two: [a]",
        ),
        (
            "SET a = :v REMOVE a.b",
            {":v": {"S": "1"}},
            None,
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
            "rewrite one of these paths; path one: [a], path two: [a, b]",
        ),
        (
            "SET a.b = :v REMOVE a[0]",
            {":v": {"S": "1"}},
            None,
            "Invalid UpdateExpression: Two document paths conflict with each other; must remove or "
            "rewrite one of these paths; path one: [a, b], path two: [a, [0]]",
        ),
        (
            "SET a = foo(:v)",
            {":v": {"S": "1"}},
            None,
            "Invalid UpdateExpression: Invalid function name; function: foo",
        ),
        (
            "SET a = list_append(:v, :v)",
            {":v": {"S": "1"}},
            None,
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator "
            "or function: list_append, operand type: S",
        ),
        (
            "SET a = if_not_exists(:v, :v)",
            {":v": {"S": "1"}},
            None,
            "Invalid UpdateExpression: Operator or function requires a document path; operator or "
            "function: if_not_exists",
        ),
        (
            "SET a = if_not_exists(a)",
            None,
            None,
            "Invalid UpdateExpression: Incorrect number of operands for operator or function; "
            "operator or function: if_not_exists, number of operands: 1",
        ),
        (
            "SET a = :v + :v",
            {":v": {"S": "1"}},
            None,
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator "
            "or function: +, operand type: S",
        ),
        (
            "ADD a :v",
            {":v": {"S": "1"}},
            None,
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: "
            "ADD, operand type: STRING",
        ),
        (
            "DELETE a :v",
            {":v": {"N": "1"}},
            None,
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: "
            "DELETE, operand type: NUMBER",
        ),
        (
            "ADD a :v",
            {":v": {"L": []}},
            None,
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: "
            "ADD, operand type: LIST",
        ),
        (
            "SET name = :v",
            {":v": {"S": "1"}},
            None,
            "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: name",
        ),
        (
            "SET #a = :v",
            {":v": {"S": "1"}},
            None,
            "Invalid UpdateExpression: An expression attribute name used in the document path is "
            "not defined; attribute name: #a",
        ),
        (
            "SET a = :w",
            {":v": {"S": "1"}},
            None,
            "Invalid UpdateExpression: An expression attribute value used in expression is not "
            "defined; attribute value: :w",
        ),
        (
            "SET #a = :v",
            {":v": {"S": "1"}},
            {"#a": "a", "#b": "b"},
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}",
        ),
        (
            "SET a = :v",
            {":v": {"S": "1"}, ":m": {"S": "2"}},
            None,
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:m}",
        ),
        (
            None,
            {":v": {"S": "1"}},
            None,
            "ExpressionAttributeValues can only be specified when using expressions: "
            "UpdateExpression and ConditionExpression are null",
        ),
        (
            "SET id = :v",
            {":v": {"S": "1"}},
            None,
            "One or more parameter values were invalid: Cannot update attribute id. This "
            "attribute is part of the key",
        ),
        (
            "SET id.x = :v",
            {":v": {"S": "1"}},
            None,
            "One or more parameter values were invalid: Cannot update attribute id. This "
            "attribute is part of the key",
        ),
        (
            "REMOVE id",
            None,
            None,
            "One or more parameter values were invalid: Cannot update attribute id. This "
            "attribute is part of the key",
        ),
    ],
)
def test_update_item_expression_errors(
    update: Updater,
    expression: str | None,
    values: dict[str, Any] | None,
    names: dict[str, str] | None,
    message: str,
) -> None:
    # Static errors in the update expression are reported before anything is read or written.
    assert update.error(expression, values, names) == validation(message)


def test_update_item_mixing_expressions_and_legacy(update: Updater) -> None:
    # Expression and legacy parameters can not be combined.
    out = update.error(
        "SET a = :v",
        {":v": {"S": "1"}},
        AttributeUpdates={"x": {"Action": "PUT", "Value": {"S": "x"}}},
        Expected={"x": {"Exists": False}},
    )
    assert out == validation(
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {AttributeUpdates, Expected} Expression parameters: "
        "{UpdateExpression}"
    )


def test_update_item_unknown_table(ddb: Any) -> None:
    # A missing table is ResourceNotFoundException.
    updater = Updater(ddb, "no-such-table")
    assert updater.error("SET a = :v", {":v": {"S": "1"}}) == (
        "ResourceNotFoundException",
        "Requested resource not found",
    )


def test_update_item_key_errors(ddb: Any, range_table: str) -> None:
    # The Key must match the schema exactly.
    partial = Updater(ddb, range_table, {"pk": {"S": "p"}})
    assert partial.error("SET a = :v", {":v": {"S": "1"}}) == validation(
        "The provided key element does not match the schema"
    )
    updater = Updater(ddb, range_table, {"pk": {"S": "p"}, "sk": {"S": "s"}})
    assert updater.error("SET sk = :v", {":v": {"S": "1"}}) == validation(
        "One or more parameter values were invalid: Cannot update attribute sk. This attribute "
        "is part of the key"
    )


@pytest.fixture
def index_table(ddb: Any, table_name: str) -> str:
    ddb.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "id", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName=table_name, Item={"id": {"S": "u"}, "num": {"N": "1"}})
    return table_name


@pytest.mark.parametrize(
    ("expression", "values", "message"),
    [
        (
            "SET g = :v",
            {":v": {"N": "1"}},
            "One or more parameter values were invalid: Type mismatch for Index Key g Expected: S "
            "Actual: N IndexName: by-g",
        ),
        (
            "SET g.x = :v",
            {":v": {"S": "1"}},
            "Key attributes must be scalars; list random access '[]' and map lookup '.' are not "
            "allowed: IndexKey: g",
        ),
        (
            "SET g = num",
            None,
            "The update expression attempted to update the secondary index key to unsupported type",
        ),
        (
            "SET g = :v",
            {":v": {"S": ""}},
            "One or more parameter values are not valid. The update expression attempted to "
            "update a secondary index key to a value that is not supported. The AttributeValue "
            "for a key attribute cannot contain an empty string value.",
        ),
    ],
)
def test_update_item_index_key_rules(
    ddb: Any,
    index_table: str,
    expression: str,
    values: dict[str, Any] | None,
    message: str,
) -> None:
    # Secondary index keys can only be written as whole values of the index's type.
    assert Updater(ddb, index_table).error(expression, values) == validation(message)


def test_update_item_index_type_checked_before_condition(ddb: Any, index_table: str) -> None:
    # The static index type check comes before the condition is evaluated.
    out = Updater(ddb, index_table).error(
        "SET g = :v", {":v": {"N": "1"}}, ConditionExpression="attribute_exists(nope)"
    )
    assert out == validation(
        "One or more parameter values were invalid: Type mismatch for Index Key g Expected: S "
        "Actual: N IndexName: by-g"
    )


def test_update_item_consumed_capacity_with_index(ddb: Any, index_table: str) -> None:
    # Changing a GSI key costs a delete and a put in the index; INDEXES itemises it.
    updater = Updater(ddb, index_table)
    first = updater("SET g = :v", {":v": {"S": "G"}}, ReturnConsumedCapacity="INDEXES")
    assert first["ConsumedCapacity"] == {
        "TableName": index_table,
        "CapacityUnits": 2.0,
        "WriteCapacityUnits": 2.0,
        "Table": {"CapacityUnits": 1.0, "WriteCapacityUnits": 1.0},
        "GlobalSecondaryIndexes": {"by-g": {"CapacityUnits": 1.0, "WriteCapacityUnits": 1.0}},
    }
    second = updater("SET g = :v", {":v": {"S": "H"}}, ReturnConsumedCapacity="TOTAL")
    assert second["ConsumedCapacity"] == {
        "TableName": index_table,
        "CapacityUnits": 3.0,
        "WriteCapacityUnits": 3.0,
    }
    untouched = updater("SET num = :v", {":v": {"N": "2"}}, ReturnConsumedCapacity="TOTAL")
    assert untouched["ConsumedCapacity"]["CapacityUnits"] == 2.0


# --- legacy AttributeUpdates / Expected (the KCL lease table patterns) --------------------------


def test_update_item_kcl_lease_take(ddb: Any, hash_table: str) -> None:
    # KCL takes a lease with Expected {leaseCounter: Value} and AttributeUpdates PUT/ADD/DELETE.
    ddb.put_item(
        TableName=hash_table,
        Item={
            "id": {"S": "shard-0"},
            "leaseCounter": {"N": "0"},
            "checkpoint": {"S": "TRIM_HORIZON"},
            "pendingCheckpoint": {"S": "x"},
        },
        Expected={"id": {"Exists": False}},
    )
    lease = Updater(ddb, hash_table, {"id": {"S": "shard-0"}})
    out = lease(
        Expected={"leaseCounter": {"Value": {"N": "0"}, "Exists": True}},
        AttributeUpdates={
            "leaseCounter": {"Action": "PUT", "Value": {"N": "1"}},
            "leaseOwner": {"Action": "PUT", "Value": {"S": "worker-1"}},
            "ownerSwitchesSinceCheckpoint": {"Action": "ADD", "Value": {"N": "1"}},
            "pendingCheckpoint": {"Action": "DELETE"},
        },
        ReturnValues="ALL_NEW",
    )
    assert out == {
        "Attributes": {
            "id": {"S": "shard-0"},
            "leaseCounter": {"N": "1"},
            "checkpoint": {"S": "TRIM_HORIZON"},
            "leaseOwner": {"S": "worker-1"},
            "ownerSwitchesSinceCheckpoint": {"N": "1"},
        }
    }
    # A second worker holding the stale counter loses the race.
    stale = lambda: lease(  # noqa: E731
        Expected={"leaseCounter": {"Value": {"N": "0"}, "Exists": True}},
        AttributeUpdates={"leaseOwner": {"Action": "PUT", "Value": {"S": "worker-2"}}},
    )
    assert error_of(stale) == ("ConditionalCheckFailedException", "The conditional request failed")
    # Evicting the lease: DELETE without a value removes the attribute, Exists false guards.
    lease(
        Expected={"leaseOwner": {"Value": {"S": "worker-1"}}, "gone": {"Exists": False}},
        AttributeUpdates={"leaseOwner": {"Action": "DELETE"}},
    )
    item = lease.item()
    assert item is not None
    assert "leaseOwner" not in item


def test_update_item_attribute_updates_sets_and_lists(ddb: Any, hash_table: str) -> None:
    # Legacy ADD appends to lists and unions sets; DELETE with a value removes set members;
    # a missing Action means PUT.
    legacy = Updater(ddb, hash_table, {"id": {"S": "legacy"}})
    legacy(
        AttributeUpdates={
            "ss": {"Action": "ADD", "Value": {"SS": ["a"]}},
            "l": {"Action": "ADD", "Value": {"L": [{"S": "a"}]}},
            "plain": {"Value": {"S": "p"}},
        }
    )
    out = legacy(
        AttributeUpdates={
            "ss": {"Action": "ADD", "Value": {"SS": ["b"]}},
            "l": {"Action": "ADD", "Value": {"L": [{"S": "a"}]}},
        },
        ReturnValues="UPDATED_NEW",
    )
    assert out == {"Attributes": {"ss": {"SS": ["a", "b"]}, "l": {"L": [{"S": "a"}, {"S": "a"}]}}}
    out = legacy(
        AttributeUpdates={"ss": {"Action": "DELETE", "Value": {"SS": ["a", "b"]}}},
        ReturnValues="UPDATED_OLD",
    )
    assert out == {"Attributes": {"ss": {"SS": ["a", "b"]}}}
    assert legacy.item() == {
        "id": {"S": "legacy"},
        "l": {"L": [{"S": "a"}, {"S": "a"}]},
        "plain": {"S": "p"},
    }


@pytest.mark.parametrize(
    ("updates", "message"),
    [
        (
            {"x": {"Action": "DELETE", "Value": {"S": "1"}}},
            "One or more parameter values were invalid: DELETE action with value is not "
            "supported for the type S",
        ),
        (
            {"x": {"Action": "ADD", "Value": {"S": "1"}}},
            "One or more parameter values were invalid: ADD action is not supported for the type S",
        ),
        (
            {"x": {"Action": "PUT"}},
            "One or more parameter values were invalid: Only DELETE action is allowed when no "
            "attribute value is specified",
        ),
        (
            {"id": {"Action": "PUT", "Value": {"S": "x"}}},
            "One or more parameter values were invalid: Cannot update attribute id. This "
            "attribute is part of the key",
        ),
    ],
)
def test_update_item_attribute_updates_errors(
    update: Updater, updates: dict[str, Any], message: str
) -> None:
    # Legacy AttributeUpdates are validated with DynamoDB's texts.
    assert update.error(AttributeUpdates=updates) == validation(message)


def test_update_item_attribute_updates_type_mismatch(update: Updater) -> None:
    # Legacy ADD/DELETE on an attribute of another type fails at write time, with the legacy text.
    out = update.error(AttributeUpdates={"s": {"Action": "ADD", "Value": {"N": "1"}}})
    assert out == validation("Type mismatch for attribute to update")
    out = update.error(AttributeUpdates={"ss": {"Action": "DELETE", "Value": {"NS": ["1"]}}})
    assert out == validation("Type mismatch for attribute to update")
    assert update.item() == START


def test_update_item_number_key_is_stored_canonically(ddb: Any, table_name: str) -> None:
    # Number key values are canonicalised: an UpdateItem creating "2.50" stores "2.5", and the
    # key "2.500" addresses the same item.
    ddb.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "n", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "n", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
    )
    created = Updater(ddb, table_name, {"n": {"N": "2.50"}})
    assert created("SET a = :a", {":a": {"S": "x"}}, ReturnValues="ALL_NEW") == {
        "Attributes": {"n": {"N": "2.5"}, "a": {"S": "x"}}
    }
    assert Updater(ddb, table_name, {"n": {"N": "2.500"}}).item() == {
        "n": {"N": "2.5"},
        "a": {"S": "x"},
    }
    assert ddb.scan(TableName=table_name)["Items"] == [{"n": {"N": "2.5"}, "a": {"S": "x"}}]


def test_update_item_validates_key_values_before_table(ddb: Any) -> None:
    # Key attribute values are validated before the table is looked up.
    updater = Updater(ddb, "no-such-table", {"id": {"N": "abc"}})
    assert updater.error("SET a = :v", {":v": {"S": "1"}}) == validation(
        "The parameter cannot be converted to a numeric value: abc"
    )
