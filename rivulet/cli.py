"""The `rivulet` command line."""

from __future__ import annotations

import logging
import signal
from pathlib import Path
from types import FrameType

import click

from rivulet import __version__
from rivulet.config import Settings


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
@click.option(
    "--data-dir",
    default="rivulet-data",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    envvar="RIVULET_DATA_DIR",
    help="Where the SQLite database lives.",
)
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
def serve(
    host: str,
    port: int,
    data_dir: Path,
    log_level: str,
    region: str,
    durability: str,
    ttl_interval: float,
) -> None:
    """Start the server (stops cleanly on SIGINT/SIGTERM)."""
    import uvicorn

    from rivulet.app import Server

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
    )
    server = Server(settings)
    # uvicorn stops gracefully on SIGTERM, then re-raises it to the default handler, which would
    # end the process with -15; a requested stop that went cleanly is a successful exit.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    uvicorn.run(
        server.app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        loop="auto",
        http="auto",
        timeout_graceful_shutdown=10,
    )


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
