"""Run one wrk phase with a Lua script and parse the JSON line its done() prints."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass

from dataset import READ_TABLE, WRITE_TABLE
from servers import BENCH_DIR, BenchError

WRK_DIR = BENCH_DIR / "wrk"
MARKER = "WRK_JSON "
OPS = ("put", "get", "query")


@dataclass(frozen=True)
class WrkResult:
    requests: int
    duration_s: float
    rps: float
    # Latencies are None when no request completed within the phase (a very slow server).
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    socket_errors: int
    wrk_cpu_s: float  # CPU used by wrk itself: near duration_s means the load generator saturated


def script_args(op: str, run_id: str, partitions: int, items_per_partition: int) -> list[str]:
    if op == "put":
        return [WRITE_TABLE, run_id]
    if op == "get":
        return [READ_TABLE, str(partitions), str(items_per_partition)]
    if op == "query":
        return [READ_TABLE, str(partitions)]
    raise BenchError(f"unknown op {op!r}")


def run_wrk(
    wrk: str,
    url: str,
    op: str,
    connections: int,
    duration_s: float,
    args: list[str],
    timeout_s: int = 30,
) -> WrkResult:
    cmd = [
        wrk,
        "-t1",  # one thread: the load generator shares 2 cores with the server
        f"-c{connections}",
        f"-d{max(1, round(duration_s))}s",
        f"--timeout={timeout_s}s",
        "-s",
        str(WRK_DIR / f"{op}.lua"),
        url + "/",
        "--",
        *args,
    ]
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, text=True)
        # wait4 (not Popen.wait) so wrk's own CPU usage comes back with its exit status.
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read()
    if proc.returncode != 0:
        raise BenchError(f"wrk exited with {proc.returncode}:\n$ {' '.join(cmd)}\n{output}")
    line = next((ln for ln in output.splitlines() if ln.startswith(MARKER)), None)
    if line is None:
        raise BenchError(f"wrk printed no {MARKER.strip()} line:\n{output}")
    data = json.loads(line[len(MARKER) :])
    if data["non2xx"]:
        raise BenchError(
            f"{data['non2xx']} non-2xx responses from {url} during {op} at {connections} "
            f"connections; first: {data['first_error']}"
        )
    errors = data["errors"]
    requests = data["requests"]
    if requests == 0 and errors["connect"] + errors["read"] + errors["write"]:
        raise BenchError(f"wrk completed no requests against {url} ({op}); errors: {errors}")
    lat = data["latency_us"]
    duration = data["duration_us"] / 1e6

    def ms(key: str) -> float | None:
        return lat[key] / 1000 if requests else None

    return WrkResult(
        requests=requests,
        duration_s=duration,
        rps=requests / duration,
        p50_ms=ms("p50"),
        p90_ms=ms("p90"),
        p99_ms=ms("p99"),
        max_ms=ms("max"),
        socket_errors=sum(errors[k] for k in ("connect", "read", "write", "timeout")),
        wrk_cpu_s=usage.ru_utime + usage.ru_stime,
    )
