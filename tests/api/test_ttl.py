"""Conformance of UpdateTimeToLive / DescribeTimeToLive and of TTL expiry, against a live server
(the shared server sweeps every 0.2 s)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

FIVE_YEARS = 5 * 365 * 24 * 3600
DEADLINE = 5.0  # seconds; the sweep runs every 0.2 s


def error_of(call: Callable[[], Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call()
    err = info.value.response["Error"]
    return err["Code"], err["Message"]


def enable(ddb: Any, table: str, attribute: str = "expires") -> dict[str, Any]:
    spec: dict[str, Any] = ddb.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute}
    )["TimeToLiveSpecification"]
    return spec


def ids(ddb: Any, table: str) -> set[str]:
    return {item["id"]["S"] for item in ddb.scan(TableName=table, ConsistentRead=True)["Items"]}


def wait_until_gone(ddb: Any, table: str, gone: set[str]) -> set[str]:
    """Poll until none of `gone` is left (or the deadline passes); returns the remaining ids."""
    deadline = time.monotonic() + DEADLINE
    left = ids(ddb, table)
    while left & gone and time.monotonic() < deadline:
        time.sleep(0.1)
        left = ids(ddb, table)
    return left


def test_describe_time_to_live_disabled_by_default(ddb: Any, hash_table: str) -> None:
    # DynamoDB rule: a new table's TTL is DISABLED and names no attribute.
    got = ddb.describe_time_to_live(TableName=hash_table)["TimeToLiveDescription"]
    assert got == {"TimeToLiveStatus": "DISABLED"}


def test_update_time_to_live_enable_and_disable(ddb: Any, hash_table: str) -> None:
    # DynamoDB rule: UpdateTimeToLive echoes the specification; DescribeTimeToLive then shows
    # ENABLED with the attribute, and DISABLED again after disabling.
    assert enable(ddb, hash_table) == {"Enabled": True, "AttributeName": "expires"}
    got = ddb.describe_time_to_live(TableName=hash_table)["TimeToLiveDescription"]
    assert got == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
    spec = ddb.update_time_to_live(
        TableName=hash_table, TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires"}
    )["TimeToLiveSpecification"]
    assert spec == {"Enabled": False, "AttributeName": "expires"}
    got = ddb.describe_time_to_live(TableName=hash_table)["TimeToLiveDescription"]
    assert got == {"TimeToLiveStatus": "DISABLED"}


def test_update_time_to_live_errors(ddb: Any, hash_table: str) -> None:
    # DynamoDB rule: enabling twice, disabling what is not enabled, and disabling with another
    # attribute name than the active one are ValidationExceptions.
    def update(enabled: bool, attribute: str) -> Callable[[], Any]:
        spec = {"Enabled": enabled, "AttributeName": attribute}
        return lambda: ddb.update_time_to_live(TableName=hash_table, TimeToLiveSpecification=spec)

    assert error_of(update(False, "expires")) == (
        "ValidationException",
        "TimeToLive is already disabled",
    )
    enable(ddb, hash_table)
    assert error_of(update(True, "expires")) == (
        "ValidationException",
        "TimeToLive is already enabled",
    )
    assert error_of(update(True, "other")) == (
        "ValidationException",
        "TimeToLive is already enabled",
    )
    assert error_of(update(False, "other")) == (
        "ValidationException",
        "TimeToLive is active on a different AttributeName: current AttributeName is expires",
    )


def test_time_to_live_unknown_table(ddb: Any) -> None:
    # DynamoDB rule: both TTL operations name a missing table in ResourceNotFoundException.
    missing = (
        "ResourceNotFoundException",
        "Requested resource not found: Table: no-such-ttl not found",
    )
    assert error_of(lambda: ddb.describe_time_to_live(TableName="no-such-ttl")) == missing
    spec = {"Enabled": True, "AttributeName": "x"}
    call = lambda: ddb.update_time_to_live(TableName="no-such-ttl", TimeToLiveSpecification=spec)  # noqa: E731
    assert error_of(call) == missing


def test_ttl_deletes_only_expired_numbers(ddb: Any, hash_table: str) -> None:
    # DynamoDB rule: with TTL enabled, an item whose TTL attribute is a Number of epoch seconds in
    # the past is deleted; a future time, a non-Number value, a missing attribute, or a time more
    # than five years in the past is ignored and the item stays.
    now = int(time.time())
    values: dict[str, dict[str, Any] | None] = {
        "past": {"N": str(now - 60)},
        "past-fraction": {"N": f"{now - 30}.75"},
        "just-past": {"N": str(now - 1)},
        "future": {"N": str(now + 3600)},
        "as-string": {"S": str(now - 60)},
        "as-number-set": {"NS": [str(now - 60)]},
        "missing": None,
        "ancient": {"N": str(now - FIVE_YEARS - 86400)},
        "huge": {"N": "1E+40"},
        "negative": {"N": "-1"},
    }
    enable(ddb, hash_table)
    for name, value in values.items():
        item: dict[str, Any] = {"id": {"S": name}}
        if value is not None:
            item["expires"] = value
        ddb.put_item(TableName=hash_table, Item=item)
    expired = {"past", "past-fraction", "just-past"}
    left = wait_until_gone(ddb, hash_table, expired)
    assert left == set(values) - expired
    time.sleep(0.5)  # a few more sweeps change nothing
    assert ids(ddb, hash_table) == set(values) - expired
    assert ddb.describe_table(TableName=hash_table)["Table"]["ItemCount"] == len(values) - 3


def test_ttl_applies_to_items_written_before_enabling(ddb: Any, hash_table: str) -> None:
    # DynamoDB rule: TTL looks at every item once enabled, including items written before.
    now = int(time.time())
    ddb.put_item(TableName=hash_table, Item={"id": {"S": "old"}, "ttl": {"N": str(now - 10)}})
    ddb.put_item(TableName=hash_table, Item={"id": {"S": "keep"}, "ttl": {"N": str(now + 999)}})
    time.sleep(0.5)
    assert ids(ddb, hash_table) == {"old", "keep"}  # TTL not enabled yet: nothing expires
    enable(ddb, hash_table, "ttl")
    assert wait_until_gone(ddb, hash_table, {"old"}) == {"keep"}


def test_ttl_follows_updates_and_disabling(ddb: Any, hash_table: str) -> None:
    # DynamoDB rule: the TTL value that counts is the item's current one (an update can push the
    # expiry into the future or the past), and nothing expires while TTL is disabled.
    now = int(time.time())
    enable(ddb, hash_table)
    ddb.put_item(
        TableName=hash_table, Item={"id": {"S": "moved"}, "expires": {"N": str(now + 999)}}
    )
    ddb.update_item(
        TableName=hash_table,
        Key={"id": {"S": "moved"}},
        UpdateExpression="SET expires = :t",
        ExpressionAttributeValues={":t": {"N": str(now - 5)}},
    )
    assert wait_until_gone(ddb, hash_table, {"moved"}) == set()

    ddb.update_time_to_live(
        TableName=hash_table, TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires"}
    )
    ddb.put_item(TableName=hash_table, Item={"id": {"S": "idle"}, "expires": {"N": str(now - 5)}})
    time.sleep(0.6)  # three sweeps
    assert ids(ddb, hash_table) == {"idle"}
