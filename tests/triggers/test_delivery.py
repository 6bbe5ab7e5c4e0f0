"""Delivery through a running server: the Lambda event, batching, filters, retries, bisecting,
partial batch responses, on-failure destinations with the data, several mappings on a stream,
disable/enable from the checkpoint, LATEST (triggers.md 4-10, 12)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import RunningServer

from triggers.trigger_helpers import (
    POISON,
    api,
    create_trigger,
    delivered_keys,
    events,
    failures,
    file_destination,
    put_many,
    recorded,
    settle,
    status,
    stream_table,
    wait_for,
)

Server = tuple[RunningServer, Path]


def sks(out: Path, table: str) -> list[list[str]]:
    """The sort keys of each invocation's records."""
    return [[r["dynamodb"]["Keys"]["sk"]["S"] for r in e["Records"]] for e in events(out, table)]


def test_event_is_exactly_the_lambda_event(tserver: Server, tddb: Any, tname: str) -> None:
    server, out = tserver
    stream_table(tddb, tname)
    create_trigger(server, name=tname, table=tname, function="trigger_apps.recorder:record")
    tddb.put_item(
        TableName=tname, Item={"pk": {"S": "a"}, "v": {"N": "1"}, "b": {"B": b"\x01\x02"}}
    )
    tddb.update_item(
        TableName=tname,
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"N": "2"}},
    )
    tddb.delete_item(TableName=tname, Key={"pk": {"S": "a"}})
    got = wait_for(
        lambda: (
            [r for e in events(out, tname) for r in e["Records"]]
            if len(delivered_keys(out, tname)) >= 3
            else None
        )
    )

    # The same records as GetRecords shows them, in Lambda's form.
    streams = server.streams()
    arn = tddb.describe_table(TableName=tname)["Table"]["LatestStreamArn"]
    wire = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        it = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        wire += streams.get_records(ShardIterator=it)["Records"]
    assert len(wire) == 3
    for lam, rec in zip(got, wire, strict=True):
        assert list(lam) == [
            "eventID",
            "eventName",
            "eventVersion",
            "eventSource",
            "awsRegion",
            "dynamodb",
            "eventSourceARN",
        ]
        assert lam["eventID"] == rec["eventID"]
        assert lam["eventName"] == rec["eventName"]
        assert lam["eventSourceARN"] == arn
        assert lam["awsRegion"] == "us-east-1"
        assert lam["eventVersion"] == "1.1"
        assert lam["eventSource"] == "aws:dynamodb"
        assert lam["dynamodb"]["SequenceNumber"] == rec["dynamodb"]["SequenceNumber"]
        assert lam["dynamodb"]["ApproximateCreationDateTime"] == int(
            rec["dynamodb"]["ApproximateCreationDateTime"].timestamp()
        )
    assert [r["eventName"] for r in got] == ["INSERT", "MODIFY", "REMOVE"]
    insert = got[0]["dynamodb"]
    # Binary values stay base64 strings; numbers are strings; no boto3 decoding.
    assert insert["NewImage"] == {"pk": {"S": "a"}, "v": {"N": "1"}, "b": {"B": "AQI="}}
    assert insert["Keys"] == {"pk": {"S": "a"}}
    assert insert["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert got[1]["dynamodb"]["OldImage"]["v"] == {"N": "1"}
    assert got[1]["dynamodb"]["NewImage"]["v"] == {"N": "2"}
    assert "NewImage" not in got[2]["dynamodb"]
    assert "userIdentity" not in got[2]


def test_batch_size_cuts_batches_in_shard_order(tserver: Server, tddb: Any, tname: str) -> None:
    server, out = tserver
    stream_table(tddb, tname, sort_key=True)
    put_many(tddb, tname, "one-key", 10)
    create_trigger(
        server, name=tname, table=tname, function="trigger_apps.recorder:record", batch_size=3
    )
    wait_for(lambda: len(delivered_keys(out, tname)) >= 10)
    assert settle(lambda: sks(out, tname)) == [
        ["0000", "0001", "0002"],
        ["0003", "0004", "0005"],
        ["0006", "0007", "0008"],
        ["0009"],
    ]
    figures = status(server, tname)["Figures"]
    assert figures["delivered"] == 10
    assert figures["invocations"] == 4
    assert figures["errors"] == 0


def test_batching_window_gathers_records(tserver: Server, tddb: Any, tname: str) -> None:
    server, out = tserver
    stream_table(tddb, tname, sort_key=True)
    create_trigger(
        server,
        name=tname,
        table=tname,
        function="trigger_apps.recorder:record",
        batch_size=100,
        maximum_batching_window_in_seconds=2,
    )
    for i in range(5):  # five commits well inside one 2-second window
        tddb.put_item(TableName=tname, Item={"pk": {"S": "k"}, "sk": {"S": f"{i:04d}"}})
    wait_for(lambda: events(out, tname), timeout=10)
    assert settle(lambda: sks(out, tname)) == [["0000", "0001", "0002", "0003", "0004"]]


def test_filters_deliver_only_matches_and_move_past_the_rest(
    tserver: Server, tddb: Any, tname: str
) -> None:
    server, out = tserver
    stream_table(tddb, tname)
    create_trigger(
        server,
        name=tname,
        table=tname,
        function="trigger_apps.recorder:record",
        filter_criteria={
            "Filters": [
                {
                    "Pattern": json.dumps(
                        {
                            "eventName": ["INSERT"],
                            "dynamodb": {"NewImage": {"EmailAddress": {"S": [{"exists": True}]}}},
                        }
                    )
                }
            ]
        },
    )
    tddb.put_item(TableName=tname, Item={"pk": {"S": "with"}, "EmailAddress": {"S": "a@x.org"}})
    tddb.put_item(TableName=tname, Item={"pk": {"S": "without"}})
    tddb.put_item(TableName=tname, Item={"pk": {"S": "with"}, "EmailAddress": {"S": "b@x.org"}})
    tddb.put_item(TableName=tname, Item={"pk": {"S": "second"}, "EmailAddress": {"S": "c@x.org"}})
    wait_for(lambda: status(server, tname)["Figures"]["polled"] == 4)
    assert sorted(settle(lambda: delivered_keys(out, tname))) == ["second", "with"]
    figures = status(server, tname)["Figures"]
    assert figures["filtered"] == 2  # the item without an address and the MODIFY of "with"
    assert figures["delivered"] == 2


def test_retries_exhausted_send_the_batch_with_its_records_to_the_destination(
    tserver: Server, tddb: Any, tname: str, tmp_path: Path
) -> None:
    server, out = tserver
    stream_table(tddb, tname, sort_key=True)
    dlq = tmp_path / "dlq.jsonl"
    create_trigger(
        server,
        name=tname,
        table=tname,
        function="trigger_apps.recorder:fail_poison",
        maximum_retry_attempts=2,
        destination_config=file_destination(dlq),
    )
    put_many(tddb, tname, "k", 2, extra={1: POISON})
    wait_for(lambda: failures(dlq))
    tddb.put_item(TableName=tname, Item={"pk": {"S": "k"}, "sk": {"S": "after"}})
    wait_for(lambda: ["after"] in sks(out, tname))
    # 1 + MaximumRetryAttempts invocations of the failing batch, then the shard moves on.
    assert settle(lambda: sks(out, tname)) == [["0000", "0001"]] * 3 + [["after"]]
    (line,) = failures(dlq)
    failure = line["failure"]
    assert line["trigger"] == tname
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 3
    assert failure["requestContext"]["functionArn"] == (
        "arn:aws:lambda:us-east-1:000000000000:function:trigger_apps-recorder-fail_poison"
    )
    assert failure["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert failure["version"] == "1.0"
    info = failure["DDBStreamBatchInfo"]
    records = failure["payload"]["Records"]
    assert [r["dynamodb"]["Keys"]["sk"]["S"] for r in records] == ["0000", "0001"]
    assert records[1]["dynamodb"]["NewImage"]["poison"] == {"BOOL": True}
    assert info["batchSize"] == 2
    assert info["startSequenceNumber"] == records[0]["dynamodb"]["SequenceNumber"]
    assert info["endSequenceNumber"] == records[1]["dynamodb"]["SequenceNumber"]
    assert info["streamArn"] == records[0]["eventSourceARN"]
    figures = status(server, tname)["Figures"]
    assert figures["sent_to_destination"] == 2
    assert figures["errors"] == 3
    assert figures["retries"] == 2
    assert figures["delivered"] == 1


def test_bisect_isolates_the_poison_record(
    tserver: Server, tddb: Any, tname: str, tmp_path: Path
) -> None:
    server, out = tserver
    stream_table(tddb, tname, sort_key=True)
    dlq = tmp_path / "dlq.jsonl"
    create_trigger(
        server,
        name=tname,
        table=tname,
        function="trigger_apps.recorder:fail_poison",
        bisect_batch_on_function_error=True,
        maximum_retry_attempts=1,
        destination_config=file_destination(dlq),
    )
    put_many(tddb, tname, "k", 8, extra={5: POISON})
    wait_for(lambda: failures(dlq))
    calls = settle(lambda: sks(out, tname))
    all8 = [f"{i:04d}" for i in range(8)]
    assert (
        calls
        == [
            all8,  # fails: split in two, no retry attempt used
            all8[:4],  # succeeds
            all8[4:],  # fails: split
            all8[4:6],  # fails: split
            ["0004"],  # succeeds
            ["0005"],  # fails, retried once, then discarded
            ["0005"],
            ["0006", "0007"],
        ]
    )
    (line,) = failures(dlq)
    assert line["failure"]["DDBStreamBatchInfo"]["batchSize"] == 1
    assert [r["dynamodb"]["Keys"]["sk"]["S"] for r in line["failure"]["payload"]["Records"]] == [
        "0005"
    ]


def test_partial_batch_response_retries_from_the_lowest_failure(
    tserver: Server, tddb: Any, tname: str, tmp_path: Path
) -> None:
    server, out = tserver
    stream_table(tddb, tname, sort_key=True)
    dlq = tmp_path / "dlq.jsonl"
    create_trigger(
        server,
        name=tname,
        table=tname,
        function="trigger_apps.recorder:partial",
        function_response_types=["ReportBatchItemFailures"],
        maximum_retry_attempts=1,
        destination_config=file_destination(dlq),
    )
    put_many(tddb, tname, "k", 5, extra={2: POISON})
    wait_for(lambda: failures(dlq))
    assert settle(lambda: sks(out, tname)) == [
        ["0000", "0001", "0002", "0003", "0004"],
        ["0002", "0003", "0004"],  # later records are re-delivered with the failed one
        ["0003", "0004"],  # after the failed record was discarded
    ]
    (line,) = failures(dlq)
    failure = line["failure"]
    # Observed on AWS: only the failing record, and functionError null.
    assert failure["DDBStreamBatchInfo"]["batchSize"] == 1
    assert failure["responseContext"]["functionError"] is None
    assert failure["requestContext"]["approximateInvokeCount"] == 2


def _answer(tddb: Any, table: str, response: Any) -> None:
    tddb.put_item(
        TableName=table,
        Item={"pk": {"S": "k"}, "sk": {"S": "0"}, "response": {"S": json.dumps(response)}},
    )


def _invocations_until_discarded(server: RunningServer, name: str) -> int:
    return int(status(server, name)["Figures"]["invocations"])


def test_partial_responses_that_mean_success(tserver: Server, tddb: Any, tname: str) -> None:
    server, _out = tserver
    answers: list[Any] = [{}, None, {"batchItemFailures": []}, {"batchItemFailures": None}]
    for i, answer in enumerate(answers):
        table = f"{tname}-{i}"
        stream_table(tddb, table, sort_key=True)
        create_trigger(
            server,
            name=table,
            table=table,
            function="trigger_apps.recorder:respond",
            function_response_types=["ReportBatchItemFailures"],
            maximum_retry_attempts=0,
        )
        _answer(tddb, table, answer)
    for i in range(len(answers)):
        table = f"{tname}-{i}"
        wait_for(lambda t=table: status(server, t)["Figures"]["delivered"] == 1)  # type: ignore[misc]
        figures = settle(lambda t=table: status(server, t)["Figures"])  # type: ignore[misc]
        assert (figures["invocations"], figures["errors"], figures["dropped"]) == (1, 0, 0), (
            answers[i]
        )


def test_partial_responses_that_fail_the_whole_batch(
    tserver: Server, tddb: Any, tname: str, tmp_path: Path
) -> None:
    server, _out = tserver
    answers: list[Any] = [
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{"itemIdentifier": None}]},
        {"batchItemFailures": [{"foo": "100000000000000000001"}]},
        {"batchItemFailures": [{"itemIdentifier": "999999999999999999999"}]},  # not in batch
        "not an object",
    ]
    for i, answer in enumerate(answers):
        table = f"{tname}-{i}"
        stream_table(tddb, table, sort_key=True)
        create_trigger(
            server,
            name=table,
            table=table,
            function="trigger_apps.recorder:respond",
            function_response_types=["ReportBatchItemFailures"],
            maximum_retry_attempts=0,
            destination_config={"OnFailure": {"Destination": f"file:{tmp_path / table}.jsonl"}},
        )
        _answer(tddb, table, answer)
    for i in range(len(answers)):
        table = f"{tname}-{i}"
        dlq = tmp_path / f"{table}.jsonl"
        wait_for(lambda d=dlq: failures(d))  # type: ignore[misc]
        (line,) = failures(dlq)
        assert line["failure"]["responseContext"]["functionError"] is None, answers[i]
        assert line["failure"]["DDBStreamBatchInfo"]["batchSize"] == 1
        figures = status(server, table)["Figures"]
        assert (figures["invocations"], figures["delivered"], figures["dropped"]) == (1, 0, 1)


