"""aws-lambda-powertools handlers run unchanged (triggers.md 9, 13): the DynamoDBStreamEvent data
class reads Rivulet's records, and BatchProcessor + process_partial_response's partial failures are
honoured, in the server and in a worker process (trigger_apps/powertools_app.py)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from conftest import RunningServer

from triggers.trigger_helpers import (
    create_trigger,
    recorded,
    settle,
    status,
    stream_table,
    wait_for,
)

Server = tuple[RunningServer, Path]
APP = "trigger_apps.powertools_app"
BATCH_ARN = (
    "arn:aws:lambda:us-east-1:000000000000:function:trigger_apps-powertools_app-batch_handler"
)


def put_items(ddb: Any, table: str, count: int, poison: set[int]) -> None:
    """Items `k`/0000.. in one BatchWriteItem: one key (one shard), one commit, so one batch."""
    requests = [
        {
            "PutRequest": {
                "Item": {"pk": {"S": "k"}, "sk": {"S": f"{i:04d}"}}
                | ({"poison": {"BOOL": True}} if i in poison else {})
            }
        }
        for i in range(count)
    ]
    ddb.batch_write_item(RequestItems={table: requests})


def invocations(out: Path, table: str) -> list[list[str]]:
    """The sort keys record_handler was called with, one list per invocation."""
    calls: dict[str, list[str]] = {}
    for line in recorded(out, table):
        if "sk" in line:
            calls.setdefault(line["request_id"], []).append(line["sk"])
    return list(calls.values())


def responses(out: Path, table: str) -> list[Any]:
    """What batch_handler returned (process_partial_response's answer), per invocation."""
    return [line["response"] for line in recorded(out, table) if "response" in line]


def sequence_numbers(out: Path, table: str) -> dict[str, str]:
    return {line["sk"]: line["sequence_number"] for line in recorded(out, table) if "sk" in line}


LOGGER_CONTEXT = ("service", "function_name", "function_memory_size", "function_arn")


def lambda_logs(server: RunningServer, request_ids: list[str]) -> list[dict[str, Any]]:
    """The Powertools Logger's JSON lines of these invocations, in the server's log."""
    entries = []
    for text in server.log().splitlines():
        if text.startswith("{"):
            entry = json.loads(text)
            if entry.get("function_request_id") in request_ids:
                entries.append(entry)
    return entries


def failures(dlq: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in dlq.read_text().splitlines()]


def batch_trigger(server: RunningServer, table: str, dlq: Path, **settings: Any) -> None:
    create_trigger(
        server,
        name=table,
        table=table,
        function=f"{APP}:batch_handler",
        function_response_types=["ReportBatchItemFailures"],
        maximum_retry_attempts=1,
        destination_config={"OnFailure": {"Destination": f"file:{dlq}"}},
        **settings,
    )


def test_data_class_reads_the_records(tserver: Server, tddb: Any, tname: str) -> None:
    server, out = tserver
    stream_table(tddb, tname)
    item = {
        "pk": {"S": "a"},
        "n": {"N": "12.50"},
        "b": {"B": b"\x01\x02"},
        "ok": {"BOOL": True},
        "none": {"NULL": True},
        "l": {"L": [{"S": "x"}, {"N": "1"}]},
        "m": {"M": {"k": {"S": "v"}}},
        "ss": {"SS": ["only"]},
    }
    tddb.put_item(TableName=tname, Item=item)
    tddb.update_item(
        TableName=tname,
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET n = :n REMOVE l, m, ss",
        ExpressionAttributeValues={":n": {"N": "13"}},
    )
    tddb.delete_item(TableName=tname, Key={"pk": {"S": "a"}})
    # Created after the writes: the three records (one key, so one shard) come in one batch.
    create_trigger(
        server,
        name=tname,
        table=tname,
        function=f"{APP}:stream_handler",
        function_response_types=["ReportBatchItemFailures"],
    )
    wait_for(lambda: len(recorded(out, tname)) >= 3, timeout=30)
    seen = settle(lambda: recorded(out, tname))

    streams = server.streams()
    arn = tddb.describe_table(TableName=tname)["Table"]["LatestStreamArn"]
    wire = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        it = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        wire += streams.get_records(ShardIterator=it)["Records"]
    assert len({line["request_id"] for line in seen}) == 1  # one invocation
    new_image = {
        "pk": "a",
        "n": repr(Decimal("12.5")),  # DynamoDB stores numbers without trailing zeros
        "b": "AQI=",  # binary stays base64 text: Powertools decodes nothing
        "ok": True,
        "none": None,
        "l": ["x", repr(Decimal("1"))],
        "m": {"k": "v"},
        "ss": repr({"only"}),
    }
    after_update = {"pk": "a", "n": repr(Decimal("13")), "b": "AQI=", "ok": True, "none": None}
    expected = [("INSERT", new_image, {}), ("MODIFY", after_update, new_image)]
    expected.append(("REMOVE", {}, after_update))
    for line, rec, (name, new, old) in zip(seen, wire, expected, strict=True):
        assert line == {
            "request_id": line["request_id"],
            "event_id": rec["eventID"],
            "event_name": name,
            "event_version": "1.1",
            "event_source": "aws:dynamodb",
            "aws_region": "us-east-1",
            "event_source_arn": arn,
            "user_identity": {},
            "keys": {"pk": "a"},
            "new_image": new,
            "old_image": old,
            "sequence_number": rec["dynamodb"]["SequenceNumber"],
            "size_bytes": rec["dynamodb"]["SizeBytes"],
            "stream_view_type": "NEW_AND_OLD_IMAGES",
            "approximate_creation_date_time": int(
                rec["dynamodb"]["ApproximateCreationDateTime"].timestamp()
            ),
        }


def test_a_failed_record_is_retried_from_itself(
    tserver: Server, tddb: Any, tname: str, tmp_path: Path
) -> None:
    server, out = tserver
    stream_table(tddb, tname, sort_key=True)
    put_items(tddb, tname, 5, poison={2})
    dlq = tmp_path / "dlq.jsonl"
    batch_trigger(server, tname, dlq)
    wait_for(lambda: status(server, tname)["Figures"].get("delivered") == 4, timeout=30)
    assert settle(lambda: invocations(out, tname)) == [
        ["0000", "0001", "0002", "0003", "0004"],
        ["0002", "0003", "0004"],  # from the failed record on; 0000 and 0001 are done
        ["0003", "0004"],  # retries exhausted: 0002 went to the destination
    ]
    seq = sequence_numbers(out, tname)
    poison = {"batchItemFailures": [{"itemIdentifier": seq["0002"]}]}
    assert responses(out, tname) == [poison, poison, {"batchItemFailures": []}]

    (line,) = failures(dlq)
    failure = line["failure"]
    assert line["trigger"] == tname
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 2
    assert failure["requestContext"]["functionArn"] == BATCH_ARN
    # A partial batch response kept failing: functionError is null (observed on AWS).
    assert failure["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": None,
    }
    info = failure["DDBStreamBatchInfo"]
    assert (info["batchSize"], info["startSequenceNumber"], info["endSequenceNumber"]) == (
        1,
        seq["0002"],
        seq["0002"],
    )
    assert [r["dynamodb"]["Keys"] for r in failure["payload"]["Records"]] == [
        {"pk": {"S": "k"}, "sk": {"S": "0002"}}
    ]
    figures = status(server, tname)["Figures"]
    assert (figures["invocations"], figures["errors"], figures["sent_to_destination"]) == (3, 2, 1)


def test_every_record_failing_fails_the_whole_batch(
    tserver: Server, tddb: Any, tname: str, tmp_path: Path
) -> None:
    server, out = tserver
    stream_table(tddb, tname, sort_key=True)
    put_items(tddb, tname, 2, poison={0, 1})
    dlq = tmp_path / "dlq.jsonl"
    batch_trigger(server, tname, dlq)
    wait_for(lambda: status(server, tname)["Figures"].get("sent_to_destination") == 2, timeout=30)
    # process_partial_response raised BatchProcessingError: no response, the batch is retried.
    assert settle(lambda: invocations(out, tname)) == [["0000", "0001"], ["0000", "0001"]]
    assert responses(out, tname) == []
    (line,) = failures(dlq)
    failure = line["failure"]
    seq = sequence_numbers(out, tname)
    assert failure["requestContext"]["approximateInvokeCount"] == 2
    assert failure["responseContext"]["functionError"] == "Unhandled"
    info = failure["DDBStreamBatchInfo"]
    assert (info["batchSize"], info["startSequenceNumber"], info["endSequenceNumber"]) == (
        2,
        seq["0000"],
        seq["0001"],
    )
    figures = status(server, tname)["Figures"]
    assert (figures["invocations"], figures["errors"], figures.get("delivered", 0)) == (2, 2, 0)
    failed = [
        text
        for text in server.log().splitlines()
        if f"trigger {tname}: invocation failed" in text
        and '"errorType":"BatchProcessingError"' in text
        and '"errorMessage":"All records failed processing. 2 individual errors' in text
    ]
    assert len(failed) == 2


def test_batch_processor_in_a_worker_process(
    tserver: Server, tddb: Any, tname: str, tmp_path: Path
) -> None:
    server, out = tserver
    stream_table(tddb, tname, sort_key=True)
    put_items(tddb, tname, 3, poison={1})
    dlq = tmp_path / "dlq.jsonl"
    batch_trigger(
        server,
        tname,
        dlq,
        function_isolation="subprocess",
        # The worker gets only the Lambda variables and its own: the recorder needs its path.
        environment={"RIVULET_TEST_OUT": str(out)},
        function_timeout=30,  # the cold start imports Powertools
    )
    wait_for(lambda: status(server, tname)["Figures"].get("delivered") == 2, timeout=30)
    assert settle(lambda: invocations(out, tname)) == [
        ["0000", "0001", "0002"],
        ["0001", "0002"],
        ["0002"],
    ]
    seq = sequence_numbers(out, tname)
    poison = {"batchItemFailures": [{"itemIdentifier": seq["0001"]}]}
    assert responses(out, tname) == [poison, poison, {"batchItemFailures": []}]
    (line,) = failures(dlq)
    assert line["failure"]["responseContext"]["functionError"] is None
    assert line["failure"]["DDBStreamBatchInfo"]["startSequenceNumber"] == seq["0001"]

    # The Logger's inject_lambda_context read the worker's context; its stdout is the server log.
    request_ids = list(dict.fromkeys(x["request_id"] for x in recorded(out, tname)))
    wait_for(lambda: len(lambda_logs(server, request_ids)) >= 6, timeout=30)
    logged = lambda_logs(server, request_ids)
    for entry in logged:
        assert {k: entry[k] for k in LOGGER_CONTEXT} == {
            "service": "powertools-app",
            "function_name": "trigger_apps-powertools_app-batch_handler",
            "function_memory_size": "128",
            "function_arn": BATCH_ARN,
        }
    # One worker, reused: only its first invocation was a cold start.
    assert [(e["function_request_id"], e["cold_start"]) for e in logged] == [
        (request_id, request_id == request_ids[0])
        for request_id, count in zip(request_ids, (3, 2, 1), strict=True)
        for _ in range(count)
    ]
