"""Tables, Rivulet/moto ratios and targets of the streams suite (rendered by report.render_tables)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from report import Table, Verdict, _check, _fmt, _status
from streambench import DrainResult, LatencyResult

DRAIN_RPS_TARGET = 150_000.0
DRAIN_MOTO_TARGET = 75.0
LATENCY_BEYOND_POLL_TARGET_MS = 2.0


def _by_server(results: list[Any]) -> dict[str, Any]:
    return {r.server: r for r in results}


def _beyond_poll(r: LatencyResult) -> float | None:
    """p99 from the PutItem's send, less the poll interval: includes the put's own commit."""
    p99 = r.pct(99)
    return None if p99 is None else p99 - r.poll_interval_ms


def _ack_beyond_poll(r: LatencyResult) -> float | None:
    """p99 from the PutItem's acknowledgement, less the poll interval: the visibility delay
    (the record is to be readable once the write's response is sent)."""
    p99 = r.pct(99, r.after_ack_ms)
    return None if p99 is None else p99 - r.poll_interval_ms


def ratios(drains: list[DrainResult], latencies: list[LatencyResult]) -> dict[str, float | None]:
    d = _by_server(drains)
    lat = _by_server(latencies)
    out: dict[str, float | None] = {"drain": None, "latency_p50": None, "latency_p99": None}
    if "rivulet" in d and "moto" in d and d["moto"].records_per_s:
        out["drain"] = d["rivulet"].records_per_s / d["moto"].records_per_s
    if "rivulet" in lat and "moto" in lat:
        for q in (50, 99):
            riv, moto = lat["rivulet"].pct(q), lat["moto"].pct(q)
            # moto's latency over Rivulet's: above 1 means Rivulet shows records sooner.
            out[f"latency_p{q}"] = moto / riv if riv and moto is not None else None
    return out


def verdicts(drains: list[DrainResult], latencies: list[LatencyResult]) -> list[Verdict]:
    riv_drain = _by_server(drains).get("rivulet")
    riv_lat = _by_server(latencies).get("rivulet")
    drain_rps = riv_drain.records_per_s if riv_drain else None
    vs_moto = ratios(drains, latencies)["drain"]
    beyond = _ack_beyond_poll(riv_lat) if riv_lat else None
    return [
        Verdict(
            f"Rivulet drain >= {DRAIN_RPS_TARGET:,.0f} records/s",
            drain_rps,
            None if drain_rps is None else drain_rps >= DRAIN_RPS_TARGET,
            " rec/s",
        ),
        Verdict(
            f"Rivulet drain >= {DRAIN_MOTO_TARGET:g}x moto",
            vs_moto,
            None if vs_moto is None else vs_moto >= DRAIN_MOTO_TARGET,
        ),
        Verdict(
            f"Rivulet put->visible p99 after the PutItem's ack <= poll interval "
            f"+ {LATENCY_BEYOND_POLL_TARGET_MS:g} ms",
            beyond,
            None if beyond is None else beyond <= LATENCY_BEYOND_POLL_TARGET_MS,
            " ms",
        ),
    ]


def tables(drains: list[DrainResult], latencies: list[LatencyResult]) -> list[Table]:
    out: list[Table] = []
    if drains:
        rows = [
            [
                d.server,
                d.endpoint,
                str(d.shards),
                str(d.readers),
                f"{d.records:,}",
                str(d.calls),
                f"{d.seconds:.2f}",
                f"{d.records_per_s:,.0f}",
                _fmt(1e6 * d.server_cpu_s / d.records if d.records else None, ".1f"),
                _fmt(1e6 * d.client_cpu_s / d.records if d.records else None, ".1f"),
                f"{100 * d.client_cpu_s / d.seconds:.0f}%" if d.seconds else "-",
                _fmt(1e6 * d.parse_cpu_s / d.records if d.records else None, ".1f"),
                f"{d.preload_seconds:.1f}",
                _check(d.problems),
            ]
            for d in drains
        ]
        header = [
            "server",
            "endpoint",
            "shards",
            "readers",
            "records",
            "calls",
            "seconds",
            "records/s",
            "srv us/rec",
            "client us/rec",
            "client CPU",
            "parse us/rec",
            "preload s",
            "check",
        ]
        mode = "parsing every page" if drains[0].parsed else "counting records"
        out.append((f"Streams drain (GetRecords from TRIM_HORIZON, {mode})", header, rows))
    if latencies:
        rows = [
            [
                r.server,
                r.endpoint,
                str(r.shards),
                f"{len(r.latencies_ms)}/{r.expected}",
                f"{r.achieved_rate:,.0f}",
                f"{r.poll_interval_ms:g}",
                _fmt(r.pct(50), ".2f"),
                _fmt(r.pct(99), ".2f"),
                _fmt(r.pct(100), ".2f"),
                _fmt(_beyond_poll(r), ".2f"),
                _fmt(r.pct(50, r.after_ack_ms), ".2f"),
                _fmt(r.pct(99, r.after_ack_ms), ".2f"),
                _fmt(r.pct(50, r.put_ms), ".2f"),
                _fmt(r.pct(99, r.put_ms), ".2f"),
                _fmt(r.pct(50, r.put_alone_ms), ".2f"),
                _fmt(r.pct(99, r.put_alone_ms), ".2f"),
                f"{r.polls / r.duration_s:,.0f}" if r.duration_s else "-",
                f"{100 * r.empty_polls / r.polls:.0f}%" if r.polls else "-",
                _check(r.problems),
            ]
            for r in latencies
        ]
        header = [
            "server",
            "endpoint",
            "shards",
            "seen",
            "put/s",
            "poll ms",
            "p50",
            "p99",
            "max",
            "p99-poll",
            "ack p50",
            "ack p99",
            "put p50",
            "put p99",
            "alone p50",
            "alone p99",
            "polls/s",
            "empty",
            "check",
        ]
        out.append(
            (
                "Streams put -> visible latency (ms from the PutItem's send; ack = from its "
                "response, 0 if seen before; put = PutItem round trip while readers poll, "
                "alone = before they start)",
                header,
                rows,
            )
        )
    r = ratios(drains, latencies)
    if any(v is not None for v in r.values()):
        out.append(
            (
                "Rivulet vs moto (streams)",
                ["measure", "ratio"],
                [
                    ["drain records/s, Rivulet / moto", _fmt(r["drain"], ".1f", "x")],
                    ["latency p50, moto / Rivulet", _fmt(r["latency_p50"], ".1f", "x")],
                    ["latency p99, moto / Rivulet", _fmt(r["latency_p99"], ".1f", "x")],
                ],
            )
        )
    problems = [
        [res.server, phase, p]
        for phase, group in (("drain", drains), ("latency", latencies))
        for res in group
        for p in res.problems
    ]
    if problems:
        out.append(
            ("Streams problems (server behaviour)", ["server", "phase", "problem"], problems)
        )
    target_rows = [
        [v.label, _fmt(v.value, ",.2f", v.unit), _status(v)] for v in verdicts(drains, latencies)
    ]
    out.append(("Streams targets", ["target", "measured", "result"], target_rows))
    return out


def to_json(
    drains: list[DrainResult], latencies: list[LatencyResult], config: dict[str, Any]
) -> dict[str, Any]:
    def latency_json(r: LatencyResult) -> dict[str, Any]:
        data = asdict(r)
        # thousands of samples: keep the summary
        del data["latencies_ms"], data["after_ack_ms"], data["put_ms"], data["put_alone_ms"]
        data.update(
            seen=len(r.latencies_ms),
            p50_ms=r.pct(50),
            p90_ms=r.pct(90),
            p99_ms=r.pct(99),
            max_ms=r.pct(100),
            p99_beyond_poll_ms=_beyond_poll(r),
            after_ack_p50_ms=r.pct(50, r.after_ack_ms),
            after_ack_p99_ms=r.pct(99, r.after_ack_ms),
            after_ack_p99_beyond_poll_ms=_ack_beyond_poll(r),
            put_p50_ms=r.pct(50, r.put_ms),
            put_p99_ms=r.pct(99, r.put_ms),
            put_alone_p50_ms=r.pct(50, r.put_alone_ms),
            put_alone_p99_ms=r.pct(99, r.put_alone_ms),
        )
        return data

    return {
        "config": config,
        "drain": [{**asdict(d), "records_per_s": d.records_per_s} for d in drains],
        "latency": [latency_json(r) for r in latencies],
        "ratios": ratios(drains, latencies),
        "targets": [asdict(v) for v in verdicts(drains, latencies)],
    }
