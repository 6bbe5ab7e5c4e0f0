"""A function that is a command (`exec:COMMAND ARGS...`): one process per invocation, the event as
JSON on stdin, the response as JSON on stdout.

Outcomes: exit 0 with JSON (or nothing) on stdout is success; a non-zero exit is Runtime.ExitError
with the tail of stderr in the message; other stdout is Runtime.MarshalError; running past the
timeout kills the command's process group (Sandbox.Timedout); a command that cannot be started
(not found, not executable) was never invoked (Q-T16). stderr is the function log: it is copied
to the server's stderr.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Mapping

from rivulet.triggers.invocation import Event, FunctionError, Invocation, event_json
from rivulet.triggers.invokers import lambda_runtime, processes

_STDERR_TAIL = 1000  # characters of stderr kept in the error message


class CommandInvoker:
    def __init__(self, argv: list[str], env: Mapping[str, str]) -> None:
        self._argv = argv
        self._env = env

    async def invoke(self, event: Event, request_id: str, timeout: float) -> Invocation:
        started = time.monotonic()
        try:
            process = await processes.start(self._argv, self._env, stderr=asyncio.subprocess.PIPE)
        except OSError as exc:
            return Invocation(request_id, not_invoked=f"could not start command: {exc}")
        try:
            async with asyncio.timeout(timeout):
                stdout, stderr = await process.communicate(event_json(event))
        except TimeoutError:
            error = lambda_runtime.timed_out(request_id, timeout)
            return Invocation(request_id, error=error, duration=time.monotonic() - started)
        finally:
            # On timeout or cancellation, and for children left behind by a command that exited.
            await asyncio.shield(processes.kill(process))
        duration = time.monotonic() - started
        log = stderr.decode(errors="replace")
        sys.stderr.write(log)
        assert process.returncode is not None
        if process.returncode != 0:
            error = lambda_runtime.runtime_exited(request_id, process.returncode)
            tail = log[-_STDERR_TAIL:].strip()
            if tail:
                error = FunctionError(error.error_type, f"{error.message}\n{tail}")
            return Invocation(request_id, error=error, duration=duration)
        try:
            response = lambda_runtime.decode_payload(stdout)
        except ValueError as exc:
            error = lambda_runtime.marshal_error(exc)
            return Invocation(request_id, error=error, duration=duration)
        return Invocation(request_id, response=response, duration=duration)

    async def close(self) -> None:
        """Nothing to release: each invocation's process ends with it."""
