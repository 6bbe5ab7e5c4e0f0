"""Tables, ratios and targets of the triggers suite (rendered by report.render_tables)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from report import Table, Verdict, _check, _fmt, _status
from streambench import percentile as pct
from triggerbench import TRIGGER, LatencyRun, ThroughputRun

LATENCY_P50_TARGET_MS = 2.0
LATENCY_P99_TARGET_MS = 10.0
THROUGHPUT_TARGET = 20_000.0
QUANTILES = (50, 90, 99, 100)


def _label(r: LatencyRun | ThroughputRun) -> str:
    return f"{r.server} {r.consumer}"


def _trigger(runs: list[Any]) -> Any:
    """Rivulet's trigger run, the reference of every ratio (None when not run)."""
    return next((r for r in runs if r.server == "rivulet" and r.consumer == TRIGGER), None)


def _cpu_us(r: ThroughputRun) -> float | None:
    """Server and consumer CPU per record (a trigger's consumer is inside the server)."""
    return 1e6 * (r.server_cpu_s + r.consumer_cpu_s) / r.records if r.records else None


def ratios(latencies: list[LatencyRun], drains: list[ThroughputRun]) -> list[dict[str, Any]]:
    """Each polling consumer against Rivulet's trigger; above 1 means the trigger is better."""
    out: list[dict[str, Any]] = []
    lat = _trigger(latencies)
    for r in latencies:
        if lat is None or r is lat:
            continue
        for q in (50, 99):
            mine, theirs = pct(lat.from_send_ms, q), pct(r.from_send_ms, q)
            value = theirs / mine if mine and theirs is not None else None
            out.append({"measure": f"latency p{q}, {_label(r)} / trigger", "ratio": value})
    drain = _trigger(drains)
    for d in drains:
        if drain is None or d is drain:
            continue
        rate = drain.records_per_s / d.records_per_s if d.records_per_s else None
        out.append({"measure": f"records/s, trigger / {_label(d)}", "ratio": rate})
        mine_cpu, their_cpu = _cpu_us(drain), _cpu_us(d)
        cpu = their_cpu / mine_cpu if mine_cpu and their_cpu is not None else None
        out.append({"measure": f"CPU per record, {_label(d)} / trigger", "ratio": cpu})
    return out


def verdicts(latencies: list[LatencyRun], drains: list[ThroughputRun]) -> list[Verdict]:
    lat = _trigger(latencies)
    drain = _trigger(drains)
    p50 = pct(lat.from_send_ms, 50) if lat else None
    p99 = pct(lat.from_send_ms, 99) if lat else None
    rate = drain.records_per_s if drain else None
    return [
        Verdict(
            f"trigger write->handler p50 <= {LATENCY_P50_TARGET_MS:g} ms",
            p50,
            None if p50 is None else p50 <= LATENCY_P50_TARGET_MS,
            " ms",
        ),
        Verdict(
            f"trigger write->handler p99 <= {LATENCY_P99_TARGET_MS:g} ms",
            p99,
            None if p99 is None else p99 <= LATENCY_P99_TARGET_MS,
            " ms",
        ),
        Verdict(
            f"trigger delivery >= {THROUGHPUT_TARGET:,.0f} records/s",
            rate,
            None if rate is None else rate >= THROUGHPUT_TARGET,
            " rec/s",
        ),
    ]


def _latency_rows(r: LatencyRun) -> list[list[str]]:
    measures = (
        ("sent -> handler", r.from_send_ms),
        ("response -> handler", r.from_ack_ms),
        ("PutItem round trip", r.put_ms),
    )
    return [
        [r.server, r.consumer, measure, str(len(values))]
        + [_fmt(pct(values, q), ".2f") for q in QUANTILES]
        for measure, values in measures
    ]


