"""The `rivulet` command line."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
from collections.abc import Generator
from pathlib import Path
from types import FrameType
from typing import Any

import click

from rivulet import __version__
from rivulet.cli_options import data_dir_option, import_from_cwd, master_key_file_option
from rivulet.config import Settings
from rivulet.keys_cli import keys
from rivulet.tail import tail
from rivulet.triggers_cli import triggers, worker

_UNITS = {"": 1.0, "ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|[smhd]?)\s*$")


class Duration(click.ParamType):  # type: ignore[type-arg]
    """Seconds, or a number with a unit: 90, 250ms, 2s, 15m, 4h, 1d."""

    name = "duration"

    def __init__(self, allow_zero: bool = False) -> None:
        self.allow_zero = allow_zero

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, int | float):
            return float(value)
        m = _DURATION.match(str(value))
        if m is None or float(m[1]) < 0 or (float(m[1]) == 0 and not self.allow_zero):
            self.fail(f"{value!r} is not a duration such as 90, 2s, 15m, 4h or 1d", param, ctx)
        return float(m[1]) * _UNITS[m[2]]


@click.group()
@click.version_option(__version__, prog_name="rivulet")
def main() -> None:
    """Rivulet: a DynamoDB and DynamoDB Streams compatible database."""


@main.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    envvar="RIVULET_HOST",
    help="Address to listen on.",
)
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=int,
    envvar="RIVULET_PORT",
    help="Port to listen on.",
)
@data_dir_option("Where the SQLite database lives.")
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    envvar="RIVULET_LOG_LEVEL",
    type=click.Choice(["debug", "info", "warning", "error"]),
)
@click.option(
    "--region",
    default="us-east-1",
    show_default=True,
    envvar="RIVULET_REGION",
    help="Region used in ARNs.",
)
@click.option(
    "--durability",
    default="full",
    show_default=True,
    envvar="RIVULET_DURABILITY",
    type=click.Choice(["full", "normal"]),
    help="full: fsync every commit (survives power loss). normal: survives a crash of the process only.",
)
@click.option(
    "--ttl-interval",
    default=30.0,
    show_default=True,
    type=float,
    envvar="RIVULET_TTL_INTERVAL",
    help="Seconds between TTL sweeps.",
)
@click.option(
    "--streams-port",
    default=8001,
    show_default=True,
    type=int,
    envvar="RIVULET_STREAMS_PORT",
    help="Dedicated DynamoDB Streams listener (0: none; the main port serves Streams too).",
)
@click.option(
    "--stream-shards",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    envvar="RIVULET_STREAM_SHARDS",
    help="Open shards per stream; the partition key's hash picks one.",
)
@click.option(
    "--shard-rotation",
    default="4h",
    show_default=True,
    type=Duration(),
    envvar="RIVULET_SHARD_ROTATION",
    help="Age at which an open shard is closed and continued by a child shard.",
)
@click.option(
    "--stream-retention",
    default="24h",
    show_default=True,
    type=Duration(),
    envvar="RIVULET_STREAM_RETENTION",
    help="Stream records older than this are trimmed.",
)
@click.option(
    "--get-records-wait",
    default="20ms",
    show_default=True,
    type=Duration(allow_zero=True),
    envvar="RIVULET_GET_RECORDS_WAIT",
    help="GetRecords at the end of an open shard waits up to this long for a new record "
    "before answering an empty page (0: at once).",
)
@click.option(
    "--trim-interval",
    default="60s",
    show_default=True,
    type=Duration(),
    envvar="RIVULET_TRIM_INTERVAL",
    help="How often the retention trimmer runs.",
)
@master_key_file_option(
    "Master key (base64 of 32 bytes) for stream encryption at rest. Default: "
    "RIVULET_MASTER_KEY, else <data-dir>/master.key, generated on first start."
)
@click.option(
    "--config",
    "trigger_config",
    default=None,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    envvar="RIVULET_CONFIG",
    help="TOML file of [[triggers]]: created, updated or removed to match at every start.",
)
@click.option(
    "--triggers/--no-triggers",
    "run_triggers",
    default=True,
    show_default=True,
    envvar="RIVULET_TRIGGERS",
    help="Run triggers in this process (--no-triggers: `rivulet worker` processes run them).",
)
@click.option(
    "--lease-ttl",
    default="10s",
    show_default=True,
    type=Duration(),
    envvar="RIVULET_LEASE_TTL",
    help="A trigger runtime that stops renewing its shard leases loses them after this long.",
)
def serve(
    host: str,
    port: int,
    data_dir: Path,
    log_level: str,
    region: str,
    durability: str,
    ttl_interval: float,
    streams_port: int,
    stream_shards: int,
    shard_rotation: float,
    stream_retention: float,
    get_records_wait: float,
    trim_interval: float,
    master_key_file: Path | None,
    trigger_config: Path | None,
    run_triggers: bool,
    lease_ttl: float,
) -> None:
    """Start the server (stops cleanly on SIGINT/SIGTERM)."""
    import uvicorn

    from rivulet.app import Server
    from rivulet.protocol.http import AwsHttpProtocol

    import_from_cwd()

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = Settings(
        host=host,
        port=port,
        data_dir=data_dir,
        log_level=log_level,
        region=region,
        durability=durability,
        ttl_interval=ttl_interval,
        streams_port=streams_port,
        stream_shards=stream_shards,
        shard_rotation=shard_rotation,
        stream_retention=stream_retention,
        get_records_wait=get_records_wait,
        trim_interval=trim_interval,
        master_key_file=master_key_file,
        master_key=os.environ.get("RIVULET_MASTER_KEY"),
        trigger_config=trigger_config,
        run_triggers=run_triggers,
        lease_ttl=lease_ttl,
    )
    server = Server(settings)
    common: dict[str, Any] = {
        "host": host,
        "log_level": log_level,
        "access_log": False,
        "loop": "auto",
        # Rivulet's own HTTP/1.1 protocol: httptools parsing, no ASGI messages per request.
        "http": AwsHttpProtocol,
        "timeout_graceful_shutdown": 10,
        # Nothing reads the client address, so uvicorn's X-Forwarded-For middleware is pure
        # per-request cost (3-5 us of ~40 on a trivial request); nor is "server: uvicorn" DynamoDB's.
        "proxy_headers": False,
        "server_header": False,
    }
    main_config = uvicorn.Config(server.app, port=port, lifespan="on", **common)
    main = uvicorn.Server(main_config)
    listeners: list[Any] = [main]
    if streams_port:
        config = uvicorn.Config(server.streams_app, port=streams_port, lifespan="off", **common)
        listeners.append(_SecondaryServer(config))
    # uvicorn stops gracefully on SIGTERM, then re-raises it to the default handler, which would
    # end the process with -15; a requested stop that went cleanly is a successful exit.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    # After a graceful stop uvicorn re-raises SIGINT; like `uvicorn.run`, end quietly then.
    with (
        contextlib.suppress(KeyboardInterrupt),
        asyncio.Runner(loop_factory=main_config.get_loop_factory()) as runner,
    ):
        runner.run(_serve_all(listeners))


class _SecondaryServer:
    """A listener that leaves signals to the main server and stops when it stops."""

    def __init__(self, config: Any) -> None:
        import uvicorn

        class Quiet(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Generator[None, None, None]:
                yield

        self.server = Quiet(config)


async def _serve_all(listeners: list[Any]) -> None:
    main, *others = listeners
    main_task = asyncio.create_task(main.serve())
    # The dedicated listener opens once the main app's startup (database, keys) is done.
    while not main.started and not main_task.done():
        await asyncio.sleep(0.01)
    tasks = [asyncio.create_task(o.server.serve()) for o in others if not main_task.done()]
    try:
        await main_task
    finally:
        for o in others:
            o.server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


main.add_command(keys)
main.add_command(tail)
main.add_command(triggers)
main.add_command(worker)
