"""Conformance of the table operations: CreateTable, DescribeTable, ListTables, UpdateTable,
DeleteTable, DescribeLimits and DescribeEndpoints, against a live server."""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import RunningServer, start_server

ARN_PREFIX = "arn:aws:dynamodb:us-east-1:000000000000:table/"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
VOLATILE = ("CreationDateTime", "TableId", "LatestStreamArn", "LatestStreamLabel")
INVALID = "One or more parameter values were invalid: "
ON_DEMAND = {"MaxReadRequestUnits": -1, "MaxWriteRequestUnits": -1}


def error_of(call: Callable[[], Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call()
    err = info.value.response["Error"]
    return err["Code"], err["Message"]


def stable(desc: dict[str, Any]) -> dict[str, Any]:
    """A TableDescription without its volatile members."""
    return {k: v for k, v in desc.items() if k not in VOLATILE}


def throughput(read: int, write: int, decreases: int = 0) -> dict[str, Any]:
    return {
        "NumberOfDecreasesToday": decreases,
        "ReadCapacityUnits": read,
        "WriteCapacityUnits": write,
    }


def s_item(**attrs: str) -> dict[str, Any]:
    return {name: {"S": value} for name, value in attrs.items()}


def key(name: str, kind: str = "HASH") -> dict[str, str]:
    return {"AttributeName": name, "KeyType": kind}


def attr(name: str, kind: str = "S") -> dict[str, str]:
    return {"AttributeName": name, "AttributeType": kind}


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[RunningServer]:
    """A private server, for assertions about every table that exists."""
    srv = start_server(tmp_path / "data")
    yield srv
    srv.stop()


def full_table_request(name: str) -> dict[str, Any]:
    return {
        "TableName": name,
        "KeySchema": [key("pk"), key("sk", "RANGE")],
        "AttributeDefinitions": [
            attr("pk"),
            attr("sk", "N"),
            attr("lk"),
            attr("gk"),
            attr("gs", "B"),
        ],
        "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 6},
        "LocalSecondaryIndexes": [
            {
                "IndexName": "by-lk",
                "KeySchema": [key("pk"), key("lk", "RANGE")],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by-gk",
                "KeySchema": [key("gk"), key("gs", "RANGE")],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a", "b"]},
                "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 2},
            },
            {
                "IndexName": "all-gk",
                "KeySchema": [key("gk")],
                "Projection": {"ProjectionType": "ALL"},
                "ProvisionedThroughput": {"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
            },
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        "SSESpecification": {"Enabled": True},
        "Tags": [{"Key": "team", "Value": "data"}],
    }


def full_table_description(name: str, status: str) -> dict[str, Any]:
    arn = ARN_PREFIX + name
    gsi_status = "CREATING" if status == "CREATING" else "ACTIVE"
    return {
        "AttributeDefinitions": [
            attr("pk"),
            attr("sk", "N"),
            attr("lk"),
            attr("gk"),
            attr("gs", "B"),
        ],
        "TableName": name,
        "KeySchema": [key("pk"), key("sk", "RANGE")],
        "TableStatus": status,
        "ProvisionedThroughput": throughput(5, 6),
        "TableSizeBytes": 0,
        "ItemCount": 0,
        "TableArn": arn,
        "LocalSecondaryIndexes": [
            {
                "IndexName": "by-lk",
                "KeySchema": [key("pk"), key("lk", "RANGE")],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
                "IndexSizeBytes": 0,
                "ItemCount": 0,
                "IndexArn": f"{arn}/index/by-lk",
            }
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by-gk",
                "KeySchema": [key("gk"), key("gs", "RANGE")],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a", "b"]},
                "IndexStatus": gsi_status,
                "ProvisionedThroughput": throughput(1, 2),
                "IndexSizeBytes": 0,
                "ItemCount": 0,
                "IndexArn": f"{arn}/index/by-gk",
            },
            {
                "IndexName": "all-gk",
                "KeySchema": [key("gk")],
                "Projection": {"ProjectionType": "ALL"},
                "IndexStatus": gsi_status,
                "ProvisionedThroughput": throughput(3, 4),
                "IndexSizeBytes": 0,
                "ItemCount": 0,
                "IndexArn": f"{arn}/index/all-gk",
            },
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        "SSEDescription": {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": "<kms>"},
        "DeletionProtectionEnabled": False,
    }


def without_kms(desc: dict[str, Any]) -> dict[str, Any]:
    out = stable(desc)
    sse = dict(out["SSEDescription"])
    assert re.fullmatch(
        r"arn:aws:kms:us-east-1:000000000000:key/[0-9a-f-]{36}", sse["KMSMasterKeyArn"]
    )
    sse["KMSMasterKeyArn"] = "<kms>"
    out["SSEDescription"] = sse
    return out


def test_create_table_returns_full_description(ddb: Any, table_name: str) -> None:
    # DynamoDB rule: CreateTable answers with the whole TableDescription in CREATING state (GSIs
    # CREATING too), and DescribeTable shows the same table ACTIVE with the same TableId.
    created = ddb.create_table(**full_table_request(table_name))["TableDescription"]
    assert without_kms(created) == full_table_description(table_name, "CREATING")
    assert UUID.match(created["TableId"])
    now = datetime.datetime.now(datetime.UTC)
    assert abs((now - created["CreationDateTime"]).total_seconds()) < 60

    described = ddb.describe_table(TableName=table_name)["Table"]
    assert without_kms(described) == full_table_description(table_name, "ACTIVE")
    assert described["TableId"] == created["TableId"]
    assert described["CreationDateTime"] == created["CreationDateTime"]
    # The stream's ARN is the table ARN plus /stream/<label> when it is shown.
    if "LatestStreamArn" in described:
        label = described["LatestStreamLabel"]
        assert described["LatestStreamArn"] == f"{ARN_PREFIX}{table_name}/stream/{label}"
    tags = ddb.list_tags_of_resource(ResourceArn=described["TableArn"])["Tags"]
    assert tags == [{"Key": "team", "Value": "data"}]


def test_create_table_pay_per_request_description(ddb: Any, table_name: str) -> None:
    # DynamoDB rule: an on-demand table shows BillingModeSummary, zero provisioned throughput for
    # the table and its GSIs, unlimited OnDemandThroughput; once ACTIVE its
    # LastUpdateToPayPerRequestDateTime is the creation time.
    created = ddb.create_table(
        TableName=table_name,
        KeySchema=[key("id")],
        AttributeDefinitions=[attr("id"), attr("g", "N")],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-g",
                "KeySchema": [key("g")],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )["TableDescription"]
    arn = ARN_PREFIX + table_name
    expected = {
        "AttributeDefinitions": [attr("id"), attr("g", "N")],
        "TableName": table_name,
        "KeySchema": [key("id")],
        "TableStatus": "CREATING",
        "ProvisionedThroughput": throughput(0, 0),
        "TableSizeBytes": 0,
        "ItemCount": 0,
        "TableArn": arn,
        "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
        "OnDemandThroughput": ON_DEMAND,
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by-g",
                "KeySchema": [key("g")],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
                "IndexStatus": "CREATING",
                "ProvisionedThroughput": throughput(0, 0),
                "OnDemandThroughput": ON_DEMAND,
                "IndexSizeBytes": 0,
                "ItemCount": 0,
                "IndexArn": f"{arn}/index/by-g",
            }
        ],
        "DeletionProtectionEnabled": False,
    }
    assert stable(created) == expected
    described = ddb.describe_table(TableName=table_name)["Table"]
    expected["TableStatus"] = "ACTIVE"
    expected["GlobalSecondaryIndexes"][0]["IndexStatus"] = "ACTIVE"
    expected["BillingModeSummary"] = {
        "BillingMode": "PAY_PER_REQUEST",
        "LastUpdateToPayPerRequestDateTime": described["CreationDateTime"],
    }
    assert stable(described) == expected


def test_describe_table_counts_items_and_bytes(ddb: Any, table_name: str) -> None:
    # DynamoDB rule: ItemCount/TableSizeBytes count the stored items (size = attribute name
    # bytes + value bytes); a GSI counts only the items that carry its key attributes.
    ddb.create_table(
        TableName=table_name,
        KeySchema=[key("id")],
        AttributeDefinitions=[attr("id"), attr("g")],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[
            {"IndexName": "by-g", "KeySchema": [key("g")], "Projection": {"ProjectionType": "ALL"}}
        ],
    )
    ddb.put_item(TableName=table_name, Item=s_item(id="a1", g="x", note="hello"))  # 4+2+9 = 15
    ddb.put_item(TableName=table_name, Item=s_item(id="b22", note="hi"))  # 5+6 = 11
    ddb.put_item(TableName=table_name, Item=s_item(id="c", g="yy"))  # 3+3 = 6
    ddb.put_item(TableName=table_name, Item=s_item(id="c", g="zz"))  # overwrite: still one item
    table = ddb.describe_table(TableName=table_name)["Table"]
    assert (table["ItemCount"], table["TableSizeBytes"]) == (3, 32)
    gsi = table["GlobalSecondaryIndexes"][0]
    assert (gsi["ItemCount"], gsi["IndexSizeBytes"]) == (2, 21)
    ddb.delete_item(TableName=table_name, Key=s_item(id="a1"))
    table = ddb.describe_table(TableName=table_name)["Table"]
    assert (table["ItemCount"], table["TableSizeBytes"]) == (2, 17)


def test_describe_table_missing(ddb: Any) -> None:
    # DynamoDB rule: an unknown table is ResourceNotFoundException naming the table.
    assert error_of(lambda: ddb.describe_table(TableName="no-such-table")) == (
        "ResourceNotFoundException",
        "Requested resource not found: Table: no-such-table not found",
    )


def test_create_table_in_use(ddb: Any, hash_table: str) -> None:
    # DynamoDB rule: creating a table whose name exists is ResourceInUseException.
    call = lambda: ddb.create_table(  # noqa: E731
        TableName=hash_table,
        KeySchema=[key("id")],
        AttributeDefinitions=[attr("id")],
        BillingMode="PAY_PER_REQUEST",
    )
    assert error_of(call) == ("ResourceInUseException", f"Table already exists: {hash_table}")


def test_list_tables_pages_by_name(fresh_server: RunningServer) -> None:
    # DynamoDB rule: ListTables returns names in ascending order, at most Limit per page, with
    # LastEvaluatedTableName while more names follow; ExclusiveStartTableName resumes after it.
    ddb = fresh_server.client()
    names = ["tab-e", "tab-a", "Tab-Z", "tab-c", "tab-b"]
    for name in names:
        ddb.create_table(
            TableName=name,
            KeySchema=[key("id")],
            AttributeDefinitions=[attr("id")],
            BillingMode="PAY_PER_REQUEST",
        )
    assert ddb.list_tables()["TableNames"] == ["Tab-Z", "tab-a", "tab-b", "tab-c", "tab-e"]
    page = ddb.list_tables(Limit=2)
    assert (page["TableNames"], page["LastEvaluatedTableName"]) == (["Tab-Z", "tab-a"], "tab-a")
    page = ddb.list_tables(Limit=2, ExclusiveStartTableName="tab-a")
    assert (page["TableNames"], page["LastEvaluatedTableName"]) == (["tab-b", "tab-c"], "tab-c")
    page = ddb.list_tables(Limit=2, ExclusiveStartTableName="tab-c")
    assert page["TableNames"] == ["tab-e"] and "LastEvaluatedTableName" not in page
    # The start name need not exist.
    assert ddb.list_tables(ExclusiveStartTableName="tab-bb")["TableNames"] == ["tab-c", "tab-e"]
    ddb.delete_table(TableName="tab-b")
    assert ddb.list_tables()["TableNames"] == ["Tab-Z", "tab-a", "tab-c", "tab-e"]
    # boto3's paginator walks every page.
    pages = ddb.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 1})
    assert [n for p in pages for n in p["TableNames"]] == ["Tab-Z", "tab-a", "tab-c", "tab-e"]


def test_delete_table_then_gone(ddb: Any, ddb_resource: Any, table_name: str) -> None:
    # DynamoDB rule: DeleteTable answers with the description in DELETING state (with the item
    # count it had); afterwards every operation on the table is ResourceNotFoundException.
    ddb.create_table(
        TableName=table_name,
        KeySchema=[key("id")],
        AttributeDefinitions=[attr("id")],
        ProvisionedThroughput={"ReadCapacityUnits": 2, "WriteCapacityUnits": 3},
    )
    ddb.put_item(TableName=table_name, Item=s_item(id="abc"))
    desc = ddb.delete_table(TableName=table_name)["TableDescription"]
    assert stable(desc) == {
        "AttributeDefinitions": [attr("id")],
        "TableName": table_name,
        "KeySchema": [key("id")],
        "TableStatus": "DELETING",
        "ProvisionedThroughput": throughput(2, 3),
        "TableSizeBytes": 5,
        "ItemCount": 1,
        "TableArn": ARN_PREFIX + table_name,
        "DeletionProtectionEnabled": False,
    }
    missing = (
        "ResourceNotFoundException",
        f"Requested resource not found: Table: {table_name} not found",
    )
    assert error_of(lambda: ddb.describe_table(TableName=table_name)) == missing
    assert error_of(lambda: ddb.delete_table(TableName=table_name)) == missing
    assert error_of(lambda: ddb.get_item(TableName=table_name, Key=s_item(id="abc"))) == (
        "ResourceNotFoundException",
        "Requested resource not found",
    )
    # The name is free again, and the new table is empty.
    ddb.create_table(
        TableName=table_name,
        KeySchema=[key("id")],
        AttributeDefinitions=[attr("id")],
        BillingMode="PAY_PER_REQUEST",
    )
    assert ddb.scan(TableName=table_name)["Count"] == 0


def test_delete_table_protected(ddb: Any, table_name: str) -> None:
    # DynamoDB rule: a table with deletion protection cannot be deleted until it is disabled.
    ddb.create_table(
        TableName=table_name,
        KeySchema=[key("id")],
        AttributeDefinitions=[attr("id")],
        BillingMode="PAY_PER_REQUEST",
        DeletionProtectionEnabled=True,
    )
    assert error_of(lambda: ddb.delete_table(TableName=table_name)) == (
        "ValidationException",
        "Resource cannot be deleted as it is currently protected against deletion. "
        "Disable deletion protection first.",
    )
    ddb.update_table(TableName=table_name, DeletionProtectionEnabled=False)
    assert ddb.delete_table(TableName=table_name)["TableDescription"]["TableStatus"] == "DELETING"


def test_update_table_switches_billing_mode(ddb: Any, table_name: str) -> None:
    # DynamoDB rule: PROVISIONED -> PAY_PER_REQUEST zeroes the throughput of the table and its
    # GSIs and records LastUpdateToPayPerRequestDateTime; switching back needs throughput for the
    # table and every GSI, and the summary keeps the last switch time.
    ddb.create_table(
        TableName=table_name,
        KeySchema=[key("id")],
        AttributeDefinitions=[attr("id"), attr("g")],
        ProvisionedThroughput={"ReadCapacityUnits": 4, "WriteCapacityUnits": 4},
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-g",
                "KeySchema": [key("g")],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
                "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
            }
        ],
    )
    desc = ddb.update_table(TableName=table_name, BillingMode="PAY_PER_REQUEST")["TableDescription"]
    assert desc["TableStatus"] == "UPDATING"
    assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert desc["ProvisionedThroughput"] == throughput(0, 0)
    assert desc["OnDemandThroughput"] == ON_DEMAND
    gsi = desc["GlobalSecondaryIndexes"][0]
    assert (gsi["IndexStatus"], gsi["ProvisionedThroughput"]) == ("UPDATING", throughput(0, 0))
    table = ddb.describe_table(TableName=table_name)["Table"]
    switched = table["BillingModeSummary"]["LastUpdateToPayPerRequestDateTime"]
    assert table["BillingModeSummary"] == {
        "BillingMode": "PAY_PER_REQUEST",
        "LastUpdateToPayPerRequestDateTime": switched,
    }
    assert table["GlobalSecondaryIndexes"][0]["IndexStatus"] == "ACTIVE"

    assert error_of(
        lambda: ddb.update_table(
            TableName=table_name,
            BillingMode="PROVISIONED",
            ProvisionedThroughput={"ReadCapacityUnits": 2, "WriteCapacityUnits": 2},
        )
    ) == (
        "ValidationException",
        INVALID + "ProvisionedThroughput must be specified for index: by-g",
    )
    ddb.update_table(
        TableName=table_name,
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 2, "WriteCapacityUnits": 3},
        GlobalSecondaryIndexUpdates=[
            {
                "Update": {
                    "IndexName": "by-g",
                    "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 6},
                }
            }
        ],
    )
    table = ddb.describe_table(TableName=table_name)["Table"]
    assert table["BillingModeSummary"] == {
        "BillingMode": "PROVISIONED",
        "LastUpdateToPayPerRequestDateTime": switched,
    }
    assert "OnDemandThroughput" not in table
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 2
    assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 3
    assert table["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"] == throughput(5, 6)


