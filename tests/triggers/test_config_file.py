"""`rivulet serve --config FILE`: the file's triggers are created, updated (checkpoints kept) and
removed to match at every start; triggers made with the API are left alone; a file that cannot
be applied stops the server before it changes anything."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import RunningServer, free_port

from triggers.cli_helpers import cli
from triggers.trigger_helpers import (
    events,
    put_many,
    settle,
    start_trigger_server,
    stream_table,
    wait_for,
)

RECORD = "trigger_apps.recorder:record"
NOT_FOUND = "Error: ResourceNotFoundException: The resource you requested does not exist.\n"


def write_config(path: Path, *triggers: dict[str, Any]) -> Path:
    """A TOML file of [[triggers]] tables (JSON strings are TOML basic strings)."""
    lines = []
    for trigger in triggers:
        lines.append("[[triggers]]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in trigger.items()]
        lines.append("")
    path.write_text("\n".join(lines))
    return path


def trigger(name: str, table: str, **settings: Any) -> dict[str, Any]:
    return {"name": name, "table": table, "function": RECORD} | settings


def sks(out: Path, table: str) -> list[list[str]]:
    return [[r["dynamodb"]["Keys"]["sk"]["S"] for r in e["Records"]] for e in events(out, table)]


def described(server: RunningServer) -> dict[str, dict[str, Any]]:
    return {t["Rivulet"]["Name"]: t for t in cli(server, "list", "--json").json()}


def serve_fails(data_dir: Path, config: Path) -> tuple[int, list[str]]:
    """Start a server that must not come up; its exit status and log lines."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "rivulet",
            "serve",
            "--port",
            str(free_port()),
            "--streams-port",
            "0",
            "--data-dir",
            str(data_dir),
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, (done.stdout + done.stderr).splitlines()


def cannot_start(lines: list[str], message: str) -> bool:
    return any(line.endswith(f" ERROR rivulet.protocol: cannot start: {message}") for line in lines)


def test_config_triggers_follow_the_file(tmp_path: Path) -> None:
    config = tmp_path / "triggers.toml"
    # Before any config: tables, and a trigger made with the CLI.
    server, out = start_trigger_server(tmp_path)
    try:
        ddb = server.client()
        for table in ("alpha", "gamma", "delta"):
            stream_table(ddb, table, sort_key=True)
        cli(
            server,
            "create",
            "api-gamma",
            "--table",
            "gamma",
            "--function",
            RECORD,
            "--starting-position",
            "TRIM_HORIZON",
        ).json()
        put_many(ddb, "alpha", "k", 2)
    finally:
        server.stop()

    # First file: one trigger on an existing table, one on a table that does not exist yet.
    write_config(
        config,
        trigger("cfg-alpha", "alpha", starting_position="TRIM_HORIZON", batch_size=10),
        trigger("cfg-beta", "beta", starting_position="LATEST"),
    )
    server, out = start_trigger_server(tmp_path, "--config", str(config))
    try:
        ddb = server.client()
        wait_for(lambda: sks(out, "alpha"), timeout=60)
        first = described(server)
        assert sorted(first) == ["api-gamma", "cfg-alpha", "cfg-beta"]
        assert first["cfg-alpha"]["BatchSize"] == 10
        # Waiting for its table: no stream to name yet.
        assert "EventSourceArn" not in first["cfg-beta"]
        assert first["cfg-beta"]["State"] == "Enabled"
        # The table appears: the trigger binds and reads its stream from the start (all of it is
        # newer than the trigger, LATEST or not).
        stream_table(ddb, "beta", sort_key=True)
        put_many(ddb, "beta", "k", 1)
        wait_for(lambda: sks(out, "beta"), timeout=60)
        beta_arn = ddb.describe_table(TableName="beta")["Table"]["LatestStreamArn"]
        assert described(server)["cfg-beta"]["EventSourceArn"] == beta_arn
        put_many(ddb, "gamma", "k", 1)
        wait_for(lambda: sks(out, "gamma"), timeout=60)
        assert settle(lambda: [sks(out, t) for t in ("alpha", "beta", "gamma")]) == [
            [["0000", "0001"]],
            [["0000"]],
            [["0000"]],
        ]
    finally:
        server.stop()

    # Second file: a batch size changed, cfg-beta removed, cfg-delta added.
    write_config(
        config,
        trigger("cfg-alpha", "alpha", starting_position="TRIM_HORIZON", batch_size=1),
        trigger("cfg-delta", "delta", starting_position="TRIM_HORIZON"),
    )
    server, out = start_trigger_server(tmp_path, "--config", str(config))
    try:
        ddb = server.client()
        second = described(server)
        assert sorted(second) == ["api-gamma", "cfg-alpha", "cfg-delta"]
        assert second["cfg-alpha"] == first["cfg-alpha"] | {
            "BatchSize": 1,
            "LastModified": second["cfg-alpha"]["LastModified"],
            "LastProcessingResult": "OK",
        }
        assert second["cfg-alpha"]["LastModified"] > first["cfg-alpha"]["LastModified"]
        assert second["api-gamma"] == first["api-gamma"] | {"LastProcessingResult": "OK"}
        gone = cli(server, "get", "cfg-beta")
        assert (gone.code, gone.out, gone.err) == (1, "", NOT_FOUND)

        put_many(ddb, "alpha", "k", 2, start=2)
        put_many(ddb, "beta", "k", 1, start=1)
        put_many(ddb, "delta", "k", 1)
        wait_for(lambda: len(sks(out, "alpha")) >= 3 and sks(out, "delta"), timeout=60)
        # The checkpoint was kept: nothing delivered again; the new batch size applies.
        assert settle(lambda: [sks(out, t) for t in ("alpha", "beta", "delta")]) == [
            [["0000", "0001"], ["0002"], ["0003"]],
            [["0000"]],
            [["0000"]],
        ]
    finally:
        server.stop()

    # The same file again changes nothing.
    server, out = start_trigger_server(tmp_path, "--config", str(config))
    try:
        third = described(server)
        assert sorted(third) == ["api-gamma", "cfg-alpha", "cfg-delta"]
        for name in third:
            assert third[name]["UUID"] == second[name]["UUID"]
            assert third[name]["LastModified"] == second[name]["LastModified"]
    finally:
        server.stop()


