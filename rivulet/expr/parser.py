"""Recursive-descent parsers for condition, update and projection expressions."""

# Precedence follows DynamoDB: comparison/BETWEEN/IN/functions bind tightest, then NOT, AND, OR.
# Syntax errors are raised as ExpressionError with DynamoDB's text; the purely textual checks
# (redundant parentheses, unknown or misused functions, reserved words, repeated sections) are
# computed here too, in DynamoDB's priority order, and kept on the result as `error`.

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from rivulet.expr.checks import (
    ConditionChecks,
    reserved_word,
    update_reserved_word,
    update_unknown_function,
)
from rivulet.expr.lexer import Token, syntax_error_text, tokenize
from rivulet.expr.nodes import (
    Action,
    And,
    Arith,
    Between,
    Compare,
    CondNode,
    Func,
    In,
    Not,
    Operand,
    Or,
    Path,
    PathElement,
    ValueRef,
)

COMPARATORS = frozenset(("=", "<>", "<", "<=", ">", ">="))
# DynamoDB's expression limits: an expression string of at most 4 KB (UTF-8 bytes), document
# paths at most 32 levels deep, at most 100 operands after IN.
MAX_EXPRESSION_BYTES = 4096
MAX_PATH_DEPTH = 32
MAX_IN_OPERANDS = 100
_T = TypeVar("_T")
_CONDITION_KEYWORDS = frozenset(("between", "in", "and", "or", "not"))
_UPDATE_KEYWORDS = frozenset(("set", "remove", "add", "delete"))


class ExpressionError(Exception):
    """An invalid expression; the message lacks the "Invalid XExpression: " prefix."""


class _NoMatch(Exception):
    pass


@dataclass(frozen=True, slots=True)
class ParsedCondition:
    root: CondNode
    error: str | None  # first static error in DynamoDB's priority order
    names: tuple[str, ...]  # "#x" placeholders used, first-use order
    values: tuple[str, ...]  # ":x" placeholders used


@dataclass(frozen=True, slots=True)
class ParsedUpdate:
    actions: tuple[Action, ...]
    error: str | None
    names: tuple[str, ...]
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ParsedProjection:
    paths: tuple[Path, ...]
    error: str | None
    names: tuple[str, ...]


class _Parser:
    """Token cursor with backtracking; remembers the furthest failure like a PEG parser so the
    reported syntax-error token is the first one no alternative could consume."""

    keywords: frozenset[str] = frozenset()

    def __init__(self, text: str) -> None:
        if not text:
            raise ExpressionError("The expression can not be empty;")
        size = len(text.encode())
        if size > MAX_EXPRESSION_BYTES:
            raise ExpressionError(
                f"Expression size has exceeded the maximum allowed size; expression size: {size}"
            )
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0
        self.furthest = 0
        self.redundant_parens = False
        self.names: dict[str, None] = {}
        self.values: dict[str, None] = {}

    # -- cursor ----------------------------------------------------------------------------
    def peek(self) -> Token:
        return self.tokens[self.pos]

    def fail(self) -> _NoMatch:
        if self.pos > self.furthest:
            self.furthest = self.pos
        return _NoMatch()

    def accept(self, kind: str) -> bool:
        if self.tokens[self.pos].kind == kind:
            self.pos += 1
            return True
        if self.pos > self.furthest:
            self.furthest = self.pos
        return False

    def expect(self, kind: str) -> Token:
        token = self.tokens[self.pos]
        if token.kind != kind:
            raise self.fail()
        self.pos += 1
        return token

    def is_keyword(self, token: Token, word: str) -> bool:
        return token.kind == "name" and token.text.lower() == word

    def accept_keyword(self, word: str) -> bool:
        if self.is_keyword(self.tokens[self.pos], word):
            self.pos += 1
            return True
        if self.pos > self.furthest:
            self.furthest = self.pos
        return False

    def mark(self) -> tuple[int, bool]:
        return self.pos, self.redundant_parens

    def reset(self, mark: tuple[int, bool]) -> None:
        self.pos, self.redundant_parens = mark

    def run(self, rule: Callable[[], _T]) -> _T:
        try:
            result = rule()
            if self.peek().kind == "eof":
                return result
            self.fail()
        except _NoMatch:
            pass
        except RecursionError:
            # Parentheses nested deeper than Python's recursion limit (4 KB allows ~2,000):
            # reject them where the parser gave up instead of crashing.
            self.furthest = self.pos
        raise ExpressionError(syntax_error_text(self.text, self.tokens, self.furthest))

    # -- shared pieces ---------------------------------------------------------------------
    def identifier(self) -> str:
        token = self.tokens[self.pos]
        if token.kind == "#":
            self.pos += 1
            self.names.setdefault(token.text)
            return token.text
        if token.kind == "name" and token.text.lower() not in self.keywords:
            self.pos += 1
            return token.text
        raise self.fail()

    def path(self, head: list[PathElement] | None = None) -> Path:
        elements: list[PathElement] = head if head is not None else [self.identifier()]
        while True:
            if self.accept("["):
                elements.append(int(self.expect("num").text))
                self.expect("]")
            elif self.accept("."):
                elements.append(self.identifier())
            else:
                break
        if len(elements) > MAX_PATH_DEPTH:
            raise ExpressionError(
                f"The document path has too many nesting levels; nesting levels: {len(elements)}"
            )
        return Path(tuple(elements))

    def value_ref(self) -> ValueRef:
        token = self.expect(":")
        self.values.setdefault(token.text)
        return ValueRef(token.text)

    def function_call(self, operand: Callable[[], Operand]) -> Func:
        token = self.tokens[self.pos]
        if (
            token.kind != "name"
            or token.text.lower() in self.keywords
            or self.tokens[self.pos + 1].kind != "("
        ):
            raise self.fail()
        self.pos += 2
        args = [operand()]
        while self.accept(","):
            args.append(operand())
        self.expect(")")
        return Func(token.text, tuple(args))


