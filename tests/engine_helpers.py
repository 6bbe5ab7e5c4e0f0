"""An in-process Database wired like `rivulet serve` wires it, for tests that drive time with a
FakeClock instead of waiting (the stream engine and the trigger runtime)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rivulet.api.table_specs import parse_create_table
from rivulet.core.clock import FakeClock
from rivulet.core.schema import TableDefinition
from rivulet.engine.database import Database
from rivulet.engine.keyring import load_master_key, open_keyring
from rivulet.engine.streams import StreamConfig
from rivulet.storage.sqlite import SqliteStorage

CONFIG = StreamConfig(shards=3, rotation=60.0, retention=300.0, trim_interval=1.0)


async def open_db(data: Path, clock: FakeClock, config: StreamConfig = CONFIG) -> Database:
    """A Database wired like `rivulet serve` does it (app.Server.start), without HTTP."""
    db = Database(SqliteStorage(data), clock, config)
    db.open()
    loop = asyncio.get_running_loop()
    db.bind_loop(loop)
    db.streams.open(open_keyring(db.storage, load_master_key(data, None, None)), loop)
    return db


def definition(name: str, view_type: str = "NEW_AND_OLD_IMAGES") -> TableDefinition:
    return parse_create_table(
        {
            "TableName": name,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamEnabled": True, "StreamViewType": view_type},
        }
    )
