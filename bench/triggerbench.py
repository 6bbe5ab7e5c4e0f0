"""Triggers benchmark: write -> handler latency and delivery throughput of Rivulet's triggers,
against what a user without them runs: a polling consumer in this process calling the same
handler (trigger_handlers.py) with the records of GetRecords pages, on moto's Streams API and on
Rivulet's own.

Latency: a writer puts items at a fixed rate, each carrying the CLOCK_MONOTONIC reading taken
just before its PutItem is sent; the handler notes its own reading when it starts (in Rivulet's
process for a trigger, in this one for a polling consumer). Throughput: preload a table (not
timed), then start a TRIM_HORIZON consumer and time until the handler has been called with every
record.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trigger_handlers
from awsjson import AwsError, Client, dumps, loads
from dataset import item
from servers import BenchError, Server, log
from streambench import (
    GET_RECORDS,
    PUT_ITEM,
    _wait_port,
    create_stream_table,
    describe_shards,
    percentile,
    preload,
    shard_iterator,
    streams_port,
)
from trigger_handlers import ARRIVALS_FILE, TALLY_FILE, now_ns

TRIGGERS = "RivuletTriggers_20261126."
HANDLERS = "bench.trigger_handlers"  # as Rivulet imports it: the repository is on its PYTHONPATH
LATENCY_TABLE = "bench_trigger_latency"
POLL_TABLE = "bench_trigger_poll"
DRAIN_TABLE = "bench_trigger_drain"
TRIGGER = "trigger"
LAMBDA_POLL_S = 0.25  # Lambda's base rate: 4 GetRecords per shard and second
SEEN_TIMEOUT_S = 10.0  # after the last put, how long every record has to reach the handler
WAIT_POLL_S = 0.01  # how often the end of a drain is checked
Handler = Callable[[dict[str, Any], Any], None]


@dataclass
class TriggerBenchConfig:
    rate: float = 200.0  # PutItem/s of the latency writer
    duration: float = 15.0  # measured seconds of writes
    warmup: float = 1.0  # unmeasured writes first (a trigger's first call imports the handler)
    latency_batch_size: int = 100  # the trigger's BatchSize in the latency run (AWS's default)
    items: int = 50_000  # preloaded for Rivulet's throughput runs
    peer_items: int = 5_000  # preloaded for moto's (~1,500 records/s: 50,000 would take 35 s)
    batch_size: int = 1000  # the trigger's BatchSize and the consumer's GetRecords Limit
    handler: str = "sync"  # the trigger's handler: "sync" (in a thread) or "async" (event loop)
    poll_interval: float = LAMBDA_POLL_S  # the latency consumer's poll period per shard
    endpoint: str = "streams"  # Rivulet port of the polling consumers: "streams" or "main"


@dataclass
class LatencyRun:
    server: str
    consumer: str  # "trigger" or "poll N/s"
    shards: int
    rate: float
    achieved_rate: float
    expected: int
    from_send_ms: list[float]  # handler start - just before the PutItem was sent
    from_ack_ms: list[float]  # handler start - PutItem response read (negative: seen before)
    put_ms: list[float]  # PutItem round trips meanwhile
    invocations: int  # handler calls that carried measured records
    duplicates: int  # measured records the handler got more than once
    polls: int  # GetRecords calls of a polling consumer (0 for a trigger)
    duration_s: float
    server_cpu_s: float
    client_cpu_s: float  # this process (writer, and the polling consumer if any)
    problems: list[str] = field(default_factory=list)


@dataclass
class ThroughputRun:
    server: str
    consumer: str  # "trigger" or "poll back-to-back"
    shards: int
    records: int
    batch_size: int
    seconds: float  # start -> the handler call that brought the last records
    committed_seconds: float | None  # trigger: start -> TriggerStatus delivered == records
    invocations: int
    calls: int  # GetRecords calls of a polling consumer (0 for a trigger)
    server_cpu_s: float
    consumer_cpu_s: float  # this process's CPU (a polling consumer); a trigger's is the server's
    preload_seconds: float
    problems: list[str] = field(default_factory=list)

    @property
    def records_per_s(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0


# --- the trigger API -----------------------------------------------------------------------------


def trigger_call(c: Client, op: str, body: dict[str, Any]) -> Any:
    return c.call(TRIGGERS + op, body)


def create_trigger(c: Client, name: str, table: str, function: str, **settings: Any) -> None:
    body = {"name": name, "table": table, "function": f"{HANDLERS}:{function}", **settings}
    trigger_call(c, "CreateTrigger", {"Settings": body})


def trigger_figures(c: Client, name: str) -> dict[str, Any]:
    for t in trigger_call(c, "TriggerStatus", {})["Triggers"]:
        if t["Name"] == name:
            return dict(t)
    raise BenchError(f"trigger {name} not in TriggerStatus")


def handler_name(base: str, kind: str) -> str:
    return f"{base}_async" if kind == "async" else base


# --- the polling consumer --------------------------------------------------------------------------


class PollingConsumer(threading.Thread):
    """One shard, from TRIM_HORIZON: GetRecords, then the handler with the records as Lambda
    would pass them. `period` > 0 starts a poll every `period` seconds (Lambda's base rate);
    0 polls back to back and stops at the first empty page (a drain)."""

    def __init__(
        self, port: int, arn: str, shard_id: str, period: float, limit: int, handler: Handler
    ) -> None:
        super().__init__(daemon=True, name=f"consume-{shard_id[-8:]}")
        self.client = Client("127.0.0.1", port)
        self.arn = arn
        self.iterator: str | None = shard_iterator(self.client, arn, shard_id)
        self.period = period
        self.limit = limit
        self.handler = handler
        self.stop_event = threading.Event()
        self.polls = 0
        self.error: str | None = None

    def run(self) -> None:
        due = time.monotonic()
        try:
            while self.iterator is not None and not self.stop_event.is_set():
                body = dumps({"ShardIterator": self.iterator, "Limit": self.limit})
                resp = loads(self.client.raw(GET_RECORDS, body))
                self.polls += 1
                records = resp["Records"]
                if records:
                    for rec in records:
                        rec["eventSourceARN"] = self.arn  # Lambda's form of the record
                    self.handler({"Records": records}, None)
                self.iterator = resp.get("NextShardIterator")
                if not self.period:
                    if not records:
                        break
                    continue
                due += self.period
                self.stop_event.wait(max(0.0, due - time.monotonic()))
        except (BenchError, OSError) as exc:
            self.error = f"{self.name}: {exc}"
        finally:
            self.client.close()


def consumers(
    server: Server, arn: str, period: float, limit: int, handler: Handler, endpoint: str
) -> list[PollingConsumer]:
    port, _ = streams_port(server, endpoint)
    c = Client("127.0.0.1", port)
    try:
        shards = [
            s
            for s in describe_shards(c, arn)
            if period == 0 or "EndingSequenceNumber" not in s.get("SequenceNumberRange", {})
        ]
    finally:
        c.close()
    return [PollingConsumer(port, arn, s["ShardId"], period, limit, handler) for s in shards]


def open_shards(c: Client, arn: str) -> int:
    return sum(
        1
        for s in describe_shards(c, arn)
        if "EndingSequenceNumber" not in s.get("SequenceNumberRange", {})
    )


# --- latency ---------------------------------------------------------------------------------------


def write_paced(
    c: Client, table: str, prefix: str, count: int, rate: float
) -> tuple[dict[str, int], list[float], float]:
    """PutItem `count` items on a schedule of `rate`/s, one in flight (a put behind schedule
    goes out at once). Each item's `t` is the CLOCK_MONOTONIC ns just before its request is
    sent. Returns {pk: ns when the response was read}, the round trips in ms, the seconds."""
    period = 1e9 / rate
    start = now_ns() + 1_000_000
    acks: dict[str, int] = {}
    puts: list[float] = []
    for i in range(count):
        wait = start + int(i * period) - now_ns()
        if wait > 0:
            time.sleep(wait / 1e9)
        pk = f"{prefix}{i:06d}"
        attrs = item(pk, "s00", i)
        sent = now_ns()
        attrs["t"] = {"N": str(sent)}
        c.raw(PUT_ITEM, dumps({"TableName": table, "Item": attrs}))
        acks[pk] = now_ns()
        puts.append((acks[pk] - sent) / 1e6)
    return acks, puts, (now_ns() - start) / 1e9


def _lines(path: Path) -> list[list[str]]:
    """The whole lines of a handler's file (one being written may be read half-way)."""
    if not path.exists():
        return []
    return [line.split() for line in path.read_text().split("\n")[:-1]]


def read_arrivals(path: Path) -> list[tuple[str, int, int]]:
    """(pk, written ns, handler start ns) per record the handler got, in file order."""
    return [(pk, int(sent), int(started)) for pk, sent, started in _lines(path)]


def _measured_seen(path: Path, prefix: str) -> int:
    return len({pk for pk, _, _ in read_arrivals(path) if pk.startswith(prefix)})


def latency_run(
    server: Server,
    c: Client,
    table: str,
    consumer: str,
    shards: int,
    arrivals: Path,
    cfg: TriggerBenchConfig,
    polls: Callable[[], int],
) -> LatencyRun:
    """Warm-up writes, then the measured ones; wait until the handler has had them all."""
    if cfg.warmup > 0:
        write_paced(c, table, "w", max(1, int(cfg.rate * cfg.warmup)), cfg.rate)
    count = max(1, int(cfg.rate * cfg.duration))
    polls0 = polls()
    server_cpu0 = server.cpu_seconds()
    client_cpu0 = time.process_time()
    acks, puts, seconds = write_paced(c, table, "m", count, cfg.rate)
    server_cpu = server.cpu_seconds() - server_cpu0
    client_cpu = time.process_time() - client_cpu0
    polled = polls() - polls0
    deadline = time.monotonic() + SEEN_TIMEOUT_S
    while _measured_seen(arrivals, "m") < count and time.monotonic() < deadline:
        time.sleep(WAIT_POLL_S)
    first: dict[str, tuple[int, int]] = {}
    duplicates = 0
    for pk, sent, started in read_arrivals(arrivals):
        if not pk.startswith("m"):
            continue
        if pk in first:
            duplicates += 1
        else:
            first[pk] = (sent, started)
    problems = []
    if len(first) != count:
        problems.append(
            f"{count - len(first)} of {count} records not seen by the handler "
            f"{SEEN_TIMEOUT_S:.0f}s after the last put"
        )
    if duplicates:
        problems.append(f"{duplicates} records delivered more than once")
    return LatencyRun(
        server=server.name,
        consumer=consumer,
        shards=shards,
        rate=cfg.rate,
        achieved_rate=count / seconds if seconds else 0.0,
        expected=count,
        from_send_ms=[(started - sent) / 1e6 for sent, started in first.values()],
        from_ack_ms=[(started - acks[pk]) / 1e6 for pk, (_, started) in first.items()],
        put_ms=puts,
        invocations=len({started for _, started in first.values()}),
        duplicates=duplicates,
        polls=polled,
        duration_s=seconds,
        server_cpu_s=server_cpu,
        client_cpu_s=client_cpu,
        problems=problems,
    )


def trigger_latency(server: Server, cfg: TriggerBenchConfig) -> LatencyRun:
    c = Client("127.0.0.1", server.port)
    try:
        arn = create_stream_table(c, LATENCY_TABLE)
        name = "bench-latency"
        create_trigger(
            c,
            name,
            LATENCY_TABLE,
            handler_name("record_arrivals", cfg.handler),
            starting_position="LATEST",
            batch_size=cfg.latency_batch_size,
            maximum_batching_window_in_seconds=0,
        )
        server.wait_idle()
        run = latency_run(
            server,
            c,
            LATENCY_TABLE,
            TRIGGER,
            open_shards(c, arn),
            server.workdir / ARRIVALS_FILE,
            cfg,
            lambda: 0,
        )
        trigger_call(c, "DeleteTrigger", {"Name": name})
    finally:
        c.close()
    return run


@contextlib.contextmanager
def consumer_files() -> Iterator[Path]:
    """A fresh directory for the files the handler writes in this process, removed after."""
    with tempfile.TemporaryDirectory(prefix="rivulet-bench-consumer-") as tmp:
        trigger_handlers.use_directory(Path(tmp))
        try:
            yield Path(tmp)
        finally:
            trigger_handlers.use_directory(None)


def polling_latency(server: Server, cfg: TriggerBenchConfig, table: str) -> LatencyRun:
    c = Client("127.0.0.1", server.port)
    try:
        arn = create_stream_table(c, table)
        with consumer_files() as workdir:
            polling = consumers(
                server,
                arn,
                cfg.poll_interval,
                cfg.batch_size,
                trigger_handlers.record_arrivals,
                cfg.endpoint,
            )
            server.wait_idle()
            for p in polling:
                p.start()
            try:
                run = latency_run(
                    server,
                    c,
                    table,
                    f"poll {1 / cfg.poll_interval:g}/s",
                    len(polling),
                    workdir / ARRIVALS_FILE,
                    cfg,
                    lambda: sum(p.polls for p in polling),
                )
            finally:
                for p in polling:
                    p.stop_event.set()
                for p in polling:
                    p.join(timeout=30)
    finally:
        c.close()
    run.problems.extend(p.error for p in polling if p.error)
    return run


# --- throughput ------------------------------------------------------------------------------------


def read_tally(path: Path) -> list[tuple[int, int]]:
    """(handler start ns, records) per invocation."""
    return [(int(started), int(n)) for started, n in _lines(path)]


def _tally_problems(calls: list[tuple[int, int]], records: int) -> list[str]:
    got = sum(n for _, n in calls)
    return [] if got == records else [f"the handler got {got:,} records of {records:,}"]


def preload_table(server: Server, table: str, items: int) -> tuple[str, float]:
    c = Client("127.0.0.1", server.port)
    try:
        arn = create_stream_table(c, table)
    finally:
        c.close()
    log(f"{server.name}: preloading {items:,} items into {table}")
    # moto numbers stream records without a lock: one writer (see streambench.run_drain).
    seconds = preload(server.port, table, items, 1 if server.name == "moto" else 4)
    log(f"{server.name}: preload took {seconds:.1f}s ({items / seconds:,.0f} items/s)")
    return arn, seconds


def trigger_throughput(
    server: Server, arn: str, records: int, preload_s: float, cfg: TriggerBenchConfig
) -> ThroughputRun:
    """CreateTrigger TRIM_HORIZON on the preloaded table; time until the handler has had every
    record, and until TriggerStatus shows them delivered (checkpointed)."""
    name = "bench-drain"
    c = Client("127.0.0.1", server.port)
    try:
        shards = len(describe_shards(c, arn))
        server.wait_idle()
        cpu0 = server.cpu_seconds()
        start = now_ns()
        create_trigger(
            c,
            name,
            DRAIN_TABLE,
            handler_name("tally", cfg.handler),
            starting_position="TRIM_HORIZON",
            batch_size=cfg.batch_size,
            maximum_batching_window_in_seconds=0,
        )
        deadline = time.monotonic() + max(60.0, records / 1000)
        tally = server.workdir / TALLY_FILE
        # The handler's own file first (no requests to the server while it works), then the
        # checkpoints: `delivered` is committed with them.
        while sum(n for _, n in read_tally(tally)) < records and time.monotonic() < deadline:
            time.sleep(WAIT_POLL_S)
        delivered = 0
        while delivered < records and time.monotonic() < deadline:
            delivered = int(trigger_figures(c, name)["Figures"]["delivered"])
            if delivered < records:
                time.sleep(WAIT_POLL_S)
        committed = (now_ns() - start) / 1e9 if delivered >= records else None
        server_cpu = server.cpu_seconds() - cpu0
        trigger_call(c, "DeleteTrigger", {"Name": name})
    finally:
        c.close()
    calls = read_tally(tally)
    problems = _tally_problems(calls, records)
    if committed is None:
        problems.append(f"TriggerStatus delivered {delivered:,} of {records:,} within the timeout")
    return ThroughputRun(
        server=server.name,
        consumer=TRIGGER,
        shards=shards,
        records=records,
        batch_size=cfg.batch_size,
        seconds=(max(s for s, _ in calls) - start) / 1e9 if calls else 0.0,
        committed_seconds=committed,
        invocations=len(calls),
        calls=0,
        server_cpu_s=server_cpu,
        consumer_cpu_s=0.0,
        preload_seconds=preload_s,
        problems=problems,
    )


def polling_throughput(
    server: Server, arn: str, records: int, preload_s: float, cfg: TriggerBenchConfig
) -> ThroughputRun:
    """One consumer per shard, back to back from TRIM_HORIZON, calling the same no-op handler."""
    with consumer_files() as workdir:
        server.wait_idle()
        cpu0 = server.cpu_seconds()
        own0 = time.process_time()
        start = now_ns()
        polling = consumers(server, arn, 0, cfg.batch_size, trigger_handlers.tally, cfg.endpoint)
        for p in polling:
            p.start()
        for p in polling:
            p.join()
        server_cpu = server.cpu_seconds() - cpu0
        own_cpu = time.process_time() - own0
        calls = read_tally(workdir / TALLY_FILE)
    problems = _tally_problems(calls, records) + [p.error for p in polling if p.error]
    return ThroughputRun(
        server=server.name,
        consumer="poll back-to-back",
        shards=len(polling),
        records=records,
        batch_size=cfg.batch_size,
        seconds=(max(s for s, _ in calls) - start) / 1e9 if calls else 0.0,
        committed_seconds=None,
        invocations=len(calls),
        calls=sum(p.polls for p in polling),
        server_cpu_s=server_cpu,
        consumer_cpu_s=own_cpu,
        preload_seconds=preload_s,
        problems=problems,
    )


# --- one server ------------------------------------------------------------------------------------


def _log_latency(r: LatencyRun) -> None:
    def ms(values: list[float], q: float) -> str:
        v = percentile(values, q)
        return "-" if v is None else f"{v:.2f}"

    log(
        f"{r.server:8} {r.consumer:17} latency {len(r.from_send_ms)}/{r.expected} at "
        f"{r.achieved_rate:.0f} puts/s: from send p50 {ms(r.from_send_ms, 50)} "
        f"p99 {ms(r.from_send_ms, 99)} max {ms(r.from_send_ms, 100)} ms; from ack p50 "
        f"{ms(r.from_ack_ms, 50)} ms; PutItem p50 {ms(r.put_ms, 50)} p99 {ms(r.put_ms, 99)} ms; "
        f"{r.invocations} invocations; server CPU {r.server_cpu_s / r.duration_s:.0%}"
    )
    for p in r.problems:
        log(f"{r.server}: PROBLEM: {p}")


def _log_throughput(r: ThroughputRun) -> None:
    committed = "" if r.committed_seconds is None else f" (checkpointed {r.committed_seconds:.2f}s)"
    log(
        f"{r.server:8} {r.consumer:17} drain {r.records:,} records in {r.seconds:.2f}s"
        f"{committed} = {r.records_per_s:,.0f} records/s, {r.invocations} invocations; CPU "
        f"server {1e6 * r.server_cpu_s / r.records:.1f} + consumer "
        f"{1e6 * r.consumer_cpu_s / r.records:.1f} us/record"
    )
    for p in r.problems:
        log(f"{r.server}: PROBLEM: {p}")


def bench_triggers(
    server: Server, cfg: TriggerBenchConfig
) -> tuple[list[LatencyRun], list[ThroughputRun]]:
    """Rivulet: trigger and polling consumer on each measure. moto: the polling consumer."""
    latencies: list[LatencyRun] = []
    drains: list[ThroughputRun] = []
    try:
        if server.streams_port is not None and cfg.endpoint == "streams":
            _wait_port(server)
        if server.name == "rivulet":
            latencies.append(trigger_latency(server, cfg))
            _log_latency(latencies[-1])
        latencies.append(polling_latency(server, cfg, POLL_TABLE))
        _log_latency(latencies[-1])
        records = cfg.items if server.name == "rivulet" else cfg.peer_items
        arn, preload_s = preload_table(server, DRAIN_TABLE, records)
        if server.name == "rivulet":
            drains.append(trigger_throughput(server, arn, records, preload_s, cfg))
            _log_throughput(drains[-1])
        drains.append(polling_throughput(server, arn, records, preload_s, cfg))
        _log_throughput(drains[-1])
    except AwsError as exc:
        raise BenchError(f"{server.name}: {exc}") from exc
    if server.proc.poll() is not None:
        raise BenchError(f"{server.name} died during the triggers suite:\n{server.log_tail()}")
    return latencies, drains
