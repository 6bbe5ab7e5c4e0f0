"""On-failure destinations (triggers.md 8, Q-T11): the JSON-lines file, the webhook, the
dead-letter table through a running server and through the engine, listing, removal and redrive."""

from __future__ import annotations

import asyncio
import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import RunningServer, free_port

from rivulet.core.clock import Clock
from rivulet.engine.database import Database
from rivulet.engine.keyring import load_master_key, open_keyring
from rivulet.storage.sqlite import SqliteStorage
from rivulet.triggers.destinations import (
    PART_BYTES,
    DestinationError,
    FailedBatch,
    FileDestination,
    RedriveResult,
    TableDestination,
    WebhookDestination,
    make_destination,
    redrive,
)
from rivulet.triggers.events import Entry, failure_record
from rivulet.triggers.invocation import FunctionError, Invocation
from rivulet.triggers.item_sinks import EngineItemSink, HttpItemSink, ItemSinkError

STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2025-11-26T11:58:02.123"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:orders"
SHARD = "shardId-00000001764158282123-4f1c2b9a"
REQUEST = "316aa6d0-8154-4d4c-9b0e-5a4a7f9e1c2b"
NOW = 1_764_158_491.717  # 2025-11-26T12:01:31.717Z


def record(seq: int, text: str = "x") -> dict[str, Any]:
    """A Lambda-form INSERT record whose NewImage holds `text`."""
    return {
        "eventID": f"e{seq}",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1764158401.0,
            "Keys": {"pk": {"S": f"o-{seq}"}},
            "NewImage": {"pk": {"S": f"o-{seq}"}, "v": {"S": text}},
            "SequenceNumber": str(10**20 + seq),
            "SizeBytes": 20,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": STREAM_ARN,
    }


def failure(
    seqs: list[int], request_id: str = REQUEST, now: float = NOW, text: str = "x"
) -> dict[str, Any]:
    """What the runtime hands a destination: AWS's record plus the payload."""
    records = [record(seq, text) for seq in seqs]
    entries = [
        Entry(seq, 1764158401000, orjson.dumps(rec)) for seq, rec in zip(seqs, records, strict=True)
    ]
    aws = failure_record(
        request_id=request_id,
        function_arn=FUNCTION_ARN,
        condition="RetryAttemptsExhausted",
        invoke_count=2,
        function_error="Unhandled",
        shard_id=SHARD,
        stream_arn=STREAM_ARN,
        entries=entries,
        now=now,
    )
    return {**aws, "payload": {"Records": records}}


AWS_RECORD_102 = (
    '{"requestContext":{"requestId":"316aa6d0-8154-4d4c-9b0e-5a4a7f9e1c2b",'
    '"functionArn":"arn:aws:lambda:us-east-1:123456789012:function:orders",'
    '"condition":"RetryAttemptsExhausted","approximateInvokeCount":2},'
    '"responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},'
    '"version":"1.0","timestamp":"2025-11-26T12:01:31.717Z",'
    '"DDBStreamBatchInfo":{"shardId":"shardId-00000001764158282123-4f1c2b9a",'
    '"startSequenceNumber":"100000000000000000102","endSequenceNumber":"100000000000000000102",'
    '"approximateArrivalOfFirstRecord":"2025-11-26T12:00:01Z",'
    '"approximateArrivalOfLastRecord":"2025-11-26T12:00:01Z","batchSize":1,'
    '"streamArn":"arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2025-11-26T11:58:02.123"}}'
)
RECORDS_102 = (
    '[{"eventID":"e102","eventName":"INSERT","eventVersion":"1.1","eventSource":"aws:dynamodb",'
    '"awsRegion":"us-east-1","dynamodb":{"ApproximateCreationDateTime":1764158401.0,'
    '"Keys":{"pk":{"S":"o-102"}},"NewImage":{"pk":{"S":"o-102"},"v":{"S":"x"}},'
    '"SequenceNumber":"100000000000000000102","SizeBytes":20,'
    '"StreamViewType":"NEW_AND_OLD_IMAGES"},'
    '"eventSourceARN":"arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2025-11-26T11:58:02.123"}]'
)
ID_102 = "2025-11-26T12:01:31.717Z#316aa6d0-8154-4d4c-9b0e-5a4a7f9e1c2b"


# --- JSON-lines file ------------------------------------------------------------------------------


