"""Condition evaluation: every operator and function over wire-format items."""

from __future__ import annotations

from base64 import b64encode
from typing import Any

import pytest

from rivulet.core.types import Item
from rivulet.errors import ValidationException
from rivulet.expr import compile_expressions, evaluate


def b64(data: bytes) -> str:
    return b64encode(data).decode()


ITEM: Item = {
    "s": {"S": "hello"},
    "n": {"N": "10"},
    "b": {"B": b64(b"\x01\x02\x03")},
    "ss": {"SS": ["x", "y"]},
    "ns": {"NS": ["1", "2.5"]},
    "bs": {"BS": [b64(b"\x01"), b64(b"\x02")]},
    "l": {"L": [{"S": "a"}, {"N": "1"}, {"M": {"k": {"S": "v"}}}]},
    "m": {"M": {"nest": {"M": {"deep": {"S": "x"}}}, "arr": {"L": [{"N": "7"}]}}},
    "t": {"BOOL": True},
    "z": {"NULL": True},
    "u": {"S": "é"},
}


def check(text: str, item: Item | None = ITEM, **values: Any) -> bool:
    compiled = compile_expressions(
        condition=text, values={f":{k}": v for k, v in values.items()} or None
    )
    assert compiled.condition is not None
    return evaluate(compiled.condition, item)


def test_evaluate_attribute_exists_and_not_exists() -> None:
    assert check("attribute_exists(s)")
    assert not check("attribute_exists(nope)")
    assert check("attribute_not_exists(nope)")
    assert check("attribute_exists(z)")  # NULL is a value
    assert check("attribute_exists(m.nest.deep)")
    assert not check("attribute_exists(m.nest.nope)")
    assert check("attribute_exists(l[2].k)")
    assert not check("attribute_exists(l[3])")
    assert not check("attribute_exists(s.x)")  # not a map
    assert not check("attribute_exists(m[0])")  # not a list


def test_evaluate_missing_item_is_empty() -> None:
    assert check("attribute_not_exists(id)", None)
    assert not check("attribute_exists(id)", None)
    assert not check("a = :v", None, v={"S": "x"})


def test_evaluate_equality_requires_same_type() -> None:
    assert check("s = :v", v={"S": "hello"})
    assert not check("s = :v", v={"N": "1"})
    assert check("n = :v", v={"N": "10.0"})  # numbers compare by value
    assert check("n = :v", v={"N": "1E1"})
    assert not check("nope = :v", v={"S": "x"})
    assert check("b = :v", v={"B": b64(b"\x01\x02\x03")})
    assert check("t = :v", v={"BOOL": True})
    assert not check("t = :v", v={"BOOL": False})
    assert check("z = :v", v={"NULL": True})


def test_evaluate_equality_of_sets_ignores_order() -> None:
    assert check("ss = :v", v={"SS": ["y", "x"]})
    assert not check("ss = :v", v={"SS": ["x"]})
    assert check("ns = :v", v={"NS": ["2.50", "1"]})
    assert check("bs = :v", v={"BS": [b64(b"\x02"), b64(b"\x01")]})


def test_evaluate_equality_of_lists_and_maps() -> None:
    assert check("l = :v", v={"L": [{"S": "a"}, {"N": "1.0"}, {"M": {"k": {"S": "v"}}}]})
    assert not check("l = :v", v={"L": [{"N": "1"}, {"S": "a"}, {"M": {"k": {"S": "v"}}}]})
    assert check("m.nest = :v", v={"M": {"deep": {"S": "x"}}})
    assert not check("m.nest = :v", v={"M": {"deep": {"S": "x"}, "more": {"S": "y"}}})


def test_evaluate_not_equal() -> None:
    assert check("s <> :v", v={"S": "other"})
    assert not check("s <> :v", v={"S": "hello"})
    assert check("s <> :v", v={"N": "1"})  # different types are never equal
    assert check("nope <> :v", v={"S": "x"})  # a missing attribute differs from any value


def test_evaluate_ordering_operators() -> None:
    assert check("n > :v", v={"N": "9.99"})
    assert check("n >= :v", v={"N": "10"})
    assert check("n < :v", v={"N": "1E2"})
    assert check("n <= :v", v={"N": "10"})
    assert not check("n < :v", v={"N": "-11"})
    assert check("s < :v", v={"S": "hellp"})
    assert check("s > :v", v={"S": "Hello"})  # code-point (UTF-8 byte) order
    assert check("u > :v", v={"S": "z"})
    assert check("b < :v", v={"B": b64(b"\x01\x02\x04")})
    assert check("b > :v", v={"B": b64(b"\x01\x02")})


def test_evaluate_ordering_needs_same_scalar_type() -> None:
    assert not check("n < :v", v={"S": "z"})
    assert not check("s > :v", v={"N": "1"})
    assert not check("nope < :v", v={"N": "1"})
    assert not check("ss < :v", v={"SS": ["z"]})
    assert not check("t >= :v", v={"BOOL": True})


