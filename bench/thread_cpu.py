"""CPU per request of each thread of a `rivulet serve`, under wrk (PutItem or GetItem).

    python bench/thread_cpu.py --op put --connections 64 --duration 6 [--rivulet-args '...']

Starts Rivulet as the data suite does (free port, fresh data directory, bench tables), warms up
for 2 s, then reads every thread's user+system time from /proc/<pid>/task/*/stat around a wrk run
and prints it per completed request. The event-loop thread is the process's main thread (its tid
is the pid); the writer's commit and fsync threads and the reader threads follow. Linux only.
"""

from __future__ import annotations

import argparse
import shlex
import time

from dataset import prepare
from loadgen import run_wrk, script_args
from servers import ensure_wrk, start_server, thread_cpu_seconds

PARTITIONS, ITEMS = 1000, 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--op", choices=["put", "get"], default="put")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=int, default=6)
    parser.add_argument("--rivulet-args", default="")
    opts = parser.parse_args()
    wrk = ensure_wrk()
    server = start_server("rivulet", shlex.split(opts.rivulet_args))
    try:
        prepare(server.url, PARTITIONS, ITEMS, need_read=opts.op == "get")
        run_wrk(wrk, server.url, opts.op, opts.connections, 2, script_args(opts.op, "warm", PARTITIONS, ITEMS))  # fmt: skip
        time.sleep(0.5)
        pid = server.proc.pid
        before = thread_cpu_seconds(pid)
        args = script_args(opts.op, "run", PARTITIONS, ITEMS)
        result = run_wrk(wrk, server.url, opts.op, opts.connections, opts.duration, args)
        after = thread_cpu_seconds(pid)
    finally:
        server.stop()
    print(f"{opts.op} at {opts.connections} connections: {result.rps:,.0f} req/s")
    total = 0.0
    for tid, cpu in sorted(after.items()):
        per_request = (cpu - before.get(tid, 0.0)) * 1e6 / result.requests
        total += per_request
        if per_request >= 0.5:
            name = "event loop (main)" if tid == pid else f"thread {tid}"
            print(f"  {name:<20} {per_request:6.1f} µs/request")
    print(f"  {'total':<20} {total:6.1f} µs/request")


if __name__ == "__main__":
    main()
