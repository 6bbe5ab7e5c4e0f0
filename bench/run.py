"""One-command benchmark of Rivulet against its peers, in three suites.

data:     Rivulet vs dynalite vs moto on PutItem, GetItem and Query, driven by wrk.
streams:  Rivulet vs moto on DynamoDB Streams: drain records/s and put->visible latency.
triggers: Rivulet's triggers vs a polling consumer (on moto and on Rivulet's Streams API):
          write->handler latency and records/s delivered to a no-op handler.
"""

from __future__ import annotations

import argparse
import dataclasses
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

import streamreport
import triggerreport
from dataset import prepare
from loadgen import OPS, WrkResult, run_wrk, script_args
from report import Measurement, render, render_tables, to_json
from servers import (
    DYNALITE_CLI,
    ENSURE,
    SERVER_NAMES,
    BenchError,
    Server,
    ensure_wrk,
    log,
    rivulet_has_streams,
    start_server,
)
from streambench import DrainResult, LatencyResult, StreamConfig, bench_streams
from triggerbench import LatencyRun, ThroughputRun, TriggerBenchConfig, bench_triggers

SUITES = ("data", "streams", "triggers")
STREAM_SERVERS = ("rivulet", "moto")  # dynalite has no Streams API
TRIGGER_SERVERS = STREAM_SERVERS  # moto: only its polling consumer (no triggers)

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
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--suite",
        type=_csv(SUITES),
        default=list(SUITES),
        help="data,streams,triggers (default: all)",
    )
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
    streams = parser.add_argument_group("streams suite")
    streams.add_argument(
        "--stream-items", type=int, default=50_000, help="items preloaded for the drain"
    )
    streams.add_argument("--stream-limit", type=int, default=1000, help="GetRecords Limit")
    streams.add_argument(
        "--drain-readers",
        type=int,
        default=0,
        help="shards read concurrently during the drain (0: all shards at once)",
    )
    streams.add_argument(
        "--drain-passes",
        type=int,
        default=5,
        help="times the stream is drained; the median pass is reported (one if a pass takes >5s)",
    )
    streams.add_argument(
        "--drain-parse",
        action="store_true",
        help="timed drain readers parse every page with orjson (default: count records with "
        "byte searches; every page is parsed and checked after the clock stops either way)",
    )
    streams.add_argument(
        "--stream-rate", type=float, default=200.0, help="PutItem/s during the latency run"
    )
    streams.add_argument(
        "--stream-duration", type=float, default=10.0, help="measured seconds of the latency run"
    )
    streams.add_argument(
        "--stream-warmup", type=float, default=1.0, help="unmeasured seconds of puts first"
    )
    streams.add_argument(
        "--stream-baseline",
        type=float,
        default=5.0,
        help="seconds of the same PutItems before the readers start, for their latency alone (0: skip)",
    )
    streams.add_argument(
        "--poll-interval",
        type=float,
        default=0.0,
        help="ms a latency reader sleeps after an empty GetRecords (0: re-poll at once)",
    )
    streams.add_argument(
        "--streams-endpoint",
        choices=("streams", "main"),
        default="streams",
        help="Rivulet port the stream readers use: the dedicated streams listener or the main one",
    )
    triggers = parser.add_argument_group("triggers suite")
    triggers.add_argument(
        "--trigger-rate", type=float, default=200.0, help="PutItem/s during the latency runs"
    )
    triggers.add_argument(
        "--trigger-duration",
        type=float,
        default=15.0,
        help="measured seconds of writes per latency run",
    )
    triggers.add_argument(
        "--trigger-warmup", type=float, default=1.0, help="unmeasured seconds of writes first"
    )
    triggers.add_argument(
        "--trigger-latency-batch-size",
        type=int,
        default=100,
        help="BatchSize of the latency trigger",
    )
    triggers.add_argument(
        "--trigger-items",
        type=int,
        default=50_000,
        help="records preloaded for Rivulet's throughput runs",
    )
    triggers.add_argument(
        "--trigger-peer-items",
        type=int,
        default=5_000,
        help="records preloaded for moto's throughput run",
    )
    triggers.add_argument(
        "--trigger-batch-size",
        type=int,
        default=1000,
        help="BatchSize of the throughput trigger, GetRecords Limit of the polling consumers",
    )
    triggers.add_argument(
        "--trigger-handler",
        choices=("sync", "async"),
        default="sync",
        help="the trigger's handler: a sync def (run in a thread) or an async def (event loop)",
    )
    triggers.add_argument(
        "--trigger-poll-interval",
        type=float,
        default=250.0,
        help="ms between polls of a shard by the latency consumers (250: Lambda's 4/s)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write results as JSON here")
    parser.add_argument(
        "--plain", action="store_true", help="plain-text tables even if rich is installed"
    )
    args = parser.parse_args(argv)
    if args.trigger_poll_interval <= 0:
        parser.error("--trigger-poll-interval must be > 0")
    return args


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


