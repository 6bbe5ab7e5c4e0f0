"""Expression syntax trees, shared by the parser (placeholders) and the resolver (real values)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from rivulet.core.types import AttributeValue

# A document path element: an attribute/map key name or a list index. Before resolution a name
# starting with "#" is an ExpressionAttributeNames placeholder (identifiers can never start
# with "#", so no separate class is needed).
PathElement: TypeAlias = str | int
DocPath: TypeAlias = tuple[PathElement, ...]


@dataclass(frozen=True, slots=True)
class Path:
    elements: DocPath


@dataclass(frozen=True, slots=True)
class ValueRef:
    """`:name` placeholder, before resolution."""

    name: str


@dataclass(frozen=True, slots=True)
class Value:
    """A resolved ExpressionAttributeValues entry."""

    value: AttributeValue


@dataclass(frozen=True, slots=True)
class Func:
    name: str
    args: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class Arith:
    """`x + y` / `x - y` in a SET action."""

    op: str
    left: Operand
    right: Operand


Operand: TypeAlias = Path | ValueRef | Value | Func | Arith


@dataclass(frozen=True, slots=True)
class Compare:
    op: str  # = <> < <= > >=
    left: Operand
    right: Operand


@dataclass(frozen=True, slots=True)
class Between:
    subject: Operand
    low: Operand
    high: Operand


@dataclass(frozen=True, slots=True)
class In:
    subject: Operand
    options: tuple[Operand, ...]


# AND / OR chains are flat (two or more operands), so long chains never nest deeply.
@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[CondNode, ...]


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[CondNode, ...]


@dataclass(frozen=True, slots=True)
class Not:
    operand: CondNode


# A bare Func is a condition too (attribute_exists(a), begins_with(a, :v), ...).
CondNode: TypeAlias = Compare | Between | In | And | Or | Not | Func


@dataclass(frozen=True, slots=True)
class Action:
    """One update action; `value` is the SET value or the ADD/DELETE operand (None for REMOVE)."""

    kind: str  # SET REMOVE ADD DELETE
    path: Path
    value: Operand | None


def path_text(elements: DocPath) -> str:
    """DynamoDB's rendering of a path in messages: [a, b, [3]]."""
    return "[" + ", ".join(f"[{e}]" if isinstance(e, int) else e for e in elements) + "]"
