"""Attribute-value semantics of expressions: equality, ordering, contains, begins_with, size."""

from __future__ import annotations

from base64 import b64decode
from decimal import Decimal

from rivulet.core.sizes import binary_size
from rivulet.core.types import AttributeValue


def ordered_pair(
    left: AttributeValue | None, right: AttributeValue | None
) -> tuple[str, str] | tuple[Decimal, Decimal] | tuple[bytes, bytes] | None:
    """Both sort keys when the operands are scalars of one type; only those are ordered."""
    if left is None or right is None:
        return None
    for kind in left:
        if kind not in right:
            return None
        if kind == "S":
            return left["S"], right["S"]
        if kind == "N":
            return Decimal(left["N"]), Decimal(right["N"])
        if kind == "B":
            return b64decode(left["B"]), b64decode(right["B"])
    return None


def descending(low: AttributeValue, high: AttributeValue) -> bool:
    """Whether two same-typed scalars are in decreasing order (an empty BETWEEN range)."""
    pair = ordered_pair(low, high)
    return pair is not None and pair[0] > pair[1]  # type: ignore[operator]


def equal(left: AttributeValue | None, right: AttributeValue | None) -> bool:
    """DynamoDB `=`: same type and same value; sets compare order-independently."""
    if left is None or right is None:
        return False
    for kind, mine in left.items():
        if kind not in right:
            return False
        theirs = right[kind]
        if mine == theirs:  # identical structure is always equal
            return True
        if kind in ("S", "BOOL", "NULL"):
            return False
        if kind == "N":
            return Decimal(mine) == Decimal(theirs)
        if kind == "B":
            return b64decode(mine) == b64decode(theirs)
        if kind == "SS":
            return set(mine) == set(theirs)
        if kind == "NS":
            return {Decimal(n) for n in mine} == {Decimal(n) for n in theirs}
        if kind == "BS":
            return {b64decode(b) for b in mine} == {b64decode(b) for b in theirs}
        if kind == "L":
            return len(mine) == len(theirs) and all(map(equal, mine, theirs))
        if kind == "M":
            return mine.keys() == theirs.keys() and all(
                equal(v, theirs[k]) for k, v in mine.items()
            )
    return False


def set_key(kind: str, element: str) -> str | Decimal | bytes:
    """Identity of a set member: numbers by value, binaries by bytes."""
    if kind == "NS":
        return Decimal(element)
    if kind == "BS":
        return b64decode(element)
    return element


def contains(container: AttributeValue | None, needle: AttributeValue | None) -> bool:
    """contains(a, b): substring of S/B, member of a set of b's type, or element of a list."""
    if container is None or needle is None:
        return False
    for kind, payload in container.items():
        if kind == "L":
            return any(equal(element, needle) for element in payload)
        for needle_kind, wanted in needle.items():
            if kind == "S" and needle_kind == "S":
                return wanted in payload
            if kind == "B" and needle_kind == "B":
                return b64decode(wanted) in b64decode(payload)
            if kind == needle_kind + "S":
                if wanted in payload:
                    return True
                if kind == "SS":
                    return False
                key = set_key(kind, wanted)
                return any(set_key(kind, member) == key for member in payload)
    return False


def begins_with(value: AttributeValue | None, prefix: AttributeValue | None) -> bool:
    if value is None or prefix is None:
        return False
    if "S" in value and "S" in prefix:
        return value["S"].startswith(prefix["S"])  # type: ignore[no-any-return]
    if "B" in value and "B" in prefix:
        return b64decode(value["B"]).startswith(b64decode(prefix["B"]))
    return False


def size(value: AttributeValue | None) -> AttributeValue | None:
    """size(): string length, binary length, member/element/entry count; None for other types."""
    if value is None:
        return None
    for kind, payload in value.items():
        if kind == "S":
            # Counted in UTF-16 code units, like DynamoDB's Java string length.
            length = len(payload) if payload.isascii() else len(payload.encode("utf-16-le")) // 2
        elif kind == "B":
            length = binary_size(payload)
        elif kind in ("SS", "NS", "BS", "L", "M"):
            length = len(payload)
        else:
            return None
        return {"N": str(length)}
    return None
