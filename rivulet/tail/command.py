"""The `rivulet tail` command: find the stream, walk its shards, print each record."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from rivulet.tail.format import Record, json_line, record_text
from rivulet.tail.walker import ShardWalker, StreamGone, error_code, error_message


def _clients(endpoint_url: str, region: str) -> tuple[Any, Any]:
    """A `dynamodb` and a `dynamodbstreams` client that keep records exactly as on the wire."""
    try:
        import botocore.session  # type: ignore[import-untyped]
        from botocore.config import Config  # type: ignore[import-untyped]
    except ImportError as error:
        raise click.ClickException("rivulet tail needs botocore (pip install boto3)") from error

    session = botocore.session.Session()
    # Keep ApproximateCreationDateTime as epoch seconds and B values as base64, as on the wire.
    parsers = session.get_component("response_parser_factory")
    parsers.set_parser_defaults(timestamp_parser=lambda v: v, blob_parser=lambda v: v)
    credentials: dict[str, str] = {}
    if session.get_credentials() is None:
        # A local server accepts any credentials; do not make people configure some first.
        credentials = {"aws_access_key_id": "rivulet", "aws_secret_access_key": "rivulet"}
    config = Config(
        retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30
    )
    options = {"region_name": region, "endpoint_url": endpoint_url, "config": config, **credentials}
    return (
        session.create_client("dynamodb", **options),
        session.create_client("dynamodbstreams", **options),
    )


def _latest_stream(dynamodb: Any, streams: Any, table: str) -> str:
    from botocore.exceptions import ClientError  # type: ignore[import-untyped]

    try:
        description = dynamodb.describe_table(TableName=table)["Table"]
        arn = description.get("LatestStreamArn")
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            raise click.ClickException(f"table {table} does not exist") from error
        if error_code(error) != "UnknownOperationException":
            raise
        # A streams-only endpoint: ListStreams lists the table's streams newest first.
        listed = streams.list_streams(TableName=table)["Streams"]
        arn = listed[0]["StreamArn"] if listed else None
    if not arn:
        raise click.ClickException(
            f"table {table} has no stream; enable one with UpdateTable "
            "--stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES"
        )
    return str(arn)


@click.command()
@click.argument("table")
@click.option(
    "--endpoint-url",
    default="http://127.0.0.1:8000",
    show_default=True,
    envvar=["RIVULET_ENDPOINT", "AWS_ENDPOINT_URL_DYNAMODB_STREAMS"],
    help="Server to read from (env RIVULET_ENDPOINT or AWS_ENDPOINT_URL_DYNAMODB_STREAMS).",
)
@click.option("--region", default="us-east-1", show_default=True, help="Region to sign for.")
@click.option(
    "--from",
    "start_at",
    type=click.Choice(["latest", "trim-horizon"]),
    default="latest",
    show_default=True,
    help="latest: only records written from now on. trim-horizon: every record still kept.",
)
@click.option("--stream-arn", help="Read this stream instead of the table's latest one.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per record and line.")
@click.option(
    "--poll-interval",
    type=click.FloatRange(min=0),
    default=0.2,
    show_default=True,
    help="Seconds to wait after a pass over the shards found nothing.",
)
@click.option(
    "--max-records",
    type=click.IntRange(min=1),
    help="Exit after printing this many records.",
)
@click.option("--no-color", is_flag=True, help="Plain text even on a terminal.")
def tail(
    table: str,
    endpoint_url: str,
    region: str,
    start_at: str,
    stream_arn: str | None,
    as_json: bool,
    poll_interval: float,
    max_records: int | None,
    no_color: bool,
) -> None:
    """Print the changes made to TABLE as they happen, following shard rotations (Ctrl-C stops)."""
    with _quiet_end(), _as_click_errors():
        walker = _start_walker(table, endpoint_url, region, start_at, stream_arn)
        emit = _json_printer(walker) if as_json else _text_printer(walker, no_color)
        for count, (shard_id, record) in enumerate(walker.follow(poll_interval), start=1):
            emit(shard_id, record)
            if max_records is not None and count >= max_records:
                return


@contextmanager
def _quiet_end() -> Iterator[None]:
    """Ctrl-C and a reader that went away end a tail without a traceback."""
    try:
        yield
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a tail ends
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


@contextmanager
def _as_click_errors() -> Iterator[None]:
    """Errors of the server or the SDK as one `Error: ...` line (click's exit status 1)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except StreamGone as error:
        raise click.ClickException(f"the stream no longer exists: {error}") from error
    except ClientError as error:
        raise click.ClickException(f"{error_code(error)}: {error_message(error)}") from error
    except BotoCoreError as error:
        raise click.ClickException(str(error)) from error


def _notice(message: str) -> None:
    click.echo(f"rivulet tail: {message}", err=True)


def _start_walker(
    table: str, endpoint_url: str, region: str, start_at: str, stream_arn: str | None
) -> ShardWalker:
    """A started walker on `stream_arn`, or on TABLE's latest stream; says what it follows."""
    dynamodb, streams = _clients(endpoint_url, region)
    arn = stream_arn or _latest_stream(dynamodb, streams, table)
    walker = ShardWalker(streams, arn, from_latest=start_at == "latest", notice=_notice)
    walker.start()
    if walker.table_name != table:
        raise click.ClickException(
            f"stream {arn} belongs to table {walker.table_name}, not {table}"
        )
    if walker.status in ("DISABLING", "DISABLED"):
        _notice(f"the stream is {walker.status}: it will receive no new records")
    _notice(f"following {arn} from {start_at} (Ctrl-C to stop)")
    return walker


def _json_printer(walker: ShardWalker) -> Callable[[str, Record], None]:
    def emit(shard_id: str, record: Record) -> None:
        sys.stdout.write(json_line(record, walker.table_name, shard_id) + "\n")
        sys.stdout.flush()

    return emit


def _text_printer(walker: ShardWalker, no_color: bool) -> Callable[[str, Record], None]:
    from rich.console import Console

    # soft_wrap: never re-wrap a line at the terminal width; a pipe gets no colour (rich decides).
    console = Console(color_system=None if no_color else "auto", highlight=False, soft_wrap=True)

    def emit(shard_id: str, record: Record) -> None:
        console.print(record_text(record, walker.key_names))
        console.file.flush()

    return emit
