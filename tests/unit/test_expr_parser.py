"""Parsing: grammar, precedence, parentheses, document paths and syntax-error texts."""

from __future__ import annotations

import pytest

from rivulet.expr.nodes import (
    Action,
    And,
    Arith,
    Between,
    Compare,
    Func,
    In,
    Not,
    Or,
    Path,
    ValueRef,
)
from rivulet.expr.parser import ExpressionError, parse_condition, parse_projection, parse_update


def syntax(parse: object, text: str) -> str:
    with pytest.raises(ExpressionError) as info:
        parse(text)  # type: ignore[operator]
    return str(info.value)


A, B, C, D = Path(("a",)), Path(("b",)), Path(("c",)), Path(("d",))
V = ValueRef(":v")


def test_parser_comparison_operators() -> None:
    for op in ("=", "<>", "<", "<=", ">", ">="):
        assert parse_condition(f"a {op} :v").root == Compare(op, A, V)
    assert parse_condition("a<>:v").root == Compare("<>", A, V)


def test_parser_precedence_not_and_or() -> None:
    # DynamoDB: comparisons bind tighter than NOT, NOT tighter than AND, AND tighter than OR.
    root = parse_condition("NOT a = :v AND b = :v OR c = :v").root
    assert root == Or((And((Not(Compare("=", A, V)), Compare("=", B, V))), Compare("=", C, V)))
    root = parse_condition("a = :v OR b = :v AND c = :v").root
    assert root == Or((Compare("=", A, V), And((Compare("=", B, V), Compare("=", C, V)))))
    root = parse_condition("a = :v AND b = :v AND c = :v").root
    assert root == And((Compare("=", A, V), Compare("=", B, V), Compare("=", C, V)))


def test_parser_parentheses_override_precedence() -> None:
    root = parse_condition("(a = :v OR b = :v) AND c = :v").root
    assert root == And((Or((Compare("=", A, V), Compare("=", B, V))), Compare("=", C, V)))
    assert parse_condition("NOT (a = :v)").root == Not(Compare("=", A, V))


def test_parser_keywords_are_case_insensitive() -> None:
    root = parse_condition("a between :v aNd :w or not b in (:v)").root
    assert root == Or((Between(A, V, ValueRef(":w")), Not(In(B, (V,)))))


def test_parser_between_and_in() -> None:
    assert parse_condition("a BETWEEN :v AND :w").root == Between(A, V, ValueRef(":w"))
    assert parse_condition("a IN (:v, b, :w)").root == In(A, (V, B, ValueRef(":w")))


def test_parser_functions_as_conditions_and_operands() -> None:
    assert parse_condition("attribute_exists(a)").root == Func("attribute_exists", (A,))
    assert parse_condition("size (a) > :v").root == Compare(">", Func("size", (A,)), V)
    assert parse_condition("contains(a, :v)").root == Func("contains", (A, V))


def test_parser_document_paths() -> None:
    root = parse_condition("a.b[3][0].#c = :v").root
    assert root == Compare("=", Path(("a", "b", 3, 0, "#c")), V)
    assert parse_condition("a . b [ 12 ] = :v").root == Compare("=", Path(("a", "b", 12)), V)
    parsed = parse_condition("#x.#y = :v")
    assert parsed.names == ("#x", "#y")
    assert parsed.values == (":v",)


def test_parser_parenthesised_operands_and_paths() -> None:
    # A parenthesised operand is tried before a parenthesised condition.
    assert parse_condition("(a) = :v").root == Compare("=", A, V)
    assert parse_condition("(a.b).c = :v").root == Compare("=", Path(("a", "b", "c")), V)
    assert parse_condition("(size(a)) = :v").root == Compare("=", Func("size", (A,)), V)
    assert parse_condition("(attribute_exists(a))").root == Func("attribute_exists", (A,))


def test_parser_redundant_parentheses() -> None:
    # Doubled parentheses around a condition or operand are rejected (after parsing).
    message = "The expression has redundant parentheses;"
    assert parse_condition("((a = :v))").error == message
    assert parse_condition("((a)) = :v").error == message
    assert parse_condition("((attribute_exists(a)))").error == message
    assert parse_condition("((a = :v) AND b = :v)").error is None
    assert parse_condition("((a) = :v)").error is None


def test_parser_static_error_priority() -> None:
    # DynamoDB order: redundant parentheses, unknown function, misused function, reserved word.
    assert parse_condition("((foo(date)))").error == "The expression has redundant parentheses;"
    assert parse_condition("foo(date) AND size(a)").error == "Invalid function name; function: foo"
    assert parse_condition("size(date)").error == (
        "The function is not allowed to be used this way in an expression; function: size"
    )
    assert parse_condition("attribute_exists(a) = :v").error == (
        "The function is not allowed to be used this way in an expression; "
        "function: attribute_exists"
    )
    assert parse_condition("date = :v AND size(b) > :v").error == (
        "Attribute name is a reserved keyword; reserved keyword: date"
    )
    assert parse_condition("NOT size(a)").error == (
        "The function is not allowed to be used this way in an expression; function: size"
    )


def test_parser_function_names_are_case_sensitive() -> None:
    assert parse_condition("Size(a) > :v").error == "Invalid function name; function: Size"