def tables(latencies: list[LatencyRun], drains: list[ThroughputRun]) -> list[Table]:
    out: list[Table] = []
    if latencies:
        rows = [row for r in latencies for row in _latency_rows(r)]
        header = ["server", "consumer", "measure", "count", "p50", "p90", "p99", "max"]
        out.append(("Triggers: write -> handler latency (ms)", header, rows))
        rows = [
            [
                r.server,
                r.consumer,
                str(r.shards),
                f"{r.achieved_rate:,.0f}",
                str(r.invocations),
                _fmt(len(r.from_send_ms) / r.invocations if r.invocations else None, ".1f"),
                f"{r.polls / r.duration_s:,.0f}" if r.duration_s else "-",
                f"{100 * r.server_cpu_s / r.duration_s:.0f}%" if r.duration_s else "-",
                f"{100 * r.client_cpu_s / r.duration_s:.0f}%" if r.duration_s else "-",
                _check(r.problems),
            ]
            for r in latencies
        ]
        header = [
            "server",
            "consumer",
            "shards",
            "put/s",
            "invocations",
            "rec/inv",
            "polls/s",
            "server CPU",
            "bench CPU",
            "check",
        ]
        out.append(("Triggers: latency runs", header, rows))
    if drains:
        rows = [
            [
                d.server,
                d.consumer,
                str(d.shards),
                f"{d.records:,}",
                f"{d.seconds:.2f}",
                f"{d.records_per_s:,.0f}",
                _fmt(d.committed_seconds, ".2f"),
                str(d.invocations),
                str(d.calls) if d.calls else "-",
                _fmt(1e6 * d.server_cpu_s / d.records if d.records else None, ".1f"),
                _fmt(1e6 * d.consumer_cpu_s / d.records if d.consumer_cpu_s else None, ".1f"),
                _fmt(_cpu_us(d), ".1f"),
                _check(d.problems),
            ]
            for d in drains
        ]
        header = [
            "server",
            "consumer",
            "shards",
            "records",
            "seconds",
            "records/s",
            "ckpt s",  # until TriggerStatus shows them delivered (checkpointed)
            "invoc.",
            "GetRecords",
            "srv us/rec",
            "cons us/rec",
            "total us/rec",
            "check",
        ]
        title = f"Triggers: delivery throughput (no-op handler, batch {drains[0].batch_size})"
        out.append((title, header, rows))
    ratio_rows = [[r["measure"], _fmt(r["ratio"], ".1f", "x")] for r in ratios(latencies, drains)]
    if ratio_rows:
        out.append(("Trigger vs polling consumers", ["measure", "ratio"], ratio_rows))
    problems = [
        [_label(res), phase, p]
        for phase, group in (("latency", latencies), ("throughput", drains))
        for res in group
        for p in res.problems
    ]
    if problems:
        out.append(("Triggers problems", ["run", "phase", "problem"], problems))
    target_rows = [
        [v.label, _fmt(v.value, ",.2f", v.unit), _status(v)] for v in verdicts(latencies, drains)
    ]
    out.append(("Triggers targets", ["target", "measured", "result"], target_rows))
    return out


def to_json(
    latencies: list[LatencyRun], drains: list[ThroughputRun], config: dict[str, Any]
) -> dict[str, Any]:
    def summary(values: list[float]) -> dict[str, Any]:
        names = {50: "p50_ms", 90: "p90_ms", 99: "p99_ms", 100: "max_ms"}
        return {"count": len(values), **{names[q]: pct(values, q) for q in QUANTILES}}

    def latency_json(r: LatencyRun) -> dict[str, Any]:
        data = asdict(r)
        # thousands of samples: keep the summaries
        del data["from_send_ms"], data["from_ack_ms"], data["put_ms"]
        data.update(
            from_send=summary(r.from_send_ms),
            from_ack=summary(r.from_ack_ms),
            put=summary(r.put_ms),
        )
        return data

    return {
        "config": config,
        "latency": [latency_json(r) for r in latencies],
        "throughput": [
            {**asdict(d), "records_per_s": d.records_per_s, "cpu_us_per_record": _cpu_us(d)}
            for d in drains
        ],
        "ratios": ratios(latencies, drains),
        "targets": [asdict(v) for v in verdicts(latencies, drains)],
    }
