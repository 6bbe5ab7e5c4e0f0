"""Result tables, Rivulet/peer ratios and the performance targets, printed with rich or plain text."""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import asdict, dataclass
from typing import Any

from loadgen import WrkResult

OP_NAMES = {"put": "PutItem", "get": "GetItem", "query": "Query"}
PEERS = ("dynalite", "moto")
TARGET_CONNECTIONS = 64
LEFT_COLUMNS = ("op", "server", "target", "endpoint", "phase", "check")
CPU_TARGET_US = 60.0


@dataclass(frozen=True)
class Measurement:
    server: str
    op: str
    connections: int
    result: WrkResult
    server_cpu_us_per_req: float | None  # None when no request completed


@dataclass(frozen=True)
class Target:
    op: str
    peer: str
    ratio: float


TARGETS = (
    Target("put", "dynalite", 1.5),
    Target("put", "moto", 30.0),
    Target("get", "dynalite", 1.3),
    Target("query", "dynalite", 2.0),
)


@dataclass(frozen=True)
class Verdict:
    label: str
    value: float | None  # None: not measured in this run
    passed: bool | None
    unit: str = "x"


def _index(results: list[Measurement]) -> dict[tuple[str, str, int], Measurement]:
    return {(m.server, m.op, m.connections): m for m in results}


def ratios(results: list[Measurement]) -> list[dict[str, Any]]:
    """Rivulet req/s divided by each peer's, per op and connection count."""
    by_key = _index(results)
    rows = []
    for op, conns in sorted({(m.op, m.connections) for m in results}, key=_op_order):
        riv = by_key.get(("rivulet", op, conns))
        row: dict[str, Any] = {"op": op, "connections": conns}
        for peer in PEERS:
            other = by_key.get((peer, op, conns))
            row[peer] = _ratio(riv, other)
        rows.append(row)
    return rows


def _ratio(riv: Measurement | None, peer: Measurement | None) -> float | None:
    if riv is None or peer is None or peer.result.rps == 0:
        return None
    return riv.result.rps / peer.result.rps


def _op_order(key: tuple[str, int]) -> tuple[int, int]:
    op, conns = key
    return (list(OP_NAMES).index(op), conns)


def verdicts(results: list[Measurement]) -> list[Verdict]:
    by_key = _index(results)
    conns_seen = {m.connections for m in results}
    conns = TARGET_CONNECTIONS if TARGET_CONNECTIONS in conns_seen else max(conns_seen, default=0)
    out = []
    riv_put = by_key.get(("rivulet", "put", conns))
    for t in TARGETS:
        label = f"{OP_NAMES[t.op]} @{conns}c >= {t.ratio:g}x {t.peer}"
        value = _ratio(by_key.get(("rivulet", t.op, conns)), by_key.get((t.peer, t.op, conns)))
        out.append(Verdict(label, value, None if value is None else value >= t.ratio))
    cpu_label = f"Rivulet server CPU per PutItem @{conns}c <= {CPU_TARGET_US:g} us"
    cpu = riv_put.server_cpu_us_per_req if riv_put else None
    if cpu is not None:
        out.append(Verdict(cpu_label, cpu, cpu <= CPU_TARGET_US, " us"))
    else:
        out.append(Verdict(cpu_label, None, None, " us"))
    return out


def to_json(results: list[Measurement], meta: dict[str, Any]) -> dict[str, Any]:
    return {
        **meta,
        "results": [
            {
                "server": m.server,
                "op": m.op,
                "connections": m.connections,
                **asdict(m.result),
                "server_cpu_us_per_req": m.server_cpu_us_per_req,
            }
            for m in results
        ],
        "ratios": ratios(results),
        "targets": [asdict(v) for v in verdicts(results)],
    }


def _fmt(value: float | None, spec: str, suffix: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{suffix}"


def _check(problems: list[str]) -> str:
    """The `check` cell of a result row."""
    return "ok" if not problems else f"{len(problems)} problem(s)"


def _status(v: Verdict) -> str:
    return "n/a" if v.passed is None else ("PASS" if v.passed else "FAIL")


def tables(results: list[Measurement]) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) for every table of the report."""
    ordered = sorted(results, key=lambda m: (*_op_order((m.op, m.connections)), m.server))
    main = [
        [
            OP_NAMES[m.op],
            str(m.connections),
            m.server,
            f"{m.result.rps:,.0f}",
            _fmt(m.result.p50_ms, ".2f"),
            _fmt(m.result.p99_ms, ".2f"),
            _fmt(m.server_cpu_us_per_req, ".0f"),
            f"{100 * m.result.wrk_cpu_s / m.result.duration_s:.0f}%",
            str(m.result.socket_errors),
        ]
        for m in ordered
    ]
    header = [
        "op",
        "conns",
        "server",
        "req/s",
        "p50 ms",
        "p99 ms",
        "srv CPU us/req",
        "wrk CPU",
        "sock err",
    ]
    out = [("Throughput and latency", header, main)]
    ratio_rows = [
        [OP_NAMES[r["op"]], str(r["connections"]), *(_fmt(r[p], ".2f", "x") for p in PEERS)]
        for r in ratios(results)
    ]
    out.append(
        ("Rivulet / peer (req/s)", ["op", "conns", *(f"rivulet/{p}" for p in PEERS)], ratio_rows)
    )
    cpu_rows = [
        [m.server, str(m.connections), _fmt(m.server_cpu_us_per_req, ".1f")]
        for m in sorted(results, key=lambda m: (m.server, m.connections))
        if m.op == "put"
    ]
    if cpu_rows:
        out.append(("Server CPU per PutItem", ["server", "conns", "CPU us/PutItem"], cpu_rows))
    target_rows = [[v.label, _fmt(v.value, ".2f", v.unit), _status(v)] for v in verdicts(results)]
    out.append(("Targets", ["target", "measured", "result"], target_rows))
    return out


def _plain(title: str, header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(c) for c in col) for col in zip(header, *rows, strict=False)]
    right = [i for i in range(len(header)) if all(_numeric(r[i]) for r in rows)] if rows else []

    def line(cells: list[str]) -> str:
        parts = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    rule = "-" * len(line(header))
    return "\n".join([title, rule, line(header), rule, *(line(r) for r in rows), ""])


def _numeric(cell: str) -> bool:
    # First word only: "12.5 us", "0.31 / 1.20" and "1,234 rec/s" are numbers with a suffix.
    bare = cell.split(" ")[0].rstrip("x%").replace(",", "").replace(".", "", 1).lstrip("-")
    return cell == "-" or bare.isdigit()


def render(results: list[Measurement], use_rich: bool = True) -> None:
    render_tables(tables(results), use_rich)


Table = tuple[str, list[str], list[list[str]]]


def render_tables(all_tables: list[Table], use_rich: bool = True) -> None:
    if use_rich and importlib.util.find_spec("rich") is not None:
        console = importlib.import_module("rich.console").Console()
        if not console.is_terminal:
            console.width = max(console.width, 150)  # piped output: don't squeeze the tables
        table_cls = importlib.import_module("rich.table").Table
        for title, header, rows in all_tables:
            table = table_cls(title=title, title_justify="left")
            for col in header:
                table.add_column(col, justify="left" if col in LEFT_COLUMNS else "right")
            for row in rows:
                styled = [_style(c) for c in row]
                table.add_row(*styled)
            console.print(table)
        return
    for title, header, rows in all_tables:
        print(_plain(title, header, rows))


def _style(cell: str) -> str:
    if cell == "PASS":
        return "[green]PASS[/green]"
    if cell == "FAIL":
        return "[bold red]FAIL[/bold red]"
    return cell
