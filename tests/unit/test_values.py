"""AttributeValue type-checking, validation, normalisation; key and item rules."""

from __future__ import annotations

import base64

import pytest

from rivulet.core.schema import IndexSchema, KeySchema, Projection
from rivulet.core.types import Item
from rivulet.core.values import (
    items_equal,
    key_of,
    normalize_expression_values,
    normalize_item,
    normalize_value,
    parse_item,
    validate_item_for_put,
    validate_key,
)
from rivulet.errors import SerializationException, ValidationException

INVALID = "One or more parameter values were invalid: "
EMPTY = "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
MULTIPLE = (
    "Supplied AttributeValue has more than one datatypes set, "
    "must contain exactly one of the supported datatypes"
)
MISMATCH = "The provided key element does not match the schema"
MAP_LIST = (
    "Unrecognized collection type java.util.Map<java.lang.String, "
    "com.amazonaws.dynamodb.v20120810.AttributeValue>"
)

HASH_ONLY = KeySchema("pk", "S")
COMPOSITE = KeySchema("pk", "S", "sk", "N")
BINARY_RANGE = KeySchema("pk", "B", "sk", "B")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _serialization(value: object) -> str:
    with pytest.raises(SerializationException) as raised:
        normalize_value(value)
    assert raised.value.message is not None
    return raised.value.message


def _validation(value: object) -> str:
    with pytest.raises(ValidationException) as raised:
        normalize_value(value)
    assert raised.value.message is not None
    return raised.value.message


# --- wire types (SerializationException) ---------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"S": 5}, "NUMBER_VALUE cannot be converted to String"),
        ({"S": 1.5}, "DECIMAL_VALUE cannot be converted to String"),
        ({"S": True}, "TRUE_VALUE cannot be converted to String"),
        ({"N": False}, "FALSE_VALUE cannot be converted to String"),
        ({"S": ["a"]}, "Unrecognized collection type class java.lang.String"),
        ({"N": {}}, "Start of structure or map found where not expected"),
        ({"B": 5}, "only base-64-encoded strings are convertible to bytes"),
        ({"B": True}, "only base-64-encoded strings are convertible to bytes"),
        ({"B": []}, "Unrecognized collection type class java.nio.ByteBuffer"),
        ({"B": {}}, "Start of structure or map found where not expected"),
        ({"B": "abc"}, "Base64 encoded length is expected a multiple of 4 bytes but found: 3"),
        ({"B": "YR=="}, "Invalid last non-pad Base64 character dectected"),
        ({"B": "a-b_"}, "Invalid last non-pad Base64 character dectected"),
        ({"BOOL": 1}, "NUMBER_VALUE cannot be converted to Boolean"),
        ({"BOOL": "maybe"}, "Unexpected token received from parser"),
        ({"NULL": []}, "Unrecognized collection type class java.lang.Boolean"),
        ({"BOOL": {}}, "Start of structure or map found where not expected"),
        ({"SS": "a"}, "Unexpected field type"),
        ({"NS": {}}, "Start of structure or map found where not expected"),
        ({"SS": [1]}, "NUMBER_VALUE cannot be converted to String"),
        ({"BS": ["abc"]}, "Base64 encoded length is expected a multiple of 4 bytes but found: 3"),
        ({"L": 5}, "Unexpected field type"),
        ({"L": ["a"]}, "Unexpected value type in payload"),
        (
            {"L": [[]]},
            "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.AttributeValue",
        ),
        ({"M": "a"}, "Unexpected field type"),
        ({"M": []}, MAP_LIST),
        ({"M": {"a": 5}}, "Unexpected value type in payload"),
        ("x", "Unexpected value type in payload"),
        (5, "Unexpected value type in payload"),
        ([], "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.AttributeValue"),
    ],
)
def test_normalize_value_rejects_wrong_wire_types(value: object, message: str) -> None:
    # Wire-type errors are SerializationExceptions worded by DynamoDB's Java deserializer.
    assert _serialization(value) == message


def test_normalize_item_rejects_non_object_items() -> None:
    with pytest.raises(SerializationException) as raised:
        normalize_item([])
    assert raised.value.message == MAP_LIST
    with pytest.raises(SerializationException) as raised:
        normalize_item("x")
    assert raised.value.message == "Unexpected field type"


