"""Item-size rules (400 KB limit, capacity units, stream SizeBytes)."""

from __future__ import annotations

import base64

import pytest

from rivulet.core.sizes import binary_size, item_size, text_size, value_size
from rivulet.core.types import Item


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _record_size(keys: Item, new: Item | None = None, old: Item | None = None) -> int:
    return item_size(keys) + (item_size(new) if new else 0) + (item_size(old) if old else 0)


ID_101 = {"Id": {"N": "101"}}
NEW_ITEM = {"Message": {"S": "New item!"}, "Id": {"N": "101"}}
CHANGED_ITEM = {"Message": {"S": "This item has changed"}, "Id": {"N": "101"}}
HELLO_KEY = {"my_partition_key": {"S": "hello world"}}
ID_KEY = {"id": {"S": "id_value"}}


@pytest.mark.parametrize(
    ("keys", "new", "old", "expected"),
    [
        (
            {"ForumName": {"S": "DynamoDB"}, "Subject": {"S": "DynamoDB Thread 3"}},
            None,
            None,
            41,
        ),
        (ID_101, NEW_ITEM, None, 26),
        (ID_101, CHANGED_ITEM, NEW_ITEM, 59),
        (ID_101, None, CHANGED_ITEM, 38),
        (HELLO_KEY, {**HELLO_KEY, "binary_key": {"B": _b64(b"foobar")}}, None, 70),
        (HELLO_KEY, HELLO_KEY, None, 54),
        (ID_KEY, {**ID_KEY, "id2": {"S": "id2_value"}}, None, 32),
        (ID_KEY, ID_KEY, None, 20),
        (ID_KEY, {**ID_KEY, "id2": {"S": "id2_new_value"}}, ID_KEY, 46),
    ],
)
def test_item_size_reproduces_checked_stream_sizes(
    keys: Item, new: Item | None, old: Item | None, expected: int
) -> None:
    # Rule (records.md §4): SizeBytes = item size of Keys + NewImage + OldImage; these nine
    # values were observed on AWS.
    assert _record_size(keys, new, old) == expected


def test_value_size_string_is_utf8_length() -> None:
    assert value_size({"S": ""}) == 0
    assert value_size({"S": "abc"}) == 3
    assert value_size({"S": "é"}) == 2
    assert value_size({"S": "😀"}) == 4


def test_value_size_binary_is_decoded_length() -> None:
    for raw in (b"", b"a", b"ab", b"abc", b"abcd", bytes(range(256))):
        assert value_size({"B": _b64(raw)}) == len(raw)
        assert binary_size(_b64(raw)) == len(raw)


def test_value_size_number_uses_number_size() -> None:
    assert value_size({"N": "0"}) == 1
    assert value_size({"N": "101"}) == 3
    assert value_size({"N": "-1.5"}) == 4


def test_value_size_bool_and_null_are_one_byte() -> None:
    assert value_size({"BOOL": False}) == 1
    assert value_size({"NULL": True}) == 1


def test_value_size_sets_sum_their_members() -> None:
    assert value_size({"SS": ["a", "bc", "é"]}) == 5
    assert value_size({"NS": ["1", "101", "0"]}) == 2 + 3 + 1
    assert value_size({"BS": [_b64(b"xy"), _b64(b"z")]}) == 3


def test_value_size_map_is_three_plus_name_value_and_one_per_entry() -> None:
    assert value_size({"M": {}}) == 3
    assert value_size({"M": {"ab": {"S": "xyz"}, "c": {"BOOL": True}}}) == 3 + (2 + 3 + 1) + (
        1 + 1 + 1
    )


def test_value_size_list_is_three_plus_value_and_one_per_element() -> None:
    assert value_size({"L": []}) == 3
    assert value_size({"L": [{"S": "xyz"}, {"NULL": True}]}) == 3 + (3 + 1) + (1 + 1)


def test_value_size_nested_documents_add_up() -> None:
    inner = {"M": {"k": {"L": [{"N": "101"}]}}}  # 3 + (1 + (3 + 3 + 1) + 1)
    assert value_size(inner) == 12
    assert value_size({"L": [inner]}) == 3 + 12 + 1


def test_item_size_counts_utf8_attribute_names() -> None:
    assert item_size({}) == 0
    assert item_size({"név": {"S": "x"}}) == 4 + 1
    assert text_size("név") == 4
