"""The stream state machine's model: normalised items, the update rules it uses, the records each
stream must hold, and an independent SizeBytes (records.md section 4).

Values are boto3 low-level AttributeValues (`{"N": "1"}`, `{"B": b"..."}`, `{"SS": [...]}`).
A *normalised* value has numbers in DynamoDB's canonical text and set members sorted, so two
values are equal exactly when DynamoDB considers them equal (map key order is ignored by dict
equality, list order is kept).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Context, Decimal
from typing import Any

Value = dict[str, Any]
Item = dict[str, Value]
ItemKey = tuple[str, ...]

NEW_IMAGE_VIEWS = frozenset({"NEW_IMAGE", "NEW_AND_OLD_IMAGES"})
OLD_IMAGE_VIEWS = frozenset({"OLD_IMAGE", "NEW_AND_OLD_IMAGES"})
SET_KINDS = ("SS", "NS", "BS")
# Exact arithmetic for DynamoDB's 38-digit numbers (the default context rounds at 28 digits).
EXACT = Context(prec=100)


# --- numbers -------------------------------------------------------------------------------------


def canon_number(text: str) -> str:
    """DynamoDB's stored form: plain notation, no leading/trailing zeros, no exponent, 0 for zero."""
    value = Decimal(text)
    if value == 0:
        return "0"
    return format(value.normalize(EXACT), "f")


def add_numbers(left: str, right: str) -> str:
    return canon_number(str(EXACT.add(Decimal(left), Decimal(right))))


def respell_number(canonical: str) -> str:
    """A different spelling of the same number ("1.5" -> "1.5E0"): must not count as a change."""
    return f"{canonical}E0"


# --- normalisation -------------------------------------------------------------------------------


def sort_sets(value: Value) -> Value:
    """A value with set members sorted (set order is undefined); numbers left as written."""
    ((kind, payload),) = value.items()
    if kind in SET_KINDS:
        return {kind: sorted(payload)}
    if kind == "M":
        return {"M": {name: sort_sets(v) for name, v in payload.items()}}
    if kind == "L":
        return {"L": [sort_sets(v) for v in payload]}
    return {kind: payload}


def normalise(value: Value) -> Value:
    """Canonical numbers and sorted sets: equal exactly when DynamoDB's values are equal."""
    ((kind, payload),) = value.items()
    if kind == "N":
        return {"N": canon_number(payload)}
    if kind == "NS":
        return {"NS": sorted({canon_number(n) for n in payload})}
    if kind in ("SS", "BS"):
        return {kind: sorted(set(payload))}
    if kind == "M":
        return {"M": {name: normalise(v) for name, v in payload.items()}}
    if kind == "L":
        return {"L": [normalise(v) for v in payload]}
    return {kind: payload}


def normalise_item(item: Item) -> Item:
    return {name: normalise(value) for name, value in item.items()}


def image_of(item: Item) -> Item:
    """A record image as read back, comparable with a normalised model item."""
    return {name: sort_sets(value) for name, value in item.items()}


def respell(value: Value) -> Value:
    """The same value written differently: numbers respelled, sets and map keys reversed."""
    ((kind, payload),) = value.items()
    if kind == "N":
        return {"N": respell_number(payload)}
    if kind == "NS":
        return {"NS": [respell_number(n) for n in reversed(payload)]}
    if kind in ("SS", "BS"):
        return {kind: list(reversed(payload))}
    if kind == "M":
        return {"M": {name: respell(payload[name]) for name in reversed(list(payload))}}
    if kind == "L":
        return {"L": [respell(v) for v in payload]}
    return {kind: payload}


# --- SizeBytes (records.md section 4, written independently of rivulet.core.sizes) ----------------


def number_size(text: str) -> int:
    """DynamoDB's item-size rule for numbers, the one of the 400 KB limit: one exponent byte, one
    byte per base-100 digit pair aligned on even powers of ten, one more for a negative number
    (fewer than 20 pairs). It agrees with Q-R3's approximation, ceil(digits / 2) + 1, on every
    AWS sample in records.md, and differs for negatives and unevenly split digit pairs."""
    sign, raw_digits, exponent = Decimal(text).as_tuple()
    digits = "".join(map(str, raw_digits)).lstrip("0")
    if not digits:
        return 1
    trimmed = digits.rstrip("0")
    exponent = int(exponent) + len(digits) - len(trimmed)
    scientific = exponent + len(trimmed) - 1
    pairs = (len(trimmed) + (scientific % 2 == 0) + 1) // 2
    return 1 + pairs + (1 if sign and pairs < 20 else 0)


def value_size(value: Value) -> int:
    ((kind, payload),) = value.items()
    if kind == "S":
        return len(payload.encode("utf-8"))
    if kind == "B":
        return len(payload)
    if kind == "N":
        return number_size(payload)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in payload)
    if kind == "NS":
        return sum(number_size(n) for n in payload)
    if kind == "BS":
        return sum(len(b) for b in payload)
    if kind == "M":
        return 3 + sum(len(k.encode("utf-8")) + value_size(v) + 1 for k, v in payload.items())
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in payload)
    raise AssertionError(f"unknown attribute type {kind}")


def item_size(item: Item) -> int:
    return sum(len(name.encode("utf-8")) + value_size(v) for name, v in item.items())


# --- update expressions --------------------------------------------------------------------------

# An update action: (verb, attribute, operand). Verbs: SET, INC (SET n = if_not_exists(n, 0) + v),
# REMOVE, ADD (number or string set), DELETE (string set).
Action = tuple[str, str, Value | None]


