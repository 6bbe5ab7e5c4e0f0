"""Where the dead-letter table's items are written: the engine in-process (inside `rivulet serve`)
or a server over HTTP with boto3 (inside a `rivulet worker`, or a CLI, which has no engine).

Items are DynamoDB JSON dicts end to end. Every dead-letter table has the key schema HASH
`trigger` (S) + RANGE `id` (S); see rivulet/triggers/destinations.py for the item layout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import orjson

from rivulet.core.schema import KeySchema, TableDefinition
from rivulet.core.values import (
    key_of,
    normalize_item,
    validate_item_for_put,
    validate_key,
)
from rivulet.engine.database import Database
from rivulet.engine.reads import SortRange, query_rows, sort_range
from rivulet.engine.writes import Mutation
from rivulet.errors import DynamoError, ResourceInUseException
from rivulet.storage.base import StorageError

HASH_KEY = "trigger"
RANGE_KEY = "id"
T = TypeVar("T")


class ItemSinkError(Exception):
    """A write, read or table creation failed (the message says why)."""


class ItemSink(Protocol):
    async def ensure_table(self, name: str) -> None:
        """Create the table (PAY_PER_REQUEST, HASH `trigger` + RANGE `id`) unless it exists."""
        ...

    async def put(self, name: str, item: dict[str, Any]) -> None: ...

    async def query(self, name: str, hash_value: str, id_prefix: str = "") -> list[dict[str, Any]]:
        """The items whose `trigger` is `hash_value` (and `id` begins with `id_prefix`), in
        ascending `id` order."""
        ...

    async def delete(self, name: str, key: dict[str, Any]) -> None: ...

    async def close(self) -> None: ...


def dead_letter_definition(name: str) -> TableDefinition:
    return TableDefinition(
        name=name,
        key=KeySchema(HASH_KEY, "S", RANGE_KEY, "S"),
        attribute_definitions=((HASH_KEY, "S"), (RANGE_KEY, "S")),
        billing_mode="PAY_PER_REQUEST",
    )


class EngineItemSink:
    """The server's own Database, without an HTTP loopback to itself (design.md, "Triggers")."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def ensure_table(self, name: str) -> None:
        if name in self.db.tables:
            return
        try:
            await self.db.create_table(dead_letter_definition(name))
        except ResourceInUseException:
            pass  # another runtime created it first
        except (DynamoError, StorageError) as exc:
            raise ItemSinkError(f"cannot create table {name}: {exc}") from exc

    async def put(self, name: str, item: dict[str, Any]) -> None:
        try:
            table = self.db.table(name)
            # The checks PutItem makes: canonical numbers, then 400 KB and the table's key types.
            new = normalize_item(item)
            validate_item_for_put(new, table.key, [i.schema for i in table.indexes])
            await self.db.write(Mutation(table, key_of(new, table.key), lambda old: new))
        except (DynamoError, StorageError) as exc:
            raise ItemSinkError(f"cannot write to table {name}: {exc}") from exc

    async def query(self, name: str, hash_value: str, id_prefix: str = "") -> list[dict[str, Any]]:
        rng = sort_range("BEGINS_WITH", ({"S": id_prefix},)) if id_prefix else SortRange()
        try:
            table = self.db.table(name)
            rows = query_rows(
                self.db.storage.reader(), table, None, {"S": hash_value}, rng, True, None
            )
            return [orjson.loads(row.item) for _, row in rows]
        except (DynamoError, StorageError) as exc:
            raise ItemSinkError(f"cannot read table {name}: {exc}") from exc

    async def delete(self, name: str, key: dict[str, Any]) -> None:
        try:
            table = self.db.table(name)
            key = validate_key(normalize_item(key), table.key)
            await self.db.write(Mutation(table, key, lambda old: None))
        except (DynamoError, StorageError) as exc:
            raise ItemSinkError(f"cannot delete from table {name}: {exc}") from exc

    async def close(self) -> None:
        """The Database belongs to the server."""


class HttpItemSink:
    """A DynamoDB endpoint (a Rivulet server) through a boto3 client; its blocking calls run in a
    thread. Without configured credentials it signs with placeholder ones, which Rivulet accepts."""

    def __init__(self, endpoint_url: str, region: str) -> None:
        import boto3  # type: ignore[import-untyped]
        from botocore.config import Config  # type: ignore[import-untyped]

        session = boto3.session.Session()
        credentials: dict[str, str] = {}
        if session.get_credentials() is None:
            credentials = {"aws_access_key_id": "rivulet", "aws_secret_access_key": "rivulet"}
        config = Config(
            retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30
        )
        self.endpoint_url = endpoint_url
        self.client: Any = session.client(
            "dynamodb", endpoint_url=endpoint_url, region_name=region, config=config, **credentials
        )

    async def _call(self, what: str, call: Callable[[], T]) -> T:
        from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

        try:
            return await asyncio.to_thread(call)
        except (BotoCoreError, ClientError) as exc:
            raise ItemSinkError(f"{what} at {self.endpoint_url}: {exc}") from exc

    async def ensure_table(self, name: str) -> None:
        from botocore.exceptions import ClientError

        def create() -> None:
            try:
                self.client.create_table(
                    TableName=name,
                    KeySchema=[
                        {"AttributeName": HASH_KEY, "KeyType": "HASH"},
                        {"AttributeName": RANGE_KEY, "KeyType": "RANGE"},
                    ],
                    AttributeDefinitions=[
                        {"AttributeName": HASH_KEY, "AttributeType": "S"},
                        {"AttributeName": RANGE_KEY, "AttributeType": "S"},
                    ],
                    BillingMode="PAY_PER_REQUEST",
                )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ResourceInUseException":
                    raise  # "in use": it exists already, perhaps created by another runtime

        await self._call(f"cannot create table {name}", create)

    async def put(self, name: str, item: dict[str, Any]) -> None:
        await self._call(
            f"cannot write to table {name}",
            lambda: self.client.put_item(TableName=name, Item=item),
        )

    async def query(self, name: str, hash_value: str, id_prefix: str = "") -> list[dict[str, Any]]:
        condition = "#h = :h"
        names = {"#h": HASH_KEY}
        values = {":h": {"S": hash_value}}
        if id_prefix:
            condition += " AND begins_with(#r, :r)"
            names["#r"] = RANGE_KEY
            values[":r"] = {"S": id_prefix}

        def run() -> list[dict[str, Any]]:
            pages = self.client.get_paginator("query").paginate(
                TableName=name,
                KeyConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ConsistentRead=True,
            )
            return [item for page in pages for item in page["Items"]]

        return await self._call(f"cannot read table {name}", run)

    async def delete(self, name: str, key: dict[str, Any]) -> None:
        await self._call(
            f"cannot delete from table {name}",
            lambda: self.client.delete_item(TableName=name, Key=key),
        )

    async def close(self) -> None:
        self.client.close()