def test_without_report_batch_item_failures_any_return_is_success(
    tserver: Server, tddb: Any, tname: str
) -> None:
    server, _out = tserver
    stream_table(tddb, tname, sort_key=True)
    create_trigger(
        server,
        name=tname,
        table=tname,
        function="trigger_apps.recorder:respond",
        maximum_retry_attempts=0,
    )
    _answer(tddb, tname, {"batchItemFailures": [{"itemIdentifier": ""}]})
    wait_for(lambda: status(server, tname)["Figures"]["delivered"] == 1)
    assert status(server, tname)["Figures"]["errors"] == 0


def test_several_mappings_on_one_stream_are_independent(
    tserver: Server, tddb: Any, tname: str
) -> None:
    server, _out = tserver
    stream_table(tddb, tname, sort_key=True)
    create_trigger(
        server, name=f"{tname}-stuck", table=tname, function="trigger_apps.recorder:fail_poison"
    )
    create_trigger(server, name=f"{tname}-ok", table=tname, function="trigger_apps.recorder:record")
    put_many(tddb, tname, "k", 3, extra={0: POISON})
    for sk in ("x1", "x2"):
        tddb.put_item(TableName=tname, Item={"pk": {"S": "k"}, "sk": {"S": sk}})
    wait_for(lambda: status(server, f"{tname}-ok")["Figures"]["delivered"] == 5)
    # The other mapping retries its first batch without end (MaximumRetryAttempts -1): the
    # whole shard waits behind it, while the healthy mapping got everything.
    stuck = wait_for(
        lambda: (s := status(server, f"{tname}-stuck"))["Figures"]["errors"] >= 2 and s
    )
    assert stuck["Figures"]["delivered"] == 0
    assert stuck["LastProcessingResult"] == "PROBLEM: Function call failed"
    api(server).call("DeleteTrigger", {"Name": f"{tname}-stuck"})


