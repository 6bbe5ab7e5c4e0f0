"""Type-checking, validation and normalisation of wire AttributeValues, items and keys."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from typing import cast

from rivulet.core.numbers import canonical_number
from rivulet.core.schema import IndexSchema, KeySchema
from rivulet.core.sizes import binary_size, item_size, text_size
from rivulet.core.types import AttributeValue, Item, Key
from rivulet.errors import SerializationException, ValidationException

ITEM_SIZE_LIMIT = 400 * 1024
HASH_KEY_SIZE_LIMIT = 2048
RANGE_KEY_SIZE_LIMIT = 1024

INVALID = "One or more parameter values were invalid: "
NOT_VALID = "One or more parameter values are not valid. "
EMPTY_VALUE = (
    "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
)
MULTIPLE_TYPES = (
    "Supplied AttributeValue has more than one datatypes set, "
    "must contain exactly one of the supported datatypes"
)
KEY_MISMATCH = "The provided key element does not match the schema"
# DynamoDB supports nested attributes up to 32 levels deep (maps and lists within each other).
MAX_NESTING = 32
NESTING_EXCEEDED = "Nesting Levels have exceeded supported limits"
ITEM_TOO_LARGE = "Item size has exceeded the maximum allowed size"

# Wire-type (SerializationException) texts, as DynamoDB's Java deserializer words them.
_NOT_EXPECTED_MAP = "Start of structure or map found where not expected"
_VALUE_SCALAR = "Unexpected value type in payload"
_VALUE_LIST = "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.AttributeValue"
_FIELD_SCALAR = "Unexpected field type"
_MAP_LIST = (
    "Unrecognized collection type java.util.Map<java.lang.String, "
    "com.amazonaws.dynamodb.v20120810.AttributeValue>"
)

# DynamoDB type-checks the members of an AttributeValue in this order, whatever the JSON order.
_TYPE_ORDER = ("S", "B", "N", "BOOL", "NULL", "BS", "NS", "SS", "L", "M")
_TRUE_WORDS = frozenset(("TRUE", "1", "YES"))
_FALSE_WORDS = frozenset(("FALSE", "0", "NO"))
_VALUE_KEY_RE = re.compile(r":[0-9a-zA-Z_]+")

# Validation messages are collected, not raised, while the wire types are still being checked:
# DynamoDB reports a SerializationException anywhere in the request before any ValidationException.
Errors = list[str]


def _fail(errors: Errors, message: str) -> None:
    if not errors:
        errors.append(message)


def _scalar_name(payload: object) -> str:
    if payload is True:
        return "TRUE_VALUE"
    if payload is False:
        return "FALSE_VALUE"
    return "NUMBER_VALUE" if isinstance(payload, int) else "DECIMAL_VALUE"


def _string(payload: object) -> str:
    if isinstance(payload, str):
        return payload
    if isinstance(payload, list):
        raise SerializationException("Unrecognized collection type class java.lang.String")
    if isinstance(payload, dict):
        raise SerializationException(_NOT_EXPECTED_MAP)
    raise SerializationException(f"{_scalar_name(payload)} cannot be converted to String")


def _blob(payload: object) -> str:
    if isinstance(payload, str):
        if len(payload) % 4:
            raise SerializationException(
                f"Base64 encoded length is expected a multiple of 4 bytes but found: {len(payload)}"
            )
        # Only canonical base64 is accepted: it must survive a decode/encode round trip.
        try:
            valid = base64.b64encode(base64.b64decode(payload, validate=True)).decode() == payload
        except (binascii.Error, ValueError):
            valid = False
        if not valid:
            raise SerializationException("Invalid last non-pad Base64 character dectected")  # sic
        return payload
    if isinstance(payload, list):
        raise SerializationException("Unrecognized collection type class java.nio.ByteBuffer")
    if isinstance(payload, dict):
        raise SerializationException(_NOT_EXPECTED_MAP)
    raise SerializationException("only base-64-encoded strings are convertible to bytes")


def _boolean(payload: object) -> bool:
    if payload is True or payload is False:
        return payload
    if isinstance(payload, str):
        # The wire deserializer coerces these words, case-insensitively.
        word = payload.upper()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
        raise SerializationException("Unexpected token received from parser")
    if isinstance(payload, list):
        raise SerializationException("Unrecognized collection type class java.lang.Boolean")
    if isinstance(payload, dict):
        raise SerializationException(_NOT_EXPECTED_MAP)
    raise SerializationException(f"{_scalar_name(payload)} cannot be converted to Boolean")


def _list(payload: object) -> list[object]:
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):
        raise SerializationException(_NOT_EXPECTED_MAP)
    raise SerializationException(_FIELD_SCALAR)


def _map(payload: object) -> dict[str, object]:
    if isinstance(payload, dict):
        return payload
    if isinstance(payload, list):
        raise SerializationException(_MAP_LIST)
    raise SerializationException(_FIELD_SCALAR)


def _number(payload: object, errors: Errors) -> object:
    text = _string(payload)
    try:
        canonical = canonical_number(text)
    except ValidationException as error:
        _fail(errors, str(error.message))
        return text
    return text if canonical == text else canonical


def _null(payload: object, errors: Errors) -> object:
    flag = _boolean(payload)
    if not flag:
        _fail(errors, INVALID + "Null attribute value types must have the value of true")
    return flag


def _set_members(payload: object, check: Callable[[object], str]) -> list[str]:
    members = _list(payload)
    for member in members:
        if member is None:
            raise SerializationException(_VALUE_SCALAR)
        check(member)
    return cast(list[str], members)  # every member checked to be a str


def _string_set(payload: object, errors: Errors) -> object:
    members = _set_members(payload, _string)
    if not members:
        _fail(errors, INVALID + "An string set  may not be empty")  # sic, two spaces
    elif len(set(members)) != len(members):
        _fail(errors, f"{INVALID}Input collection [{', '.join(members)}] contains duplicates.")
    return members


def _binary_set(payload: object, errors: Errors) -> object:
    members = _set_members(payload, _blob)
    if not members:
        _fail(errors, INVALID + "Binary sets should not be empty")
    elif len(set(members)) != len(members):
        # sic: no space before "of"
        _fail(
            errors,
            f"{INVALID}Input collection [{', '.join(members)}]of type BS contains duplicates.",
        )
    return members


def _number_set(payload: object, errors: Errors) -> object:
    members = _list(payload)
    texts = [None if member is None else _string(member) for member in members]
    if not texts:
        _fail(errors, INVALID + "An number set  may not be empty")  # sic, two spaces
        return members
    canonical: list[str] = []
    for text in texts:
        if text is None:
            _fail(errors, "The parameter cannot be converted to a numeric value")
            return members
        try:
            canonical.append(canonical_number(text))
        except ValidationException as error:
            _fail(errors, str(error.message))
            return members
    # Duplicates are judged on the numeric value: "1" and "1.0" are the same member.
    if len(set(canonical)) != len(canonical):
        _fail(errors, "Input collection contains duplicates")
    return members if canonical == members else canonical


def _nested(depth: int) -> int:
    """The depth of the members of a map or list found at `depth`; raises past the limit.

    Raised at once rather than collected: it also keeps hostile input from recursing deeply."""
    if depth >= MAX_NESTING:
        raise ValidationException(NESTING_EXCEEDED)
    return depth + 1


def exceeds_nesting(item: Item) -> bool:
    """Whether a map or list of a (validated) item lies deeper than MAX_NESTING levels, as an
    update can build; iterative, so even a hostile item cannot make it recurse."""
    stack: list[tuple[AttributeValue, int]] = [(value, 0) for value in item.values()]
    while stack:
        value, depth = stack.pop()
        for kind, payload in value.items():
            if kind == "M":
                children = payload.values()
            elif kind == "L":
                children = payload
            else:
                continue
            if depth >= MAX_NESTING:
                return True
            stack.extend((child, depth + 1) for child in children)
    return False


def _attribute_list(payload: object, errors: Errors, depth: int) -> object:
    members = _list(payload)
    inner = _nested(depth)
    normalized = [_value(member, errors, inner) for member in members]
    if all(new is old for new, old in zip(normalized, members, strict=True)):
        return members
    return normalized


def _attribute_map(payload: object, errors: Errors, depth: int) -> object:
    return _attribute_values(_map(payload), errors, _nested(depth))


# Each check takes (payload, errors, depth of the value holding the payload).
_CHECKS: dict[str, Callable[[object, Errors, int], object]] = {
    "S": lambda payload, errors, depth: _string(payload),
    "B": lambda payload, errors, depth: _blob(payload),
    "N": lambda payload, errors, depth: _number(payload, errors),
    "BOOL": lambda payload, errors, depth: _boolean(payload),
    "NULL": lambda payload, errors, depth: _null(payload, errors),
    "BS": lambda payload, errors, depth: _binary_set(payload, errors),
    "NS": lambda payload, errors, depth: _number_set(payload, errors),
    "SS": lambda payload, errors, depth: _string_set(payload, errors),
    "L": _attribute_list,
    "M": _attribute_map,
}


def _value(value: object, errors: Errors, depth: int = 0) -> AttributeValue:
    """Type-check one AttributeValue (raising), collect its first validation message, normalise."""
    if not isinstance(value, dict):
        if value is None:
            _fail(errors, EMPTY_VALUE)
            return {}
        raise SerializationException(_VALUE_LIST if isinstance(value, list) else _VALUE_SCALAR)
    if len(value) == 1:
        for kind, payload in value.items():
            if kind == "S" and type(payload) is str:  # by far the most common value
                return value
            check = _CHECKS.get(kind)
            if check is None or payload is None:  # unknown members and nulls are ignored
                break
            new = check(payload, errors, depth)
            return value if new is payload else {kind: new}
        _fail(errors, EMPTY_VALUE)
        return {}
    normalized: AttributeValue = {}
    for kind in _TYPE_ORDER:
        payload = value.get(kind)
        if payload is not None:
            normalized[kind] = _CHECKS[kind](payload, errors, depth)
    if not normalized:
        _fail(errors, EMPTY_VALUE)
    elif len(normalized) > 1:
        _fail(errors, MULTIPLE_TYPES)
    return normalized


def _attribute_values(values: dict[str, object], errors: Errors, depth: int = 0) -> Item:
    """Normalise every value of an attribute map; returns `values` itself when nothing changed."""
    normalized: Item | None = None
    for name, value in values.items():
        new = _value(value, errors, depth)
        if new is not value and normalized is None:
            normalized = {}
            for earlier, earlier_value in values.items():
                if earlier == name:
                    break
                normalized[earlier] = cast(AttributeValue, earlier_value)
        if normalized is not None:
            normalized[name] = new
    return cast(Item, values) if normalized is None else normalized


def parse_value(value: object) -> tuple[AttributeValue, str | None]:
    """Type-check one AttributeValue (raises SerializationException); return the normalised value
    and the first validation message, so callers can report constraint errors in between."""
    errors: Errors = []
    normalized = _value(value, errors)
    return normalized, errors[0] if errors else None


def parse_item(item: object) -> tuple[Item, str | None]:
    """parse_value for a whole attribute map (Item, Key, ExclusiveStartKey ...)."""
    errors: Errors = []
    normalized = _attribute_values(_map(item), errors)
    return normalized, errors[0] if errors else None


def parse_expression_values(values: object) -> tuple[dict[str, AttributeValue], str | None]:
    """parse_item for ExpressionAttributeValues, with its own emptiness, key and wrapping rules."""
    mapping = _map(values)
    first_error: str | None = None
    normalized: dict[str, AttributeValue] = {}
    for key, value in mapping.items():
        errors: Errors = []
        normalized[key] = _value(value, errors)
        if errors and first_error is None:
            first_error = (
                f"ExpressionAttributeValues contains invalid value: {errors[0]} for key {key}"
            )
    if not mapping:
        return normalized, "ExpressionAttributeValues must not be empty"
    for key in mapping:
        if not _VALUE_KEY_RE.fullmatch(key):
            return (
                normalized,
                f'ExpressionAttributeValues contains invalid key: Syntax error; key: "{key}"',
            )
    return normalized, first_error


def normalize_value(value: object) -> AttributeValue:
    """Type-check, validate and normalise one AttributeValue (numbers become canonical)."""
    normalized, error = parse_value(value)
    if error is not None:
        raise ValidationException(error)
    return normalized


def normalize_item(item: object) -> Item:
    """normalize_value for every attribute of a JSON object of AttributeValues."""
    normalized, error = parse_item(item)
    if error is not None:
        raise ValidationException(error)
    return normalized


def normalize_expression_values(values: object) -> dict[str, AttributeValue]:
    """Validate ExpressionAttributeValues; errors are wrapped with the offending key."""
    normalized, error = parse_expression_values(values)
    if error is not None:
        raise ValidationException(error)
    return normalized


def _key_part_size(payload: str, key_type: str) -> int:
    return binary_size(payload) if key_type == "B" else text_size(payload)


def _check_key_part(name: str, payload: object, key_type: str, is_hash: bool) -> None:
    """Empty-value and size rules shared by keys and items; payload already has type key_type."""
    if key_type == "N":
        return  # numbers are always small enough
    assert isinstance(payload, str)
    if not payload:
        kind = "string" if key_type == "S" else "binary"
        raise ValidationException(
            f"{NOT_VALID}The AttributeValue for a key attribute cannot contain an empty {kind} value. Key: {name}"
        )
    if is_hash:
        if _key_part_size(payload, key_type) > HASH_KEY_SIZE_LIMIT:
            raise ValidationException(
                INVALID + "Size of hashkey has exceeded the maximum size limit of2048 bytes"  # sic
            )
    elif _key_part_size(payload, key_type) > RANGE_KEY_SIZE_LIMIT:
        raise ValidationException(
            INVALID + "Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
        )


def _key_parts(schema: KeySchema) -> tuple[tuple[str, str, bool], ...]:
    if schema.range_name is None or schema.range_type is None:
        return ((schema.hash_name, schema.hash_type, True),)
    return (
        (schema.hash_name, schema.hash_type, True),
        (schema.range_name, schema.range_type, False),
    )


def validate_key(key: Item, schema: KeySchema) -> Key:
    """A GetItem/DeleteItem/UpdateItem `Key`: exactly the schema's attributes with their types."""
    parts = _key_parts(schema)
    if len(key) != len(parts):
        raise ValidationException(KEY_MISMATCH)
    for name, key_type, is_hash in parts:
        value = key.get(name)
        if value is None or key_type not in value:
            raise ValidationException(KEY_MISMATCH)
        _check_key_part(name, value[key_type], key_type, is_hash)
    return key


