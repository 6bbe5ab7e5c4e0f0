"""The `rivulet triggers ...` commands as a user runs them (child processes against a live
server): create / get / list / update / disable / enable / delete / status with AWS's
EventSourceMappingConfiguration echo and error texts, and `GET /metrics` after a known workload
(triggers.md 2, 3, 14)."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import RunningServer

from triggers.cli_helpers import cli, table_rows
from triggers.trigger_helpers import events, put_many, settle, status, stream_table, wait_for

Server = tuple[RunningServer, Path]
RECORD = "trigger_apps.recorder:record"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
NOT_FOUND = "Error: ResourceNotFoundException: The resource you requested does not exist.\n"


def stream_arn(ddb: Any, table: str) -> str:
    return str(ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"])


def sks(out: Path, table: str) -> list[list[str]]:
    return [[r["dynamodb"]["Keys"]["sk"]["S"] for r in e["Records"]] for e in events(out, table)]


def echo(
    name: str, table: str, uuid: str, arn: str, last_modified: float, **changes: Any
) -> dict[str, Any]:
    """AWS's EventSourceMappingConfiguration for a table trigger with default settings and the
    recorder function, in AWS's member order, plus Rivulet's member."""
    out: dict[str, Any] = {
        "UUID": uuid,
        "EventSourceMappingArn": (
            f"arn:aws:lambda:us-east-1:000000000000:event-source-mapping:{uuid}"
        ),
        "EventSourceArn": arn,
        "FunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:trigger_apps-recorder-record",
        "BatchSize": 100,
        "MaximumBatchingWindowInSeconds": 0,
        "ParallelizationFactor": 1,
        "StartingPosition": "TRIM_HORIZON",
        "DestinationConfig": {"OnFailure": {}},
        "MaximumRecordAgeInSeconds": -1,
        "MaximumRetryAttempts": -1,
        "BisectBatchOnFunctionError": False,
        "TumblingWindowInSeconds": 0,
        "FunctionResponseTypes": [],
        "LastModified": last_modified,
        "LastProcessingResult": "No records processed",
        "State": "Enabled",
        "StateTransitionReason": "User action",
        "Rivulet": {
            "Name": name,
            "Table": table,
            "Function": RECORD,
            "FunctionTimeout": 3.0,
            "FunctionIsolation": "in-process",
        },
    }
    return out | changes


def create(server: RunningServer, name: str, table: str, *options: str) -> dict[str, Any]:
    result: dict[str, Any] = cli(
        server,
        "create",
        name,
        "--table",
        table,
        "--function",
        RECORD,
        "--starting-position",
        "TRIM_HORIZON",
        *options,
    ).json()
    return result


# --- create, get, list ----------------------------------------------------------------------------


def test_create_with_options_then_get_and_list(tserver: Server, tddb: Any, tname: str) -> None:
    server, out = tserver
    stream_table(tddb, tname, sort_key=True)
    before = time.time()
    created = cli(
        server,
        "create",
        tname,
        "--table",
        tname,
        "--function",
        RECORD,
        "--starting-position",
        "TRIM_HORIZON",
        "--batch-size",
        "7",
        "--maximum-retry-attempts",
        "2",
        "--maximum-record-age-in-seconds",
        "3600",
        "--bisect-batch-on-function-error",
        "--filter",
        '{"eventName": ["INSERT"]}',
        "--filter",
        '{"eventName": ["REMOVE"]}',
        "--on-failure",
        "file:failed/orders.jsonl",
        "--report-batch-item-failures",
        "--function-isolation",
        "subprocess",
        "--function-timeout",
        "30",
        # The function's process gets only these (and the Lambda ones), not the server's.
        "--env",
        f"RIVULET_TEST_OUT={out}",
        "--env",
        "GREETING=a=b",
    ).json()
    uuid = created["UUID"]
    assert UUID.fullmatch(uuid)
    assert before <= created["LastModified"] <= time.time()
    expected = echo(
        tname,
        tname,
        uuid,
        stream_arn(tddb, tname),
        created["LastModified"],
        BatchSize=7,
        FilterCriteria={
            "Filters": [
                {"Pattern": '{"eventName": ["INSERT"]}'},
                {"Pattern": '{"eventName": ["REMOVE"]}'},
            ]
        },
        DestinationConfig={"OnFailure": {"Destination": "file:failed/orders.jsonl"}},
        MaximumRecordAgeInSeconds=3600,
        MaximumRetryAttempts=2,
        BisectBatchOnFunctionError=True,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    expected["Rivulet"] |= {"FunctionTimeout": 30.0, "FunctionIsolation": "subprocess"}
    assert created == expected
    # AWS's member order: FilterCriteria sits after StartingPosition; no Enabled member.
    assert list(created) == [
        "UUID",
        "EventSourceMappingArn",
        "EventSourceArn",
        "FunctionArn",
        "BatchSize",
        "MaximumBatchingWindowInSeconds",
        "ParallelizationFactor",
        "StartingPosition",
        "FilterCriteria",
        "DestinationConfig",
        "MaximumRecordAgeInSeconds",
        "MaximumRetryAttempts",
        "BisectBatchOnFunctionError",
        "TumblingWindowInSeconds",
        "FunctionResponseTypes",
        "LastModified",
        "LastProcessingResult",
        "State",
        "StateTransitionReason",
        "Rivulet",
    ]

    got = cli(server, "get", tname)
    assert (got.code, got.err) == (0, "")
    assert got.json() == created
    # By UUID as well as by name.
    assert cli(server, "get", uuid).json() == created

    listed = cli(server, "list", "--json").json()
    assert [t for t in listed if t["UUID"] == uuid] == [created]
    table = cli(server, "list")
    assert table.code == 0
    assert table_rows(table.out)[0] == ["Name", "State", "Source", "Function", "Last result"]
    assert [tname, "Enabled", tname, RECORD, "No records processed"] in table_rows(table.out)

    # The filters pass INSERT and REMOVE, not MODIFY; the function runs in its own process
    # with the given environment (it records into RIVULET_TEST_OUT).
    tddb.put_item(TableName=tname, Item={"pk": {"S": "k"}, "sk": {"S": "a"}})
    tddb.put_item(TableName=tname, Item={"pk": {"S": "k"}, "sk": {"S": "a"}, "v": {"N": "1"}})
    tddb.delete_item(TableName=tname, Key={"pk": {"S": "k"}, "sk": {"S": "a"}})
    wait_for(lambda: status(server, tname)["Figures"]["polled"] == 3, timeout=60)
    names = settle(lambda: [r["eventName"] for e in events(out, tname) for r in e["Records"]])
    assert names == ["INSERT", "REMOVE"]
    figures = status(server, tname)["Figures"]
    assert (figures["delivered"], figures["filtered"], figures["errors"]) == (2, 1, 0)


def test_env_needs_key_equals_value(tserver: Server, tname: str) -> None:
    result = cli(tserver[0], "create", tname, "--env", "NOEQUALS")
    assert result.code == 2
    assert result.out == ""
    assert result.err.splitlines()[-1] == "Error: Invalid value for --env: expected KEY=VALUE"


# --- update, disable, enable, delete --------------------------------------------------------------


def test_update_keeps_the_checkpoint(tserver: Server, tddb: Any, tname: str) -> None:
    server, out = tserver
    stream_table(tddb, tname, sort_key=True)
    created = create(server, tname, tname)
    put_many(tddb, tname, "k", 2)
    wait_for(lambda: len(sks(out, tname)) == 1)

    updated = cli(
        server, "update", tname, "--batch-size", "1", "--maximum-retry-attempts", "5"
    ).json()
    assert updated["LastModified"] >= created["LastModified"]
    assert updated == created | {
        "BatchSize": 1,
        "MaximumRetryAttempts": 5,
        "LastModified": updated["LastModified"],
        "LastProcessingResult": "OK",
    }
    put_many(tddb, tname, "k", 3, start=2)
    wait_for(lambda: len(sks(out, tname)) >= 4)
    # Nothing before the update came again; the new batch size applies.
    assert settle(lambda: sks(out, tname)) == [["0000", "0001"], ["0002"], ["0003"], ["0004"]]


def test_update_cannot_change_the_source_or_start(tserver: Server, tddb: Any, tname: str) -> None:
    server, _out = tserver
    stream_table(tddb, tname)
    create(server, tname, tname)
    moved = cli(server, "update", tname, "--starting-position", "LATEST")
    assert (moved.code, moved.out) == (1, "")
    assert moved.err == (
        "Error: InvalidParameterValueException: startingPosition of an existing event source "
        "mapping cannot be updated\n"
    )
    missing = cli(server, "update", f"{tname}-nope", "--batch-size", "2")
    assert (missing.code, missing.out, missing.err) == (1, "", NOT_FOUND)


def test_disable_and_enable(tserver: Server, tddb: Any, tname: str) -> None:
    server, out = tserver
    stream_table(tddb, tname, sort_key=True)
    created = create(server, tname, tname)
    disabled = cli(server, "disable", tname).json()
    assert disabled == created | {"State": "Disabled", "LastModified": disabled["LastModified"]}
    assert [tname, "Disabled", tname, RECORD, "No records processed"] in table_rows(
        cli(server, "list").out
    )
    put_many(tddb, tname, "k", 2)
    assert settle(lambda: events(out, tname), quiet=1.0) == []
    enabled = cli(server, "enable", tname).json()
    # The shard may already have run by the time the answer is built.
    assert enabled["LastProcessingResult"] in ("No records processed", "OK")
    assert enabled == created | {
        "LastModified": enabled["LastModified"],
        "LastProcessingResult": enabled["LastProcessingResult"],
    }
    wait_for(lambda: sks(out, tname))
    assert settle(lambda: sks(out, tname)) == [["0000", "0001"]]


def test_delete_then_get_is_not_found(tserver: Server, tddb: Any, tname: str) -> None:
    server, _out = tserver
    stream_table(tddb, tname)
    created = create(server, tname, tname)
    deleted = cli(server, "delete", tname).json()
    assert deleted == created | {"State": "Deleting"}
    for command in ("get", "delete", "enable", "disable"):
        again = cli(server, command, tname)
        assert (again.code, again.out, again.err) == (1, "", NOT_FOUND), command
    assert [t for t in cli(server, "list", "--json").json() if t["UUID"] == created["UUID"]] == []


# --- validation, end to end ------------------------------------------------------------------------


def test_create_errors(tserver: Server, tddb: Any, tname: str) -> None:
    server, _out = tserver
    stream_table(tddb, tname)
    arn = stream_arn(tddb, tname)
    first = create(server, tname, tname)
    tddb.create_table(
        TableName=f"{tname}-plain",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    base = ("--function", RECORD, "--starting-position", "TRIM_HORIZON")
    cases = [
        (
            ["other", "--table", tname, *base, "--batch-size", "10001"],
            "ValidationException: 1 validation error detected: Value '10001' at 'batchSize' "
            "failed to satisfy constraint: Member must have value less than or equal to 10000",
        ),
        (
            ["other", "--table", tname, "--function", RECORD],
            "InvalidParameterValueException: 1 validation error detected: Value null at "
            "'startingPosition' failed to satisfy constraint: Member must not be null.",
        ),
        (
            ["other", "--table", tname, *base, "--filter", '{"eventName": "INSERT"}'],
            "InvalidParameterValueException: Invalid filter pattern definition.",
        ),
        (
            [tname, "--table", tname, "--function", "trigger_apps.recorder:partial", *base[2:]],
            f"ResourceConflictException: A trigger named {tname} already exists "
            f"(UUID {first['UUID']})",
        ),
        # AWS's 409 for a second mapping of the same stream and function, whether the stream is
        # named by its table or by its ARN.
        (
            ["other", "--table", tname, *base],
            f'ResourceConflictException: The event source arn (" {arn} ") and function '
            f'(" {RECORD} ") provided mapping already exists. Please update or delete the '
            f"existing mapping with UUID {first['UUID']}",
        ),
        (
            ["other", "--event-source-arn", arn, *base],
            f'ResourceConflictException: The event source arn (" {arn} ") and function '
            f'(" {RECORD} ") provided mapping already exists. Please update or delete the '
            f"existing mapping with UUID {first['UUID']}",
        ),
        (
            ["other", "--table", f"{tname}-plain", *base],
            f"InvalidParameterValueException: Stream not found: table {tname}-plain has no "
            "stream enabled",
        ),
    ]
    for args, message in cases:
        result = cli(server, "create", *args)
        assert (result.code, result.out, result.err) == (1, "", f"Error: {message}\n"), args
    assert [t["Rivulet"]["Name"] for t in cli(server, "list", "--json").json()].count("other") == 0


# --- status and metrics after a known workload -----------------------------------------------------


@dataclass(frozen=True)
class Workload:
    name: str
    table: str
    uuid: str


FAIL = "trigger_apps.recorder:fail_poison"


@pytest.fixture(scope="module")
def workload(tserver: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workload]:
    """One failing batch of three (retried once, then sent to the destination), one delivered
    record and one filtered out."""
    server, out = tserver
    ddb = server.client()
    name = table = "observed"
    stream_table(ddb, table, sort_key=True)
    dlq = tmp_path_factory.mktemp("observed") / "dlq.jsonl"
    created = cli(
        server,
        "create",
        name,
        "--table",
        table,
        "--function",
        FAIL,
        "--starting-position",
        "TRIM_HORIZON",
        "--maximum-retry-attempts",
        "1",
        "--filter",
        '{"eventName": ["INSERT"]}',
        "--on-failure",
        f"file:{dlq}",
    ).json()
    put_many(ddb, table, "k", 3, extra={1: {"poison": {"BOOL": True}}})
    wait_for(lambda: dlq.exists() and dlq.read_text(), timeout=60)
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "sk": {"S": "after"}})
    wait_for(lambda: status(server, name)["Figures"]["delivered"] == 1, timeout=60)
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "sk": {"S": "after"}, "v": {"N": "1"}})
    wait_for(lambda: status(server, name)["Figures"]["polled"] == 5, timeout=60)
    settle(lambda: status(server, name)["Figures"])
    assert sks(out, table) == [["0000", "0001", "0002"]] * 2 + [["after"]]
    yield Workload(name, table, created["UUID"])


FIGURES = {
    "delivered": 1,
    "invocations": 3,
    "errors": 2,
    "retries": 1,
    "filtered": 1,
    "dropped": 3,
    "sent_to_destination": 3,
    "not_invoked": 0,
    "polled": 5,
    # The three records of each of the two failed invocations (FailedInvokeEventCount).
    "failed_invoke": 6,
}


def test_status_json_and_table(tserver: Server, workload: Workload) -> None:
    server, _out = tserver
    ddb = server.client()
    arn = stream_arn(ddb, workload.table)
    shards = server.streams().describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    (row,) = [r for r in cli(server, "status", "--json").json() if r["Name"] == workload.name]
    age = row["IteratorAgeMilliseconds"]
    assert type(age) is int and age >= 0
    assert row == {
        "Name": workload.name,
        "UUID": workload.uuid,
        "State": "Enabled",
        "Table": workload.table,
        "EventSourceArn": arn,
        "Function": FAIL,
        "LastProcessingResult": "OK",
        "IteratorAgeMilliseconds": age,
        "Figures": FIGURES,
        # The server's own runtime holds a lease on every open shard of the stream.
        "Shards": {
            "Processing": [f"{socket.gethostname()}:{server.process.pid}"],
            "Leased": len(shards),
            "Finished": 0,
        },
    }

    table = cli(server, "status")
    assert table.code == 0
    rows = table_rows(table.out)
    assert rows[0] == [
        "Name",
        "State",
        "Last result",
        "Iterator age",
        "Delivered",
        "Invocations",
        "Errors",
        "Retries",
        "Filtered",
        "To destination",
    ]
    (line,) = [r for r in rows if r[0] == workload.name]
    assert line[:3] == [workload.name, "Enabled", "OK"]
    assert re.fullmatch(r"\d+ ms", line[3])
    assert line[4:] == ["1", "3", "2", "1", "1", "3"]


def test_metrics_after_the_workload(tserver: Server, workload: Workload) -> None:
    server, _out = tserver
    labels = f'function="{FAIL}",trigger="{workload.name}"'

    def scrape() -> tuple[httpx.Response, list[str]]:
        response = httpx.get(f"{server.url}/metrics", timeout=30)
        mine = [line for line in response.text.splitlines() if f'trigger="{workload.name}"' in line]
        return response, mine

    response, lines = scrape()
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    age = [line for line in lines if line.startswith("rivulet_trigger_iterator_age_milliseconds")]
    assert len(age) == 1 and re.fullmatch(
        rf"rivulet_trigger_iterator_age_milliseconds\{{{labels}\}} \d+\.0", age[0]
    )
    assert [line for line in lines if line not in age] == [
        f'rivulet_trigger_events_total{{function="{FAIL}",outcome="polled",'
        f'trigger="{workload.name}"}} 5.0',
        f'rivulet_trigger_events_total{{function="{FAIL}",outcome="filtered_out",'
        f'trigger="{workload.name}"}} 1.0',
        f'rivulet_trigger_events_total{{function="{FAIL}",outcome="invoked",'
        f'trigger="{workload.name}"}} 1.0',
        f'rivulet_trigger_events_total{{function="{FAIL}",outcome="failed_invoke",'
        f'trigger="{workload.name}"}} 6.0',
        f'rivulet_trigger_events_total{{function="{FAIL}",outcome="dropped",'
        f'trigger="{workload.name}"}} 3.0',
        f'rivulet_trigger_events_total{{function="{FAIL}",outcome="on_failure_delivered",'
        f'trigger="{workload.name}"}} 3.0',
        f"rivulet_trigger_invocations_total{{{labels}}} 3.0",
        f"rivulet_trigger_invocation_errors_total{{{labels}}} 2.0",
        f"rivulet_trigger_retries_total{{{labels}}} 1.0",
        f"rivulet_trigger_not_invoked_total{{{labels}}} 0.0",
        f"rivulet_trigger_enabled{{{labels}}} 1.0",
    ]
    text = response.text
    for family, kind in (
        ("rivulet_trigger_events_total", "counter"),
        ("rivulet_trigger_invocations_total", "counter"),
        ("rivulet_trigger_invocation_errors_total", "counter"),
        ("rivulet_trigger_retries_total", "counter"),
        ("rivulet_trigger_not_invoked_total", "counter"),
        ("rivulet_trigger_iterator_age_milliseconds", "gauge"),
        ("rivulet_trigger_enabled", "gauge"),
    ):
        assert f"\n# TYPE {family} {kind}\n" in text

    cli(server, "disable", workload.name).json()
    assert f"rivulet_trigger_enabled{{{labels}}} 0.0" in scrape()[1]
