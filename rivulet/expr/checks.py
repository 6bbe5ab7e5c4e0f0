"""DynamoDB's text-only expression checks: reserved words, unknown and misused functions."""

from __future__ import annotations

from rivulet.expr.nodes import (
    And,
    Arith,
    Between,
    Compare,
    CondNode,
    Func,
    Not,
    Operand,
    Or,
    Path,
    PathElement,
)
from rivulet.expr.reserved import RESERVED_WORDS

CONDITION_FUNCTIONS = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
    "size": 1,
}
UPDATE_FUNCTIONS = {"if_not_exists": 2, "list_append": 2}


def reserved_word(elements: tuple[PathElement, ...]) -> str | None:
    for element in elements:
        if isinstance(element, str) and element[0] != "#" and element.upper() in RESERVED_WORDS:
            return f"Attribute name is a reserved keyword; reserved keyword: {element}"
    return None


class ConditionChecks:
    """DynamoDB's text-only condition checks, visited in its evaluation (post) order."""

    def __init__(self) -> None:
        self.unknown: str | None = None
        self.misused: str | None = None
        self.reserved: str | None = None

    def misuse(self, name: str) -> None:
        if self.misused is None:
            self.misused = (
                "The function is not allowed to be used this way in an expression; "
                f"function: {name}"
            )

    def misused_functions(self, args: tuple[Operand, ...]) -> None:
        for arg in args:
            if isinstance(arg, Func) and arg.name != "size":
                self.misuse(arg.name)
                return

    def misused_size(self, node: CondNode) -> None:
        if isinstance(node, Func) and node.name == "size":
            self.misuse("size")

    def operand(self, node: Operand) -> None:
        if isinstance(node, Path):
            if self.reserved is None:
                self.reserved = reserved_word(node.elements)
        elif isinstance(node, Func):
            for arg in node.args:
                self.operand(arg)
            self.misused_functions(node.args)
            if self.unknown is None and node.name not in CONDITION_FUNCTIONS:
                self.unknown = f"Invalid function name; function: {node.name}"

    def condition(self, node: CondNode) -> None:
        if isinstance(node, (And, Or)):
            for operand in node.operands:
                self.condition(operand)
            for operand in node.operands:
                self.misused_size(operand)
        elif isinstance(node, Not):
            self.condition(node.operand)
            self.misused_size(node.operand)
        elif isinstance(node, Func):
            self.operand(node)
        else:
            args = (
                (node.left, node.right)
                if isinstance(node, Compare)
                else (node.subject, node.low, node.high)
                if isinstance(node, Between)
                else (node.subject, *node.options)
            )
            for arg in args:
                self.operand(arg)
            self.misused_functions(args)


def update_unknown_function(node: Operand | None) -> str | None:
    if isinstance(node, Arith):
        return update_unknown_function(node.left) or update_unknown_function(node.right)
    if isinstance(node, Func):
        for arg in node.args:
            found = update_unknown_function(arg)
            if found:
                return found
        if node.name not in UPDATE_FUNCTIONS:
            return f"Invalid function name; function: {node.name}"
    return None


def update_reserved_word(node: Operand | None) -> str | None:
    if isinstance(node, Path):
        return reserved_word(node.elements)
    if isinstance(node, Arith):
        return update_reserved_word(node.left) or update_reserved_word(node.right)
    if isinstance(node, Func):
        for arg in node.args:
            found = update_reserved_word(arg)
            if found:
                return found
    return None