def check_item_size(item: Item) -> int:
    """Raise if the item exceeds 400 KB; returns its size. PutItem checks this before the table."""
    size = item_size(item)
    if size > ITEM_SIZE_LIMIT:
        raise ValidationException(ITEM_TOO_LARGE)
    return size


def validate_item_for_put(
    item: Item,
    schema: KeySchema,
    indexes: Sequence[IndexSchema],
    *,
    check_size: bool = True,
) -> None:
    """PutItem's item rules: size, then table key attributes, then index key attributes."""
    if check_size:
        check_item_size(item)
    for name, key_type, is_hash in _key_parts(schema):
        value = item.get(name)
        if value is None:
            raise ValidationException(f"{INVALID}Missing the key {name} in the item")
        if key_type not in value:
            actual = next(iter(value), None)
            raise ValidationException(
                f"{INVALID}Type mismatch for key {name} expected: {key_type} actual: {actual}"
            )
        _check_key_part(name, value[key_type], key_type, is_hash)
    # Global indexes are checked before local ones; an LSI's partition key is the table's.
    ordered = [index for index in indexes if index.is_global]
    ordered += [index for index in indexes if not index.is_global]
    for index in ordered:
        parts = _key_parts(index.key)
        for name, key_type, _ in parts if index.is_global else parts[1:]:
            _check_index_key(item, name, key_type, index.name)


