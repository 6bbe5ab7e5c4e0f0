"""A Python handler run inside the server: imported once, sync handlers in a thread of their own,
async handlers on the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import orjson

from rivulet.triggers.invocation import Event, FunctionError, Invocation, event_json
from rivulet.triggers.invokers import lambda_runtime
from rivulet.triggers.invokers.context import ExecutionEnvironment, LambdaContext
from rivulet.triggers.invokers.lambda_runtime import Handler, Outcome

T = TypeVar("T")


# One lock per handler module: the server process is one Lambda execution environment for the
# module, and an environment runs one invocation at a time (triggers.md 13.1). Module-level state
# such as Powertools' documented module-level BatchProcessor relies on it; concurrency across
# shards and lanes comes from function_isolation = "subprocess" (a pool of environments).
_ENVIRONMENTS: dict[str, asyncio.Lock] = {}


def _environment_lock(function: str) -> asyncio.Lock:
    try:
        module = lambda_runtime.split_handler(function)[0].replace("/", ".")
    except ValueError:
        module = function  # a malformed spec fails at resolution; it still needs a lock
    return _ENVIRONMENTS.setdefault(module, asyncio.Lock())


class InProcessInvoker:
    """Runs `package.module:callable` in the server process, one invocation at a time per module.

    A sync handler that outlives its timeout cannot be stopped (Python cannot kill a thread): the
    invocation fails with Sandbox.Timedout and the thread is abandoned, still running (and no
    longer holding the module's lock). Each call gets a daemon thread rather than a pooled one so
    abandoned threads neither starve a pool nor hold up interpreter exit. Environment variables
    are not set: they are process-wide.
    """

    def __init__(self, function: str, environment: ExecutionEnvironment) -> None:
        self._function = function
        self._environment = environment
        self._handler: Handler | None = None
        self._init_lock = asyncio.Lock()
        self._lock = _environment_lock(function)

    async def invoke(self, event: Event, request_id: str, timeout: float) -> Invocation:
        async with self._lock:
            started = time.monotonic()
            outcome = await self._invoke(event, request_id, timeout)
            duration = time.monotonic() - started
        if isinstance(outcome, FunctionError):
            return Invocation(request_id, error=outcome, duration=duration)
        return Invocation(request_id, response=json.loads(outcome), duration=duration)

    async def close(self) -> None:
        """Nothing to release: abandoned threads are daemons."""

    async def _invoke(self, event: Event, request_id: str, timeout: float) -> Outcome:
        handler = await self._resolve(request_id)
        if isinstance(handler, FunctionError):
            return handler
        own_event = orjson.loads(event_json(event))  # a fresh object per invocation
        context = LambdaContext(self._environment, request_id, timeout)
        try:
            if lambda_runtime.is_async(handler):
                async with asyncio.timeout(timeout):
                    return await _call_async(handler, own_event, context)
            return await _in_daemon_thread(
                lambda: lambda_runtime.call_sync(handler, own_event, context), request_id, timeout
            )
        except TimeoutError:
            return lambda_runtime.timed_out(request_id, timeout)

    async def _resolve(self, request_id: str) -> Handler | FunctionError:
        """Import the handler at the first invocation (the cold start) and keep it; a failed
        import is retried by the next invocation, as after a failed Lambda init."""
        async with self._init_lock:
            if self._handler is None:
                try:
                    resolved = await _in_daemon_thread(
                        lambda: lambda_runtime.resolve_handler(self._function),
                        request_id,
                        lambda_runtime.INIT_TIMEOUT,
                    )
                except TimeoutError:
                    return lambda_runtime.timed_out(request_id, lambda_runtime.INIT_TIMEOUT)
                if isinstance(resolved, FunctionError):
                    return resolved
                self._handler = resolved
            return self._handler


async def _call_async(handler: Handler, event: Any, context: LambdaContext) -> Outcome:
    try:
        return await lambda_runtime.call_async(handler, event, context)
    except SystemExit as exc:
        return lambda_runtime.runtime_exited(context.aws_request_id, lambda_runtime.exit_code(exc))


async def _in_daemon_thread(
    call: Callable[[], T], request_id: str, timeout: float
) -> T | FunctionError:
    """`call()` in a new daemon thread; TimeoutError after `timeout` seconds, leaving the thread
    to finish on its own."""
    loop = asyncio.get_running_loop()
    result: asyncio.Future[T | FunctionError] = loop.create_future()

    def deliver(value: T | FunctionError) -> None:
        if not result.done():  # not given up on at the timeout
            result.set_result(value)

    def run() -> None:
        value: T | FunctionError
        try:
            value = call()
        except SystemExit as exc:  # what would end a worker process ends this invocation only
            value = lambda_runtime.runtime_exited(request_id, lambda_runtime.exit_code(exc))
        except BaseException as exc:  # e.g. KeyboardInterrupt: the thread must still report
            value = lambda_runtime.error_from(exc)
        # RuntimeError: the loop closed while the call ran past its timeout.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(deliver, value)

    threading.Thread(target=run, name="rivulet-handler", daemon=True).start()
    return await asyncio.wait_for(result, timeout)