def test_disable_and_enable_resume_from_the_checkpoint(
    tserver: Server, tddb: Any, tname: str
) -> None:
    server, out = tserver
    stream_table(tddb, tname, sort_key=True)
    create_trigger(server, name=tname, table=tname, function="trigger_apps.recorder:record")
    tddb.put_item(TableName=tname, Item={"pk": {"S": "k"}, "sk": {"S": "before"}})
    wait_for(lambda: sks(out, tname) == [["before"]])
    disabled = api(server).call("DisableTrigger", {"Name": tname})
    assert disabled["State"] == "Disabled"
    put_many(tddb, tname, "k", 3)
    assert settle(lambda: sks(out, tname)) == [["before"]]
    assert api(server).call("EnableTrigger", {"Name": tname})["State"] == "Enabled"
    wait_for(lambda: len(delivered_keys(out, tname)) == 4)
    assert settle(lambda: sks(out, tname)) == [["before"], ["0000", "0001", "0002"]]


def test_latest_starts_after_what_the_stream_holds_at_creation(
    tserver: Server, tddb: Any, tname: str
) -> None:
    server, out = tserver
    stream_table(tddb, tname, sort_key=True)
    put_many(tddb, tname, "k", 3)
    create_trigger(
        server,
        name=tname,
        table=tname,
        function="trigger_apps.recorder:record",
        starting_position="LATEST",
    )
    # Written right after CreateTrigger returned: never missed (Q-T14).
    tddb.put_item(TableName=tname, Item={"pk": {"S": "k"}, "sk": {"S": "new"}})
    wait_for(lambda: events(out, tname))
    assert settle(lambda: sks(out, tname)) == [["new"]]


