"""One-command benchmark: Rivulet vs dynalite vs moto on PutItem, GetItem and Query, driven by wrk."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from dataset import prepare
from loadgen import OPS, WrkResult, run_wrk, script_args
from report import Measurement, render, to_json
from servers import (
    DYNALITE_CLI,
    ENSURE,
    SERVER_NAMES,
    BenchError,
    Server,
    ensure_wrk,
    log,
    start_server,
)

MIN_REQUESTS_PER_CONNECTION = 2
SLOW_DURATION = 20.0


def _csv(allowed: tuple[str, ...]) -> Any:
    def parse(text: str) -> list[str]:
        names = [part.strip() for part in text.split(",") if part.strip()]
        bad = [n for n in names if n not in allowed]
        if bad or not names:
            raise argparse.ArgumentTypeError(f"choose from {','.join(allowed)}; got {text!r}")
        return names

    return parse


def _int_csv(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from exc
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("connection counts must be >= 1")
    return values


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--servers", type=_csv(SERVER_NAMES), default=list(SERVER_NAMES))
    parser.add_argument("--ops", type=_csv(OPS), default=list(OPS))
    parser.add_argument("--connections", type=_int_csv, default=[1, 16, 64])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds measured per phase")
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="seconds of unmeasured load first"
    )
    parser.add_argument("--partitions", type=int, default=1000, help="preloaded partitions")
    parser.add_argument("--items", type=int, default=10, help="items per preloaded partition")
    parser.add_argument(
        "--rivulet-args",
        type=shlex.split,
        default=[],
        help="extra `rivulet serve` flags, e.g. '--durability normal'",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write results as JSON here")
    parser.add_argument(
        "--plain", action="store_true", help="plain-text tables even if rich is installed"
    )
    return parser.parse_args(argv)


def bench_server(name: str, wrk: str, args: argparse.Namespace, results: list[Measurement]) -> None:
    server = start_server(name, args.rivulet_args if name == "rivulet" else None)
    try:
        prepare(
            server.url,
            args.partitions,
            args.items,
            need_read=bool({"get", "query"} & set(args.ops)),
        )
        for op in args.ops:
            for conns in args.connections:
                results.append(run_phase(server, wrk, op, conns, args))
    finally:
        server.stop()


def run_phase(
    server: Server, wrk: str, op: str, conns: int, args: argparse.Namespace
) -> Measurement:
    def wrk_args(tag: str) -> list[str]:
        return script_args(op, f"{tag}{conns}", args.partitions, args.items)

    if args.warmup > 0:
        run_wrk(wrk, server.url, op, conns, args.warmup, wrk_args("w"))
    result, cpu_used = measure(server, wrk, op, conns, args.duration, wrk_args("m"))
    if result.requests < MIN_REQUESTS_PER_CONNECTION * conns and args.duration < SLOW_DURATION:
        # Too few completions for a rate (e.g. moto Query at 64 connections): measure longer.
        log(
            f"{server.name} {op} c={conns}: only {result.requests} requests; re-measuring for {SLOW_DURATION:.0f}s"
        )
        result, cpu_used = measure(server, wrk, op, conns, SLOW_DURATION, wrk_args("s"))
    cpu_us = 1e6 * cpu_used / result.requests if result.requests else None
    log(
        f"{server.name:8} {op:5} c={conns:<3} {result.rps:10,.0f} req/s  p50 {_ms(result.p50_ms)}"
        f"  p99 {_ms(result.p99_ms)}  cpu {_num(cpu_us, '6.0f')} us/req"
        + (f"  socket errors {result.socket_errors}" if result.socket_errors else "")
    )
    return Measurement(server.name, op, conns, result, cpu_us)


def measure(
    server: Server, wrk: str, op: str, conns: int, duration: float, args: list[str]
) -> tuple[WrkResult, float]:
    """One measured wrk run on an idle server; returns the result and the server CPU it used."""
    server.wait_idle()
    cpu_before = server.cpu_seconds()
    result = run_wrk(wrk, server.url, op, conns, duration, args)
    cpu_used = server.cpu_seconds() - cpu_before
    if server.proc.poll() is not None:
        raise BenchError(f"{server.name} died during {op}:\n{server.log_tail()}")
    return result, cpu_used


def _num(value: float | None, spec: str) -> str:
    return "-".rjust(len(format(0.0, spec))) if value is None else format(value, spec)


def _ms(value: float | None) -> str:
    return f"{_num(value, '7.2f')} ms"


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def environment(wrk: str, servers: list[str]) -> dict[str, Any]:
    wrk_version = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
    versions: dict[str, str | None] = {
        "wrk": (wrk_version.stdout or wrk_version.stderr).split("\n")[0]
    }
    if "rivulet" in servers:
        versions["rivulet"] = _version("rivulet")
    if "moto" in servers:
        versions["moto"] = _version("moto")
    if "dynalite" in servers:
        package = DYNALITE_CLI.parent / "package.json"
        versions["dynalite"] = (
            json.loads(package.read_text()).get("version") if package.exists() else None
        )
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "versions": versions,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results: list[Measurement] = []
    try:
        wrk = ensure_wrk()
        for name in args.servers:
            ENSURE[name]()
        meta = environment(wrk, args.servers)
        meta["config"] = {
            k: getattr(args, k)
            for k in (
                "servers",
                "ops",
                "connections",
                "duration",
                "warmup",
                "partitions",
                "items",
                "rivulet_args",
            )
        }
        for name in args.servers:
            bench_server(name, wrk, args, results)
    except BenchError as exc:
        log(f"FAILED: {exc}")
        return 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    render(results, use_rich=not args.plain)
    if args.json:
        args.json.write_text(json.dumps(to_json(results, meta), indent=2) + "\n")
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
