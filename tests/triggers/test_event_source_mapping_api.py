"""AWS Lambda's event source mapping API on the main port: boto3's `lambda` client and the AWS
CLI manage triggers unchanged (triggers.md 2, 2.1, 3)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import pytest
from conftest import BOTO_CONFIG, CREDENTIALS, RunningServer

from triggers.trigger_helpers import delivered_keys, stream_table, wait_for

Server = tuple[RunningServer, Path]


def lambda_client(server: RunningServer) -> Any:
    return boto3.client("lambda", endpoint_url=server.url, config=BOTO_CONFIG, **CREDENTIALS)


def error(call: Any, **kwargs: Any) -> tuple[int, str, str]:
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call(**kwargs)
    response = info.value.response
    return (
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Code"],
        response["Error"]["Message"],
    )


def stream_arn(ddb: Any, table: str) -> str:
    return str(ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"])


def test_create_get_update_delete(tserver: Server, tddb: Any, tname: str) -> None:
    server, _out = tserver
    lam = lambda_client(server)
    stream_table(tddb, tname)
    arn = stream_arn(tddb, tname)
    created = lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName="trigger_apps.recorder:record", StartingPosition="LATEST"
    )
    meta = created.pop("ResponseMetadata")
    assert meta["HTTPStatusCode"] == 202
    uuid = created["UUID"]
    last_modified = created.pop("LastModified")
    assert created == {
        "UUID": uuid,
        "EventSourceMappingArn": f"arn:aws:lambda:us-east-1:000000000000:event-source-mapping:{uuid}",
        "EventSourceArn": arn,
        "FunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:trigger_apps-recorder-record",
        "BatchSize": 100,
        "MaximumBatchingWindowInSeconds": 0,
        "ParallelizationFactor": 1,
        "StartingPosition": "LATEST",
        "DestinationConfig": {"OnFailure": {}},
        "MaximumRecordAgeInSeconds": -1,
        "MaximumRetryAttempts": -1,
        "BisectBatchOnFunctionError": False,
        "TumblingWindowInSeconds": 0,
        "FunctionResponseTypes": [],
        "LastProcessingResult": "No records processed",
        "State": "Creating",
        "StateTransitionReason": "User action",
    }
    assert last_modified.timestamp() > 0
    got = lam.get_event_source_mapping(UUID=uuid)
    assert got["State"] == "Enabled"
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200

    # It is a trigger: records written after create are delivered.
    tddb.put_item(TableName=tname, Item={"pk": {"S": "via-lambda-api"}})
    wait_for(lambda: delivered_keys(tserver[1], tname) == ["via-lambda-api"])

    updated = lam.update_event_source_mapping(UUID=uuid, BatchSize=10, MaximumRetryAttempts=2)
    assert (updated["State"], updated["BatchSize"], updated["MaximumRetryAttempts"]) == (
        "Updating",
        10,
        2,
    )
    assert lam.update_event_source_mapping(UUID=uuid, Enabled=False)["State"] == "Disabling"
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Disabled"
    assert lam.update_event_source_mapping(UUID=uuid, Enabled=True)["State"] == "Enabling"
    deleted = lam.delete_event_source_mapping(UUID=uuid)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert deleted["State"] == "Deleting"
    assert error(lam.get_event_source_mapping, UUID=uuid) == (
        404,
        "ResourceNotFoundException",
        "The resource you requested does not exist.",
    )


def test_errors_are_lambdas(tserver: Server, tddb: Any, tname: str) -> None:
    server, _out = tserver
    lam = lambda_client(server)
    stream_table(tddb, tname)
    arn = stream_arn(tddb, tname)
    function = "trigger_apps.recorder:record"
    assert error(lam.create_event_source_mapping, EventSourceArn=arn, FunctionName=function) == (
        400,
        "InvalidParameterValueException",
        "1 validation error detected: Value null at 'startingPosition' failed to satisfy "
        "constraint: Member must not be null.",
    )
    assert error(
        lam.create_event_source_mapping,
        EventSourceArn=arn,
        FunctionName=function,
        StartingPosition="invalid",
    ) == (
        400,
        "ValidationException",
        "1 validation error detected: Value 'invalid' at 'startingPosition' failed to satisfy "
        "constraint: Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]",
    )
    assert error(
        lam.create_event_source_mapping,
        EventSourceArn=arn,
        FunctionName=function,
        StartingPosition="TRIM_HORIZON",
        MaximumRecordAgeInSeconds=30,
    ) == (
        400,
        "InvalidParameterValueException",
        "MaximumRecordAgeInSeconds must be either -1 (forever) or between 60 and 604800 "
        "(inclusive)",
    )
    missing = arn.replace(tname, f"{tname}x")
    assert error(
        lam.create_event_source_mapping,
        EventSourceArn=missing,
        FunctionName=function,
        StartingPosition="TRIM_HORIZON",
    ) == (400, "InvalidParameterValueException", f"Stream not found: {missing}")
    first = lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName=function, StartingPosition="TRIM_HORIZON"
    )
    assert error(
        lam.create_event_source_mapping,
        EventSourceArn=arn,
        FunctionName=function,
        StartingPosition="TRIM_HORIZON",
    ) == (
        409,
        "ResourceConflictException",
        f'The event source arn (" {arn} ") and function (" {function} ") provided mapping '
        f"already exists. Please update or delete the existing mapping with UUID {first['UUID']}",
    )
    assert error(lam.update_event_source_mapping, UUID=first["UUID"], BatchSize=10001) == (
        400,
        "ValidationException",
        "1 validation error detected: Value '10001' at 'batchSize' failed to satisfy constraint: "
        "Member must have value less than or equal to 10000",
    )
    lam.delete_event_source_mapping(UUID=first["UUID"])


def test_list_filters_and_pages(tserver: Server, tddb: Any, tname: str) -> None:
    server, _out = tserver
    lam = lambda_client(server)
    stream_table(tddb, tname)
    arn = stream_arn(tddb, tname)
    made = sorted(
        lam.create_event_source_mapping(
            EventSourceArn=arn,
            FunctionName=f"trigger_apps.recorder:{function}",
            StartingPosition="TRIM_HORIZON",
            Enabled=False,
        )["UUID"]
        for function in ("record", "fail_poison", "partial")
    )
    pages = []
    kwargs: dict[str, Any] = {"EventSourceArn": arn, "MaxItems": 2}
    while True:
        page = lam.list_event_source_mappings(**kwargs)
        pages.append([m["UUID"] for m in page["EventSourceMappings"]])
        if "NextMarker" not in page:
            break
        kwargs["Marker"] = page["NextMarker"]
    assert pages == [made[:2], made[2:]]
    only = lam.list_event_source_mappings(
        EventSourceArn=arn, FunctionName="trigger_apps.recorder:partial"
    )["EventSourceMappings"]
    assert [m["FunctionArn"] for m in only] == [
        "arn:aws:lambda:us-east-1:000000000000:function:trigger_apps-recorder-partial"
    ]
    # botocore checks the minimum itself; the maximum is the server's.
    assert error(lam.list_event_source_mappings, MaxItems=10001) == (
        400,
        "ValidationException",
        "1 validation error detected: Value '10001' at 'maxItems' failed to satisfy constraint: "
        "Member must have value less than or equal to 10000",
    )
    for uuid in made:
        lam.delete_event_source_mapping(UUID=uuid)


def test_the_aws_cli_lists_mappings(tserver: Server, tddb: Any, tname: str) -> None:
    server, _out = tserver
    lam = lambda_client(server)
    stream_table(tddb, tname)
    arn = stream_arn(tddb, tname)
    uuid = lam.create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName="trigger_apps.recorder:record",
        StartingPosition="TRIM_HORIZON",
        Enabled=False,
    )["UUID"]
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "awscli",
            "lambda",
            "list-event-source-mappings",
            "--event-source-arn",
            arn,
            "--endpoint-url",
            server.url,
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (mapping,) = json.loads(result.stdout)["EventSourceMappings"]
    assert (mapping["UUID"], mapping["State"], mapping["EventSourceArn"]) == (uuid, "Disabled", arn)
    lam.delete_event_source_mapping(UUID=uuid)
