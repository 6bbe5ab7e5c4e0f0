"""Conformance of TagResource, UntagResource and ListTagsOfResource against a live server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

ARN_PREFIX = "arn:aws:dynamodb:us-east-1:000000000000:table/"


def error_of(call: Callable[[], Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call()
    err = info.value.response["Error"]
    return err["Code"], err["Message"]


def tags(ddb: Any, arn: str) -> list[dict[str, str]]:
    found: list[dict[str, str]] = ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]
    return found


def test_tags_start_empty(ddb: Any, hash_table: str) -> None:
    # DynamoDB rule: a table created without Tags lists an empty tag list.
    assert tags(ddb, ARN_PREFIX + hash_table) == []


def test_tag_resource_adds_and_overwrites(ddb: Any, table_name: str) -> None:
    # DynamoDB rule: CreateTable's Tags are the table's first tags; TagResource adds new keys and
    # overwrites the value of an existing key.
    ddb.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=[{"Key": "env", "Value": "dev"}],
    )
    arn = ARN_PREFIX + table_name
    ddb.tag_resource(
        ResourceArn=arn, Tags=[{"Key": "team", "Value": "data"}, {"Key": "env", "Value": "prod"}]
    )
    assert tags(ddb, arn) == [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "data"}]


def test_untag_resource_removes_keys(ddb: Any, hash_table: str) -> None:
    # DynamoDB rule: UntagResource removes the named keys; keys that are not there are ignored.
    arn = ARN_PREFIX + hash_table
    ddb.tag_resource(
        ResourceArn=arn,
        Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}, {"Key": "c", "Value": ""}],
    )
    ddb.untag_resource(ResourceArn=arn, TagKeys=["a", "missing"])
    assert tags(ddb, arn) == [{"Key": "b", "Value": "2"}, {"Key": "c", "Value": ""}]


def test_tags_limit_of_fifty(ddb: Any, hash_table: str) -> None:
    # DynamoDB rule: a table carries at most 50 tags.
    arn = ARN_PREFIX + hash_table
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert len(tags(ddb, arn)) == 50
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "k0", "Value": "again"}])  # overwrite is fine
    call = lambda: ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "one-more", "Value": "v"}])  # noqa: E731
    assert error_of(call) == ("ValidationException", "The number of tags exceeds the limit of 50")


def test_tags_of_unknown_table(ddb: Any) -> None:
    # DynamoDB rule: a well-formed ARN of a missing table is ResourceNotFoundException (with
    # DynamoDB's "ResourcArn" spelling).
    arn = ARN_PREFIX + "no-such-table"
    missing = (
        "ResourceNotFoundException",
        f"Requested resource not found: ResourcArn: {arn} not found",
    )
    assert error_of(lambda: ddb.list_tags_of_resource(ResourceArn=arn)) == missing
    assert (
        error_of(lambda: ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "k", "Value": "v"}]))
        == missing
    )
    assert error_of(lambda: ddb.untag_resource(ResourceArn=arn, TagKeys=["k"])) == missing


def test_tags_with_bad_arns(ddb: Any, hash_table: str) -> None:
    # DynamoDB rule: a string that is not an ARN is an IAM denial; an ARN that is not a table
    # ARN is "Invalid TableArn".
    assert error_of(lambda: ddb.list_tags_of_resource(ResourceArn="not-an-arn")) == (
        "AccessDeniedException",
        "User: arn:aws:iam::000000000000:user/rivulet is not authorized to perform: "
        "dynamodb:ListTagsOfResource on resource: not-an-arn",
    )
    stream_arn = f"arn:aws:dynamodb:us-east-1:000000000000:stream/{hash_table}"
    assert error_of(lambda: ddb.untag_resource(ResourceArn=stream_arn, TagKeys=["k"])) == (
        "ValidationException",
        f"Invalid TableArn: Invalid ResourceArn provided as input {stream_arn}",
    )


def test_tag_requests_need_tags(ddb: Any, hash_table: str) -> None:
    # DynamoDB rule: TagResource needs at least one tag, UntagResource at least one key.
    arn = ARN_PREFIX + hash_table
    assert error_of(lambda: ddb.tag_resource(ResourceArn=arn, Tags=[])) == (
        "ValidationException",
        "Atleast one Tag needs to be provided as Input.",
    )
    assert error_of(lambda: ddb.untag_resource(ResourceArn=arn, TagKeys=[])) == (
        "ValidationException",
        "Atleast one Tag Key needs to be provided as Input.",
    )


def test_tags_follow_the_table_incarnation(ddb: Any, hash_table: str) -> None:
    # DynamoDB rule: tags belong to the table; a table re-created under the same name starts
    # without the old table's tags.
    arn = ARN_PREFIX + hash_table
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "old", "Value": "1"}])
    ddb.delete_table(TableName=hash_table)
    ddb.create_table(
        TableName=hash_table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    assert tags(ddb, arn) == []