def _check_index_key(item: Item, name: str, key_type: str, index_name: str) -> None:
    value = item.get(name)
    if value is None:
        return  # items without the index key are simply not in the index
    if key_type not in value:
        actual = next(iter(value), None)
        raise ValidationException(
            f"{INVALID}Type mismatch for Index Key {name} Expected: {key_type} Actual: {actual} "
            f"IndexName: {index_name}"
        )
    if key_type != "N" and not value[key_type]:
        kind = "string" if key_type == "S" else "binary"
        raise ValidationException(
            f"{NOT_VALID}A value specified for a secondary index key is not supported. "
            f"The AttributeValue for a key attribute cannot contain an empty {kind} value. "
            f"IndexName: {index_name}, IndexKey: {name}"
        )


def key_of(item: Item, schema: KeySchema) -> Key:
    """The primary key attributes of a (validated) item."""
    if schema.range_name is None:
        return {schema.hash_name: item[schema.hash_name]}
    return {schema.hash_name: item[schema.hash_name], schema.range_name: item[schema.range_name]}


def items_equal(a: Item | None, b: Item | None) -> bool:
    """Value equality of stored items: map key order and set order do not matter, list order does.

    Numbers are canonical after normalisation, so their strings compare exactly.
    """
    if a is None or b is None:
        return a is b
    # dict equality already ignores key order; only sets need a second, order-free look.
    return a == b or (a.keys() == b.keys() and all(_values_equal(a[k], b[k]) for k in a))


def _values_equal(a: AttributeValue, b: AttributeValue) -> bool:
    if a == b:
        return True
    (kind, left), (other_kind, right) = next(iter(a.items())), next(iter(b.items()))
    if kind != other_kind:
        return False
    if kind in ("SS", "NS", "BS"):
        return len(left) == len(right) and set(left) == set(right)
    if kind == "M":
        return items_equal(left, right)
    if kind == "L":
        return len(left) == len(right) and all(map(_values_equal, left, right))
    return False