class _ConditionParser(_Parser):
    keywords = _CONDITION_KEYWORDS

    def or_expr(self) -> tuple[CondNode, bool]:
        node, wrapped = self.and_expr()
        operands = [node]
        while self.accept_keyword("or"):
            operands.append(self.and_expr()[0])
        return (Or(tuple(operands)), False) if len(operands) > 1 else (node, wrapped)

    def and_expr(self) -> tuple[CondNode, bool]:
        node, wrapped = self.not_expr()
        operands = [node]
        while self.accept_keyword("and"):
            operands.append(self.not_expr()[0])
        return (And(tuple(operands)), False) if len(operands) > 1 else (node, wrapped)

    def not_expr(self) -> tuple[CondNode, bool]:
        if self.accept_keyword("not"):
            node, _ = self.paren_condition()
            return Not(node), False
        return self.paren_condition()

    def paren_condition(self) -> tuple[CondNode, bool]:
        """A leaf condition, or `( condition )`; the leaf is tried first (as DynamoDB does), so
        `(a) = :v` compares a parenthesised operand."""
        if self.peek().kind != "(":
            return self.leaf(), False
        mark = self.mark()
        try:
            return self.leaf(), False
        except _NoMatch:
            self.reset(mark)
        self.pos += 1
        node, wrapped = self.or_expr()
        self.expect(")")
        if wrapped:
            self.redundant_parens = True
        return node, True

    def leaf(self) -> CondNode:
        subject, wrapped = self.operand()
        token = self.peek()
        if token.kind in COMPARATORS:
            self.pos += 1
            return Compare(token.kind, subject, self.operand()[0])
        if self.accept_keyword("between"):
            low = self.operand()[0]
            if not self.accept_keyword("and"):
                raise self.fail()
            return Between(subject, low, self.operand()[0])
        if self.accept_keyword("in"):
            self.expect("(")
            options = [self.operand()[0]]
            while self.accept(","):
                options.append(self.operand()[0])
            self.expect(")")
            if len(options) > MAX_IN_OPERANDS:
                raise ExpressionError(
                    "The IN operator is provided with too many number of operands; "
                    f"number of operands: {len(options)}"
                )
            return In(subject, tuple(options))
        if isinstance(subject, Func) and not wrapped:
            return subject
        raise self.fail()

    def operand(self) -> tuple[Operand, bool]:
        """Function call, `:value`, document path, or one of those in parentheses; a
        parenthesised path may go on (`(a.b).c[1]`)."""
        token = self.peek()
        if token.kind == "(":
            self.pos += 1
            inner, wrapped = self.operand()
            self.expect(")")
            if wrapped:
                self.redundant_parens = True
            if isinstance(inner, Path):
                longer = self.path(list(inner.elements))
                if len(longer.elements) > len(inner.elements):
                    return longer, False
            return inner, True
        if token.kind == ":":
            return self.value_ref(), False
        if token.kind == "name" and self.tokens[self.pos + 1].kind == "(":
            return self.function_call(self.operand_only), False
        return self.path(), False

    def operand_only(self) -> Operand:
        return self.operand()[0]


