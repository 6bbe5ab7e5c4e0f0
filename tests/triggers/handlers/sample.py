"""Handlers of the invoker tests, one per part of the Lambda handler contract they exercise."""

from __future__ import annotations

import asyncio
import ctypes
import os
import resource
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

# Set by a test to let `waits` finish after its invocation was abandoned at the timeout.
released = threading.Event()
_calls = 0


class OrderRejected(Exception):
    pass


def echo(event: dict[str, Any], context: Any) -> Any:
    return {
        "event": event,
        "total": Decimal("12.50"),
        "count": Decimal("3"),
        "lines": [{"sku": "A-1", "price": Decimal("0.1")}, ("tuple", None, True)],
    }


async def async_echo(event: dict[str, Any], context: Any) -> Any:
    await asyncio.sleep(0)
    return {"event": event, "async": True}


def nothing(event: dict[str, Any], context: Any) -> None:
    return None


def mutate(event: dict[str, Any], context: Any) -> Any:
    event["Records"].append("added by the handler")
    return event


def counter(event: dict[str, Any], context: Any) -> Any:
    global _calls
    _calls += 1
    return {"calls": _calls, "pid": os.getpid()}


def context_attributes(event: dict[str, Any], context: Any) -> Any:
    return {
        "aws_request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "identity": [
            context.identity.cognito_identity_id,
            context.identity.cognito_identity_pool_id,
        ],
        "client_context": context.client_context,
        "tenant_id": context.tenant_id,
        "w3c": context.w3c(),
        "remaining": context.get_remaining_time_in_millis(),
    }


def environment(event: dict[str, Any], context: Any) -> Any:
    return {name: os.environ.get(name) for name in event["names"]}


def _reject(order: str) -> None:
    raise OrderRejected(f"order {order} rejected")


def raises(event: dict[str, Any], context: Any) -> None:
    _reject(event["order"])


async def async_raises(event: dict[str, Any], context: Any) -> None:
    raise OrderRejected("async rejection")


def unserialisable(event: dict[str, Any], context: Any) -> Any:
    return {"tags": {"a"}}


def returns_bytes(event: dict[str, Any], context: Any) -> bytes:
    return b'{"from": "bytes"}'


def exits(event: dict[str, Any], context: Any) -> None:
    sys.exit(3)


def waits(event: dict[str, Any], context: Any) -> str:
    released.wait(10)
    return "late"


async def async_sleeps(event: dict[str, Any], context: Any) -> str:
    await asyncio.sleep(10)
    return "late"


def pid_or_hang(event: dict[str, Any], context: Any) -> Any:
    if event.get("hang"):
        time.sleep(600)
    return {"pid": os.getpid()}


def crashes(event: dict[str, Any], context: Any) -> Any:
    if event.get("how") == "exit":
        os._exit(1)
    if event.get("how") == "segfault":
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file
        ctypes.string_at(0)
    return {"pid": os.getpid()}


def rendezvous(event: dict[str, Any], context: Any) -> Any:
    # Each invocation leaves a mark and waits for the other's: both see two marks only if they
    # run at the same time.
    marks = Path(event["dir"])
    (marks / context.aws_request_id).touch()
    deadline = time.monotonic() + 5
    while len(list(marks.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    return {"pid": os.getpid(), "marks": len(list(marks.iterdir()))}


def forges_replies(event: dict[str, Any], context: Any) -> Any:
    # Output and input of a worker's handler must not touch the worker's protocol pipes.
    print('{"response": "forged"}')
    return {"stdin": sys.stdin.read()}