def test_update_table_throughput(ddb: Any, table_name: str) -> None:
    # DynamoDB rule: raising throughput sets LastIncreaseDateTime, lowering it sets
    # LastDecreaseDateTime and counts NumberOfDecreasesToday; an unchanged value is rejected.
    ddb.create_table(
        TableName=table_name,
        KeySchema=[key("id")],
        AttributeDefinitions=[attr("id")],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    up = ddb.update_table(
        TableName=table_name,
        ProvisionedThroughput={"ReadCapacityUnits": 10, "WriteCapacityUnits": 5},
    )["TableDescription"]
    assert up["TableStatus"] == "UPDATING"
    assert set(up["ProvisionedThroughput"]) == {
        "LastIncreaseDateTime",
        "NumberOfDecreasesToday",
        "ReadCapacityUnits",
        "WriteCapacityUnits",
    }
    ddb.update_table(
        TableName=table_name,
        ProvisionedThroughput={"ReadCapacityUnits": 10, "WriteCapacityUnits": 1},
    )
    pt = ddb.describe_table(TableName=table_name)["Table"]["ProvisionedThroughput"]
    assert (pt["ReadCapacityUnits"], pt["WriteCapacityUnits"], pt["NumberOfDecreasesToday"]) == (
        10,
        1,
        1,
    )
    assert "LastDecreaseDateTime" in pt and "LastIncreaseDateTime" in pt
    assert error_of(
        lambda: ddb.update_table(
            TableName=table_name,
            ProvisionedThroughput={"ReadCapacityUnits": 10, "WriteCapacityUnits": 1},
        )
    ) == (
        "ValidationException",
        "The provisioned throughput for the table will not change. The requested value equals the "
        "current value. Current ReadCapacityUnits provisioned for the table: 10. Requested "
        "ReadCapacityUnits: 10. Current WriteCapacityUnits provisioned for the table: 1. Requested "
        "WriteCapacityUnits: 1. Refer to the Amazon DynamoDB Developer Guide for current limits and "
        "how to request higher limits.",
    )


def test_update_table_creates_gsi_with_backfill(ddb: Any, table_name: str) -> None:
    # DynamoDB rule: a GSI added by UpdateTable indexes the existing items (backfill); the
    # response lists it CREATING, adds its key attributes to AttributeDefinitions, and items
    # lacking the index key (or with another type) are left out of the index (sparse).
    ddb.create_table(
        TableName=table_name,
        KeySchema=[key("id")],
        AttributeDefinitions=[attr("id")],
        BillingMode="PAY_PER_REQUEST",
    )
    for i in range(6):
        item: dict[str, Any] = {"id": {"S": f"i{i}"}, "n": {"N": str(10 - i)}, "other": {"S": "o"}}
        if i != 4:
            item["grp"] = {"S": f"g{i % 2}"}
        ddb.put_item(TableName=table_name, Item=item)
    ddb.put_item(
        TableName=table_name, Item={"id": {"S": "bad"}, "grp": {"N": "1"}, "n": {"N": "0"}}
    )
    desc = ddb.update_table(
        TableName=table_name,
        AttributeDefinitions=[attr("grp"), attr("n", "N")],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "by-grp",
                    "KeySchema": [key("grp"), key("n", "RANGE")],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            }
        ],
    )["TableDescription"]
    assert desc["TableStatus"] == "UPDATING"
    assert desc["AttributeDefinitions"] == [attr("id"), attr("grp"), attr("n", "N")]
    gsi = desc["GlobalSecondaryIndexes"][0]
    assert {k: v for k, v in gsi.items() if k not in ("IndexSizeBytes", "ItemCount")} == {
        "IndexName": "by-grp",
        "KeySchema": [key("grp"), key("n", "RANGE")],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
        "IndexStatus": "CREATING",
        "Backfilling": False,
        "ProvisionedThroughput": throughput(0, 0),
        "OnDemandThroughput": ON_DEMAND,
        "IndexArn": f"{ARN_PREFIX}{table_name}/index/by-grp",
    }
    got = ddb.query(
        TableName=table_name,
        IndexName="by-grp",
        KeyConditionExpression="grp = :g",
        ExpressionAttributeValues={":g": {"S": "g0"}},
    )
    assert got["Items"] == [
        {"grp": {"S": "g0"}, "n": {"N": str(n)}, "id": {"S": f"i{10 - n}"}} for n in (8, 10)
    ]
    assert ddb.scan(TableName=table_name, IndexName="by-grp", Select="COUNT")["Count"] == 5
    table = ddb.describe_table(TableName=table_name)["Table"]
    assert table["GlobalSecondaryIndexes"][0]["IndexStatus"] == "ACTIVE"
    assert table["GlobalSecondaryIndexes"][0]["ItemCount"] == 5
    # Later writes maintain the new index.
    ddb.put_item(
        TableName=table_name, Item={"id": {"S": "i4"}, "grp": {"S": "g0"}, "n": {"N": "9"}}
    )
    got = ddb.query(
        TableName=table_name,
        IndexName="by-grp",
        KeyConditionExpression="grp = :g",
        ExpressionAttributeValues={":g": {"S": "g0"}},
    )
    assert [i["id"]["S"] for i in got["Items"]] == ["i2", "i4", "i0"]