def test_async_handler_and_its_context(tserver: Server, tddb: Any, tname: str) -> None:
    server, out = tserver
    stream_table(tddb, tname)
    create_trigger(
        server,
        name=tname,
        table=tname,
        function="trigger_apps.recorder:record_async",
        function_timeout=5,
    )
    tddb.put_item(TableName=tname, Item={"pk": {"S": "k"}})
    (line,) = wait_for(lambda: recorded(out, tname))
    assert 0 < line["remaining"] <= 5000


def _spans_overlap(out: Path, table: str) -> bool:
    spans = [(line["started"], line["at"]) for line in recorded(out, table)]
    return any(a[0] < b[1] and b[0] < a[1] for i, a in enumerate(spans) for b in spans[i + 1 :])


def _parallel_run(server: RunningServer, tddb: Any, out: Path, table: str, **settings: Any) -> None:
    """8 keys x 5 updates through a trigger with 4 lanes; every key's records in write order."""
    stream_table(tddb, table, sort_key=True)
    create_trigger(
        server,
        name=table,
        table=table,
        function="trigger_apps.recorder:slow",
        parallelization_factor=4,
        batch_size=5,
        **settings,
    )
    keys = [f"key{i}" for i in range(8)]
    for round_ in range(5):
        for key in keys:
            tddb.put_item(
                TableName=table,
                Item={"pk": {"S": key}, "sk": {"S": f"{round_:04d}"}, "sleep": {"N": "0.05"}},
            )
    wait_for(lambda: len(delivered_keys(out, table)) == 40, timeout=30)
    per_key: dict[str, list[str]] = {}
    for e in events(out, table):
        for r in e["Records"]:
            keys_ = r["dynamodb"]["Keys"]
            per_key.setdefault(keys_["pk"]["S"], []).append(keys_["sk"]["S"])
    assert per_key == {key: [f"{i:04d}" for i in range(5)] for key in keys}


