"""`rivulet triggers failed` and `redrive` end to end, for each kind of on-failure destination:
the dead-letter table (read with boto3), a JSON-lines file, and a webhook, which keeps nothing to
list (triggers.md 8, Q-T11)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import RunningServer

from triggers.cli_helpers import Result, cli
from triggers.trigger_helpers import events, put_many, settle, stream_table, wait_for

Server = tuple[RunningServer, Path]
FLAKY = "trigger_apps.flaky:handler"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:trigger_apps-flaky-handler"


def marker(out: Path, table: str) -> Path:
    """While this file exists the flaky handler fails for `table`."""
    return out / f"{table}.broken"


def create(server: RunningServer, name: str, destination: str) -> None:
    cli(
        server,
        "create",
        name,
        "--table",
        name,
        "--function",
        FLAKY,
        "--starting-position",
        "TRIM_HORIZON",
        "--maximum-retry-attempts",
        "0",
        "--on-failure",
        destination,
    ).json()


def break_and_fail_two(server: Server, ddb: Any, name: str, destination: str) -> list[Any]:
    """A broken function's trigger whose first batch (two records) goes to `destination`;
    returns the records as the function saw them."""
    stream_table(ddb, name, sort_key=True)
    marker(server[1], name).touch()
    create(server[0], name, destination)
    put_many(ddb, name, "k", 2)
    (event,) = wait_for(lambda: events(server[1], name), timeout=60)
    records: list[Any] = event["Records"]
    assert [r["dynamodb"]["Keys"]["sk"]["S"] for r in records] == ["0000", "0001"]
    return records


def expected_record(records: list[Any], failure: dict[str, Any]) -> dict[str, Any]:
    """AWS's on-failure invocation record for the two records after one invocation; the
    request id and the timestamp come from `failure`."""
    first, last = records[0]["dynamodb"], records[-1]["dynamodb"]
    info = failure["DDBStreamBatchInfo"]
    return {
        "requestContext": {
            "requestId": failure["requestContext"]["requestId"],
            "functionArn": FUNCTION_ARN,
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": 1,
        },
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "version": "1.0",
        "timestamp": failure["timestamp"],
        "DDBStreamBatchInfo": {
            "shardId": info["shardId"],
            "startSequenceNumber": first["SequenceNumber"],
            "endSequenceNumber": last["SequenceNumber"],
            "approximateArrivalOfFirstRecord": info["approximateArrivalOfFirstRecord"],
            "approximateArrivalOfLastRecord": info["approximateArrivalOfLastRecord"],
            "batchSize": 2,
            "streamArn": records[0]["eventSourceARN"],
        },
    }


def failed_line(batch_id: str, record: dict[str, Any]) -> str:
    info = record["DDBStreamBatchInfo"]
    return (
        f"{batch_id}  {record['timestamp']}  RetryAttemptsExhausted  invocations=1  "
        f"shard={info['shardId']}  records=2  "
        f"{info['startSequenceNumber']}..{info['endSequenceNumber']}\n"
    )


def check_redrive(
    tserver: Server, name: str, batch_id: str, records: list[Any], record: dict[str, Any]
) -> None:
    """`failed` lists the batch; a redrive while the function is broken keeps it (exit status
    1); once fixed, a redrive invokes it with the same records and removes it."""
    server, out = tserver
    listed = cli(server, "failed", name)
    assert (listed.code, listed.out, listed.err) == (0, failed_line(batch_id, record), "")
    full = cli(server, "failed", name, "--json").json()
    assert full == [{"Id": batch_id, **record, "payload": {"Records": records}}]

    still = cli(server, "redrive", name)
    assert (still.code, still.err) == (1, "")
    assert json.loads(still.out) == {
        "Redriven": 0,
        "StillFailing": 1,
        "Errors": [f"{batch_id}: RuntimeError: {name} is broken"],
    }
    assert cli(server, "failed", name, "--json").json() == full

    marker(out, name).unlink()
    fixed = cli(server, "redrive", name)
    assert (fixed.code, fixed.err) == (0, "")
    assert json.loads(fixed.out) == {"Redriven": 1, "StillFailing": 0, "Errors": []}
    # The stream invocation, the failed redrive, the good one: each with exactly these records.
    assert settle(lambda: events(out, name)) == [{"Records": records}] * 3
    empty = cli(server, "failed", name)
    assert (empty.code, empty.out, empty.err) == (0, "", f"no failed batches for {name}\n")
    assert cli(server, "failed", name, "--json").json() == []


def test_dead_letter_table(tserver: Server, tddb: Any, tname: str) -> None:
    dlq = f"{tname}-dlq"
    records = break_and_fail_two(
        tserver, tddb, tname, f"arn:aws:dynamodb:us-east-1:000000000000:table/{dlq}"
    )

    def scan() -> list[dict[str, Any]]:
        if dlq not in tddb.list_tables()["TableNames"]:
            return []
        items: list[dict[str, Any]] = tddb.scan(TableName=dlq, ConsistentRead=True)["Items"]
        return items

    (item,) = wait_for(scan, timeout=60)
    record = json.loads(item["invocationRecord"]["S"])
    batch_id = f"{record['timestamp']}#{record['requestContext']['requestId']}"
    assert record == expected_record(records, record)
    assert list(record) == [
        "requestContext",
        "responseContext",
        "version",
        "timestamp",
        "DDBStreamBatchInfo",
    ]
    info = record["DDBStreamBatchInfo"]
    assert item == {
        "trigger": {"S": tname},
        "id": {"S": batch_id},
        "condition": {"S": "RetryAttemptsExhausted"},
        "shardId": {"S": info["shardId"]},
        "startSequenceNumber": {"S": info["startSequenceNumber"]},
        "endSequenceNumber": {"S": info["endSequenceNumber"]},
        "batchSize": {"N": "2"},
        "invocationRecord": item["invocationRecord"],
        "records": item["records"],
    }
    assert json.loads(item["records"]["S"]) == records
    key_schema = tddb.describe_table(TableName=dlq)["Table"]["KeySchema"]
    assert key_schema == [
        {"AttributeName": "trigger", "KeyType": "HASH"},
        {"AttributeName": "id", "KeyType": "RANGE"},
    ]

    check_redrive(tserver, tname, batch_id, records, record)
    assert scan() == []


def test_file_destination(tserver: Server, tddb: Any, tname: str) -> None:
    server, _out = tserver
    # A relative path is under the data directory.
    path = server.data_dir / "failed" / f"{tname}.jsonl"
    records = break_and_fail_two(tserver, tddb, tname, f"file:failed/{tname}.jsonl")
    wait_for(lambda: path.exists() and path.read_text(), timeout=60)
    (line,) = path.read_text().splitlines()
    entry = json.loads(line)
    failure = entry["failure"]
    record = {k: v for k, v in failure.items() if k != "payload"}
    batch_id = f"{record['timestamp']}#{record['requestContext']['requestId']}"
    assert entry == {
        "trigger": tname,
        "id": batch_id,
        "failure": expected_record(records, record) | {"payload": {"Records": records}},
    }

    check_redrive(tserver, tname, batch_id, records, record)
    assert path.read_text() == ""


def test_webhook_destination_cannot_be_listed(tserver: Server, tddb: Any, tname: str) -> None:
    server, _out = tserver
    stream_table(tddb, tname)
    create(server, tname, "http://127.0.0.1:9/failed")
    message = (
        "Error: InvalidParameterValueException: webhook http://127.0.0.1:9/failed "
        "cannot be listed\n"
    )
    for command in ("failed", "redrive"):
        result = cli(server, command, tname)
        assert (result.code, result.out, result.err) == (1, "", message), command


def test_without_a_destination(tserver: Server, tddb: Any, tname: str) -> None:
    server, _out = tserver
    stream_table(tddb, tname)
    cli(
        server,
        "create",
        tname,
        "--table",
        tname,
        "--function",
        FLAKY,
        "--starting-position",
        "LATEST",
    ).json()
    message = (
        f"Error: InvalidParameterValueException: Trigger {tname} has no on-failure destination\n"
    )
    expected = Result(1, "", message)
    assert cli(server, "failed", tname) == expected
    assert cli(server, "redrive", tname) == expected
    unknown = cli(server, "failed", f"{tname}-nope")
    assert unknown == Result(
        1, "", "Error: ResourceNotFoundException: The resource you requested does not exist.\n"
    )
