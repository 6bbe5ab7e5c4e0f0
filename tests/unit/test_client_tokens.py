"""ClientRequestToken in the engine, with a FakeClock: a token answers the retries of its request
for 10 minutes after it completed, then it is a new request; expired tokens are forgotten."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from engine_helpers import definition, open_db

from rivulet.core.clock import FakeClock
from rivulet.core.types import Item
from rivulet.engine.database import Database
from rivulet.engine.writes import ClientToken, Mutation, Outcome
from rivulet.errors import IdempotentParameterMismatchException

MISMATCH = "The request uses the same client token as a previous, but non-identical request."


def summary(outcomes: list[Outcome]) -> bytes:
    return b"%d changed" % sum(o.changed for o in outcomes)


def add_one(old: Item | None) -> Item:
    n = int(old["n"]["N"]) if old else 0
    return {"pk": {"S": "counter"}, "n": {"N": str(n + 1)}}


async def counter(db: Database) -> str | None:
    raw = db.get_item(db.table("t"), {"pk": {"S": "counter"}})
    return None if raw is None else raw.decode()


def token_rows(data: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(data / "rivulet.db") as conn:
        return conn.execute(
            "SELECT token, completed_ms FROM client_tokens ORDER BY token"
        ).fetchall()


def test_client_token_window(tmp_path: Path) -> None:
    clock = FakeClock()

    async def main() -> None:
        db = await open_db(tmp_path / "data", clock)
        try:
            t = await db.create_table(definition("t"))
            add = [Mutation(t, {"pk": {"S": "counter"}}, add_one)]
            first = ClientToken("tok", b"digest-1", summary)

            outcomes = await db.transact(add, first)
            assert isinstance(outcomes, list) and [o.changed for o in outcomes] == [True]
            # Within 10 minutes: the stored summary, nothing written again.
            clock.advance(599.9)
            assert await db.transact(add, first) == b"1 changed"
            assert await counter(db) == '{"pk":{"S":"counter"},"n":{"N":"1"}}'
            with pytest.raises(IdempotentParameterMismatchException) as err:
                await db.transact(add, ClientToken("tok", b"digest-2", summary))
            assert err.value.message == MISMATCH
            # 10 minutes after it completed the token is free: a new request, even a different one.
            clock.advance(0.2)
            outcomes = await db.transact(add, ClientToken("tok", b"digest-2", summary))
            assert isinstance(outcomes, list)
            assert await counter(db) == '{"pk":{"S":"counter"},"n":{"N":"2"}}'
            assert await db.transact(add, ClientToken("tok", b"digest-2", summary)) == b"1 changed"
            # Storing a token forgets the ones completed more than 10 minutes before.
            clock.advance(300)
            await db.transact(add, ClientToken("other", b"d", summary))
            clock.advance(301)
            await db.transact(add, ClientToken("third", b"d", summary))
            now_ms = int(clock.now() * 1000)
            assert token_rows(tmp_path / "data") == [("other", now_ms - 301_000), ("third", now_ms)]
        finally:
            db.close()

    asyncio.run(main())
