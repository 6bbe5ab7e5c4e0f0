"""Handlers that write every event they get to `$RIVULET_TEST_OUT/<table>.jsonl` and behave as the
items tell them: an item with `poison` fails, `response` is returned as the handler's answer."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any


def _table(event: dict[str, Any]) -> str:
    arn = event.get("eventSourceARN") or event["Records"][0]["eventSourceARN"]
    return str(arn.split("/")[1])


def log_event(event: dict[str, Any], **extra: Any) -> None:
    out = Path(os.environ["RIVULET_TEST_OUT"]) / f"{_table(event)}.jsonl"
    line = json.dumps({"event": event, "at": time.time(), **extra})
    with out.open("a", encoding="utf-8") as f:
        f.write(line + "\n")


def _image(record: dict[str, Any]) -> dict[str, Any]:
    dynamodb = record["dynamodb"]
    return dynamodb.get("NewImage") or dynamodb.get("OldImage") or {}


def record(event: dict[str, Any], context: Any) -> None:
    log_event(event, function=context.function_name)


def fail_poison(event: dict[str, Any], context: Any) -> None:
    log_event(event)
    for r in event["Records"]:
        if "poison" in _image(r):
            raise ValueError(f"poison {r['dynamodb']['Keys']}")


def partial(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """ReportBatchItemFailures: name each poisoned record."""
    log_event(event)
    failed = [
        {"itemIdentifier": r["dynamodb"]["SequenceNumber"]}
        for r in event["Records"]
        if "poison" in _image(r)
    ]
    return {"batchItemFailures": failed}


def respond(event: dict[str, Any], context: Any) -> Any:
    """Answer with the JSON in the first record's `response` attribute."""
    log_event(event)
    return json.loads(_image(event["Records"][0])["response"]["S"])


async def record_async(event: dict[str, Any], context: Any) -> None:
    log_event(event, remaining=context.get_remaining_time_in_millis())


def slow(event: dict[str, Any], context: Any) -> None:
    """Takes `sleep` seconds (the largest of the batch), logging when it started and ended."""
    started = time.time()
    time.sleep(max(float(_image(r).get("sleep", {"N": "0"})["N"]) for r in event["Records"]))
    log_event(event, started=started)


def window_sum(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Tumbling windows: sums `n` of the window's records in the carried state."""
    log_event(event)
    total = int(event["state"].get("total", 0))
    for r in event["Records"]:
        total += int(_image(r).get("n", {"N": "0"})["N"])
    return {"state": {"total": total}}
