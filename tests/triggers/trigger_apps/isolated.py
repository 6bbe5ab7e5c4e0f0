"""A handler meant for function_isolation = "subprocess": it can crash its process or hang."""

from __future__ import annotations

import os
import time
from typing import Any

from trigger_apps.recorder import log_event


def handle(event: dict[str, Any], context: Any) -> None:
    action = event["Records"][0]["dynamodb"]["NewImage"]["action"]["S"]
    if action == "exit":
        os._exit(3)  # the worker process dies mid-invocation
    if action == "hang":
        time.sleep(3600)  # killed at function_timeout
    log_event(
        event,
        pid=os.getpid(),
        greeting=os.environ.get("GREETING"),
        function_name=os.environ.get("AWS_LAMBDA_FUNCTION_NAME"),
    )
