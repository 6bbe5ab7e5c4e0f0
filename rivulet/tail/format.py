"""Record → text: the pure formatting of `rivulet tail` (no I/O, testable without a server)."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.text import Text

Record = Mapping[str, Any]
AttributeMap = Mapping[str, Any]

EVENT_STYLES = {"INSERT": "green", "MODIFY": "yellow", "REMOVE": "red"}
# Longer rendered values are cut so one record stays one readable line.
VALUE_WIDTH = 60


def format_value(value: AttributeMap, width: int = VALUE_WIDTH) -> str:
    """A DynamoDB JSON value in plain Python form (`'s'`, `25`, `b'..'`, `{'a'}`), cut to `width`."""
    text = _plain(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _plain(value: AttributeMap) -> str:
    if not value:
        return "?"
    kind, inner = next(iter(value.items()))
    match kind:
        case "S":
            return repr(inner)
        case "N":
            return str(inner)
        case "B":
            return repr(_as_bytes(inner))
        case "BOOL":
            return "True" if inner else "False"
        case "NULL":
            return "None"
        case "SS":
            return "{" + ", ".join(repr(s) for s in inner) + "}"
        case "NS":
            return "{" + ", ".join(str(n) for n in inner) + "}"
        case "BS":
            return "{" + ", ".join(repr(_as_bytes(b)) for b in inner) + "}"
        case "L":
            return "[" + ", ".join(_plain(v) for v in inner) + "]"
        case "M":
            return "{" + ", ".join(f"{k!r}: {_plain(v)}" for k, v in inner.items()) + "}"
    return json.dumps(value, default=_json_default)


def _as_bytes(blob: Any) -> bytes:
    # The wire form is base64 text; a client with botocore's default parser hands over bytes.
    if isinstance(blob, bytes | bytearray):
        return bytes(blob)
    try:
        return base64.b64decode(str(blob), validate=True)
    except ValueError:
        return str(blob).encode()


def _canonical(value: AttributeMap) -> Any:
    """A comparable form: set order and number spelling do not make two values differ."""
    if not value:
        return None
    kind, inner = next(iter(value.items()))
    match kind:
        case "N":
            return (kind, _number(inner))
        case "NS":
            return (kind, frozenset(_number(n) for n in inner))
        case "SS":
            return (kind, frozenset(inner))
        case "B":
            return (kind, _as_bytes(inner))
        case "BS":
            return (kind, frozenset(_as_bytes(b) for b in inner))
        case "L":
            return (kind, tuple(_canonical(v) for v in inner))
        case "M":
            return (kind, frozenset((k, _canonical(v)) for k, v in inner.items()))
    return (kind, inner)


def _number(text: Any) -> Any:
    try:
        return Decimal(str(text)).normalize()
    except InvalidOperation:
        return str(text)


def is_ttl_delete(record: Record) -> bool:
    """True for a REMOVE made by Time to Live (GetRecords capitalises `userIdentity` members)."""
    identity = record.get("userIdentity") or {}
    principal = identity.get("PrincipalId", identity.get("principalId"))
    kind = identity.get("Type", identity.get("type"))
    return principal == "dynamodb.amazonaws.com" and kind == "Service"


def _attributes(image: AttributeMap, key_names: set[str]) -> str:
    return ", ".join(
        f"{name}={format_value(image[name])}" for name in sorted(image) if name not in key_names
    )


def _diff(old: AttributeMap, new: AttributeMap, key_names: set[str]) -> str:
    changes = []
    for name in sorted((set(old) | set(new)) - key_names):
        if name not in old:
            changes.append(f"+{name}={format_value(new[name])}")
        elif name not in new:
            changes.append(f"-{name}={format_value(old[name])}")
        elif _canonical(old[name]) != _canonical(new[name]):
            changes.append(f"{name}: {format_value(old[name])} -> {format_value(new[name])}")
    return ", ".join(changes)


def describe_changes(record: Record) -> str:
    """What the record says changed, from whichever images its view type carries."""
    stream = record.get("dynamodb") or {}
    key_names = set(stream.get("Keys") or {})
    new, old = stream.get("NewImage"), stream.get("OldImage")
    match record.get("eventName"):
        case "INSERT" if new is not None:
            return _attributes(new, key_names)
        case "REMOVE" if old is not None:
            return _attributes(old, key_names)
        case "MODIFY" if new is not None and old is not None:
            return _diff(old, new, key_names)
        case "MODIFY" if new is not None:
            attributes = _attributes(new, key_names)
            return f"new: {attributes}" if attributes else ""
        case "MODIFY" if old is not None:
            attributes = _attributes(old, key_names)
            return f"old: {attributes}" if attributes else ""
    return ""


def _clock(created: Any, tz: tzinfo | None) -> str:
    if isinstance(created, datetime):
        moment = created.astimezone(tz)
    elif isinstance(created, int | float | Decimal):
        moment = datetime.fromtimestamp(float(created), tz)
    else:
        return "--:--:--"
    return moment.strftime("%H:%M:%S")


def format_record(record: Record, key_names: Sequence[str] = (), tz: tzinfo | None = None) -> str:
    """One display line: `HH:MM:SS EVENT [(ttl)] k=v ... | changes` (time in `tz`, default local).

    `key_names` orders the keys (the table's key schema, HASH first); keys not in it follow sorted.
    """
    stream = record.get("dynamodb") or {}
    keys = stream.get("Keys") or {}
    ordered = [name for name in key_names if name in keys]
    ordered += sorted(name for name in keys if name not in ordered)
    parts = [_clock(stream.get("ApproximateCreationDateTime"), tz), str(record.get("eventName"))]
    if is_ttl_delete(record):
        parts.append("(ttl)")
    parts += [f"{name}={format_value(keys[name])}" for name in ordered]
    line = " ".join(parts)
    changes = describe_changes(record)
    return f"{line} | {changes}" if changes else line


def record_text(record: Record, key_names: Sequence[str] = (), tz: tzinfo | None = None) -> Text:
    """`format_record` coloured by event: INSERT green, MODIFY yellow, REMOVE red."""
    from rich.text import Text

    event = str(record.get("eventName"))
    text = Text(format_record(record, key_names, tz), style=EVENT_STYLES.get(event, ""))
    text.stylize("bold", 9, 9 + len(event))  # the event name follows the 8-character time
    return text


def json_line(record: Record, table_name: str, shard_id: str) -> str:
    """The record as GetRecords returned it, plus `tableName` and `shardId`, as one JSON line."""
    document = {**record, "tableName": table_name, "shardId": shard_id}
    return json.dumps(document, separators=(",", ":"), default=_json_default)


def _json_default(value: Any) -> Any:
    # Only reached for records parsed by a default botocore client (datetime/bytes/Decimal).
    if isinstance(value, datetime):
        seconds = value.timestamp()
        return int(seconds) if seconds.is_integer() else seconds
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")
