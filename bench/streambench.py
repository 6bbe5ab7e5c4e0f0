"""DynamoDB Streams benchmark: drain throughput and put->visible latency, over the lean client.

Drain: preload a NEW_AND_OLD_IMAGES table (not measured), then read every shard from
TRIM_HORIZON with GetRecords until a page comes back empty; records/s of the reading only.
Latency: one reader thread per shard polls GetRecords; a writer puts items at a fixed rate, each
carrying the perf_counter_ns at which its PutItem started; a reader that first sees the record
takes its own perf_counter_ns (same process, same clock) right after the response arrives.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from awsjson import STREAMS, AwsError, Client, dumps, loads
from dataset import BATCH, item
from servers import BenchError, Server, log

DRAIN_TABLE = "bench_stream_drain"
LATENCY_TABLE = "bench_stream_latency"
GET_RECORDS = STREAMS + "GetRecords"
PUT_ITEM = "DynamoDB_20120810.PutItem"
LONG_PASS_S = 5.0


@dataclass
class DrainResult:
    server: str
    endpoint: str  # "main" or "streams" (Rivulet's dedicated listener)
    shards: int
    readers: int
    records: int
    calls: int  # GetRecords calls, the final empty one of every shard included
    seconds: float
    preload_seconds: float
    client_cpu_s: float  # CPU of the reader threads while timed (HTTP, counting or parsing)
    server_cpu_s: float
    parsed: bool  # True: the timed readers parsed every page; False: counted with byte searches
    parse_cpu_s: float  # CPU a full orjson parse of all pages took (measured after the clock)
    problems: list[str] = field(default_factory=list)
    pass_rates: list[float] = field(default_factory=list)  # records/s of every pass run

    @property
    def records_per_s(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


@dataclass
class LatencyResult:
    server: str
    endpoint: str
    shards: int
    rate: float  # PutItem/s asked for
    achieved_rate: float
    poll_interval_ms: float
    expected: int
    latencies_ms: list[float]  # put started -> first seen by a reader, one per record seen
    after_ack_ms: list[float]  # put acknowledged -> first seen (0 when seen before the ack)
    put_ms: list[float]  # PutItem round trips (request start -> response read)
    put_alone_ms: list[float]  # the same before the readers start (nothing polling)
    polls: int
    empty_polls: int
    duration_s: float
    client_cpu_s: float  # the whole client process (pollers + writer) while measured
    server_cpu_s: float
    problems: list[str] = field(default_factory=list)

    def pct(self, q: float, values: list[float] | None = None) -> float | None:
        return percentile(self.latencies_ms if values is None else values, q)


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of unsorted values; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil without floats
    return ordered[min(len(ordered), int(rank)) - 1]


@dataclass
class StreamConfig:
    items: int = 50_000
    preload_threads: int = 4
    limit: int = 1000
    drain_readers: int = 0  # 0: one concurrent reader per shard
    drain_passes: int = 5  # full re-reads from TRIM_HORIZON; the median is reported
    parse: bool = False  # timed drain readers parse every page (a consumer's cost) or count
    rate: float = 200.0
    duration: float = 10.0
    warmup: float = 1.0
    poll_interval: float = 0.0  # seconds a reader sleeps after an empty page
    baseline: float = 5.0  # seconds of the same puts before any reader starts (0: skip)
    endpoint: str = "streams"  # Rivulet: dedicated streams listener ("streams") or "main"


def streams_port(server: Server, endpoint: str) -> tuple[int, str]:
    if endpoint == "streams" and server.streams_port is not None:
        return server.streams_port, "streams"
    return server.port, "main"


# --- table and stream set-up -------------------------------------------------------------


def create_stream_table(c: Client, name: str, timeout: float = 30.0) -> str:
    """Create a pk/sk table with a NEW_AND_OLD_IMAGES stream; return the stream ARN once enabled."""
    c.ddb(
        "CreateTable",
        {
            "TableName": name,
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        },
    )
    deadline = time.monotonic() + timeout
    while True:
        table = c.ddb("DescribeTable", {"TableName": name})["Table"]
        arn = table.get("LatestStreamArn")
        if table["TableStatus"] == "ACTIVE" and arn:
            break
        if time.monotonic() > deadline:
            raise BenchError(f"table {name} not ACTIVE with a stream after {timeout:.0f}s")
        time.sleep(0.05)
    while True:
        desc = c.streams("DescribeStream", {"StreamArn": arn})["StreamDescription"]
        if desc["StreamStatus"] == "ENABLED" and desc["Shards"]:
            return str(arn)
        if time.monotonic() > deadline:
            raise BenchError(f"stream of {name} not ENABLED after {timeout:.0f}s: {desc}")
        time.sleep(0.05)


def describe_shards(c: Client, arn: str) -> list[dict[str, Any]]:
    shards: list[dict[str, Any]] = []
    body: dict[str, Any] = {"StreamArn": arn}
    while True:
        desc = c.streams("DescribeStream", body)["StreamDescription"]
        shards.extend(desc["Shards"])
        last = desc.get("LastEvaluatedShardId")
        if not last:
            return shards
        body = {"StreamArn": arn, "ExclusiveStartShardId": last}


def shard_iterator(c: Client, arn: str, shard_id: str, kind: str = "TRIM_HORIZON") -> str:
    body = {"StreamArn": arn, "ShardId": shard_id, "ShardIteratorType": kind}
    return str(c.streams("GetShardIterator", body)["ShardIterator"])


def drain_key(n: int) -> str:
    return f"d{n:07d}"


def preload(port: int, table: str, count: int, threads: int) -> float:
    """BatchWriteItem `count` items from several threads; return the seconds it took."""
    batches = [list(range(i, min(count, i + BATCH))) for i in range(0, count, BATCH)]
    local = threading.local()

    def write(numbers: list[int]) -> None:
        if not hasattr(local, "client"):
            local.client = Client("127.0.0.1", port)
        requests = [{"PutRequest": {"Item": item(drain_key(n), "s00", n)}} for n in numbers]
        pending: dict[str, Any] = {table: requests}
        for attempt in range(50):
            left = local.client.ddb("BatchWriteItem", {"RequestItems": pending}).get(
                "UnprocessedItems"
            )
            if not left:
                return
            pending = left
            time.sleep(0.01 * (attempt + 1))
        raise BenchError("BatchWriteItem kept returning UnprocessedItems")

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(write, batches))
    return time.perf_counter() - start


# --- drain -------------------------------------------------------------------------------


_RECORD_MARK = b'"eventID"'
_NEXT_MARK = b'"NextShardIterator"'
_JSON_STRING = re.compile(rb'\s*:\s*("(?:[^"\\]|\\.)*")')


def count_records(page: bytes) -> int:
    """Records in a GetRecords body: every record has exactly one "eventID" member."""
    return page.count(_RECORD_MARK)


def next_iterator(page: bytes) -> str | None:
    """NextShardIterator of a GetRecords body without parsing the records (None when absent)."""
    at = page.find(_NEXT_MARK)
    if at < 0:
        return None
    value = _JSON_STRING.match(page, at + len(_NEXT_MARK))
    return None if value is None else str(loads(value.group(1)))


@dataclass
class _ShardRead:
    pages: list[bytes] = field(default_factory=list)  # raw bodies, parsed after the clock stops
    counted: list[int] = field(default_factory=list)  # records per page as counted while timed
    calls: int = 0
    cpu_s: float = 0.0


def _read_shard(port: int, arn: str, shard_id: str, limit: int, parse: bool) -> _ShardRead:
    """Follow one shard from TRIM_HORIZON until a page is empty (or the shard ends).

    Lean by default: the records are counted and NextShardIterator found with byte searches,
    so the client costs ~1 us per record; `parse` runs orjson over every page instead, as a
    consumer would.
    """
    cpu0 = time.thread_time()
    out = _ShardRead()
    c = Client("127.0.0.1", port)
    try:
        it: str | None = shard_iterator(c, arn, shard_id)
        while it is not None:
            page = c.raw(GET_RECORDS, dumps({"ShardIterator": it, "Limit": limit}))
            out.calls += 1
            if parse:
                resp = loads(page)
                n = len(resp["Records"])
                it = resp.get("NextShardIterator")
            else:
                n = count_records(page)
                it = next_iterator(page)
            if not n:
                break
            out.pages.append(page)
            out.counted.append(n)
    finally:
        c.close()
    out.cpu_s = time.thread_time() - cpu0
    return out


def _check_drain(reads: list[_ShardRead], count: int) -> tuple[list[str], float]:
    """Parse every page read (untimed): records, order and images; plus the parse CPU time."""
    problems = []
    # A consumer parses a page and lets it go: time exactly that, before keeping any records
    # (keeping 50,000 parsed records alive would add the cyclic GC's passes to the figure).
    # Best of two rounds: the first also pays the page faults of memory touched for the first time.
    parse_s = float("inf")
    for _ in range(2):
        cpu0 = time.thread_time()
        for r in reads:
            for page in r.pages:
                loads(page)
        parse_s = min(parse_s, time.thread_time() - cpu0)
    parsed = [[loads(page)["Records"] for page in r.pages] for r in reads]
    miscounted = sum(
        1
        for r, pages in zip(reads, parsed, strict=True)
        for n, recs in zip(r.counted, pages, strict=True)
        if n != len(recs)
    )
    if miscounted:
        problems.append(f"{miscounted} pages: counted records differ from parsed records")
    shards = [[rec for page in pages for rec in page] for pages in parsed]
    keys = [rec["dynamodb"]["Keys"]["pk"]["S"] for shard in shards for rec in shard]
    if len(keys) != count or len(set(keys)) != count:
        dupes = len(keys) - len(set(keys))
        missing = count - len(set(keys) & {drain_key(n) for n in range(count)})
        problems.append(
            f"drain read {len(keys)} records for {count} items ({dupes} duplicates, {missing} missing)"
        )
    for i, shard in enumerate(shards):
        numbers = [int(rec["dynamodb"]["SequenceNumber"]) for rec in shard]
        pairs = list(itertools.pairwise(numbers))
        repeated = sum(1 for a, b in pairs if b == a)
        decreasing = sum(1 for a, b in pairs if b < a)
        distinct = len(set(numbers))
        if repeated or decreasing or distinct != len(numbers):
            problems.append(
                f"shard {i}: sequence numbers not strictly increasing ({len(numbers) - distinct} "
                f"duplicated, {decreasing} steps backwards, {repeated} repeated in a row)"
            )
    for rec in (rec for shard in shards for rec in shard):
        ddb = rec["dynamodb"]
        pk = ddb["Keys"]["pk"]["S"]
        want = item(pk, "s00", int(pk[1:]))
        if rec.get("eventName") != "INSERT" or ddb.get("NewImage") != want:
            problems.append(f"record for {pk} is not an INSERT with the written NewImage")
            break
        if "OldImage" in ddb:
            problems.append(f"INSERT record for {pk} has an OldImage")
            break
    return problems, parse_s


def _drain_pass(server: Server, port: int, arn: str, cfg: StreamConfig) -> DrainResult:
    """Read every shard once from TRIM_HORIZON; time, CPU and records of this pass."""
    sc = Client("127.0.0.1", port)
    cpu_before = server.cpu_seconds()
    main_cpu0 = time.thread_time()
    start = time.perf_counter()
    shards = describe_shards(sc, arn)
    readers = cfg.drain_readers or len(shards)
    with ThreadPoolExecutor(max_workers=readers) as pool:
        reads = list(
            pool.map(lambda s: _read_shard(port, arn, s["ShardId"], cfg.limit, cfg.parse), shards)
        )
    seconds = time.perf_counter() - start
    client_cpu = time.thread_time() - main_cpu0 + sum(r.cpu_s for r in reads)
    server_cpu = server.cpu_seconds() - cpu_before
    sc.close()
    problems, parse_s = _check_drain(reads, cfg.items)
    return DrainResult(
        server=server.name,
        endpoint=streams_port(server, cfg.endpoint)[1],
        shards=len(shards),
        readers=min(readers, len(shards)),
        records=sum(sum(r.counted) for r in reads),
        calls=sum(r.calls for r in reads),
        seconds=seconds,
        preload_seconds=0.0,
        client_cpu_s=client_cpu,
        server_cpu_s=server_cpu,
        parsed=cfg.parse,
        parse_cpu_s=parse_s,
        problems=problems,
    )


def run_drain(server: Server, cfg: StreamConfig) -> DrainResult:
    """Preload, then drain the stream `cfg.drain_passes` times; the median pass is the result."""
    port, _ = streams_port(server, cfg.endpoint)
    c = Client("127.0.0.1", server.port)
    arn = create_stream_table(c, DRAIN_TABLE)
    c.close()
    log(f"{server.name}: preloading {cfg.items:,} items into {DRAIN_TABLE}")
    # moto numbers stream records len(records)+start without a lock: concurrent writers get
    # duplicate sequence numbers, and its GIL makes extra threads no faster anyway.
    threads = 1 if server.name == "moto" else cfg.preload_threads
    preload_s = preload(server.port, DRAIN_TABLE, cfg.items, threads)
    log(f"{server.name}: preload took {preload_s:.1f}s ({cfg.items / preload_s:,.0f} items/s)")

    passes: list[DrainResult] = []
    problems: list[str] = []
    while len(passes) < cfg.drain_passes:
        server.wait_idle()
        one = _drain_pass(server, port, arn, cfg)
        passes.append(one)
        problems.extend(p for p in one.problems if p not in problems)
        log(
            f"{server.name:8} drain  {one.records:,} records from {one.shards} shard(s) in "
            f"{one.seconds:.2f}s = {one.records_per_s:,.0f} records/s ({one.calls} GetRecords; "
            f"client CPU {one.client_cpu_s:.2f}s, server CPU {one.server_cpu_s:.2f}s; "
            f"a full parse would add {one.parse_cpu_s:.2f}s)"
        )
        if one.seconds > LONG_PASS_S:
            break  # a pass this long is a stable figure already; more would only cost minutes
    result = sorted(passes, key=lambda d: d.records_per_s)[(len(passes) - 1) // 2]
    result.preload_seconds = preload_s
    result.problems = problems
    result.pass_rates = [d.records_per_s for d in passes]
    for p in problems:
        log(f"{server.name}: PROBLEM: {p}")
    return result


# --- put -> visible latency ----------------------------------------------------------------


class _Poller(threading.Thread):
    """Polls one shard until told to stop; records first-seen latency per key."""

    def __init__(
        self, port: int, arn: str, shard_id: str, poll_interval: float, stop: threading.Event
    ) -> None:
        super().__init__(daemon=True, name=f"poll-{shard_id[-8:]}")
        self.client = Client("127.0.0.1", port)
        self.iterator: str | None = shard_iterator(self.client, arn, shard_id)
        self.poll_interval = poll_interval
        self.stop_event = stop
        self.seen: dict[str, int] = {}  # key -> perf_counter_ns of its first sight
        self.polls = 0
        self.empty = 0
        self.error: str | None = None

    def run(self) -> None:
        clock = time.perf_counter_ns
        try:
            while self.iterator is not None and not self.stop_event.is_set():
                body = dumps({"ShardIterator": self.iterator, "Limit": 1000})
                data = self.client.raw(GET_RECORDS, body)
                now = clock()  # before parsing: the record is visible from this moment
                resp = loads(data)
                self.polls += 1
                records = resp["Records"]
                for rec in records:
                    image = rec["dynamodb"].get("NewImage") or {}
                    key = image.get("pk", {}).get("S")
                    if key is not None and key not in self.seen and "t" in image:
                        self.seen[key] = now
                self.iterator = resp.get("NextShardIterator")
                if not records:
                    self.empty += 1
                    if self.poll_interval:
                        time.sleep(self.poll_interval)
            if self.iterator is None:
                self.error = f"shard {self.name} closed during the run; children not followed"
        except (BenchError, OSError) as exc:
            self.error = f"{self.name}: {exc}"
        finally:
            self.client.close()


def _write_paced(
    c: Client, prefix: str, count: int, rate: float, on_ack: Callable[[str, int, int], None]
) -> float:
    """PutItem `count` items on a schedule of `rate`/s, one in flight; return the seconds taken.

    `on_ack(key, sent_ns, acked_ns)` follows every put (perf_counter_ns, as the readers note).

    A put that falls behind the schedule goes out at once, without the sleep.
    """
    period = 1e9 / rate
    clock = time.perf_counter_ns
    start = clock() + 1_000_000
    for i in range(count):
        due = start + int(i * period)
        wait = due - clock()
        if wait > 0:
            time.sleep(wait / 1e9)
        key = f"{prefix}{i:06d}"
        attrs = item(key, "s00", i)
        t0 = clock()
        attrs["t"] = {"N": str(t0)}
        c.raw(PUT_ITEM, dumps({"TableName": LATENCY_TABLE, "Item": attrs}))
        on_ack(key, t0, clock())
    return (clock() - start) / 1e9


def run_latency(server: Server, cfg: StreamConfig) -> LatencyResult:
    port, endpoint = streams_port(server, cfg.endpoint)
    c = Client("127.0.0.1", server.port)
    arn = create_stream_table(c, LATENCY_TABLE)
    shards = [
        s
        for s in describe_shards(c, arn)
        if "EndingSequenceNumber" not in s.get("SequenceNumberRange", {})
    ]
    stop = threading.Event()
    pollers = [_Poller(port, arn, s["ShardId"], cfg.poll_interval, stop) for s in shards]
    server.wait_idle()
    # The same writes with nobody reading: the floor that visibility cannot beat on this machine.
    alone: list[int] = []
    if cfg.baseline > 0:
        count = max(1, int(cfg.rate * cfg.baseline))
        _write_paced(c, "b", count, cfg.rate, lambda _k, t0, t1: alone.append(t1 - t0))
        server.wait_idle()
    for p in pollers:
        p.start()

    if cfg.warmup > 0:
        _write_paced(c, "w", max(1, int(cfg.rate * cfg.warmup)), cfg.rate, lambda *_: None)
    acks: dict[str, tuple[int, int]] = {}  # key -> (sent, acknowledged)
    count = max(1, int(cfg.rate * cfg.duration))
    polls0 = sum(p.polls for p in pollers)
    empty0 = sum(p.empty for p in pollers)
    cpu0 = time.process_time()  # pollers and writer together: the whole client
    server_cpu0 = server.cpu_seconds()
    written_s = _write_paced(
        c, "m", count, cfg.rate, lambda key, t0, t1: acks.__setitem__(key, (t0, t1))
    )
    client_cpu = time.process_time() - cpu0
    server_cpu = server.cpu_seconds() - server_cpu0

    def seen_measured() -> int:
        return sum(1 for p in pollers for k in list(p.seen) if k.startswith("m"))

    deadline = time.monotonic() + 5.0
    while seen_measured() < count and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    for p in pollers:
        p.join(timeout=30)
    c.close()

    seen = {k: ns for p in pollers for k, ns in p.seen.items() if k.startswith("m")}
    latencies = [(ns - acks[k][0]) / 1e6 for k, ns in seen.items()]
    after_ack = [max(0, ns - acks[k][1]) / 1e6 for k, ns in seen.items()]
    problems = [p.error for p in pollers if p.error]
    if len(latencies) != count:
        problems.append(f"{count - len(latencies)} of {count} records never seen within 5s")
    result = LatencyResult(
        server=server.name,
        endpoint=endpoint,
        shards=len(shards),
        rate=cfg.rate,
        achieved_rate=count / written_s if written_s else 0.0,
        poll_interval_ms=cfg.poll_interval * 1000,
        expected=count,
        latencies_ms=latencies,
        after_ack_ms=after_ack,
        put_ms=[(t1 - t0) / 1e6 for t0, t1 in acks.values()],
        put_alone_ms=[ns / 1e6 for ns in alone],
        polls=sum(p.polls for p in pollers) - polls0,
        empty_polls=sum(p.empty for p in pollers) - empty0,
        duration_s=written_s,
        client_cpu_s=client_cpu,
        server_cpu_s=server_cpu,
        problems=problems,
    )
    log(
        f"{server.name:8} latency {len(latencies)}/{count} records, "
        f"p50 {_ms(result.pct(50))}  p99 {_ms(result.pct(99))}  max {_ms(result.pct(100))}; "
        f"after the ack p50 {_ms(result.pct(50, result.after_ack_ms))} "
        f"p99 {_ms(result.pct(99, result.after_ack_ms))}; "
        f"PutItem p50 {_ms(result.pct(50, result.put_ms))} p99 {_ms(result.pct(99, result.put_ms))} "
        f"(alone: p50 {_ms(result.pct(50, result.put_alone_ms))} p99 {_ms(result.pct(99, result.put_alone_ms))}); "
        f"{result.polls / written_s:,.0f} polls/s ({result.empty_polls / max(1, result.polls):.0%} empty); "
        f"CPU client {client_cpu / written_s:.0%}, server {server_cpu / written_s:.0%}"
    )
    for problem in result.problems:
        log(f"{server.name}: PROBLEM: {problem}")
    return result


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} ms"


def bench_streams(server: Server, cfg: StreamConfig) -> tuple[DrainResult, LatencyResult]:
    if server.streams_port is not None and cfg.endpoint == "streams":
        _wait_port(server)
    try:
        drain = run_drain(server, cfg)
        latency = run_latency(server, cfg)
    except AwsError as exc:
        raise BenchError(f"{server.name}: {exc}") from exc
    if server.proc.poll() is not None:
        raise BenchError(f"{server.name} died during the streams suite:\n{server.log_tail()}")
    return drain, latency


def _wait_port(server: Server, timeout: float = 30.0) -> None:
    """The dedicated streams listener may come up after the main port: wait until it answers."""
    assert server.streams_port is not None
    deadline = time.monotonic() + timeout
    while True:
        c = Client("127.0.0.1", server.streams_port, timeout=2)
        try:
            c.streams("ListStreams", {})
            return
        except AwsError:
            return  # any HTTP answer will do
        except OSError:
            if time.monotonic() > deadline:
                raise BenchError(
                    f"{server.name}: streams port {server.streams_port} not answering"
                ) from None
            time.sleep(0.1)
        finally:
            c.close()