def test_normalize_item_reports_wire_types_before_validation() -> None:
    # The whole request is type-checked before any value is validated.
    with pytest.raises(SerializationException):
        normalize_item({"a": {"N": "not a number"}, "b": {"S": 5}})


# --- validation (ValidationException) ------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({}, EMPTY),
        (None, EMPTY),
        ({"S": None}, EMPTY),
        ({"X": "a"}, EMPTY),
        ({"S": "a", "N": "1"}, MULTIPLE),
        ({"S": "a", "BOOL": True}, MULTIPLE),
        ({"NULL": False}, INVALID + "Null attribute value types must have the value of true"),
        ({"NULL": "no"}, INVALID + "Null attribute value types must have the value of true"),
        ({"N": ""}, "The parameter cannot be converted to a numeric value"),
        ({"N": "abc"}, "The parameter cannot be converted to a numeric value: abc"),
        (
            {"N": "1E126"},
            "Number overflow. Attempting to store a number with magnitude larger than supported range",
        ),
        ({"SS": []}, INVALID + "An string set  may not be empty"),
        ({"NS": []}, INVALID + "An number set  may not be empty"),
        ({"BS": []}, INVALID + "Binary sets should not be empty"),
        ({"SS": ["a", "b", "a"]}, INVALID + "Input collection [a, b, a] contains duplicates."),
        ({"NS": ["1", "2", "1.0"]}, "Input collection contains duplicates"),
        ({"NS": ["1", "x"]}, "The parameter cannot be converted to a numeric value: x"),
        ({"NS": [None]}, "The parameter cannot be converted to a numeric value"),
        (
            {"BS": ["YQ==", "Yg==", "YQ=="]},
            INVALID + "Input collection [YQ==, Yg==, YQ==]of type BS contains duplicates.",
        ),
        ({"M": {"a": {}}}, EMPTY),
        (
            {"L": [{"S": "a"}, {"N": "x"}]},
            "The parameter cannot be converted to a numeric value: x",
        ),
        (
            {"M": {"a": {"L": [{"NULL": False}]}}},
            INVALID + "Null attribute value types must have the value of true",
        ),
    ],
)
def test_normalize_value_reports_dynamodb_validation_texts(value: object, message: str) -> None:
    assert _validation(value) == message


def test_normalize_value_checks_types_in_fixed_order_before_the_datatype_count() -> None:
    # DynamoDB validates members in the order S, B, N, BOOL, NULL, BS, NS, SS, L, M and only
    # then complains about several datatypes.
    assert _validation({"NULL": False, "N": "x"}) == (
        "The parameter cannot be converted to a numeric value: x"
    )
    assert _validation({"SS": [], "NULL": False}) == (
        INVALID + "Null attribute value types must have the value of true"
    )


def test_normalize_value_reports_the_first_invalid_attribute() -> None:
    with pytest.raises(ValidationException) as raised:
        normalize_item({"a": {"S": "ok"}, "b": {"SS": []}, "c": {"N": "x"}})
    assert raised.value.message == INVALID + "An string set  may not be empty"


def test_normalize_value_allows_empty_strings_and_binaries() -> None:
    # Since 2020 DynamoDB accepts empty S and B outside keys, including inside sets and documents.
    assert normalize_value({"S": ""}) == {"S": ""}
    assert normalize_value({"B": ""}) == {"B": ""}
    assert normalize_value({"SS": ["", "a"]}) == {"SS": ["", "a"]}
    assert normalize_value({"M": {"": {"S": ""}}}) == {"M": {"": {"S": ""}}}


def test_normalize_value_makes_numbers_canonical() -> None:
    assert normalize_value({"N": "1.50"}) == {"N": "1.5"}
    assert normalize_value({"NS": ["1E2", "-0.0", "3"]}) == {"NS": ["100", "0", "3"]}
    assert normalize_value({"M": {"x": {"L": [{"N": "007"}]}}}) == {"M": {"x": {"L": [{"N": "7"}]}}}


