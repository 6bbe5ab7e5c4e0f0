"""Benchmark tables and preloaded data, created through boto3 exactly as a client would."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3  # type: ignore[import-untyped,unused-ignore]
from botocore.config import Config  # type: ignore[import-untyped,unused-ignore]
from servers import BenchError

READ_TABLE = "bench_read"
WRITE_TABLE = "bench_write"
BATCH = 25  # BatchWriteItem's per-request maximum


def client(url: str) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 3, "mode": "standard"}, read_timeout=60),
    )


def item(pk: str, sk: str, n: int) -> dict[str, Any]:
    """The item shape shared with wrk/common.lua's item_attrs (~200 bytes of JSON)."""
    return {
        "pk": {"S": pk},
        "sk": {"S": sk},
        "data": {"S": f"benchmark payload {n:08d} abcdefghijklmnopqrstuvwxyz0123456789"},
        "n": {"N": str(n)},
        "price": {"N": f"{n % 1000}.25"},
        "active": {"BOOL": True},
        "tags": {"L": [{"S": "alpha"}, {"S": "beta"}, {"S": "gamma"}]},
    }


def partition_key(p: int) -> str:
    return f"p{p:06d}"


def sort_key(i: int) -> str:
    return f"s{i:02d}"


def create_table(ddb: Any, name: str, timeout: float = 30.0) -> None:
    ddb.create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    deadline = time.monotonic() + timeout
    while ddb.describe_table(TableName=name)["Table"]["TableStatus"] != "ACTIVE":
        if time.monotonic() > deadline:
            raise BenchError(f"table {name} not ACTIVE after {timeout:.0f}s")
        time.sleep(0.05)


def _write_batch(ddb: Any, requests: list[dict[str, Any]]) -> None:
    pending: dict[str, list[dict[str, Any]]] = {READ_TABLE: requests}
    for attempt in range(20):
        left = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        if not left:
            return
        pending = left
        time.sleep(0.01 * (attempt + 1))
    raise BenchError("BatchWriteItem kept returning UnprocessedItems")


def preload(url: str, partitions: int, items_per_partition: int) -> int:
    """Fill the read table with partitions x items; return the number of items written."""
    requests = [
        {"PutRequest": {"Item": item(partition_key(p), sort_key(i), p * items_per_partition + i)}}
        for p in range(partitions)
        for i in range(items_per_partition)
    ]
    batches = [requests[i : i + BATCH] for i in range(0, len(requests), BATCH)]
    clients = [client(url) for _ in range(4)]
    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        list(
            pool.map(
                lambda k: _write_batch(clients[k % len(clients)], batches[k]), range(len(batches))
            )
        )
    return len(requests)


def check_data(ddb: Any, partitions: int, items_per_partition: int) -> None:
    """Fail early if the preload is not readable the way the wrk scripts read it."""
    last = partition_key(partitions - 1)
    got = ddb.get_item(TableName=READ_TABLE, Key={"pk": {"S": last}, "sk": {"S": sort_key(0)}})
    if "Item" not in got:
        raise BenchError(f"preloaded item {last}/{sort_key(0)} not found")
    count = ddb.query(
        TableName=READ_TABLE,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": last}},
    )["Count"]
    if count != items_per_partition:
        raise BenchError(f"query of {last} returned {count} items, expected {items_per_partition}")


def prepare(url: str, partitions: int, items_per_partition: int, need_read: bool) -> None:
    ddb = client(url)
    create_table(ddb, WRITE_TABLE)
    if need_read:
        create_table(ddb, READ_TABLE)
        preload(url, partitions, items_per_partition)
        check_data(ddb, partitions, items_per_partition)
