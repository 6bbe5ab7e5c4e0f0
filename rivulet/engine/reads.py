"""Query and Scan pages: DynamoDB's Limit (items evaluated) and 1 MB (bytes read) page rules."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from rivulet.core.keys import decode_key_value, encode_key_value, partition_hash
from rivulet.core.schema import KeySchema
from rivulet.core.types import Item
from rivulet.engine.catalog import IndexRuntime, TableRuntime
from rivulet.expr import Condition, evaluate
from rivulet.storage.base import Reader, StoredItem

# DynamoDB stops a Query/Scan page once the items read exceed 1 MB (before any filter).
PAGE_BYTES = 1024 * 1024


@dataclass(slots=True)
class Page:
    """Items that passed the filter (decoded only when a filter or projection needed it)."""

    rows: list[StoredItem] = field(default_factory=list)
    items: list[Item | None] = field(default_factory=list)
    scanned: int = 0
    read_bytes: int = 0  # every item read, filtered out or not: what the read consumes
    last_key: Item | None = None


def _key_from_storage(schema: KeySchema, pk: bytes, sk: bytes) -> Item:
    key = {schema.hash_name: decode_key_value(pk, schema.hash_type)}
    if schema.range_name is not None and schema.range_type is not None:
        key[schema.range_name] = decode_key_value(sk, schema.range_type)
    return key


def collect_page(
    rows: Iterator[tuple[tuple[int, bytes, bytes] | None, StoredItem]],
    table: TableRuntime,
    index: IndexRuntime | None,
    limit: int | None,
    filter_: Condition | None,
    decode: bool,
    view: Callable[[Item], Item] | None = None,
) -> Page:
    """Walk rows in order, applying Limit, the 1 MB cap and the filter; remember where it stopped.

    `view` maps a stored item to what the index holds (a GSI filter sees only projected attributes).
    """
    page = Page()
    for entry, row in rows:
        page.scanned += 1
        page.read_bytes += row.size
        item: Item | None = None
        if filter_ is not None or decode:
            item = orjson.loads(row.item)
            if view is not None:
                item = view(item)
        if filter_ is None or evaluate(filter_, item):
            page.rows.append(row)
            page.items.append(item)
        if (limit is not None and page.scanned >= limit) or page.read_bytes >= PAGE_BYTES:
            key = _key_from_storage(table.key, row.pk, row.sk)
            if index is not None and entry is not None:
                key.update(_key_from_storage(index.schema.key, entry[1], entry[2]))
            page.last_key = key
            break
    return page


@dataclass(frozen=True, slots=True)
class SortRange:
    lo: bytes | None = None
    lo_inclusive: bool = True
    hi: bytes | None = None
    hi_inclusive: bool = True

    def contains(self, encoded: bytes) -> bool:
        """Whether an encoded sort key value satisfies the range (ExclusiveStartKey checks)."""
        if self.lo is not None and (
            encoded < self.lo or (encoded == self.lo and not self.lo_inclusive)
        ):
            return False
        return self.hi is None or encoded < self.hi or (encoded == self.hi and self.hi_inclusive)


def _successor(prefix: bytes) -> bytes | None:
    """Smallest byte string greater than every string starting with `prefix` (None: unbounded)."""
    data = bytearray(prefix)
    while data and data[-1] == 0xFF:
        data.pop()
    if not data:
        return None
    data[-1] += 1
    return bytes(data)


def sort_range(op: str | None, values: tuple[dict[str, Any], ...]) -> SortRange:
    if op is None:
        return SortRange()
    enc = [encode_key_value(v) for v in values]
    if op == "EQ":
        return SortRange(enc[0], True, enc[0], True)
    if op == "LT":
        return SortRange(hi=enc[0], hi_inclusive=False)
    if op == "LE":
        return SortRange(hi=enc[0])
    if op == "GT":
        return SortRange(lo=enc[0], lo_inclusive=False)
    if op == "GE":
        return SortRange(lo=enc[0])
    if op == "BETWEEN":
        return SortRange(enc[0], True, enc[1], True)
    if op == "BEGINS_WITH":
        return SortRange(enc[0], True, _successor(enc[0]), False)
    raise ValueError(op)


def query_rows(
    reader: Reader,
    table: TableRuntime,
    index: IndexRuntime | None,
    hash_value: dict[str, Any],
    rng: SortRange,
    forward: bool,
    start: Item | None,
) -> Iterator[tuple[tuple[int, bytes, bytes] | None, StoredItem]]:
    """Rows of one partition in sort order, resuming strictly after the ExclusiveStartKey `start`."""
    pk = encode_key_value(hash_value)
    h = partition_hash(pk)
    lo, lo_inc, hi, hi_inc = rng.lo, rng.lo_inclusive, rng.hi, rng.hi_inclusive
    if index is None:
        if start is not None:
            _, _, start_sk = table.storage_key(start)
            if forward:
                lo, lo_inc = start_sk, False
            else:
                hi, hi_inc = start_sk, False
        for row in reader.query(table.table_id, h, pk, lo, lo_inc, hi, hi_inc, forward):
            yield None, row
        return
    start_pos: tuple[bytes, tuple[int, bytes, bytes]] | None = None
    if start is not None:
        entry = index.entry_key(start)
        if entry is not None:
            start_pos = (entry[2], table.storage_key(start))
            if forward:
                lo, lo_inc = entry[2], True
            else:
                hi, hi_inc = entry[2], True
    for isk, row in reader.query_index(
        table.table_id, index.index_id, h, pk, lo, lo_inc, hi, hi_inc, forward
    ):
        if start_pos is not None:
            pos = (isk, (row.hash, row.pk, row.sk))
            if (forward and pos <= start_pos) or (not forward and pos >= start_pos):
                continue
            start_pos = None
        yield (h, pk, isk), row


def scan_rows(
    reader: Reader,
    table: TableRuntime,
    index: IndexRuntime | None,
    hash_lo: int,
    hash_hi: int,
    start: Item | None,
) -> Iterator[tuple[tuple[int, bytes, bytes] | None, StoredItem]]:
    """Rows in (partition hash, key) order within a parallel-scan segment, after `start`."""
    if index is None:
        after = None if start is None else table.storage_key(start)
        for row in reader.scan(table.table_id, hash_lo, hash_hi, after):
            yield None, row
        return
    after6 = None
    if start is not None:
        entry = index.entry_key(start)
        if entry is not None:
            after6 = (*entry, *table.storage_key(start))
    for entry_key, row in reader.scan_index(
        table.table_id, index.index_id, hash_lo, hash_hi, after6
    ):
        yield entry_key, row
