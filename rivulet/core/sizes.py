"""DynamoDB item and attribute-value sizes in bytes (the 400 KB limit, capacity units, SizeBytes)."""

from __future__ import annotations

from rivulet.core.numbers import number_size
from rivulet.core.types import AttributeValue, Item


def text_size(text: str) -> int:
    """UTF-8 length of a string (attribute names and S values)."""
    # Most names and strings are ASCII, where the length needs no encoding pass.
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


def binary_size(encoded: str) -> int:
    """Decoded length of a validated (canonical, padded) base64 string, without decoding it."""
    length = len(encoded)
    if not length:
        return 0
    return length // 4 * 3 - (encoded[-1] == "=") - (encoded[-2] == "=")


def value_size(value: AttributeValue) -> int:
    """Size of one AttributeValue: S utf-8 length, B raw length, N per number_size, BOOL/NULL 1,
    sets the sum of their members, M 3 + Σ(name + value + 1), L 3 + Σ(value + 1)."""
    # Flattened dispatch: this runs for every attribute of every written item.
    for kind, payload in value.items():
        if kind == "S":
            return text_size(payload)
        if kind == "N":
            return number_size(payload)
        if kind == "B":
            return binary_size(payload)
        if kind == "M":
            total = 3
            for name, member in payload.items():
                total += text_size(name) + value_size(member) + 1
            return total
        if kind == "L":
            total = 3
            for member in payload:
                total += value_size(member) + 1
            return total
        if kind == "SS":
            return sum(map(text_size, payload))
        if kind == "NS":
            return sum(map(number_size, payload))
        if kind == "BS":
            return sum(map(binary_size, payload))
        return 1  # BOOL, NULL
    return 0


def item_size(item: Item) -> int:
    """Σ over attributes of (UTF-8 name length + value size)."""
    total = 0
    for name, value in item.items():
        total += text_size(name) + value_size(value)
    return total