class _UpdateParser(_Parser):
    keywords = _UPDATE_KEYWORDS

    def update(self) -> list[tuple[str, list[Action]]]:
        sections = [self.section()]
        while self.peek().kind != "eof":
            sections.append(self.section())
        return sections

    def section(self) -> tuple[str, list[Action]]:
        token = self.peek()
        word = token.text.upper() if token.kind == "name" else ""
        if word not in ("SET", "REMOVE", "ADD", "DELETE"):
            raise self.fail()
        self.pos += 1
        actions = [self.action(word)]
        while self.accept(","):
            actions.append(self.action(word))
        return word, actions

    def action(self, kind: str) -> Action:
        path = self.path()
        if kind == "SET":
            self.expect("=")
            return Action(kind, path, self.set_value_parens())
        if kind == "REMOVE":
            return Action(kind, path, None)
        return Action(kind, path, self.value_ref())

    def set_value_parens(self) -> Operand:
        if self.peek().kind == "(":
            mark = self.mark()
            try:
                self.pos += 1
                value = self.set_value()
                self.expect(")")
                if self.peek().kind not in ("+", "-"):
                    return value
            except _NoMatch:
                pass
            self.reset(mark)
        return self.set_value()

    def set_value(self) -> Operand:
        left = self.operand_parens()
        token = self.peek()
        if token.kind in ("+", "-"):
            self.pos += 1
            return Arith(token.kind, left, self.operand_parens())
        return left

    def operand_parens(self) -> Operand:
        if self.accept("("):
            inner = self.operand()
            self.expect(")")
            return inner
        return self.operand()

    def operand(self) -> Operand:
        token = self.peek()
        if token.kind == ":":
            return self.value_ref()
        if token.kind == "name" and self.tokens[self.pos + 1].kind == "(":
            return self.function_call(self.operand_parens)
        return self.path()


class _ProjectionParser(_Parser):
    def projection(self) -> list[Path]:
        paths = [self.path()]
        while self.accept(","):
            paths.append(self.path())
        return paths


# -- entry points (cached by text: repeated requests only pay for resolution) ---------------


@lru_cache(maxsize=4096)
def parse_condition(text: str) -> ParsedCondition:
    parser = _ConditionParser(text)
    root, _ = parser.run(parser.or_expr)
    checks = ConditionChecks()
    checks.condition(root)
    checks.misused_size(root)
    error = (
        ("The expression has redundant parentheses;" if parser.redundant_parens else None)
        or checks.unknown
        or checks.misused
        or checks.reserved
    )
    return ParsedCondition(root, error, tuple(parser.names), tuple(parser.values))


@lru_cache(maxsize=4096)
def parse_update(text: str) -> ParsedUpdate:
    parser = _UpdateParser(text)
    sections = parser.run(parser.update)
    reserved = unknown = repeated = None
    seen: set[str] = set()
    for word, actions in sections:
        for action in actions:
            reserved = (
                reserved
                or reserved_word(action.path.elements)
                or update_reserved_word(action.value)
            )
            unknown = unknown or update_unknown_function(action.value)
        if word in seen and repeated is None:
            repeated = f'The "{word}" section can only be used once in an update expression;'
        seen.add(word)
    actions_all = tuple(action for _, actions in sections for action in actions)
    error = reserved or unknown or repeated
    return ParsedUpdate(actions_all, error, tuple(parser.names), tuple(parser.values))


@lru_cache(maxsize=4096)
def parse_projection(text: str) -> ParsedProjection:
    parser = _ProjectionParser(text)
    paths = parser.run(parser.projection)
    reserved = None
    for path in paths:
        reserved = reserved or reserved_word(path.elements)
    return ParsedProjection(tuple(paths), reserved, tuple(parser.names))
