"""Starting and killing the processes functions run in."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping

# Replies are read by line: room for Lambda's 6 MB response payload, escaped.
_LINE_LIMIT = 64 * 1024 * 1024


async def start(
    argv: list[str], env: Mapping[str, str], *, stderr: int | None
) -> asyncio.subprocess.Process:
    """Start `argv` with pipes on stdin and stdout, in a session (and process group) of its own:
    a timeout then kills everything the function started, and the terminal's Ctrl-C reaches the
    server only, which stops its functions itself."""
    return await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=stderr,
        env=dict(env),
        start_new_session=True,
        limit=_LINE_LIMIT,
    )


async def kill(process: asyncio.subprocess.Process) -> None:
    """SIGKILL the process's whole group and reap the process."""
    with contextlib.suppress(ProcessLookupError):  # the group is gone already
        os.killpg(process.pid, signal.SIGKILL)
    await process.wait()


async def stop(process: asyncio.subprocess.Process, grace: float) -> None:
    """Close its stdin (a worker's signal to exit) and kill it if it is still there after
    `grace` seconds."""
    if process.stdin is not None:
        process.stdin.close()
    try:
        await asyncio.wait_for(process.wait(), grace)
    except TimeoutError:
        await kill(process)
