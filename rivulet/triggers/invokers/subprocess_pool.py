"""A Python handler run in a pool of worker processes (pool_child.py), one Lambda execution
environment each.

Workers are plain asyncio subprocesses speaking JSON lines rather than multiprocessing children:
their environment variables are real from the first line of user code (multiprocessing cannot
give a child its own environment before it starts), the event loop waits on their pipes without
a thread each, and a hung or crashed worker is just a process to kill and forget. Workers start at
the first invocation that needs one (a cold start) and are reused; one that timed out or died is
replaced by the next cold start, and the server never notices more than an error.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import orjson

from rivulet.triggers.invocation import Event, FunctionError, Invocation, event_fragment
from rivulet.triggers.invokers import lambda_runtime, processes
from rivulet.triggers.invokers.settings import (
    FunctionSettings,
    execution_environment,
    function_arn,
    process_environment,
)

_STOP_GRACE = 1.0  # seconds a worker gets to exit on its own at close()


class SubprocessPoolInvoker:
    def __init__(self, settings: FunctionSettings) -> None:
        self._settings = settings
        self._arn = function_arn(settings)
        self._slots = asyncio.Semaphore(settings.pool_size)
        self._idle: list[asyncio.subprocess.Process] = []
        self._workers: set[asyncio.subprocess.Process] = set()

    async def invoke(self, event: Event, request_id: str, timeout: float) -> Invocation:
        started = time.monotonic()
        async with self._slots:
            worker = self._idle.pop() if self._idle else await self._start_worker(request_id)
            if isinstance(worker, Invocation):
                return worker
            request = {
                "request_id": request_id,
                "invoked_function_arn": self._arn,
                "timeout": timeout,
                "event": event_fragment(event),
            }
            outcome = await self._call(worker, request_id, orjson.dumps(request), timeout)
            if isinstance(outcome, FunctionError) and worker.returncode is not None:
                self._workers.discard(worker)  # timed out or died: the next call cold-starts
            else:
                self._idle.append(worker)
        return _invocation(request_id, outcome, time.monotonic() - started)

    async def close(self) -> None:
        workers, self._workers, self._idle = list(self._workers), set(), []
        await asyncio.gather(*(processes.stop(worker, _STOP_GRACE) for worker in workers))

    async def _start_worker(self, request_id: str) -> asyncio.subprocess.Process | Invocation:
        """A new worker with the handler imported, or the invocation's result if that failed."""
        started = time.monotonic()
        argv = [
            sys.executable,
            "-m",
            "rivulet.triggers.invokers.pool_child",
            self._settings.function,
        ]
        env = process_environment(self._settings, execution_environment(self._settings))
        try:
            worker = await processes.start(argv, env, stderr=None)
        except OSError as exc:  # our Python cannot start: the function was never reached
            return Invocation(request_id, not_invoked=f"could not start a worker: {exc}")
        self._workers.add(worker)
        outcome = await self._call(worker, request_id, None, lambda_runtime.INIT_TIMEOUT)
        if isinstance(outcome, FunctionError):
            self._workers.discard(worker)
            await processes.stop(worker, _STOP_GRACE)  # it exits by itself after an init error
            return Invocation(request_id, error=outcome, duration=time.monotonic() - started)
        return worker

    async def _call(
        self,
        worker: asyncio.subprocess.Process,
        request_id: str,
        request: bytes | None,
        timeout: float,
    ) -> dict[str, Any] | FunctionError:
        """Send `request` (None: only read the init reply) and read the reply; a worker that
        runs out of time is killed."""
        try:
            reply = await self._exchange(worker, request, timeout)
        except TimeoutError:
            await processes.kill(worker)
            return lambda_runtime.timed_out(request_id, timeout)
        except BaseException:  # cancelled mid-call: the worker's state is unknown
            self._workers.discard(worker)
            await asyncio.shield(processes.kill(worker))
            raise
        if isinstance(reply, int):
            return lambda_runtime.runtime_exited(request_id, reply)
        if "error" in reply:
            error = reply["error"]
            return FunctionError(
                error["errorType"], error["errorMessage"], tuple(error["stackTrace"])
            )
        return reply

    @staticmethod
    async def _exchange(
        worker: asyncio.subprocess.Process, request: bytes | None, timeout: float
    ) -> dict[str, Any] | int:
        """The worker's reply, or its exit status if it died first."""
        assert worker.stdin is not None and worker.stdout is not None
        async with asyncio.timeout(timeout):
            if request is not None:
                try:
                    worker.stdin.write(request + b"\n")
                    await worker.stdin.drain()
                except ConnectionError:
                    pass  # died already: the read below sees the end of its output
            line = await worker.stdout.readline()
            if not line:
                return await worker.wait()
            reply: dict[str, Any] = json.loads(line)
            return reply


def _invocation(
    request_id: str, outcome: dict[str, Any] | FunctionError, duration: float
) -> Invocation:
    if isinstance(outcome, FunctionError):
        return Invocation(request_id, error=outcome, duration=duration)
    return Invocation(request_id, response=outcome["response"], duration=duration)
