"""Type aliases for wire-format values kept as plain dicts end to end (design: no per-attribute objects)."""

from __future__ import annotations

from typing import Any

# One DynamoDB AttributeValue in wire form, e.g. {"S": "x"}, {"N": "1.5"}, {"M": {...}}.
AttributeValue = dict[str, Any]
# An item or a key: attribute name -> AttributeValue.
Item = dict[str, AttributeValue]
Key = Item
