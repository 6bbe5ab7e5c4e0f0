"""DescribeTable on a large table, and what it does to the requests around it (Rivulet, dynalite).

DescribeTable reports ItemCount and TableSizeBytes. A server that counts them on every call takes
time in proportion to the table, and a single-threaded one stalls every other request meanwhile.
This loads one table with --items items (the data suite's ~200-byte item), then, per server:

- DescribeTable alone, --calls times: median and max latency;
- GetItem in a loop on a second connection while DescribeTable runs --calls times on the first:
  the GetItem p50 and max latency (how long other clients wait behind DescribeTable).

    python bench/describe_table.py                      # Rivulet and dynalite, 100,000 items
    python bench/describe_table.py --items 300000 --servers rivulet
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from typing import Any

from dataset import READ_TABLE, client, create_table, preload
from servers import SERVER_NAMES, BenchError, ensure_dynalite, ensure_rivulet, log, start_server

PARTITION_ITEMS = 10


def timed(call: Any) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def measure(name: str, url: str, items: int, calls: int) -> dict[str, Any]:
    ddb = client(url)
    create_table(ddb, READ_TABLE)
    t0 = time.monotonic()
    loaded = preload(url, items // PARTITION_ITEMS, PARTITION_ITEMS)
    log(f"loaded {loaded} items in {time.monotonic() - t0:.1f}s")
    count = ddb.describe_table(TableName=READ_TABLE)["Table"]["ItemCount"]
    # dynalite does not count items (ItemCount stays 0); Rivulet must count every one.
    if name == "rivulet" and count != loaded:
        raise BenchError(f"ItemCount {count} after loading {loaded} items")

    def describe() -> None:
        ddb.describe_table(TableName=READ_TABLE)

    alone = [timed(describe) for _ in range(calls)]

    other = client(url)
    key = {"pk": {"S": "p000000"}, "sk": {"S": "s00"}}
    gets: list[float] = []
    done = threading.Event()

    def getter() -> None:
        while not done.is_set():
            gets.append(timed(lambda: other.get_item(TableName=READ_TABLE, Key=key)))

    thread = threading.Thread(target=getter)
    thread.start()
    time.sleep(0.2)
    during = [timed(describe) for _ in range(calls)]
    done.set()
    thread.join()
    return {
        "items": loaded,
        "count": count,
        "describe_p50": statistics.median(alone),
        "describe_max": max(alone),
        "describe_busy_p50": statistics.median(during),
        "get_p50": statistics.median(gets),
        "get_max": max(gets),
        "gets": len(gets),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", default="rivulet,dynalite")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=20)
    opts = parser.parse_args()
    names = [n for n in opts.servers.split(",") if n]
    for name in names:
        if name not in SERVER_NAMES or name == "moto":
            parser.error(f"unknown or unsupported server {name!r} (rivulet, dynalite)")
    results: dict[str, dict[str, Any]] = {}
    for name in names:
        (ensure_rivulet if name == "rivulet" else ensure_dynalite)()
        server = start_server(name)
        try:
            results[name] = measure(name, server.url, opts.items, opts.calls)
        finally:
            server.stop()
    print(
        f"\nDescribeTable with {opts.items:,} items (ms; GetItem measured on a second connection "
        "while DescribeTable runs)"
    )
    header = (
        "server",
        "ItemCount",
        "describe p50",
        "describe max",
        "GetItem p50",
        "GetItem max",
        "GetItems",
    )
    print("  ".join(f"{h:>13}" for h in header))
    for name, r in results.items():
        row = (
            name,
            f"{r['count']:,}",
            f"{r['describe_p50']:.1f}",
            f"{r['describe_max']:.1f}",
            f"{r['get_p50']:.2f}",
            f"{r['get_max']:.1f}",
            str(r["gets"]),
        )
        print("  ".join(f"{c:>13}" for c in row))
    if "rivulet" in results and "dynalite" in results:
        ratio = results["dynalite"]["describe_p50"] / results["rivulet"]["describe_p50"]
        print(f"\ndynalite / Rivulet DescribeTable p50: {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        sys.exit(1)