def apply_actions(item: Item, actions: list[Action]) -> Item:
    """The normalised item after an UpdateExpression of `actions` (distinct attributes)."""
    out = dict(item)
    for verb, name, operand in actions:
        current = out.get(name)
        if verb == "SET":
            assert operand is not None
            out[name] = normalise(operand)
        elif verb == "INC":
            assert operand is not None
            base = "0" if current is None else current["N"]
            out[name] = {"N": add_numbers(base, operand["N"])}
        elif verb == "REMOVE":
            out.pop(name, None)
        elif verb == "ADD":
            assert operand is not None
            add = normalise(operand)
            if current is None:
                out[name] = add
            elif "N" in add:
                out[name] = {"N": add_numbers(current["N"], add["N"])}
            else:
                out[name] = {"SS": sorted(set(current["SS"]) | set(add["SS"]))}
        elif verb == "DELETE":
            assert operand is not None
            if current is not None:
                remaining = sorted(set(current["SS"]) - set(operand["SS"]))
                if remaining:
                    out[name] = {"SS": remaining}
                else:  # an empty set cannot be stored: the attribute goes
                    del out[name]
        else:
            raise AssertionError(verb)
    return out


def update_expression(actions: list[Action]) -> dict[str, Any]:
    """UpdateExpression with ExpressionAttributeNames/Values for `actions`."""
    clauses: dict[str, list[str]] = {"SET": [], "REMOVE": [], "ADD": [], "DELETE": []}
    names: dict[str, str] = {}
    values: dict[str, Value] = {}
    for i, (verb, name, operand) in enumerate(actions):
        alias = f"#u{i}"
        names[alias] = name
        if verb == "SET":
            clauses["SET"].append(f"{alias} = :u{i}")
        elif verb == "INC":
            clauses["SET"].append(f"{alias} = if_not_exists({alias}, :z{i}) + :u{i}")
            values[f":z{i}"] = {"N": "0"}
        elif verb == "REMOVE":
            clauses["REMOVE"].append(alias)
        else:
            clauses[verb].append(f"{alias} :u{i}")
        if operand is not None:
            values[f":u{i}"] = operand
    parts = []
    for verb, items in clauses.items():
        if items:
            parts.append(f"{verb} {', '.join(items)}")
    request: dict[str, Any] = {
        "UpdateExpression": " ".join(parts),
        "ExpressionAttributeNames": names,
    }
    if values:
        request["ExpressionAttributeValues"] = values
    return request


# --- streams -------------------------------------------------------------------------------------


@dataclass
class Change:
    """One expected record: what the item was and became (normalised; None = absent)."""

    old: Item | None
    new: Item | None

    @property
    def event_name(self) -> str:
        if self.old is None:
            return "INSERT"
        return "REMOVE" if self.new is None else "MODIFY"


@dataclass
class ExpectedStream:
    arn: str
    view_type: str
    enabled: bool = True
    changes: dict[ItemKey, list[Change]] = field(default_factory=dict)

    def expected_records(self, key_names: tuple[str, ...]) -> dict[ItemKey, list[dict[str, Any]]]:
        """Per key, the compact records (see compact_record) the stream must hold, in order."""
        out: dict[ItemKey, list[dict[str, Any]]] = {}
        for key, changes in self.changes.items():
            out[key] = [self._record(key_names, change) for change in changes]
        return out

    def _record(self, key_names: tuple[str, ...], change: Change) -> dict[str, Any]:
        source = change.new if change.new is not None else change.old
        assert source is not None
        keys = {name: source[name] for name in key_names}
        record: dict[str, Any] = {"eventName": change.event_name, "Keys": keys}
        size = item_size(keys)
        if change.new is not None and self.view_type in NEW_IMAGE_VIEWS:
            record["NewImage"] = change.new
            size += item_size(change.new)
        if change.old is not None and self.view_type in OLD_IMAGE_VIEWS:
            record["OldImage"] = change.old
            size += item_size(change.old)
        record["SizeBytes"] = size
        return record


def compact_record(record: dict[str, Any]) -> dict[str, Any]:
    """The parts of a GetRecords record the model predicts exactly."""
    ddb = record["dynamodb"]
    out: dict[str, Any] = {"eventName": record["eventName"], "Keys": image_of(ddb["Keys"])}
    for image in ("NewImage", "OldImage"):
        if image in ddb:
            out[image] = image_of(ddb[image])
    out["SizeBytes"] = ddb["SizeBytes"]
    return out


@dataclass
class TableModel:
    """The items of one table and every stream it has had, oldest first."""

    key_names: tuple[str, ...]
    items: dict[ItemKey, Item] = field(default_factory=dict)
    streams: list[ExpectedStream] = field(default_factory=list)

    @property
    def active(self) -> ExpectedStream | None:
        if self.streams and self.streams[-1].enabled:
            return self.streams[-1]
        return None

    def key_of(self, item: Item) -> ItemKey:
        """The model key of a (wire or normalised) item: key values in canonical text."""
        out = []
        for name in self.key_names:
            ((kind, payload),) = item[name].items()
            out.append(canon_number(payload) if kind == "N" else payload)
        return tuple(out)

    def write(self, key: ItemKey, new: Item | None) -> None:
        """Apply a successful write: a record exactly when the stored item changes."""
        old = self.items.get(key)
        if old == new:
            return
        if new is None:
            del self.items[key]
        else:
            self.items[key] = new
        stream = self.active
        if stream is not None:
            stream.changes.setdefault(key, []).append(Change(old, new))
