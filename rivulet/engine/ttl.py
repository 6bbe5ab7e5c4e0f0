"""The TTL sweeper: deletes expired items through the normal write path, marked as service deletes."""

from __future__ import annotations

import asyncio
import logging

import orjson

from rivulet.core.types import Item
from rivulet.core.values import key_of
from rivulet.engine.catalog import TableRuntime
from rivulet.engine.database import Database
from rivulet.engine.writes import ConditionFailed, Mutation

log = logging.getLogger("rivulet.ttl")

# DynamoDB ignores TTL values more than five years in the past (they are likely not epoch seconds).
FIVE_YEARS = 5 * 365 * 24 * 3600
BATCH = 100


def _still_expired(table: TableRuntime, now: int):  # type: ignore[no-untyped-def]
    def apply(old: Item | None) -> Item | None:
        # Re-checked inside the write: the item may have been rewritten with a later expiry.
        expires = None if old is None else table.expiry_of(old)
        if expires is None or not (now - FIVE_YEARS <= expires < now):
            raise ConditionFailed
        return None

    return apply


async def sweep_once(db: Database) -> int:
    """Delete every item expired at this moment; returns how many were deleted."""
    now = int(db.clock.now())
    deleted = 0
    for table in list(db.tables.values()):
        if table.ttl_attribute is None:
            continue
        while True:
            rows = db.storage.reader().expired_items(table.table_id, now, now - FIVE_YEARS, BATCH)
            if not rows:
                break
            mutations = []
            for row in rows:
                item = orjson.loads(row.item)
                mutations.append(
                    Mutation(
                        table, key_of(item, table.key), _still_expired(table, now), service=True
                    )
                )
            outcomes = await db.write_batch(mutations)
            deleted += sum(1 for o in outcomes if o.changed)
            if len(rows) < BATCH or not any(o.changed for o in outcomes):
                break
    return deleted


async def run_sweeper(db: Database, interval: float) -> None:
    """Sweep forever every `interval` seconds; a failed sweep is logged and retried next time."""
    while True:
        try:
            n = await sweep_once(db)
            if n:
                log.info("TTL deleted %d expired items", n)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("TTL sweep failed")
        await asyncio.sleep(interval)
