"""A database written before the figures (ItemCount, sizes) were kept gets them counted once, at
its first start; later starts read them as stored and count nothing."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from engine_helpers import open_db

from rivulet.api.table_specs import parse_create_table
from rivulet.core.clock import FakeClock
from rivulet.core.schema import TableDefinition
from rivulet.engine.database import STATS_COUNTED
from rivulet.engine.writes import Mutation

START = 1_764_158_400.0


def gsi_table(name: str) -> TableDefinition:
    return parse_create_table(
        {
            "TableName": name,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "g", "AttributeType": "S"},
            ],
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "by_g",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            "BillingMode": "PAY_PER_REQUEST",
        }
    )


def figures(data: Path) -> dict[str, tuple[int, int]]:
    """The table's and its GSI's figures as a started server reads them."""

    async def main() -> dict[str, tuple[int, int]]:
        db = await open_db(data, FakeClock(START))
        try:
            t = db.table("t")
            reader = db.storage.reader()
            (idx,) = t.indexes
            return {
                "table": reader.table_stats(t.table_id),
                "by_g": reader.index_stats(t.table_id, idx.index_id),
            }
        finally:
            db.close()

    return asyncio.run(main())


def test_figures_are_counted_once_for_a_database_that_had_none(tmp_path: Path) -> None:
    data = tmp_path / "data"

    async def write() -> None:
        db = await open_db(data, FakeClock(START))
        try:
            t = await db.create_table(gsi_table("t"))
            for n in range(10):
                item = {"pk": {"S": f"k{n}"}, "v": {"S": "x" * n}}
                if n % 3 == 0:
                    item["g"] = {"S": "g"}
                await db.write(Mutation(t, {"pk": item["pk"]}, lambda old, item=item: item))
        finally:
            db.close()

    asyncio.run(write())
    path = data / "rivulet.db"
    with sqlite3.connect(path) as conn:
        expected_table = conn.execute("SELECT count(*), sum(size) FROM items").fetchone()
        expected_index = conn.execute(
            "SELECT count(*), sum(size) FROM items WHERE CAST(item AS TEXT) LIKE '%\"g\":%'"
        ).fetchone()
    assert expected_table[0] == 10 and expected_index[0] == 4
    assert figures(data) == {"table": expected_table, "by_g": expected_index}

    # As Rivulet 0.1 left it: no figures, no mark.
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM stats")
        conn.execute("DELETE FROM meta WHERE key=?", (STATS_COUNTED,))
    assert figures(data) == {"table": expected_table, "by_g": expected_index}

    # Once counted, a start reads the stored figures and counts nothing.
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE stats SET count=count+1000")
    assert figures(data) == {
        "table": (expected_table[0] + 1000, expected_table[1]),
        "by_g": (expected_index[0] + 1000, expected_index[1]),
    }
