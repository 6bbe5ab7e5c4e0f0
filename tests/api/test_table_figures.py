"""ItemCount, TableSizeBytes and IndexSizeBytes stay exact through every kind of write, against a
live server: after a mixed workload they equal what a full Scan counts (DynamoDB's item size
rule, rivulet.core.sizes, is tested on its own in tests/unit/test_sizes.py)."""

from __future__ import annotations

import random
import time
from typing import Any

from api_helpers import all_pages
from botocore.exceptions import ClientError

from rivulet.core.sizes import item_size

SCHEMA = {
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ],
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "N"},
        {"AttributeName": "l", "AttributeType": "N"},
        {"AttributeName": "g", "AttributeType": "S"},
    ],
    "LocalSecondaryIndexes": [
        {
            "IndexName": "by_l",
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "l", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }
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
# Which attributes put an item in each index (sparse indexes: items without them are not in it).
INDEX_KEYS = {"by_l": ("l",), "by_g": ("g",), "by_h": ("h",)}


def scan_all(ddb: Any, table: str) -> list[dict[str, Any]]:
    pages = all_pages(ddb.scan, TableName=table, ConsistentRead=True)
    return [item for page in pages for item in page["Items"]]


def described(ddb: Any, table: str) -> dict[str, tuple[int, int]]:
    t = ddb.describe_table(TableName=table)["Table"]
    out = {"": (t["ItemCount"], t["TableSizeBytes"])}
    for idx in t.get("LocalSecondaryIndexes", []) + t.get("GlobalSecondaryIndexes", []):
        out[idx["IndexName"]] = (idx["ItemCount"], idx["IndexSizeBytes"])
    return out


def counted(ddb: Any, table: str, indexes: list[str]) -> dict[str, tuple[int, int]]:
    items = scan_all(ddb, table)
    out = {"": (len(items), sum(item_size(i) for i in items))}
    for name in indexes:
        member = [i for i in items if all(k in i for k in INDEX_KEYS[name])]
        out[name] = (len(member), sum(item_size(i) for i in member))
    return out


def random_item(rng: random.Random, pk: str, sk: int) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": {"S": pk},
        "sk": {"N": str(sk)},
        "body": {"S": "x" * rng.randint(0, 300)},
    }
    if rng.random() < 0.6:
        item["l"] = {"N": str(rng.randint(-50, 50))}
    if rng.random() < 0.5:
        item["g"] = {"S": rng.choice("abc")}
    if rng.random() < 0.5:
        item["h"] = {"S": rng.choice("xyz")}
    if rng.random() < 0.3:
        item["tags"] = {"SS": sorted({rng.choice("pqrstu") for _ in range(3)})}
    return item


def workload(ddb: Any, table: str, rng: random.Random, steps: int) -> None:
    """Puts, updates that move items in and out of the sparse indexes and change their sizes,
    deletes, batches, transactions (some cancelled), failed conditions and no-op writes."""
    keys = [(f"p{n % 7}", n) for n in range(40)]

    def key(k: tuple[str, int]) -> dict[str, Any]:
        return {"pk": {"S": k[0]}, "sk": {"N": str(k[1])}}

    for _ in range(steps):
        k = rng.choice(keys)
        op = rng.random()
        try:
            if op < 0.3:
                ddb.put_item(TableName=table, Item=random_item(rng, *k))
            elif op < 0.5:
                ddb.update_item(
                    TableName=table,
                    Key=key(k),
                    UpdateExpression="SET body = :b, l = :l REMOVE g",
                    ExpressionAttributeValues={
                        ":b": {"S": "y" * rng.randint(0, 500)},
                        ":l": {"N": str(rng.randint(0, 9))},
                    },
                )
            elif op < 0.6:
                ddb.update_item(
                    TableName=table,
                    Key=key(k),
                    UpdateExpression="SET g = :g REMOVE l",
                    ExpressionAttributeValues={":g": {"S": "moved"}},
                    ConditionExpression="attribute_exists(pk)",
                )
            elif op < 0.7:
                ddb.delete_item(TableName=table, Key=key(k))
            elif op < 0.8:
                batch = rng.sample(keys, 5)
                ddb.batch_write_item(
                    RequestItems={
                        table: [
                            {"PutRequest": {"Item": random_item(rng, *b)}}
                            if rng.random() < 0.7
                            else {"DeleteRequest": {"Key": key(b)}}
                            for b in batch
                        ]
                    }
                )
            elif op < 0.9:
                a, b = rng.sample(keys, 2)
                ddb.transact_write_items(
                    TransactItems=[
                        {"Put": {"TableName": table, "Item": random_item(rng, *a)}},
                        {
                            "Delete": {
                                "TableName": table,
                                "Key": key(b),
                                # Cancels the whole transaction about half the time.
                                "ConditionExpression": "attribute_exists(pk)",
                            }
                        },
                    ]
                )
            else:
                stored = ddb.get_item(TableName=table, Key=key(k)).get("Item")
                if stored is not None:
                    ddb.put_item(TableName=table, Item=stored)  # writes nothing
        except ClientError as error:
            code = error.response["Error"]["Code"]
            assert code in ("ConditionalCheckFailedException", "TransactionCanceledException")


def test_figures_stay_exact_through_writes_and_index_changes(ddb: Any, table_name: str) -> None:
    ddb.create_table(TableName=table_name, **SCHEMA)
    rng = random.Random(20261126)
    workload(ddb, table_name, rng, 400)
    assert described(ddb, table_name) == counted(ddb, table_name, ["by_l", "by_g"])
    assert described(ddb, table_name)[""][0] > 0

    # A new GSI is counted by its backfill; a dropped one is gone.
    ddb.update_table(
        TableName=table_name,
        AttributeDefinitions=[{"AttributeName": "h", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "by_h",
                    "KeySchema": [{"AttributeName": "h", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            }
        ],
    )
    workload(ddb, table_name, rng, 100)
    assert described(ddb, table_name) == counted(ddb, table_name, ["by_l", "by_g", "by_h"])
    ddb.update_table(
        TableName=table_name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_g"}}]
    )
    workload(ddb, table_name, rng, 100)
    assert described(ddb, table_name) == counted(ddb, table_name, ["by_l", "by_h"])


def test_figures_count_ttl_deletes(ddb: Any, hash_table: str) -> None:
    # The shared server sweeps expired items every 0.2 s; the sweeper's deletes are counted.
    ddb.update_time_to_live(
        TableName=hash_table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"}
    )
    past = str(int(time.time()) - 60)
    for n in range(6):
        item = {"id": {"S": f"i{n}"}, "v": {"S": "v" * n}}
        if n % 2:
            item["exp"] = {"N": past}
        ddb.put_item(TableName=hash_table, Item=item)
    deadline = time.monotonic() + 30
    while len(scan_all(ddb, hash_table)) != 3:
        assert time.monotonic() < deadline, "the TTL sweeper did not delete the expired items"
        time.sleep(0.1)
    kept = [{"id": {"S": f"i{n}"}, "v": {"S": "v" * n}} for n in (0, 2, 4)]
    assert described(ddb, hash_table)[""] == (3, sum(item_size(i) for i in kept))
