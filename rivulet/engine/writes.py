"""The write path: one read of the old item, a pure `apply(old)`, the item, its index entries and
its change record written in the caller's storage transaction (design.md, "The write path")."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from rivulet.core.sizes import item_size
from rivulet.core.types import Item, Key
from rivulet.core.values import items_equal
from rivulet.engine.catalog import TableRuntime
from rivulet.errors import DynamoError
from rivulet.storage.base import WriteTxn


class ConditionFailed(Exception):
    """Raised by an `apply` function when the request's condition does not hold. Nothing is written."""


Apply = Callable[[Item | None], Item | None]


@dataclass(slots=True)
class Mutation:
    """A change to one item: `apply(old)` returns the new item, or None to delete it.

    `apply` must be pure (it may run again) and raise ConditionFailed or a DynamoError.
    """

    table: TableRuntime
    key: Key
    apply: Apply
    # TTL deletions are made by the service, not a user: the stream marks their records.
    service: bool = False
    # The size of any item `apply` returns, when the caller already measured it (PutItem).
    new_size: int | None = None


@dataclass(slots=True)
class Outcome:
    old: Item | None
    new: Item | None
    failed: bool = False
    error: DynamoError | None = None
    changed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ClientToken:
    """A TransactWriteItems ClientRequestToken. `digest` identifies the request it was first used
    with; `summary(outcomes)` is kept with it and answers the retries of that request."""

    token: str
    digest: bytes
    summary: Callable[[list[Outcome]], bytes]


class ChangeCapture(Protocol):
    """Receives every real item change inside its write transaction (the stream appends here)."""

    def __call__(
        self,
        txn: WriteTxn,
        table: TableRuntime,
        hash: int,
        old: Item | None,
        new: Item | None,
        new_size: int,
        service: bool,
    ) -> None: ...


def read_old(txn: WriteTxn, m: Mutation) -> tuple[tuple[int, bytes, bytes], Item | None, int]:
    """The storage key, the stored item and its size (0 when there is none)."""
    skey = m.table.storage_key(m.key)
    stored = txn.get_item(m.table.table_id, *skey)
    if stored is None:
        return skey, None, 0
    return skey, orjson.loads(stored[0]), stored[1]


def evaluate(m: Mutation, old: Item | None) -> Outcome:
    """Run `apply` and classify the result; never raises for condition or validation failures."""
    try:
        new = m.apply(old)
    except ConditionFailed:
        return Outcome(old, old, failed=True)
    except DynamoError as exc:
        return Outcome(old, old, failed=True, error=exc)
    changed = not items_equal(old, new)
    return Outcome(old, new, changed=changed)


def store_change(
    txn: WriteTxn,
    m: Mutation,
    skey: tuple[int, bytes, bytes],
    out: Outcome,
    old_size: int,
    capture: ChangeCapture,
) -> None:
    """Write the item, maintain its index entries and figures, and hand the change to the
    stream capture."""
    table, old, new = m.table, out.old, out.new
    tid = table.table_id
    new_size = 0
    if new is None:
        txn.delete_item(tid, *skey)
    else:
        new_size = item_size(new) if m.new_size is None else m.new_size
        txn.put_item(tid, *skey, orjson.dumps(new), new_size, table.expiry_of(new))
    txn.add_stats(tid, 0, (new is not None) - (old is not None), new_size - old_size)
    for idx in table.indexes:
        before = None if old is None else idx.entry_key(old)
        after = None if new is None else idx.entry_key(new)
        if before is None and after is None:
            continue
        # An index's figures count its entries and the bytes of the items they stand for.
        txn.add_stats(
            tid,
            idx.index_id,
            (after is not None) - (before is not None),
            (0 if after is None else new_size) - (0 if before is None else old_size),
        )
        if before == after:
            continue
        if before is not None:
            txn.delete_index_entry(idx.index_id, *before, *skey)
        if after is not None:
            txn.put_index_entry(idx.index_id, *after, *skey)
    capture(txn, table, skey[0], old, new, new_size, m.service)


def write_one(txn: WriteTxn, m: Mutation, capture: ChangeCapture) -> Outcome:
    """A single conditional write (PutItem, UpdateItem, DeleteItem, a TTL delete)."""
    skey, old, old_size = read_old(txn, m)
    out = evaluate(m, old)
    if out.error is not None:
        raise out.error
    if out.changed:
        store_change(txn, m, skey, out, old_size, capture)
    return out


def write_many(
    txn: WriteTxn, mutations: Sequence[Mutation], capture: ChangeCapture
) -> list[Outcome]:
    """Independent writes committed together (BatchWriteItem, TTL): a failed condition skips only its item."""
    return [write_one(txn, m, capture) for m in mutations]


def write_all_or_nothing(
    txn: WriteTxn, mutations: Sequence[Mutation], capture: ChangeCapture
) -> list[Outcome]:
    """TransactWriteItems: evaluate every action against the current state; if any fails, write
    nothing and return the outcomes so the caller can build CancellationReasons."""
    staged = []
    for m in mutations:
        skey, old, old_size = read_old(txn, m)
        staged.append((m, skey, evaluate(m, old), old_size))
    outcomes = [out for _, _, out, _ in staged]
    if any(out.failed for out in outcomes):
        return outcomes
    for m, skey, out, old_size in staged:
        if out.changed:
            store_change(txn, m, skey, out, old_size, capture)
    return outcomes