def test_normalize_value_coerces_boolean_words() -> None:
    assert normalize_value({"BOOL": "true"}) == {"BOOL": True}
    assert normalize_value({"BOOL": "No"}) == {"BOOL": False}
    assert normalize_value({"NULL": "YES"}) == {"NULL": True}


def test_normalize_value_ignores_unknown_and_null_members() -> None:
    assert normalize_value({"S": "a", "Z": 1}) == {"S": "a"}
    assert normalize_value({"S": "a", "N": None}) == {"S": "a"}


def test_normalize_value_returns_unchanged_values_as_is() -> None:
    # Hot path: nothing is copied when the value is already normal.
    for value in (
        {"S": "a"},
        {"N": "1.5"},
        {"B": "YQ=="},
        {"BOOL": True},
        {"NULL": True},
        {"SS": ["a"]},
        {"NS": ["1", "2"]},
        {"BS": ["YQ=="]},
        {"L": [{"N": "1"}]},
        {"M": {"a": {"S": "b"}}},
    ):
        assert normalize_value(value) is value
    item: Item = {"a": {"S": "x"}, "b": {"M": {"c": {"N": "1"}}}}
    assert normalize_item(item) is item


def test_normalize_item_copies_only_what_changed() -> None:
    item: Item = {"a": {"S": "x"}, "b": {"N": "1.0"}, "c": {"S": "y"}}
    normalized = normalize_item(item)
    assert normalized == {"a": {"S": "x"}, "b": {"N": "1"}, "c": {"S": "y"}}
    assert list(normalized) == ["a", "b", "c"]
    assert normalized["a"] is item["a"]
    assert item["b"] == {"N": "1.0"}  # the input is not mutated


def test_parse_item_defers_validation_messages() -> None:
    normalized, error = parse_item({"a": {"N": "x"}, "b": {"N": "2.0"}})
    assert error == "The parameter cannot be converted to a numeric value: x"
    assert normalized["b"] == {"N": "2"}
    assert parse_item({"a": {"S": "x"}}) == ({"a": {"S": "x"}}, None)


# --- ExpressionAttributeValues -------------------------------------------------------------


def test_normalize_expression_values_wraps_inner_messages_with_the_key() -> None:
    with pytest.raises(ValidationException) as raised:
        normalize_expression_values({":a": {"S": "x"}, ":b": {"NULL": False}})
    assert raised.value.message == (
        "ExpressionAttributeValues contains invalid value: One or more parameter values were "
        "invalid: Null attribute value types must have the value of true for key :b"
    )


def test_normalize_expression_values_rejects_empty_map_and_bad_keys() -> None:
    with pytest.raises(ValidationException) as raised:
        normalize_expression_values({})
    assert raised.value.message == "ExpressionAttributeValues must not be empty"
    # Key syntax is checked before the values.
    with pytest.raises(ValidationException) as raised:
        normalize_expression_values({":a": {}, "b": {"S": "x"}})
    assert (
        raised.value.message
        == 'ExpressionAttributeValues contains invalid key: Syntax error; key: "b"'
    )


def test_normalize_expression_values_normalises_numbers() -> None:
    assert normalize_expression_values({":v": {"N": "10.00"}}) == {":v": {"N": "10"}}
    with pytest.raises(SerializationException):
        normalize_expression_values([])


# --- keys ----------------------------------------------------------------------------------


def _key_error(key: Item, schema: KeySchema) -> str:
    with pytest.raises(ValidationException) as raised:
        validate_key(key, schema)
    assert raised.value.message is not None
    return raised.value.message


def test_validate_key_returns_the_key() -> None:
    key: Item = {"pk": {"S": "a"}, "sk": {"N": "1"}}
    assert validate_key(key, COMPOSITE) is key


@pytest.mark.parametrize(
    "key",
    [
        {},
        {"pk": {"S": "a"}},
        {"pk": {"S": "a"}, "sk": {"S": "1"}},
        {"pk": {"N": "1"}, "sk": {"N": "1"}},
        {"pk": {"S": "a"}, "other": {"N": "1"}},
        {"pk": {"S": "a"}, "sk": {"N": "1"}, "extra": {"S": "x"}},
    ],
)
def test_validate_key_rejects_keys_that_do_not_match_the_schema(key: Item) -> None:
    assert _key_error(key, COMPOSITE) == MISMATCH