def test_parser_syntax_error_names_token_and_neighbours() -> None:
    # DynamoDB quotes the offending token and the source from the token before to the one after.
    assert syntax(parse_condition, "a x b") == 'Syntax error; token: "x", near: "a x b"'
    assert syntax(parse_condition, "a =") == 'Syntax error; token: "<EOF>", near: "="'
    assert syntax(parse_condition, "my-attr = :v") == 'Syntax error; token: "-", near: "my-attr"'
    assert syntax(parse_condition, "a = 3") == 'Syntax error; token: "3", near: "= 3"'
    assert syntax(parse_condition, "x") == 'Syntax error; token: "<EOF>", near: "x"'
    assert syntax(parse_condition, "   ") == 'Syntax error; token: "<EOF>", near: ""'
    assert syntax(parse_condition, "a.and = :v") == 'Syntax error; token: "and", near: ".and ="'
    assert syntax(parse_condition, "$a = :v") == 'Syntax error; token: "$", near: "$a"'
    assert syntax(parse_condition, "NOT NOT a = :v") == (
        'Syntax error; token: "NOT", near: "NOT NOT a"'
    )


def test_parser_empty_expression() -> None:
    for parse in (parse_condition, parse_update, parse_projection):
        assert syntax(parse, "") == "The expression can not be empty;"


def test_parser_update_sections() -> None:
    parsed = parse_update("set a = :v, b = a + :v remove c[1], d add e :v delete f :v")
    assert parsed.actions == (
        Action("SET", A, V),
        Action("SET", B, Arith("+", A, V)),
        Action("REMOVE", Path(("c", 1)), None),
        Action("REMOVE", D, None),
        Action("ADD", Path(("e",)), V),
        Action("DELETE", Path(("f",)), V),
    )


def test_parser_update_values() -> None:
    def value(text: str) -> object:
        return parse_update(f"SET x = {text}").actions[0].value

    assert value("(a) + (:v)") == Arith("+", A, V)
    assert value("(a - :v)") == Arith("-", A, V)
    assert value("list_append(if_not_exists(a, :v), (b))") == Func(
        "list_append", (Func("if_not_exists", (A, V)), B)
    )


def test_parser_update_syntax_errors() -> None:
    assert syntax(parse_update, "SET a = :v,") == 'Syntax error; token: "<EOF>", near: ","'
    assert syntax(parse_update, "SET a = 3") == 'Syntax error; token: "3", near: "= 3"'
    assert syntax(parse_update, "SET") == 'Syntax error; token: "<EOF>", near: "SET"'
    assert syntax(parse_update, "REMOVE if_not_exists(a, b)") == (
        'Syntax error; token: "(", near: "if_not_exists(a"'
    )
    assert syntax(parse_update, "SET a = b + c + d") == 'Syntax error; token: "+", near: "c + d"'
    assert (
        syntax(parse_update, "UPSERT a = :v") == 'Syntax error; token: "UPSERT", near: "UPSERT a"'
    )
    assert syntax(parse_update, "ADD a b") == 'Syntax error; token: "b", near: "a b"'


def test_parser_update_static_errors() -> None:
    assert parse_update("SET a = :v SET b = :v").error == (
        'The "SET" section can only be used once in an update expression;'
    )
    assert parse_update("REMOVE a remove b").error == (
        'The "REMOVE" section can only be used once in an update expression;'
    )
    assert parse_update("SET a = size(b)").error == "Invalid function name; function: size"
    # Reserved words outrank unknown functions, which outrank repeated sections.
    assert parse_update("SET a = foo(b) SET year = :v").error == (
        "Attribute name is a reserved keyword; reserved keyword: year"
    )
    assert parse_update("SET a = foo(b) SET c = :v").error == (
        "Invalid function name; function: foo"
    )


def test_parser_projection_paths() -> None:
    parsed = parse_projection("a, b.c[2], #n")
    assert parsed.paths == (A, Path(("b", "c", 2)), Path(("#n",)))
    assert parsed.names == ("#n",)
    assert parse_projection("a, name").error == (
        "Attribute name is a reserved keyword; reserved keyword: name"
    )
    assert syntax(parse_projection, "a.12") == 'Syntax error; token: "12", near: ".12"'
    assert syntax(parse_projection, "a,") == 'Syntax error; token: "<EOF>", near: ","'


def test_parser_limits() -> None:
    # DynamoDB's limits: 4 KB of UTF-8 per expression (checked before the syntax), 32 levels per
    # document path, 100 operands after IN.
    assert syntax(parse_condition, "a = :v" + " " * 4091) == (
        "Expression size has exceeded the maximum allowed size; expression size: 4097"
    )
    assert syntax(parse_update, "SET = " + "é" * 2046) == (
        "Expression size has exceeded the maximum allowed size; expression size: 4098"
    )
    assert len(parse_projection("a" + "[0]" * 31).paths[0].elements) == 32
    assert syntax(parse_projection, "a" + "[0]" * 32) == (
        "The document path has too many nesting levels; nesting levels: 33"
    )
    assert syntax(parse_condition, "(" + ".".join("m" * 20) + ")." + ".".join("m" * 13)) == (
        "The document path has too many nesting levels; nesting levels: 33"
    )
    options = ", ".join(f":v{i}" for i in range(100))
    root = parse_condition(f"a IN ({options})").root
    assert isinstance(root, In) and len(root.options) == 100
    assert syntax(parse_condition, f"a IN ({options}, :w)") == (
        "The IN operator is provided with too many number of operands; number of operands: 101"
    )


def test_parser_caches_by_text() -> None:
    assert parse_condition("attribute_not_exists(id)") is parse_condition(
        "attribute_not_exists(id)"
    )


def test_parser_long_chains_and_deep_nesting() -> None:
    # As long as DynamoDB's 4 KB allow: AND chains stay flat, and parentheses nested deeper
    # than Python's recursion limit are a syntax error, not a crash.
    chain = " AND ".join(f"a{i} = :v" for i in range(300))
    assert len(chain) <= 4096
    root = parse_condition(chain).root
    assert isinstance(root, And) and len(root.operands) == 300
    deep = "(" * 2045 + "a = :v" + ")" * 2045
    assert len(deep) == 4096
    assert syntax(parse_condition, deep) == 'Syntax error; token: "(", near: "((("'