def test_a_bad_file_stops_the_server(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "bad.toml",
        trigger("fine", "fine", starting_position="TRIM_HORIZON"),
        trigger("bad", "bad", starting_position="TRIM_HORIZON", batch_size=0),
    )
    code, lines = serve_fails(tmp_path / "data", config)
    assert code == 3
    assert cannot_start(
        lines,
        f"{config}: trigger 2 (\"bad\"): 1 validation error detected: Value '0' at "
        "'batchSize' failed to satisfy constraint: Member must have value greater than or equal "
        "to 1",
    ), lines


def test_a_file_that_clashes_with_api_triggers_changes_nothing(tmp_path: Path) -> None:
    server, _out = start_trigger_server(tmp_path)
    try:
        stream_table(server.client(), "orders", sort_key=True)
        arn = server.client().describe_table(TableName="orders")["Table"]["LatestStreamArn"]
        made = cli(
            server,
            "create",
            "api-orders",
            "--table",
            "orders",
            "--function",
            RECORD,
            "--starting-position",
            "LATEST",
        ).json()
    finally:
        server.stop()
    data = tmp_path / "data"
    new = trigger("cfg-new", "orders", function="trigger_apps.recorder:fail_poison")
    cases = [
        (
            [new, trigger("api-orders", "elsewhere")],
            f'trigger 2 ("api-orders"): A trigger named api-orders already exists '
            f"(UUID {made['UUID']})",
        ),
        (
            [new, trigger("cfg-same", "orders")],
            f'trigger 2 ("cfg-same"): The event source arn (" {arn} ") and function '
            f'(" {RECORD} ") provided mapping already exists. Please update or delete the '
            f"existing mapping with UUID {made['UUID']}",
        ),
        (
            [new, trigger("cfg-twice", "orders", function="trigger_apps.recorder:fail_poison")],
            f'trigger 2 ("cfg-twice"): it reads {arn} with the same function as trigger 1 '
            '("cfg-new"); one mapping per stream and function',
        ),
    ]
    for triggers, message in cases:
        for t in triggers:
            t.setdefault("starting_position", "TRIM_HORIZON")
        config = write_config(tmp_path / "clash.toml", *triggers)
        code, lines = serve_fails(data, config)
        assert code == 3
        assert cannot_start(lines, f"{config}: {message}"), lines

    # Nothing of those files was applied: cfg-new, first in each, does not exist.
    server, _out = start_trigger_server(tmp_path)
    try:
        assert described(server) == {"api-orders": made}
    finally:
        server.stop()