def test_validate_key_rejects_empty_string_and_binary_key_values() -> None:
    assert _key_error({"pk": {"S": ""}}, HASH_ONLY) == (
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        "cannot contain an empty string value. Key: pk"
    )
    assert _key_error({"pk": {"B": "YQ=="}, "sk": {"B": ""}}, BINARY_RANGE) == (
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        "cannot contain an empty binary value. Key: sk"
    )


def test_validate_key_enforces_key_size_limits() -> None:
    # Partition key values may be 2048 bytes, sort key values 1024 bytes (UTF-8 / raw bytes).
    validate_key({"pk": {"S": "é" * 1024}}, HASH_ONLY)
    assert _key_error({"pk": {"S": "a" * 2048 + "é"}}, HASH_ONLY) == (
        INVALID + "Size of hashkey has exceeded the maximum size limit of2048 bytes"
    )
    validate_key({"pk": {"B": "YQ=="}, "sk": {"B": _b64(b"x" * 1024)}}, BINARY_RANGE)
    assert _key_error({"pk": {"B": "YQ=="}, "sk": {"B": _b64(b"x" * 1025)}}, BINARY_RANGE) == (
        INVALID + "Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
    )
    validate_key({"pk": {"S": "a"}, "sk": {"N": "9" * 38}}, COMPOSITE)


def test_key_of_restricts_an_item_to_its_key() -> None:
    item: Item = {"pk": {"S": "a"}, "sk": {"N": "1"}, "x": {"S": "y"}}
    assert key_of(item, COMPOSITE) == {"pk": {"S": "a"}, "sk": {"N": "1"}}
    assert key_of(item, HASH_ONLY) == {"pk": {"S": "a"}}


# --- PutItem items -------------------------------------------------------------------------

GSI = IndexSchema("by_g", KeySchema("g", "S", "gr", "N"), Projection(), is_global=True)
LSI = IndexSchema("by_l", KeySchema("pk", "S", "l", "B"), Projection(), is_global=False)


def _put_error(
    item: Item, schema: KeySchema = COMPOSITE, indexes: tuple[IndexSchema, ...] = ()
) -> str:
    with pytest.raises(ValidationException) as raised:
        validate_item_for_put(item, schema, indexes)
    assert raised.value.message is not None
    return raised.value.message


def test_validate_item_for_put_requires_key_attributes() -> None:
    assert _put_error({"pk": {"S": "a"}}) == INVALID + "Missing the key sk in the item"
    assert _put_error({"sk": {"N": "1"}}) == INVALID + "Missing the key pk in the item"


def test_validate_item_for_put_checks_key_types() -> None:
    assert _put_error({"pk": {"N": "1"}, "sk": {"N": "1"}}) == (
        INVALID + "Type mismatch for key pk expected: S actual: N"
    )
    assert _put_error({"pk": {"S": "a"}, "sk": {"SS": ["1"]}}) == (
        INVALID + "Type mismatch for key sk expected: N actual: SS"
    )


def test_validate_item_for_put_rejects_empty_and_oversized_keys() -> None:
    assert _put_error({"pk": {"S": ""}, "sk": {"N": "1"}}) == (
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        "cannot contain an empty string value. Key: pk"
    )
    assert _put_error({"pk": {"S": "x" * 2049}, "sk": {"N": "1"}}) == (
        INVALID + "Size of hashkey has exceeded the maximum size limit of2048 bytes"
    )


def test_validate_item_for_put_checks_index_key_types() -> None:
    base: Item = {"pk": {"S": "a"}, "sk": {"N": "1"}}
    validate_item_for_put(base, COMPOSITE, (GSI, LSI))  # index keys may be absent
    assert _put_error({**base, "gr": {"S": "x"}}, COMPOSITE, (LSI, GSI)) == (
        INVALID + "Type mismatch for Index Key gr Expected: N Actual: S IndexName: by_g"
    )
    assert _put_error({**base, "l": {"S": "x"}}, COMPOSITE, (LSI, GSI)) == (
        INVALID + "Type mismatch for Index Key l Expected: B Actual: S IndexName: by_l"
    )
    # Global indexes are checked before local ones, whatever the order given.
    assert "IndexName: by_g" in _put_error(
        {**base, "l": {"S": "x"}, "g": {"N": "1"}}, COMPOSITE, (LSI, GSI)
    )