def test_parallel_lanes_run_at_once_in_a_process_pool(
    tserver: Server, tddb: Any, tname: str
) -> None:
    server, out = tserver
    _parallel_run(
        server,
        tddb,
        out,
        tname,
        function_isolation="subprocess",
        environment={"RIVULET_TEST_OUT": str(out)},
    )
    assert _spans_overlap(out, tname)  # lanes of one shard really ran at the same time


def test_an_in_process_module_runs_one_invocation_at_a_time(
    tserver: Server, tddb: Any, tname: str
) -> None:
    # The server is one execution environment for an in-process module (module-level state such
    # as Powertools' BatchProcessor is safe); the lanes still keep each key in order.
    server, out = tserver
    _parallel_run(server, tddb, out, tname)
    assert not _spans_overlap(out, tname)


def test_webhook_function(tserver: Server, tddb: Any, tname: str) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    server, _out = tserver
    received: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append(body)
            failed = [
                {"itemIdentifier": r["dynamodb"]["SequenceNumber"]}
                for r in body["Records"]
                if "poison" in r["dynamodb"]["NewImage"] and len(received) == 1
            ]
            data = json.dumps({"batchItemFailures": failed}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        stream_table(tddb, tname, sort_key=True)
        create_trigger(
            server,
            name=tname,
            table=tname,
            function=f"http://127.0.0.1:{httpd.server_address[1]}/hook",
            function_response_types=["ReportBatchItemFailures"],
        )
        put_many(tddb, tname, "k", 3, extra={1: POISON})
        wait_for(lambda: len(received) == 2)
        got = [[r["dynamodb"]["Keys"]["sk"]["S"] for r in body["Records"]] for body in received]
        assert got == [["0000", "0001", "0002"], ["0001", "0002"]]
        wait_for(lambda: status(server, tname)["Figures"]["delivered"] == 3)
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_exec_function(tserver: Server, tddb: Any, tname: str, tmp_path: Path) -> None:
    server, _out = tserver
    script = tmp_path / "handler.py"
    sink = tmp_path / "exec.jsonl"
    script.write_text(
        "import json, sys\n"
        "event = json.load(sys.stdin)\n"
        f"open({str(sink)!r}, 'a').write(json.dumps([r['eventName'] for r in event['Records']]) + '\\n')\n"
        "print(json.dumps({}))\n"
    )
    stream_table(tddb, tname, sort_key=True)
    import sys

    create_trigger(server, name=tname, table=tname, function=f"exec:{sys.executable} {script}")
    put_many(tddb, tname, "k", 2)
    wait_for(lambda: sink.exists() and sink.read_text())
    assert sink.read_text() == '["INSERT", "INSERT"]\n'


def test_a_table_trigger_follows_the_table_to_its_new_stream(
    tserver: Server, tddb: Any, tname: str
) -> None:
    server, out = tserver
    stream_table(tddb, tname)
    old_arn = tddb.describe_table(TableName=tname)["Table"]["LatestStreamArn"]
    create_trigger(server, name=tname, table=tname, function="trigger_apps.recorder:record")
    create_trigger(
        server,
        name=f"{tname}-arn",
        event_source_arn=old_arn,
        function="trigger_apps.recorder:record_async",
    )
    tddb.put_item(TableName=tname, Item={"pk": {"S": "before"}})
    wait_for(lambda: delivered_keys(out, tname) == ["before", "before"])
    tddb.delete_table(TableName=tname)
    stream_table(tddb, tname)  # the same table name, a new stream
    new_arn = tddb.describe_table(TableName=tname)["Table"]["LatestStreamArn"]
    assert new_arn != old_arn
    tddb.put_item(TableName=tname, Item={"pk": {"S": "after"}})
    # The table-bound trigger drained the old stream and moved on, reading the new one from its
    # start; the ARN-bound one stays on its stream, as on AWS.
    wait_for(lambda: "after" in delivered_keys(out, tname))
    assert settle(lambda: delivered_keys(out, tname)) == ["before", "before", "after"]
    rows = {r["Name"]: r for r in api(server).call("TriggerStatus", {})["Triggers"]}
    assert rows[tname]["EventSourceArn"] == new_arn
    assert rows[f"{tname}-arn"]["EventSourceArn"] == old_arn
    got = [e["Records"][0]["eventSourceARN"] for e in events(out, tname)]
    assert got.count(new_arn) == 1