def test_file_destination_writes_one_exact_json_line(tmp_path: Path) -> None:
    dest = make_destination("file:dlq/orders.jsonl", data_dir=tmp_path, items=None)
    assert isinstance(dest, FileDestination)
    assert dest.description == f"file {tmp_path}/dlq/orders.jsonl"

    asyncio.run(dest.send("orders", failure([102])))

    expected = (
        '{"trigger":"orders","id":"'
        + ID_102
        + '","failure":'
        + AWS_RECORD_102[:-1]
        + ',"payload":{"Records":'
        + RECORDS_102
        + "}}}\n"
    )
    assert (tmp_path / "dlq" / "orders.jsonl").read_text() == expected
    assert orjson.loads(expected)["failure"] == failure([102])


def test_file_destination_lists_per_trigger_in_order_and_removes(tmp_path: Path) -> None:
    dest = make_destination(
        "file://" + str(tmp_path / "all.jsonl"), data_dir=Path("/x"), items=None
    )
    assert dest.description == f"file {tmp_path}/all.jsonl"
    first = failure([1], request_id="r-1", now=NOW)
    other = failure([2], request_id="r-2", now=NOW + 1)
    second = failure([3, 4], request_id="r-3", now=NOW + 2)

    async def scenario() -> tuple[list[FailedBatch], list[FailedBatch], list[FailedBatch]]:
        await dest.send("orders", first)
        await dest.send("payments", other)
        await dest.send("orders", second)
        listed = await dest.failed("orders")
        await dest.remove("orders", "2025-11-26T12:01:31.717Z#r-1")
        await dest.remove("orders", "no-such-id")  # nothing to remove: no error
        return listed, await dest.failed("orders"), await dest.failed("payments")

    listed, after, payments = asyncio.run(scenario())
    assert listed == [
        FailedBatch("2025-11-26T12:01:31.717Z#r-1", "orders", first),
        FailedBatch("2025-11-26T12:01:33.717Z#r-3", "orders", second),
    ]
    assert after == [FailedBatch("2025-11-26T12:01:33.717Z#r-3", "orders", second)]
    assert payments == [FailedBatch("2025-11-26T12:01:32.717Z#r-2", "payments", other)]
    lines = (tmp_path / "all.jsonl").read_bytes().splitlines()
    assert [orjson.loads(line)["id"] for line in lines] == [
        "2025-11-26T12:01:32.717Z#r-2",
        "2025-11-26T12:01:33.717Z#r-3",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all.jsonl", "all.jsonl.lock"]


def test_file_destination_survives_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "dlq.jsonl"
    path.write_bytes(b'{"trigger":"orders","id":"torn","fail')  # a crash mid-append
    dest = FileDestination(path)

    async def scenario() -> tuple[list[FailedBatch], list[FailedBatch]]:
        await dest.send("orders", failure([102]))
        listed = await dest.failed("orders")
        await dest.remove("orders", ID_102)
        return listed, await dest.failed("orders")

    listed, after = asyncio.run(scenario())
    assert listed == [FailedBatch(ID_102, "orders", failure([102]))]
    assert after == []
    # The unreadable line is kept (never destroyed), on a line of its own.
    assert path.read_bytes() == b'{"trigger":"orders","id":"torn","fail\n'


def test_file_destination_error(tmp_path: Path) -> None:
    (tmp_path / "taken.jsonl").mkdir()
    dest = FileDestination(tmp_path / "taken.jsonl")
    with pytest.raises(DestinationError) as info:
        asyncio.run(dest.send("orders", failure([102])))
    assert str(info.value) == (
        f"file {tmp_path}/taken.jsonl: [Errno 21] Is a directory: '{tmp_path}/taken.jsonl'"
    )


@pytest.mark.parametrize(
    ("target", "kind", "name"),
    [
        ("arn:aws:sqs:us-east-1:123456789012:orders-dlq", "sqs", "orders-dlq"),
        ("arn:aws:sns:eu-west-1:123456789012:orders-alerts.fifo", "sns", "orders-alerts.fifo"),
        ("arn:aws:s3:::orders-failures", "s3", "orders-failures"),
    ],
)
def test_aws_destinations_map_to_local_files(
    tmp_path: Path, target: str, kind: str, name: str
) -> None:
    dest = make_destination(target, data_dir=tmp_path, items=None)
    path = tmp_path / "destinations" / f"{kind}-{name}.jsonl"
    assert isinstance(dest, FileDestination)
    assert dest.description == f"{kind} {target} (local file {path})"

    async def scenario() -> list[FailedBatch]:
        await dest.send("orders", failure([102]))
        return await dest.failed("orders")

    assert asyncio.run(scenario()) == [FailedBatch(ID_102, "orders", failure([102]))]
    assert orjson.loads(path.read_bytes())["failure"] == failure([102])


def test_make_destination_rejects_what_it_cannot_build(tmp_path: Path) -> None:
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/Failed"
    with pytest.raises(ValueError) as info:
        make_destination(table, data_dir=tmp_path, items=None)
    assert str(info.value) == f"{table}: a table destination needs an item sink"
    with pytest.raises(ValueError) as info:
        make_destination("ftp://host/x", data_dir=tmp_path, items=None)
    assert str(info.value) == "unsupported on-failure destination: ftp://host/x"


# --- Webhook --------------------------------------------------------------------------------------


@dataclass
class Receiver:
    """A real HTTP server that records every request and answers with scripted statuses."""

    url: str
    statuses: list[int]
    received: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    port = free_port()
    state = Receiver(f"http://127.0.0.1:{port}/hooks/failed", [])

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append((self.command, self.path, dict(self.headers), body))
            self.send_response(state.statuses.pop(0) if state.statuses else 204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_webhook_posts_the_exact_failure(receiver: Receiver) -> None:
    dest = make_destination(receiver.url, data_dir=Path("/unused"), items=None)
    assert isinstance(dest, WebhookDestination)
    assert dest.description == f"webhook {receiver.url}"
    receiver.statuses.extend([200, 202])

    async def scenario() -> None:
        try:
            await dest.send("orders", failure([102]))
            await dest.send("orders", failure([103]))
        finally:
            await dest.close()

    asyncio.run(scenario())
    assert len(receiver.received) == 2
    method, path, headers, body = receiver.received[0]
    assert (method, path) == ("POST", "/hooks/failed")
    assert body == (AWS_RECORD_102[:-1] + ',"payload":{"Records":' + RECORDS_102 + "}}").encode()
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Rivulet-Trigger"] == "orders"
    assert orjson.loads(receiver.received[1][3]) == failure([103])


def test_webhook_errors(receiver: Receiver) -> None:
    dest = WebhookDestination(receiver.url)
    refused = WebhookDestination(f"http://127.0.0.1:{free_port()}/x")
    receiver.statuses.extend([500, 302])

    async def attempt(d: WebhookDestination) -> str:
        with pytest.raises(DestinationError) as info:
            await d.send("orders", failure([102]))
        return str(info.value)

    async def scenario() -> list[str]:
        try:
            messages = [await attempt(dest), await attempt(dest), await attempt(refused)]
            for call in (dest.failed("orders"), dest.remove("orders", ID_102)):
                with pytest.raises(DestinationError) as info:
                    await call
                messages.append(str(info.value))
            return messages
        finally:
            await dest.close()
            await refused.close()

    messages = asyncio.run(scenario())
    assert messages == [
        f"webhook {receiver.url} answered HTTP 500",
        f"webhook {receiver.url} answered HTTP 302",  # redirects are not followed
        f"webhook {refused.url}: ConnectError: All connection attempts failed",
        f"webhook {receiver.url} cannot be listed",
        f"webhook {receiver.url} cannot be listed",
    ]


# --- Dead-letter table through a running server ---------------------------------------------------


def table_arn(name: str) -> str:
    return f"arn:aws:dynamodb:us-east-1:123456789012:table/{name}"


def big_failure() -> dict[str, Any]:
    """A batch whose records' JSON is over two parts, with a part boundary falling inside a
    two-byte UTF-8 character (the cut must move back to the character's start)."""
    pad = 0
    while True:
        f = failure([1, 2, 3, 4], text="é" * 100_000 + "a" * pad)
        data = orjson.dumps(f["payload"]["Records"])
        if data[PART_BYTES] & 0xC0 == 0x80:
            return f
        pad += 1


def query_all(ddb: Any, table: str, trigger: str) -> list[dict[str, Any]]:
    return list(
        ddb.query(
            TableName=table,
            KeyConditionExpression="#t = :t",
            ExpressionAttributeNames={"#t": "trigger"},
            ExpressionAttributeValues={":t": {"S": trigger}},
        )["Items"]
    )


def test_table_destination_through_a_running_server(
    server: RunningServer, ddb: Any, table_name: str
) -> None:
    sink = HttpItemSink(server.url, "us-east-1")
    dest = make_destination(table_arn(table_name), data_dir=Path("/unused"), items=sink)
    assert isinstance(dest, TableDestination)
    assert dest.description == f"table {table_name}"

    async def scenario() -> list[FailedBatch]:
        await dest.send("orders", failure([102]))
        await dest.send("orders", failure([102]))  # a retried send rewrites the same item
        return await dest.failed("orders")

    try:
        listed = asyncio.run(scenario())
    finally:
        asyncio.run(sink.close())
    assert listed == [FailedBatch(ID_102, "orders", failure([102]))]

    table = ddb.describe_table(TableName=table_name)["Table"]
    assert table["KeySchema"] == [
        {"AttributeName": "trigger", "KeyType": "HASH"},
        {"AttributeName": "id", "KeyType": "RANGE"},
    ]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert query_all(ddb, table_name, "orders") == [
        {
            "trigger": {"S": "orders"},
            "id": {"S": ID_102},
            "condition": {"S": "RetryAttemptsExhausted"},
            "shardId": {"S": SHARD},
            "startSequenceNumber": {"S": "100000000000000000102"},
            "endSequenceNumber": {"S": "100000000000000000102"},
            "batchSize": {"N": "1"},
            "invocationRecord": {"S": AWS_RECORD_102},
            "records": {"S": RECORDS_102},
        }
    ]


def test_table_destination_splits_a_big_batch_and_reassembles_it(
    server: RunningServer, ddb: Any, table_name: str
) -> None:
    big = big_failure()
    small = failure([9], request_id="r-later", now=NOW + 60)
    records = orjson.dumps(big["payload"]["Records"]).decode()
    sink = HttpItemSink(server.url, "us-east-1")
    dest = TableDestination(table_name, sink)
    # A second runtime's destination on the same table: creating it again is harmless.
    again = TableDestination(table_name, sink)

    async def scenario() -> tuple[list[FailedBatch], list[dict[str, Any]], list[FailedBatch]]:
        await dest.send("orders", big)
        await again.send("orders", small)
        listed = await dest.failed("orders")
        stored = query_all(ddb, table_name, "orders")
        await dest.remove("orders", ID_102)
        return listed, stored, await again.failed("orders")

    try:
        listed, stored, after = asyncio.run(scenario())
    finally:
        asyncio.run(sink.close())
    assert listed == [
        FailedBatch(ID_102, "orders", big),
        FailedBatch("2025-11-26T12:02:31.717Z#r-later", "orders", small),
    ]
    parts = stored[:-1]
    assert [p["id"]["S"] for p in parts] == [f"{ID_102}#part-{n:04d}" for n in (1, 2, 3)]
    assert [(p["part"], p["parts"]) for p in parts] == [
        ({"N": str(n)}, {"N": "3"}) for n in (1, 2, 3)
    ]
    pieces = [p["records"]["S"] for p in parts]
    assert "".join(pieces) == records
    # The first cut moved back one byte, to the start of the "é" it would have split.
    assert [len(piece.encode()) for piece in pieces[:2]] == [PART_BYTES - 1, PART_BYTES]
    for p in parts:
        assert {k: v for k, v in p.items() if k not in ("id", "records", "part", "parts")} == {
            "trigger": {"S": "orders"},
            "condition": {"S": "RetryAttemptsExhausted"},
            "shardId": {"S": SHARD},
            "startSequenceNumber": {"S": "100000000000000000001"},
            "endSequenceNumber": {"S": "100000000000000000004"},
            "batchSize": {"N": "4"},
            "invocationRecord": {
                "S": orjson.dumps({k: v for k, v in big.items() if k != "payload"}).decode()
            },
        }
    assert stored[-1]["id"] == {"S": "2025-11-26T12:02:31.717Z#r-later"}
    assert "part" not in stored[-1]
    assert after == [FailedBatch("2025-11-26T12:02:31.717Z#r-later", "orders", small)]
    assert [i["id"]["S"] for i in query_all(ddb, table_name, "orders")] == [
        "2025-11-26T12:02:31.717Z#r-later"
    ]


def test_table_destination_error_when_the_table_goes(
    server: RunningServer, ddb: Any, table_name: str
) -> None:
    sink = HttpItemSink(server.url, "us-east-1")
    dest = TableDestination(table_name, sink)

    async def scenario() -> str:
        try:
            await dest.send("orders", failure([102]))
            await asyncio.to_thread(ddb.delete_table, TableName=table_name)
            with pytest.raises(DestinationError) as info:
                await dest.send("orders", failure([103]))
            return str(info.value)
        finally:
            await sink.close()

    assert asyncio.run(scenario()) == (
        f"cannot write to table {table_name} at {server.url}: An error occurred "
        "(ResourceNotFoundException) when calling the PutItem operation: "
        "Requested resource not found"
    )


# --- Dead-letter table through the engine ---------------------------------------------------------


async def open_db(data: Path) -> Database:
    """A Database wired like `rivulet serve` does it, without HTTP."""
    db = Database(SqliteStorage(data), Clock())
    db.open()
    loop = asyncio.get_running_loop()
    db.bind_loop(loop)
    db.streams.open(open_keyring(db.storage, load_master_key(data, None, None)), loop)
    return db


def item(trigger: str, ident: str, **extra: dict[str, str]) -> dict[str, Any]:
    return {"trigger": {"S": trigger}, "id": {"S": ident}, **extra}


def test_engine_item_sink(tmp_path: Path) -> None:
    async def scenario() -> list[Any]:
        db = await open_db(tmp_path / "data")
        sink = EngineItemSink(db)
        try:
            # Two runtimes racing to create it, then once more: all succeed, one table.
            await asyncio.gather(sink.ensure_table("Failed"), sink.ensure_table("Failed"))
            await sink.ensure_table("Failed")
            await sink.put("Failed", item("orders", "b", n={"N": "01.50"}))
            await sink.put("Failed", item("orders", "a#part-0002"))
            await sink.put("Failed", item("orders", "a#part-0001"))
            await sink.put("Failed", item("payments", "a"))
            await sink.put("Failed", item("orders", "b", n={"N": "2"}))  # replaces
            everything = await sink.query("Failed", "orders")
            prefixed = await sink.query("Failed", "orders", "a")
            await sink.delete("Failed", {"trigger": {"S": "orders"}, "id": {"S": "a#part-0001"}})
            after = await sink.query("Failed", "orders")
            errors = []
            for call in (
                sink.put("Failed", {"trigger": {"S": "orders"}, "id": {"N": "1"}}),
                sink.put("Missing", item("orders", "a")),
                sink.query("Missing", "orders"),
                sink.delete("Failed", {"trigger": {"S": "orders"}}),
            ):
                with pytest.raises(ItemSinkError) as info:
                    await call
                errors.append(str(info.value))
            definition = db.table("Failed").definition
            return [everything, prefixed, after, errors, definition, sorted(db.tables)]
        finally:
            await sink.close()
            db.close()

    everything, prefixed, after, errors, definition, tables = asyncio.run(scenario())
    assert everything == [
        item("orders", "a#part-0001"),
        item("orders", "a#part-0002"),
        item("orders", "b", n={"N": "2"}),
    ]
    assert prefixed == [item("orders", "a#part-0001"), item("orders", "a#part-0002")]
    assert after == [item("orders", "a#part-0002"), item("orders", "b", n={"N": "2"})]
    assert errors == [
        "cannot write to table Failed: One or more parameter values were invalid: "
        "Type mismatch for key id expected: S actual: N",
        "cannot write to table Missing: Requested resource not found",
        "cannot read table Missing: Requested resource not found",
        "cannot delete from table Failed: The provided key element does not match the schema",
    ]
    assert (definition.key.names, definition.billing_mode) == (("trigger", "id"), "PAY_PER_REQUEST")
    assert tables == ["Failed"]


def test_table_destination_through_the_engine(tmp_path: Path) -> None:
    big = big_failure()

    async def scenario() -> tuple[list[FailedBatch], list[FailedBatch], list[str]]:
        db = await open_db(tmp_path / "data")
        sink = EngineItemSink(db)
        dest = make_destination(table_arn("Failed"), data_dir=tmp_path, items=sink)
        try:
            await dest.send("orders", big)
            await dest.send("orders", failure([7], request_id="r-7", now=NOW + 1))
            listed = await dest.failed("orders")
            await dest.remove("orders", ID_102)
            ids = [i["id"]["S"] for i in await sink.query("Failed", "orders")]
            return listed, await dest.failed("orders"), ids
        finally:
            await dest.close()
            db.close()

    listed, after, ids = asyncio.run(scenario())
    later = FailedBatch("2025-11-26T12:01:32.717Z#r-7", "orders", failure([7], "r-7", NOW + 1))
    assert listed == [FailedBatch(ID_102, "orders", big), later]
    assert after == [later]
    assert ids == ["2025-11-26T12:01:32.717Z#r-7"]


# --- Redrive --------------------------------------------------------------------------------------


@dataclass
class ScriptedInvoker:
    """A real Invoker whose answers are scripted: one Invocation per call, in order."""

    outcomes: list[Invocation]
    calls: list[tuple[dict[str, Any], str, float]] = field(default_factory=list)

    async def invoke(self, event: dict[str, Any], request_id: str, timeout: float) -> Invocation:
        self.calls.append((event, request_id, timeout))
        return self.outcomes.pop(0)

    async def close(self) -> None:
        pass


def test_redrive_removes_what_succeeds_and_keeps_the_rest(tmp_path: Path) -> None:
    dest = FileDestination(tmp_path / "dlq.jsonl")
    batches = [failure([n], request_id=f"r-{n}", now=NOW + n) for n in (1, 2, 3, 4, 5)]
    ids = [f"2025-11-26T12:01:3{n + 1}.717Z#r-{n}" for n in (1, 2, 3, 4, 5)]
    invoker = ScriptedInvoker(
        [
            Invocation("a", response=None),
            Invocation("b", error=FunctionError("ValueError", "bad order")),
            Invocation(
                "c",
                response={"batchItemFailures": [{"itemIdentifier": "100000000000000000003"}]},
            ),
            Invocation("d", response={"batchItemFailures": []}),
            Invocation("e", not_invoked="connection refused"),
        ]
    )

    async def scenario() -> tuple[RedriveResult, list[FailedBatch]]:
        for f in batches:
            await dest.send("orders", f)
        result = await redrive(dest, "orders", invoker, 3.0, report_item_failures=True)
        return result, await dest.failed("orders")

    result, kept = asyncio.run(scenario())
    assert result == RedriveResult(
        redriven=2,
        still_failing=3,
        errors=[
            f"{ids[1]}: ValueError: bad order",
            f"{ids[2]}: the function's response failed the batch: "
            '{"batchItemFailures":[{"itemIdentifier":"100000000000000000003"}]}',
            f"{ids[4]}: not invoked: connection refused",
        ],
    )
    assert kept == [FailedBatch(ids[n], "orders", batches[n]) for n in (1, 2, 4)]
    assert [call[0] for call in invoker.calls] == [f["payload"] for f in batches]
    assert invoker.calls[0][0] == {"Records": [record(1)]}
    assert {call[2] for call in invoker.calls} == {3.0}
    request_ids = [call[1] for call in invoker.calls]
    assert len(set(request_ids)) == 5 and all(len(r) == 36 for r in request_ids)


def test_redrive_without_report_item_failures_ignores_the_response(tmp_path: Path) -> None:
    dest = FileDestination(tmp_path / "dlq.jsonl")
    invoker = ScriptedInvoker(
        [Invocation("a", response={"batchItemFailures": [{"itemIdentifier": "x"}]})]
    )

    async def scenario() -> tuple[RedriveResult, list[FailedBatch]]:
        await dest.send("orders", failure([102]))
        result = await redrive(dest, "orders", invoker, 1.0, report_item_failures=False)
        return result, await dest.failed("orders")

    assert asyncio.run(scenario()) == (RedriveResult(1, 0, []), [])


def test_redrive_of_a_webhook_destination_fails(receiver: Receiver) -> None:
    dest = WebhookDestination(receiver.url)
    invoker = ScriptedInvoker([])

    async def scenario() -> str:
        try:
            with pytest.raises(DestinationError) as info:
                await redrive(dest, "orders", invoker, 1.0, report_item_failures=False)
            return str(info.value)
        finally:
            await dest.close()

    assert asyncio.run(scenario()) == f"webhook {receiver.url} cannot be listed"
    assert invoker.calls == []
