"""Crash safety: every acknowledged write survives a `kill -9` of the server, at both durabilities."""

from __future__ import annotations

import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from api.api_helpers import all_pages
from conftest import RunningServer, start_server
from streams.stream_helpers import load_item, stop_under_load, update_load_item

from rivulet.core.sizes import item_size

TABLE = "crash-load"
INDEX = "by-owner"
WRITERS = 4
BATCH = 5


def create_table(client: Any) -> None:
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "owner", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": INDEX,
                "KeySchema": [
                    {"AttributeName": "owner", "KeyType": "HASH"},
                    {"AttributeName": "pk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )


@dataclass
class Writer:
    """One load thread: its own keys, the last version it sent and the last one acknowledged."""

    owner: str
    client: Any
    attempted: dict[str, int] = field(default_factory=dict)
    acked: dict[str, int] = field(default_factory=dict)
    error: BaseException | None = None
    _keys: int = 0

    def _new_key(self) -> str:
        self._keys += 1
        return f"{self.owner}-{self._keys:06d}"

    def _put(self, key: str, version: int) -> None:
        self.attempted[key] = version
        self.client.put_item(TableName=TABLE, Item=load_item(self.owner, key, version))
        self.acked[key] = version

    def _update(self, key: str, version: int) -> None:
        self.attempted[key] = version
        update_load_item(self.client, TABLE, load_item(self.owner, key, version), version - 1)
        self.acked[key] = version

    def _batch(self, writes: list[tuple[str, int]]) -> None:
        for key, version in writes:
            self.attempted[key] = version
        requests = [
            {"PutRequest": {"Item": load_item(self.owner, key, version)}} for key, version in writes
        ]
        response = self.client.batch_write_item(RequestItems={TABLE: requests})
        unprocessed = {
            r["PutRequest"]["Item"]["pk"]["S"]
            for r in response.get("UnprocessedItems", {}).get(TABLE, [])
        }
        for key, version in writes:
            if key not in unprocessed:
                self.acked[key] = version

    def acknowledged(self) -> int:
        return len(self.acked)

    def run(self, stop: threading.Event) -> None:
        """PutItem a new key, UpdateItem it to the next version, BatchWriteItem new keys together
        with an overwrite of an existing one, until stopped or the server goes away."""
        try:
            while not stop.is_set():
                key = self._new_key()
                self._put(key, 1)
                self._update(key, 2)
                writes = [(self._new_key(), 1) for _ in range(BATCH - 1)]
                writes.append((key, 3))
                self._batch(writes)
        except Exception as exc:  # the server was killed under us: the rest is unacknowledged
            self.error = exc


def load_writers(server: RunningServer, prefix: str) -> list[Writer]:
    """WRITERS load threads' bodies, owners `<prefix>0`..., each with its own client."""
    return [Writer(f"{prefix}{i}", server.client()) for i in range(WRITERS)]


def scan_all(client: Any) -> dict[str, dict[str, Any]]:
    pages = all_pages(client.scan, TableName=TABLE, ConsistentRead=True)
    return {item["pk"]["S"]: item for page in pages for item in page["Items"]}


def query_owner(client: Any, owner: str) -> list[dict[str, Any]]:
    found = all_pages(
        client.query,
        TableName=TABLE,
        IndexName=INDEX,
        KeyConditionExpression="#o = :o",
        ExpressionAttributeNames={"#o": "owner"},
        ExpressionAttributeValues={":o": {"S": owner}},
    )
    return [item for page in found for item in page["Items"]]


def verify(client: Any, writers: list[Writer]) -> dict[str, dict[str, Any]]:
    """Every acknowledged write is stored with its exact value; a key whose last write was in
    flight holds either that write or the acknowledged one; nothing else exists; the GSI
    holds exactly the base items of each owner, in key order."""
    stored = scan_all(client)
    expected_keys: set[str] = set()
    for w in writers:
        for key, sent in w.attempted.items():
            acked = w.acked.get(key)
            item = stored.get(key)
            if acked is None:
                # Never acknowledged: it may or may not have committed, but never half.
                assert item is None or item == load_item(w.owner, key, sent), key
            else:
                assert item is not None, f"acknowledged write of {key} v{acked} lost"
                allowed = {acked, sent}
                version = int(item["ver"]["N"])
                assert version in allowed, (key, version, allowed)
                assert item == load_item(w.owner, key, version), key
            if item is not None:
                expected_keys.add(key)
    assert set(stored) == expected_keys
    for w in writers:
        mine = sorted((k for k, v in stored.items() if v["owner"]["S"] == w.owner))
        via_index = query_owner(client, w.owner)
        assert [i["pk"]["S"] for i in via_index] == mine
        assert via_index == [stored[k] for k in mine]
    # The figures commit with the writes: exact after the crash, for the table and its GSI.
    table = client.describe_table(TableName=TABLE)["Table"]
    size = sum(item_size(item) for item in stored.values())
    assert (table["ItemCount"], table["TableSizeBytes"]) == (len(stored), size)
    (index,) = table["GlobalSecondaryIndexes"]
    assert (index["ItemCount"], index["IndexSizeBytes"]) == (len(stored), size)
    return stored


@pytest.mark.parametrize("durability", ["full", "normal"])
def test_crash_kill9_keeps_every_acknowledged_write(tmp_path: Path, durability: str) -> None:
    data = tmp_path / "data"
    server = start_server(data, "--durability", durability)
    try:
        create_table(server.client())
        first = load_writers(server, "first")
        stop_under_load(server, first, 300)
    finally:
        server.stop(signal.SIGKILL)
    assert server.process.returncode == -signal.SIGKILL
    assert any(w.error is not None for w in first), "the load ran until the kill"

    # A second round on the recovered database, with other owners (so other keys), killed again.
    server = start_server(data, "--durability", durability)
    try:
        client = server.client()
        verify(client, first)
        second = load_writers(server, "again")
        stop_under_load(server, second, 300)
    finally:
        server.stop(signal.SIGKILL)

    server = start_server(data, "--durability", durability)
    try:
        client = server.client()
        verify(client, first + second)
        # The recovered server takes writes and reads them back.
        client.put_item(TableName=TABLE, Item=load_item("after", "after-1", 1))
        assert client.get_item(TableName=TABLE, Key={"pk": {"S": "after-1"}})["Item"] == (
            load_item("after", "after-1", 1)
        )
    finally:
        assert server.stop(signal.SIGTERM) == 0
    assert "Traceback" not in server.log()
