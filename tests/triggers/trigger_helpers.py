"""Shared by the trigger tests: a server that can import tests/triggers/trigger_apps, the trigger
API client, tables with streams, and reading what the handlers recorded."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from conftest import RunningServer, start_server

from rivulet.triggers_cli import ServerClient

HERE = Path(__file__).parent
T = TypeVar("T")


def start_trigger_server(tmp: Path, *extra: str) -> tuple[RunningServer, Path]:
    """A server whose functions can import `trigger_apps.*` and record into the returned dir."""
    out = tmp / "out"
    out.mkdir(parents=True, exist_ok=True)
    env = {"PYTHONPATH": str(HERE), "RIVULET_TEST_OUT": str(out)}
    return start_server(tmp / "data", *extra, env=env), out


def api(server: RunningServer) -> ServerClient:
    return ServerClient(server.url, "us-east-1")


def create_trigger(server: RunningServer, **settings: Any) -> dict[str, Any]:
    settings.setdefault("starting_position", "TRIM_HORIZON")
    result: dict[str, Any] = api(server).call("CreateTrigger", {"Settings": settings})
    return result


def stream_table(
    ddb: Any, name: str, *, sort_key: bool = False, view: str = "NEW_AND_OLD_IMAGES"
) -> str:
    """A table with a stream: hash `pk` (S), and `sk` (S) when sort_key."""
    schema = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
    if sort_key:
        schema.append({"AttributeName": "sk", "KeyType": "RANGE"})
        attrs.append({"AttributeName": "sk", "AttributeType": "S"})
    ddb.create_table(
        TableName=name,
        KeySchema=schema,
        AttributeDefinitions=attrs,
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
    )
    return name


POISON = {"poison": {"BOOL": True}}  # the recorder's failing handlers fail for such items


def put_many(
    ddb: Any,
    table: str,
    pk: str,
    count: int,
    start: int = 0,
    extra: dict[int, dict[str, Any]] | None = None,
) -> None:
    """`count` items of one partition key (so one shard) with sort keys `start`.. (0000, 0001...),
    in one commit per 25; `extra` maps an item's number to more attributes."""
    extra = extra or {}
    items = [
        {"pk": {"S": pk}, "sk": {"S": f"{i:04d}"}, **extra.get(i, {})}
        for i in range(start, start + count)
    ]
    for first in range(0, len(items), 25):
        requests = [{"PutRequest": {"Item": item}} for item in items[first : first + 25]]
        ddb.batch_write_item(RequestItems={table: requests})


def file_destination(path: Path) -> dict[str, Any]:
    """destination_config for a JSON-lines on-failure file."""
    return {"OnFailure": {"Destination": f"file:{path}"}}


def failures(path: Path) -> list[dict[str, Any]]:
    """The lines a file destination holds (`{"trigger", "id", "failure"}` each)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def recorded(out: Path, table: str) -> list[dict[str, Any]]:
    """Every line a recorder handler wrote for `table`, in order."""
    path = out / f"{table}.jsonl"
    if not path.exists():
        return []
    text = path.read_text()
    if not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]  # a line still being appended is not there yet
    return [json.loads(line) for line in text.splitlines() if line]


def events(out: Path, table: str) -> list[dict[str, Any]]:
    return [line["event"] for line in recorded(out, table)]


def delivered_keys(out: Path, table: str, attr: str = "pk") -> list[str]:
    """The `attr` key value of every record of every event, in delivery order."""
    return [r["dynamodb"]["Keys"][attr]["S"] for e in events(out, table) for r in e["Records"]]


def wait_for(check: Callable[[], T], timeout: float = 15.0, interval: float = 0.05) -> T:
    """Poll `check` until it returns a truthy value; fail with its last value on timeout."""
    deadline = time.monotonic() + timeout
    value = check()
    while not value:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting; last value {value!r}")
        time.sleep(interval)
        value = check()
    return value


def settle(check: Callable[[], T], quiet: float = 0.5) -> T:
    """Wait until `check` stops changing for `quiet` seconds (nothing more arrives)."""
    last = check()
    while True:
        time.sleep(quiet)
        current = check()
        if current == last:
            return current
        last = current


def status(server: RunningServer, name: str) -> dict[str, Any]:
    rows = api(server).call("TriggerStatus", {})["Triggers"]
    for row in rows:
        if row["Name"] == name:
            return dict(row)
    raise AssertionError(f"no trigger {name} in {rows}")
