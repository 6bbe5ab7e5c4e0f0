"""UpdateExpression application: SET, REMOVE, ADD, DELETE semantics and runtime errors."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from rivulet.core.types import Item
from rivulet.errors import ValidationException
from rivulet.expr import apply_update, compile_expressions, project, update_top_level_names


def run(text: str, item: Item, names: dict[str, str] | None = None, **values: Any) -> Item:
    compiled = compile_expressions(
        update=text, names=names, values={f":{k}": v for k, v in values.items()} or None
    )
    assert compiled.update is not None
    before = copy.deepcopy(item)
    after = apply_update(compiled.update, item)
    assert item == before  # the input is never mutated
    return after


def runtime_error(text: str, item: Item, **values: Any) -> str:
    with pytest.raises(ValidationException) as info:
        run(text, item, **values)
    return str(info.value.message)


N = {"N": "5"}


def test_update_set_top_level_and_nested() -> None:
    item: Item = {"id": {"S": "k"}, "m": {"M": {"a": {"S": "old"}}}}
    assert run("SET x = :v, m.a = :w, m.b = :w", item, v=N, w={"S": "new"}) == {
        "id": {"S": "k"},
        "x": N,
        "m": {"M": {"a": {"S": "new"}, "b": {"S": "new"}}},
    }


def test_update_set_copies_from_other_attributes() -> None:
    item: Item = {"a": {"S": "x"}, "b": {"S": "y"}}
    # Every value is computed from the item as it was before the update.
    assert run("SET a = b, b = a", item) == {"a": {"S": "y"}, "b": {"S": "x"}}


def test_update_set_arithmetic() -> None:
    item: Item = {"n": {"N": "10.5"}, "m": {"N": "2"}}
    assert run("SET n = n + :v", item, v={"N": "0.5"})["n"] == {"N": "11"}
    assert run("SET n = n - :v", item, v={"N": "20"})["n"] == {"N": "-9.5"}
    assert run("SET x = n - m", item)["x"] == {"N": "8.5"}
    assert run("SET x = :a + :b", item, a={"N": "1E2"}, b={"N": "1"})["x"] == {"N": "101"}


def test_update_arithmetic_errors() -> None:
    item: Item = {"s": {"S": "x"}, "n": {"N": "1"}}
    assert runtime_error("SET n = nope + :v", item, v=N) == (
        "The provided expression refers to an attribute that does not exist in the item"
    )
    assert runtime_error("SET n = s + :v", item, v=N) == (
        "An operand in the update expression has an incorrect data type"
    )
    assert runtime_error("SET n = :v + :v", item, v={"N": "9E125"}) == (
        "Number overflow. Attempting to store a number with magnitude larger than supported range"
    )
    assert runtime_error("SET n = n + :v", item, v={"N": "1E-38"}) == (
        "Attempting to store more than 38 significant digits in a Number"
    )


def test_update_set_missing_source_attribute() -> None:
    assert runtime_error("SET a = b", {}) == (
        "The provided expression refers to an attribute that does not exist in the item"
    )
    assert runtime_error("SET a = b.c", {"b": {"M": {}}}) == (
        "The provided expression refers to an attribute that does not exist in the item"
    )


def test_update_if_not_exists() -> None:
    assert run("SET a = if_not_exists(a, :v)", {}, v=N) == {"a": N}
    assert run("SET a = if_not_exists(a, :v)", {"a": {"S": "x"}}, v=N) == {"a": {"S": "x"}}
    assert run("SET c = if_not_exists(a, b) + :v", {"b": {"N": "1"}}, v=N) == {
        "b": {"N": "1"},
        "c": {"N": "6"},
    }


def test_update_list_append() -> None:
    item: Item = {"l": {"L": [{"N": "1"}]}}
    assert run("SET l = list_append(l, :v)", item, v={"L": [{"N": "2"}]})["l"] == {
        "L": [{"N": "1"}, {"N": "2"}]
    }
    assert run("SET l = list_append(:v, l)", item, v={"L": [{"N": "0"}]})["l"] == {
        "L": [{"N": "0"}, {"N": "1"}]
    }
    assert run("SET n = list_append(if_not_exists(n, :e), :v)", item, e={"L": []}, v={"L": [N]})[
        "n"
    ] == {"L": [N]}
    assert runtime_error("SET l = list_append(l, :v)", {"l": {"S": "x"}}, v={"L": []}) == (
        "An operand in the update expression has an incorrect data type"
    )
    assert runtime_error("SET l = list_append(l, :v)", {}, v={"L": []}) == (
        "The provided expression refers to an attribute that does not exist in the item"
    )


def test_update_set_list_elements() -> None:
    item: Item = {"l": {"L": [{"N": "0"}, {"N": "1"}]}}
    assert run("SET l[0] = :v", item, v=N)["l"] == {"L": [N, {"N": "1"}]}
    # An index past the end appends, in index order.
    assert run("SET l[10] = :v, l[5] = :w", item, v=N, w={"S": "w"})["l"] == {
        "L": [{"N": "0"}, {"N": "1"}, {"S": "w"}, N]
    }


def test_update_invalid_document_paths() -> None:
    message = "The document path provided in the update expression is invalid for update"
    assert runtime_error("SET a.b = :v", {}, v=N) == message
    assert runtime_error("SET a.b = :v", {"a": {"L": []}}, v=N) == message
    assert runtime_error("SET a[0] = :v", {"a": {"M": {}}}, v=N) == message
    assert runtime_error("SET a[0].b = :v", {"a": {"L": []}}, v=N) == message
    assert runtime_error("REMOVE a.b", {}) == message
    assert runtime_error("ADD a.b :v", {"a": {"S": "x"}}, v=N) == message


def test_update_remove() -> None:
    item: Item = {"a": {"S": "x"}, "m": {"M": {"k": N, "j": N}}}
    assert run("REMOVE a, m.k, nope, m.nope", item) == {"m": {"M": {"j": N}}}


def test_update_remove_list_elements_by_original_index() -> None:
    # Indexes refer to the list before the update; later elements shift down afterwards.
    item: Item = {"l": {"L": [{"N": str(i)} for i in range(5)]}}
    assert run("REMOVE l[1], l[3]", item)["l"] == {"L": [{"N": "0"}, {"N": "2"}, {"N": "4"}]}
    assert run("REMOVE l[0] SET l[1] = :v", item, v=N)["l"] == {
        "L": [N, {"N": "2"}, {"N": "3"}, {"N": "4"}]
    }
    assert run("REMOVE l[9]", item) == item


def test_update_add_numbers() -> None:
    assert run("ADD n :v", {"n": {"N": "1.5"}}, v=N) == {"n": {"N": "6.5"}}
    assert run("ADD n :v", {}, v=N) == {"n": N}
    assert run("ADD m.n :v", {"m": {"M": {}}}, v=N) == {"m": {"M": {"n": N}}}
    assert runtime_error("ADD n :v", {"n": {"S": "x"}}, v=N) == (
        "An operand in the update expression has an incorrect data type"
    )


def test_update_add_sets() -> None:
    assert run("ADD s :v", {"s": {"SS": ["a", "b"]}}, v={"SS": ["b", "c"]}) == {
        "s": {"SS": ["a", "b", "c"]}
    }
    assert run("ADD s :v", {}, v={"NS": ["1"]}) == {"s": {"NS": ["1"]}}
    assert run("ADD s :v", {"s": {"NS": ["1.0"]}}, v={"NS": ["1", "2"]}) == {
        "s": {"NS": ["1.0", "2"]}
    }
    assert runtime_error("ADD s :v", {"s": {"SS": ["a"]}}, v={"NS": ["1"]}) == (
        "An operand in the update expression has an incorrect data type"
    )


def test_update_delete_from_sets() -> None:
    item: Item = {"s": {"SS": ["a", "b", "c"]}}
    assert run("DELETE s :v", item, v={"SS": ["b", "z"]}) == {"s": {"SS": ["a", "c"]}}
    assert run("DELETE nope :v", item, v={"SS": ["b"]}) == item
    assert runtime_error("DELETE s :v", item, v={"NS": ["1"]}) == (
        "An operand in the update expression has an incorrect data type"
    )


def test_update_delete_last_members_removes_attribute() -> None:
    # DynamoDB sets can not be empty.
    item: Item = {"s": {"BS": ["AQ=="]}, "m": {"M": {"t": {"NS": ["1", "2"]}}}}
    assert run("DELETE s :v, m.t :w", item, v={"BS": ["AQ=="]}, w={"NS": ["2", "1.0"]}) == {
        "m": {"M": {}}
    }


def test_update_runtime_values_are_checked_before_any_write() -> None:
    item: Item = {"a": N}
    assert runtime_error("REMOVE a SET b = nope", item) == (
        "The provided expression refers to an attribute that does not exist in the item"
    )


def test_update_result_shares_nothing_mutable_with_input() -> None:
    item: Item = {"m": {"M": {"l": {"L": [N]}}}}
    after = run("SET m.l[1] = :v", item, v=N)
    after["m"]["M"]["l"]["L"].append(N)
    assert item == {"m": {"M": {"l": {"L": [N]}}}}


def test_update_top_level_names() -> None:
    compiled = compile_expressions(
        update="SET #a.b = :v REMOVE c ADD d :v", names={"#a": "a"}, values={":v": N}
    )
    assert compiled.update is not None
    assert update_top_level_names(compiled.update) == frozenset({"a", "c", "d"})


def test_update_projection_of_updated_paths() -> None:
    compiled = compile_expressions(update="SET m.a = :v, l[1] = :v REMOVE x", values={":v": N})
    assert compiled.update is not None
    item: Item = {"m": {"M": {"a": N, "b": N}}, "l": {"L": [N, N, N]}, "x": N, "y": N}
    assert project(compiled.update.projection, item) == {
        "m": {"M": {"a": N}},
        "l": {"L": [N]},
        "x": N,
    }