def test_update_table_deletes_gsi(ddb: Any, table_name: str) -> None:
    # DynamoDB rule: the UpdateTable response still lists a GSI being deleted (DELETING); then it
    # is gone from DescribeTable, its now unused attribute definitions go too, and reads of it fail.
    ddb.create_table(
        TableName=table_name,
        KeySchema=[key("id")],
        AttributeDefinitions=[attr("id"), attr("g")],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[
            {"IndexName": "by-g", "KeySchema": [key("g")], "Projection": {"ProjectionType": "ALL"}}
        ],
    )
    ddb.put_item(TableName=table_name, Item=s_item(id="1", g="x"))
    desc = ddb.update_table(
        TableName=table_name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-g"}}]
    )["TableDescription"]
    assert [(i["IndexName"], i["IndexStatus"]) for i in desc["GlobalSecondaryIndexes"]] == [
        ("by-g", "DELETING")
    ]
    table = ddb.describe_table(TableName=table_name)["Table"]
    assert "GlobalSecondaryIndexes" not in table
    assert table["AttributeDefinitions"] == [attr("id")]
    assert error_of(
        lambda: ddb.query(
            TableName=table_name,
            IndexName="by-g",
            KeyConditionExpression="g = :g",
            ExpressionAttributeValues={":g": {"S": "x"}},
        )
    ) == ("ValidationException", "The table does not have the specified index: by-g")
    assert error_of(
        lambda: ddb.update_table(
            TableName=table_name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-g"}}]
        )
    ) == ("ResourceNotFoundException", "Requested resource not found")


