"""A handler that fails while `$RIVULET_TEST_OUT/<table>.broken` exists, so a test can send
batches to the on-failure destination, then fix the function (delete the file) and redrive them.
Every event it gets is recorded first, as recorder.py does."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from trigger_apps.recorder import log_event


def handler(event: dict[str, Any], context: Any) -> None:
    log_event(event)
    # A redriven event has only "Records"; each record names its stream.
    table = event["Records"][0]["eventSourceARN"].split("/")[1]
    if (Path(os.environ["RIVULET_TEST_OUT"]) / f"{table}.broken").exists():
        raise RuntimeError(f"{table} is broken")