def test_evaluate_between() -> None:
    assert check("n BETWEEN :a AND :b", a={"N": "10"}, b={"N": "10"})
    assert check("n BETWEEN :a AND :b", a={"N": "-1"}, b={"N": "11"})
    assert not check("n BETWEEN :a AND :b", a={"N": "11"}, b={"N": "12"})
    assert check("s BETWEEN :a AND :b", a={"S": "h"}, b={"S": "i"})
    assert not check("s BETWEEN :a AND :b", a={"N": "1"}, b={"N": "100"})
    assert not check("nope BETWEEN :a AND :b", a={"N": "1"}, b={"N": "100"})


def test_evaluate_in() -> None:
    assert check("s IN (:a, :b)", a={"S": "x"}, b={"S": "hello"})
    assert not check("s IN (:a, :b)", a={"S": "x"}, b={"N": "1"})
    assert check("n IN (:a)", a={"N": "10.00"})
    assert check("ss IN (:a)", a={"SS": ["y", "x"]})
    assert not check("nope IN (:a)", a={"S": "x"})


def test_evaluate_attribute_type() -> None:
    for name, kind in (("s", "S"), ("n", "N"), ("b", "B"), ("ss", "SS"), ("ns", "NS")):
        assert check(f"attribute_type({name}, :t)", t={"S": kind})
    assert check("attribute_type(l, :t)", t={"S": "L"})
    assert check("attribute_type(m, :t)", t={"S": "M"})
    assert check("attribute_type(t, :t)", t={"S": "BOOL"})
    assert check("attribute_type(z, :t)", t={"S": "NULL"})
    assert not check("attribute_type(s, :t)", t={"S": "N"})
    assert not check("attribute_type(nope, :t)", t={"S": "S"})


def test_evaluate_begins_with_strings_and_binaries() -> None:
    assert check("begins_with(s, :p)", p={"S": "he"})
    assert check("begins_with(s, :p)", p={"S": ""})
    assert not check("begins_with(s, :p)", p={"S": "lo"})
    assert check("begins_with(b, :p)", p={"B": b64(b"\x01\x02")})
    assert not check("begins_with(b, :p)", p={"B": b64(b"\x02")})
    assert not check("begins_with(s, :p)", p={"B": b64(b"h")})
    assert not check("begins_with(n, :p)", p={"S": "1"})
    assert not check("begins_with(nope, :p)", p={"S": "1"})


def test_evaluate_contains() -> None:
    assert check("contains(s, :v)", v={"S": "ell"})
    assert not check("contains(s, :v)", v={"S": "xyz"})
    assert check("contains(b, :v)", v={"B": b64(b"\x02\x03")})
    assert check("contains(ss, :v)", v={"S": "y"})
    assert not check("contains(ss, :v)", v={"S": "z"})
    assert check("contains(ns, :v)", v={"N": "2.50"})
    assert not check("contains(ns, :v)", v={"S": "1"})
    assert check("contains(bs, :v)", v={"B": b64(b"\x02")})
    assert check("contains(l, :v)", v={"S": "a"})
    assert check("contains(l, :v)", v={"N": "1"})
    assert check("contains(l, :v)", v={"M": {"k": {"S": "v"}}})
    assert not check("contains(l, :v)", v={"S": "b"})
    assert not check("contains(n, :v)", v={"N": "1"})
    assert not check("contains(nope, :v)", v={"S": "x"})


def test_evaluate_size_of_each_type() -> None:
    assert check("size(s) = :v", v={"N": "5"})
    assert check("size(u) = :v", v={"N": "1"})
    assert check("size(b) = :v", v={"N": "3"})
    assert check("size(ss) = :v", v={"N": "2"})
    assert check("size(ns) = :v", v={"N": "2"})
    assert check("size(bs) = :v", v={"N": "2"})
    assert check("size(l) = :v", v={"N": "3"})
    assert check("size(m) = :v", v={"N": "2"})
    assert check("size(m.arr) < :v", v={"N": "2"})
    # Numbers, booleans, nulls and missing attributes have no size: the comparison is false.
    assert not check("size(n) >= :v", v={"N": "0"})
    assert not check("size(t) >= :v", v={"N": "0"})
    assert not check("size(z) >= :v", v={"N": "0"})
    assert not check("size(nope) >= :v", v={"N": "0"})
    assert check("size(s) > size(ss)")


def test_evaluate_boolean_connectives() -> None:
    assert check("s = :a AND n = :b", a={"S": "hello"}, b={"N": "10"})
    assert not check("s = :a AND n = :b", a={"S": "hello"}, b={"N": "11"})
    assert check("s = :a OR n = :b", a={"S": "nope"}, b={"N": "10"})
    assert check("NOT s = :a", a={"S": "nope"})
    assert check("NOT (s = :a AND n = :b)", a={"S": "hello"}, b={"N": "11"})
    assert check("attribute_exists(s) AND NOT attribute_exists(nope) OR n = :b", b={"N": "0"})


def test_evaluate_paths_through_placeholders() -> None:
    compiled = compile_expressions(
        condition="#m.#i.deep = :v AND #l[0] = :n",
        names={"#m": "m", "#i": "nest", "#l": "l"},
        values={":v": {"S": "x"}, ":n": {"S": "a"}},
    )
    assert compiled.condition is not None
    assert evaluate(compiled.condition, ITEM)


def test_evaluate_rejects_same_operands() -> None:
    with pytest.raises(ValidationException):
        check("contains(s, s)")
