"""Handlers for the crash and worker tests: each invocation appends one short line to
`$RIVULET_TEST_OUT/<table>.jsonl` naming the process that ran it, when, and each record's
sequence number, eventID, key and counter (`n` of the new image).

The line (well under a page) is written with one `write` on an O_APPEND descriptor, so two
processes appending at once do not interleave, and a `kill -9` does not tear it."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any


def _line(event: dict[str, Any], started: float) -> bytes:
    records = [
        {
            "seq": r["dynamodb"]["SequenceNumber"],
            "id": r["eventID"],
            "key": r["dynamodb"]["Keys"]["pk"]["S"],
            "n": int(r["dynamodb"]["NewImage"]["n"]["N"]),
        }
        for r in event["Records"]
    ]
    entry = {"pid": os.getpid(), "started": started, "ended": time.time(), "records": records}
    return (json.dumps(entry) + "\n").encode()


def log_records(event: dict[str, Any], context: Any) -> None:
    started = time.time()
    time.sleep(0.01)  # long enough for two processes' invocations to overlap if both ran one
    table = event["Records"][0]["eventSourceARN"].split("/")[1]
    path = Path(os.environ["RIVULET_TEST_OUT"]) / f"{table}.jsonl"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, _line(event, started))
    finally:
        os.close(fd)
