"""The functions the triggers suite runs: imported by Rivulet as `bench.trigger_handlers:<name>`
(the server's PYTHONPATH has the repository, bench/servers.py) and called directly by the
benchmark's polling consumers, so both sides run the very same code.

They do no work beyond taking the time and leaving it in a file for the benchmark to read after
the run: one `os.write` per invocation, in the directory the process runs in (Rivulet's is the
benchmark's temporary working directory) or the one given to `use_directory`. The clock is
CLOCK_MONOTONIC, which the writer also uses: on Linux it is one clock for every process.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

ARRIVALS_FILE = "trigger-arrivals.log"  # "<pk> <t written in the item> <handler start>" per record
TALLY_FILE = "trigger-tally.log"  # "<handler start> <records>" per invocation

_directory: Path | None = None  # None: the current directory
_fds: dict[str, int] = {}
_lock = threading.Lock()  # sync handlers run in threads of their own, several shards at once


def now_ns() -> int:
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def use_directory(directory: Path | None) -> None:
    """Write this process's files to `directory` (None: the current one) from now on, closing
    the files written so far."""
    global _directory
    with _lock:
        for fd in _fds.values():
            os.close(fd)
        _fds.clear()
        _directory = directory


def _fd(name: str) -> int:
    with _lock:
        fd = _fds.get(name)
        if fd is None:
            path = (_directory or Path.cwd()) / name
            # O_APPEND: each invocation's one write lands whole, whichever thread makes it.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            _fds[name] = fd
        return fd


def _arrivals(started: int, event: dict[str, Any]) -> None:
    lines = []
    for record in event["Records"]:
        image = record["dynamodb"].get("NewImage") or {}
        if "t" in image:
            lines.append(f"{image['pk']['S']} {image['t']['N']} {started}\n")
    if lines:
        os.write(_fd(ARRIVALS_FILE), "".join(lines).encode())


def record_arrivals(event: dict[str, Any], context: Any) -> None:
    """Latency: the time this invocation started, for every record that carries a write time."""
    _arrivals(now_ns(), event)


async def record_arrivals_async(event: dict[str, Any], context: Any) -> None:
    """The same as an async handler: Rivulet runs it on its event loop instead of a thread."""
    _arrivals(now_ns(), event)


def tally(event: dict[str, Any], context: Any) -> None:
    """Throughput: a no-op that notes when it was called and with how many records."""
    os.write(_fd(TALLY_FILE), f"{now_ns()} {len(event['Records'])}\n".encode())


async def tally_async(event: dict[str, Any], context: Any) -> None:
    os.write(_fd(TALLY_FILE), f"{now_ns()} {len(event['Records'])}\n".encode())