def test_validate_item_for_put_rejects_empty_index_keys() -> None:
    base: Item = {"pk": {"S": "a"}, "sk": {"N": "1"}}
    assert _put_error({**base, "g": {"S": ""}}, COMPOSITE, (GSI,)) == (
        "One or more parameter values are not valid. A value specified for a secondary index key "
        "is not supported. The AttributeValue for a key attribute cannot contain an empty string "
        "value. IndexName: by_g, IndexKey: g"
    )
    assert _put_error({**base, "l": {"B": ""}}, COMPOSITE, (LSI,)) == (
        "One or more parameter values are not valid. A value specified for a secondary index key "
        "is not supported. The AttributeValue for a key attribute cannot contain an empty binary "
        "value. IndexName: by_l, IndexKey: l"
    )


def test_validate_item_for_put_limits_item_size_to_400_kb() -> None:
    # 400 KB = 409600 bytes, names included; checked before the key attributes.
    filler = "x" * (409600 - 2 - 1 - 2 - 2 - 4)
    item: Item = {"pk": {"S": "a"}, "sk": {"N": "1"}, "data": {"S": filler}}
    validate_item_for_put(item, COMPOSITE, ())
    too_big: Item = {"data": {"S": filler + "x"}}
    assert _put_error(too_big | {"pk": {"S": "a"}, "sk": {"N": "1"}}) == (
        "Item size has exceeded the maximum allowed size"
    )
    assert (
        _put_error({"data": {"S": "x" * 409600}})
        == "Item size has exceeded the maximum allowed size"
    )
    validate_item_for_put(
        {"pk": {"S": "a"}, "sk": {"N": "1"}, "data": {"S": "x" * 409600}},
        COMPOSITE,
        (),
        check_size=False,
    )


# --- equality ------------------------------------------------------------------------------


def test_items_equal_ignores_map_and_set_order_but_not_list_order() -> None:
    # An update that leaves the item equal in value writes no stream record.
    assert items_equal(None, None)
    assert not items_equal(None, {})
    assert not items_equal({"a": {"S": "x"}}, None)
    assert items_equal({"a": {"S": "x"}, "b": {"N": "1"}}, {"b": {"N": "1"}, "a": {"S": "x"}})
    assert items_equal({"s": {"SS": ["a", "b"]}}, {"s": {"SS": ["b", "a"]}})
    assert items_equal({"s": {"NS": ["1", "2"]}}, {"s": {"NS": ["2", "1"]}})
    assert items_equal({"s": {"BS": ["YQ==", "Yg=="]}}, {"s": {"BS": ["Yg==", "YQ=="]}})
    assert items_equal(
        {"m": {"M": {"x": {"SS": ["a", "b"]}, "y": {"L": [{"NS": ["1", "2"]}]}}}},
        {"m": {"M": {"y": {"L": [{"NS": ["2", "1"]}]}, "x": {"SS": ["b", "a"]}}}},
    )
    assert not items_equal(
        {"l": {"L": [{"S": "a"}, {"S": "b"}]}}, {"l": {"L": [{"S": "b"}, {"S": "a"}]}}
    )
    assert not items_equal({"a": {"S": "1"}}, {"a": {"N": "1"}})
    assert not items_equal({"a": {"S": "x"}}, {"a": {"S": "x"}, "b": {"S": "y"}})
    assert not items_equal({"s": {"SS": ["a", "b"]}}, {"s": {"SS": ["a", "c"]}})
    assert not items_equal({"s": {"SS": ["a"]}}, {"s": {"SS": ["a", "b"]}})
    assert not items_equal({"l": {"L": [{"S": "a"}]}}, {"l": {"L": [{"S": "a"}, {"S": "a"}]}})