def environment(wrk: str | None, servers: list[str]) -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    if wrk is not None:
        wrk_version = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
        versions["wrk"] = (wrk_version.stdout or wrk_version.stderr).split("\n")[0]
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


def stream_config(args: argparse.Namespace) -> StreamConfig:
    return StreamConfig(
        items=args.stream_items,
        limit=args.stream_limit,
        drain_readers=args.drain_readers,
        drain_passes=max(1, args.drain_passes),
        parse=args.drain_parse,
        rate=args.stream_rate,
        duration=args.stream_duration,
        warmup=args.stream_warmup,
        baseline=args.stream_baseline,
        poll_interval=args.poll_interval / 1000,
        endpoint=args.streams_endpoint,
    )


def stream_servers(servers: list[str]) -> list[str]:
    chosen = []
    for name in servers:
        if name not in STREAM_SERVERS:
            log(f"streams suite: skipping {name} (no DynamoDB Streams API)")
        elif name == "rivulet" and not rivulet_has_streams():
            log("streams suite: skipping rivulet (`rivulet serve` has no --stream-shards yet)")
        else:
            chosen.append(name)
    return chosen


def run_streams(
    names: list[str], args: argparse.Namespace
) -> tuple[list[DrainResult], list[LatencyResult]]:
    cfg = stream_config(args)
    drains, latencies = [], []
    for name in names:
        server = start_server(name, args.rivulet_args if name == "rivulet" else None)
        try:
            drain, latency = bench_streams(server, cfg)
        finally:
            server.stop()
        drains.append(drain)
        latencies.append(latency)
    return drains, latencies


def trigger_config(args: argparse.Namespace) -> TriggerBenchConfig:
    return TriggerBenchConfig(
        rate=args.trigger_rate,
        duration=args.trigger_duration,
        warmup=args.trigger_warmup,
        latency_batch_size=args.trigger_latency_batch_size,
        items=args.trigger_items,
        peer_items=args.trigger_peer_items,
        batch_size=args.trigger_batch_size,
        handler=args.trigger_handler,
        poll_interval=args.trigger_poll_interval / 1000,
        endpoint=args.streams_endpoint,
    )


def trigger_servers(servers: list[str]) -> list[str]:
    chosen = []
    for name in servers:
        if name not in TRIGGER_SERVERS:
            log(f"triggers suite: skipping {name} (no DynamoDB Streams API)")
        else:
            chosen.append(name)
    return chosen


def run_triggers(
    names: list[str], args: argparse.Namespace
) -> tuple[list[LatencyRun], list[ThroughputRun]]:
    cfg = trigger_config(args)
    latencies: list[LatencyRun] = []
    drains: list[ThroughputRun] = []
    for name in names:
        server = start_server(name, args.rivulet_args if name == "rivulet" else None)
        try:
            lat, drain = bench_triggers(server, cfg)
        finally:
            server.stop()
        latencies.extend(lat)
        drains.extend(drain)
    return latencies, drains


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results: list[Measurement] = []
    meta: dict[str, Any] = {}
    try:
        needed = set(args.servers) if "data" in args.suite else set()
        if "streams" in args.suite:
            needed |= set(args.servers) & set(STREAM_SERVERS)
        if "triggers" in args.suite:
            needed |= set(args.servers) & set(TRIGGER_SERVERS)
        for name in args.servers:
            if name in needed:
                ENSURE[name]()
        if "data" in args.suite:
            results = run_data(args, meta)
            render(results, use_rich=not args.plain)
        if "streams" in args.suite:
            names = stream_servers(args.servers)
            if not meta:
                meta.update(environment(None, names))
            drains, latencies = run_streams(names, args)
            render_tables(streamreport.tables(drains, latencies), use_rich=not args.plain)
            meta["streams"] = streamreport.to_json(
                drains, latencies, {"servers": names, **dataclasses.asdict(stream_config(args))}
            )
        if "triggers" in args.suite:
            names = trigger_servers(args.servers)
            if not meta:
                meta.update(environment(None, names))
            trigger_lat, trigger_drains = run_triggers(names, args)
            render_tables(
                triggerreport.tables(trigger_lat, trigger_drains), use_rich=not args.plain
            )
            meta["triggers"] = triggerreport.to_json(
                trigger_lat,
                trigger_drains,
                {
                    "servers": names,
                    "rivulet_args": args.rivulet_args,
                    **dataclasses.asdict(trigger_config(args)),
                },
            )
    except BenchError as exc:
        log(f"FAILED: {exc}")
        return 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    if args.json:
        out = to_json(results, meta) if "data" in args.suite else meta
        args.json.write_text(json.dumps(out, indent=2) + "\n")
        log(f"wrote {args.json}")
    return 0


def run_data(args: argparse.Namespace, meta: dict[str, Any]) -> list[Measurement]:
    results: list[Measurement] = []
    wrk = ensure_wrk()
    meta.update(environment(wrk, args.servers))
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
    return results


if __name__ == "__main__":
    sys.exit(main())
