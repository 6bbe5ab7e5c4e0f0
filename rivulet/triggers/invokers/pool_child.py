"""A subprocess worker: one Lambda execution environment for one Python handler.

Run as `python -m rivulet.triggers.invokers.pool_child HANDLER` with the function's environment
variables. Speaks JSON lines on private copies of stdin/stdout (fds 0 and 1 are then pointed at
/dev/null and stderr, so the handler's prints and reads cannot corrupt the protocol):

  worker -> server, once, after importing the handler (the cold start):
      {"response": null}                        ready
      {"error": {<Lambda error object>}}        init failed; the worker then exits
  server -> worker, per invocation:
      {"request_id": ..., "invoked_function_arn": ..., "timeout": <s>, "event": ...}
  worker -> server, per invocation:
      {"response": <payload>} | {"error": {<Lambda error object>}}

One invocation at a time. Timeouts are the server's business: it kills the worker. EOF on the
requests ends the worker.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any, BinaryIO

from rivulet.triggers.invocation import FunctionError
from rivulet.triggers.invokers import lambda_runtime
from rivulet.triggers.invokers.context import ExecutionEnvironment, LambdaContext
from rivulet.triggers.invokers.lambda_runtime import Handler, Outcome


def main(spec: str) -> None:
    requests, replies = _private_pipes()
    handler = lambda_runtime.resolve_handler(spec)
    if isinstance(handler, FunctionError):
        _reply(replies, handler, "")
        return
    _reply(replies, "null", "")
    # One loop for the worker's life: an async handler may keep loop-bound clients across calls.
    loop = asyncio.new_event_loop() if lambda_runtime.is_async(handler) else None
    for line in requests:
        request = json.loads(line)
        request_id: str = request["request_id"]
        outcome = _call(handler, loop, request)
        _reply(replies, outcome, request_id)


def _call(handler: Handler, loop: asyncio.AbstractEventLoop | None, request: Any) -> Outcome:
    environment = ExecutionEnvironment.from_variables(os.environ, request["invoked_function_arn"])
    context = LambdaContext(environment, request["request_id"], request["timeout"])
    if loop is None:
        return lambda_runtime.call_sync(handler, request["event"], context)
    return loop.run_until_complete(lambda_runtime.call_async(handler, request["event"], context))


def _private_pipes() -> tuple[BinaryIO, BinaryIO]:
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)  # the handler's stdout is the function log, as on Lambda
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    return requests, replies


def _reply(replies: BinaryIO, outcome: Outcome, request_id: str) -> None:
    if isinstance(outcome, FunctionError):
        line = json.dumps({"error": outcome.as_json(request_id)})
    else:
        line = f'{{"response":{outcome}}}'  # the payload is JSON text already
    replies.write(line.encode() + b"\n")
    replies.flush()


if __name__ == "__main__":
    main(sys.argv[1])
