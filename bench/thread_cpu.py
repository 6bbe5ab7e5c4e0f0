"""CPU per request of each thread of a `rivulet serve`, under wrk (PutItem or GetItem).

    python bench/thread_cpu.py --op put --connections 64 --duration 6 [--rivulet-args '...']

Starts Rivulet on a free port with a fresh data directory, creates the bench tables, warms up
for 2 s, then reads every thread's user+system time from /proc/<pid>/task/*/stat around a wrk run
and prints it per completed request. The event-loop thread is the process's main thread (its tid
is the pid); the writer's commit and fsync threads and the reader threads follow. Linux only.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from dataset import READ_TABLE, WRITE_TABLE, client, create_table, preload  # noqa: E402
from loadgen import MARKER  # noqa: E402
from servers import ensure_wrk, free_port, rivulet_command, server_env  # noqa: E402


def thread_times(pid: int) -> dict[int, float]:
    ticks = os.sysconf("SC_CLK_TCK")
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            fields = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread ended
        out[int(tid)] = (int(fields[11]) + int(fields[12])) / ticks
    return out


def wrk(url: str, op: str, connections: int, seconds: int, args: list[str]) -> int:
    cmd = [ensure_wrk(), "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(BENCH / "wrk" / f"{op}.lua"), url + "/", "--", *args]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith(MARKER))
    return int(json.loads(line[len(MARKER) :])["requests"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--op", choices=["put", "get"], default="put")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=int, default=6)
    parser.add_argument("--rivulet-args", default="")
    opts = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data:
        cmd = [*rivulet_command(), "serve", "--port", str(port), "--streams-port", "0", "--data-dir", data, "--log-level", "warning", *shlex.split(opts.rivulet_args)]  # fmt: skip
        server = subprocess.Popen(cmd, env=server_env(), stderr=subprocess.DEVNULL)
        try:
            for _ in range(600):
                try:
                    urllib.request.urlopen(url + "/", timeout=1)
                    break
                except OSError:
                    time.sleep(0.05)
            ddb = client(url)
            create_table(ddb, WRITE_TABLE)
            create_table(ddb, READ_TABLE)
            if opts.op == "get":
                preload(url, 1000, 10)
            args = [WRITE_TABLE, "warm"] if opts.op == "put" else [READ_TABLE, "1000", "10"]
            wrk(url, opts.op, opts.connections, 2, args)
            time.sleep(0.5)
            before = thread_times(server.pid)
            args = [WRITE_TABLE, "run"] if opts.op == "put" else args
            requests = wrk(url, opts.op, opts.connections, opts.duration, args)
            after = thread_times(server.pid)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
    print(f"{opts.op} at {opts.connections} connections: {requests / opts.duration:,.0f} req/s")
    total = 0.0
    for tid, cpu in sorted(after.items()):
        used = cpu - before.get(tid, 0.0)
        total += used
        if used * 1e6 / requests >= 0.5:
            name = "event loop (main)" if tid == server.pid else f"thread {tid}"
            print(f"  {name:<20} {used * 1e6 / requests:6.1f} µs/request")
    print(f"  {'total':<20} {total * 1e6 / requests:6.1f} µs/request")


if __name__ == "__main__":
    main()