def test_update_table_streams(ddb: Any, hash_table: str) -> None:
    # DynamoDB rule (records.md §7): enabling shows StreamSpecification; enabling again or
    # disabling twice is rejected by name; a disabled stream is omitted, not shown as false.
    desc = ddb.update_table(
        TableName=hash_table,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )["TableDescription"]
    assert desc["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    enable_again = lambda: ddb.update_table(  # noqa: E731
        TableName=hash_table,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    assert error_of(enable_again) == (
        "ValidationException",
        f"Table already has an enabled stream: TableName: {hash_table}",
    )
    ddb.update_table(TableName=hash_table, StreamSpecification={"StreamEnabled": False})
    assert "StreamSpecification" not in ddb.describe_table(TableName=hash_table)["Table"]
    disable_again = lambda: ddb.update_table(  # noqa: E731
        TableName=hash_table, StreamSpecification={"StreamEnabled": False}
    )
    assert error_of(disable_again) == (
        "ValidationException",
        f"Table has no stream to disable: TableName: {hash_table}",
    )


def test_describe_limits(ddb: Any) -> None:
    # DynamoDB rule: DescribeLimits reports the default account and per-table capacity quotas.
    got = ddb.describe_limits()
    got.pop("ResponseMetadata")
    assert got == {
        "AccountMaxReadCapacityUnits": 80000,
        "AccountMaxWriteCapacityUnits": 80000,
        "TableMaxReadCapacityUnits": 40000,
        "TableMaxWriteCapacityUnits": 40000,
    }


def test_describe_endpoints(ddb: Any, server: RunningServer) -> None:
    # DynamoDB rule: DescribeEndpoints names the endpoint to use and a 1440-minute cache period.
    got = ddb.describe_endpoints()
    assert got["Endpoints"] == [
        {"Address": f"127.0.0.1:{server.port}", "CachePeriodInMinutes": 1440}
    ]


# --- validation --------------------------------------------------------------------------------


def _create(name: str, **overrides: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [key("pk"), key("sk", "RANGE")],
        "AttributeDefinitions": [attr("pk"), attr("sk")],
        "BillingMode": "PAY_PER_REQUEST",
    }
    request.update(overrides)
    return {k: v for k, v in request.items() if v is not None}


def _lsi(
    name: str, *keys: dict[str, str], projection: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": list(keys),
        "Projection": projection or {"ProjectionType": "ALL"},
    }


CREATE_ERRORS = [
    (
        {"BillingMode": None},
        INVALID
        + "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
    ),
    (
        {"ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}},
        INVALID
        + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
    ),
    (
        {
            "BillingMode": "PROVISIONED",
            "ProvisionedThroughput": {"ReadCapacityUnits": 1000000000001, "WriteCapacityUnits": 1},
        },
        "Given value 1000000000001 for ReadCapacityUnits is out of bounds",
    ),
    (
        {"AttributeDefinitions": [attr("pk")]},
        "Invalid KeySchema: Some index key attribute have no definition",
    ),
    (
        {"AttributeDefinitions": [attr("pk"), attr("other")]},
        INVALID + "Some index key attributes are not defined in AttributeDefinitions. "
        "Keys: [pk, sk], AttributeDefinitions: [pk, other]",
    ),
    (
        {"KeySchema": [key("pk"), key("pk", "RANGE")]},
        "Both the Hash Key and the Range Key element in the KeySchema have the same name",
    ),
    (
        {"KeySchema": [key("pk", "RANGE"), key("sk")]},
        "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
    ),
    (
        {"KeySchema": [key("pk"), key("sk")]},
        "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
    ),
    (
        {"AttributeDefinitions": [attr("pk"), attr("sk"), attr("x")]},
        INVALID + "Number of attributes in KeySchema does not exactly match number of attributes "
        "defined in AttributeDefinitions",
    ),
    (
        {
            "KeySchema": [key("pk")],
            "AttributeDefinitions": [attr("pk"), attr("x")],
            "LocalSecondaryIndexes": [_lsi("ix1", key("pk"), key("x", "RANGE"))],
        },
        INVALID
        + "Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex",
    ),
    (
        {
            "AttributeDefinitions": [attr("pk"), attr("sk"), attr("x")],
            "LocalSecondaryIndexes": [_lsi("ix1", key("pk"))],
        },
        INVALID + "Index KeySchema does not have a range key for index: ix1",
    ),
    (
        {
            "AttributeDefinitions": [attr("pk"), attr("sk"), attr("x")],
            "LocalSecondaryIndexes": [_lsi("ix1", key("x"), key("sk", "RANGE"))],
        },
        INVALID + "Index KeySchema does not have the same leading hash key as table KeySchema for "
        "index: ix1. index hash key: x, table hash key: pk",
    ),
    (
        {
            "AttributeDefinitions": [attr("pk"), attr("sk"), attr("x")],
            "LocalSecondaryIndexes": [
                _lsi(
                    "ix1",
                    key("pk"),
                    key("x", "RANGE"),
                    projection={"ProjectionType": "ALL", "NonKeyAttributes": ["a"]},
                )
            ],
        },
        INVALID + "ProjectionType is ALL, but NonKeyAttributes is specified",
    ),
    (
        {
            "AttributeDefinitions": [attr("pk"), attr("sk"), attr("x")],
            "LocalSecondaryIndexes": [
                _lsi(f"ix{i}", key("pk"), key("x", "RANGE")) for i in range(6)
            ],
        },
        INVALID + "Number of LocalSecondaryIndexes exceeds per-table limit of 5",
    ),
    (
        {
            "AttributeDefinitions": [attr("pk"), attr("sk"), attr("x")],
            "LocalSecondaryIndexes": [_lsi("ix1", key("pk"), key("x", "RANGE"))],
            "GlobalSecondaryIndexes": [_lsi("ix1", key("x"))],
        },
        INVALID + "Duplicate index name: ix1",
    ),
    (
        {
            "AttributeDefinitions": [attr("pk"), attr("sk"), attr("x")],
            "GlobalSecondaryIndexes": [
                {
                    **_lsi("gx1", key("x")),
                    "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
                }
            ],
        },
        INVALID
        + "ProvisionedThroughput should not be specified for index: gx1 when BillingMode is PAY_PER_REQUEST",
    ),
    (
        {
            "BillingMode": "PROVISIONED",
            "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
            "AttributeDefinitions": [attr("pk"), attr("sk"), attr("x")],
            "GlobalSecondaryIndexes": [_lsi("gx1", key("x"))],
        },
        INVALID + "ProvisionedThroughput must be specified for index: gx1",
    ),
    (
        {
            "AttributeDefinitions": [attr("pk"), attr("sk"), attr("x"), attr("unused")],
            "GlobalSecondaryIndexes": [_lsi("gx1", key("x"))],
        },
        INVALID
        + "Some AttributeDefinitions are not used. AttributeDefinitions: [pk, sk, x, unused], "
        "keys used: [pk, sk, x]",
    ),
    (
        {
            "AttributeDefinitions": [attr("pk"), attr("sk"), attr("pk", "N")],
            "GlobalSecondaryIndexes": [_lsi("gx1", key("sk"))],
        },
        "Cannot have two attributes with the same name",
    ),
    (
        {"StreamSpecification": {"StreamEnabled": True}},
        INVALID + "If stream is being enabled then UpdateViewType is required",
    ),
    (
        {"StreamSpecification": {"StreamEnabled": False, "StreamViewType": "KEYS_ONLY"}},
        INVALID + "If stream is being disabled, then UpdateViewType must not be specified",
    ),
]


@pytest.mark.parametrize(("overrides", "message"), CREATE_ERRORS)
def test_create_table_validation(
    ddb: Any, table_name: str, overrides: dict[str, Any], message: str
) -> None:
    # DynamoDB rule: CreateTable's semantic checks answer ValidationException with these texts
    # (dynalite validations/createTable.js, records.md §7.3) and create nothing.
    assert error_of(lambda: ddb.create_table(**_create(table_name, **overrides))) == (
        "ValidationException",
        message,
    )
    assert table_name not in ddb.list_tables(ExclusiveStartTableName=table_name[:-1])["TableNames"]


def test_create_table_twenty_one_gsis(ddb: Any, table_name: str) -> None:
    # DynamoDB rule: a table has at most 20 GSIs.
    gsis = [_lsi(f"gsi{i:02d}", key("g")) for i in range(21)]
    request = _create(
        table_name,
        AttributeDefinitions=[attr("pk"), attr("sk"), attr("g")],
        GlobalSecondaryIndexes=gsis,
    )
    assert error_of(lambda: ddb.create_table(**request)) == (
        "ValidationException",
        INVALID + "GlobalSecondaryIndex count exceeds the per-table limit of 20",
    )


UPDATE_ERRORS = [
    (
        {},
        "ValidationException",
        "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
        "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required",
    ),
    (
        {"ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}},
        "ValidationException",
        INVALID
        + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
    ),
    (
        {"BillingMode": "PROVISIONED"},
        "ValidationException",
        INVALID + "ProvisionedThroughput must be specified when BillingMode is PROVISIONED",
    ),
    (
        {
            "GlobalSecondaryIndexUpdates": [{"Create": _lsi("by-g", key("g"))}],
            "AttributeDefinitions": [attr("g")],
        },
        "ValidationException",
        "Attempting to create an index which already exists",
    ),
    (
        {"GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "nope"}}]},
        "ResourceNotFoundException",
        "Requested resource not found",
    ),
    (
        {
            "GlobalSecondaryIndexUpdates": [
                {"Delete": {"IndexName": "by-g"}},
                {"Create": _lsi("new1", key("g"))},
            ],
            "AttributeDefinitions": [attr("g")],
        },
        "LimitExceededException",
        "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table",
    ),
    (
        {
            "GlobalSecondaryIndexUpdates": [
                {"Delete": {"IndexName": "by-g"}},
                {"Delete": {"IndexName": "by-g"}},
            ]
        },
        "ValidationException",
        INVALID
        + "Only one global secondary index update per index is allowed simultaneously. Index: by-g",
    ),
    (
        {"GlobalSecondaryIndexUpdates": [{"Create": _lsi("new1", key("h"))}]},
        "ValidationException",
        INVALID + "Some index key attributes are not defined in AttributeDefinitions. "
        "Keys: [h], AttributeDefinitions: [id, g]",
    ),
    (
        {
            "AttributeDefinitions": [attr("g", "N")],
            "GlobalSecondaryIndexUpdates": [{"Create": _lsi("new1", key("g"))}],
        },
        "ValidationException",
        INVALID + "Attribute g is already defined with type S",
    ),
    (
        {"StreamSpecification": {"StreamEnabled": False}},
        "ValidationException",
        "Table has no stream to disable: TableName: {name}",
    ),
    (
        {
            "BillingMode": "PROVISIONED",
            "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
            "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
        },
        "ValidationException",
        "cannot modify stream status while updating table IOPS",
    ),
]


@pytest.mark.parametrize(("request_", "code", "message"), UPDATE_ERRORS)
def test_update_table_validation(
    ddb: Any, table_name: str, request_: dict[str, Any], code: str, message: str
) -> None:
    # DynamoDB rule: UpdateTable's checks (dynalite validations/updateTable.js and
    # actions/updateTable.js, records.md §7.3) reject the request and change nothing.
    ddb.create_table(
        TableName=table_name,
        KeySchema=[key("id")],
        AttributeDefinitions=[attr("id"), attr("g")],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[_lsi("by-g", key("g"))],
    )
    before = ddb.describe_table(TableName=table_name)["Table"]
    assert error_of(lambda: ddb.update_table(TableName=table_name, **request_)) == (
        code,
        message.format(name=table_name),
    )
    assert ddb.describe_table(TableName=table_name)["Table"] == before


def test_update_table_missing_table(ddb: Any) -> None:
    # DynamoDB rule: UpdateTable of an unknown table names it in ResourceNotFoundException.
    name = f"t-{uuid.uuid4().hex[:12]}"
    call = lambda: ddb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")  # noqa: E731
    assert error_of(call) == (
        "ResourceNotFoundException",
        f"Requested resource not found: Table: {name} not found",
    )


def test_create_table_disabled_stream_and_default_encryption(ddb: Any, table_name: str) -> None:
    # DynamoDB rule (records.md §7.2): StreamEnabled=false is accepted and the description
    # omits StreamSpecification; SSE disabled (AWS owned key) shows no SSEDescription; a table
    # class given on create is shown in TableClassSummary.
    desc = ddb.create_table(
        TableName=table_name,
        KeySchema=[key("id")],
        AttributeDefinitions=[attr("id")],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": False},
        SSESpecification={"Enabled": False},
        TableClass="STANDARD_INFREQUENT_ACCESS",
    )["TableDescription"]
    for described in (desc, ddb.describe_table(TableName=table_name)["Table"]):
        assert "StreamSpecification" not in described
        assert "LatestStreamArn" not in described
        assert "SSEDescription" not in described
        assert described["TableClassSummary"] == {"TableClass": "STANDARD_INFREQUENT_ACCESS"}
