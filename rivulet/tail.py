"""`rivulet tail`: follow a table's stream in the terminal, like `tail -f`."""

from __future__ import annotations

import base64
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from rich.text import Text

Record = Mapping[str, Any]
AttributeMap = Mapping[str, Any]

EVENT_STYLES = {"INSERT": "green", "MODIFY": "yellow", "REMOVE": "red"}
# Longer rendered values are cut so one record stays one readable line.
VALUE_WIDTH = 60
# How often the shard list is re-read to notice rotations that no read has revealed yet.
REDISCOVER_SECONDS = 5.0
# With nothing to read (a stream still ENABLING, or every shard read to its end) look sooner.
IDLE_REDISCOVER_SECONDS = 1.0


# --- Formatting (pure: no I/O, unit-testable without a server) -------------------------------


def format_value(value: AttributeMap, width: int = VALUE_WIDTH) -> str:
    """A DynamoDB JSON value in plain Python form (`'s'`, `25`, `b'..'`, `{'a'}`), cut to `width`."""
    text = _plain(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _plain(value: AttributeMap) -> str:
    if not value:
        return "?"
    kind, inner = next(iter(value.items()))
    match kind:
        case "S":
            return repr(inner)
        case "N":
            return str(inner)
        case "B":
            return repr(_as_bytes(inner))
        case "BOOL":
            return "True" if inner else "False"
        case "NULL":
            return "None"
        case "SS":
            return "{" + ", ".join(repr(s) for s in inner) + "}"
        case "NS":
            return "{" + ", ".join(str(n) for n in inner) + "}"
        case "BS":
            return "{" + ", ".join(repr(_as_bytes(b)) for b in inner) + "}"
        case "L":
            return "[" + ", ".join(_plain(v) for v in inner) + "]"
        case "M":
            return "{" + ", ".join(f"{k!r}: {_plain(v)}" for k, v in inner.items()) + "}"
    return json.dumps(value, default=_json_default)


def _as_bytes(blob: Any) -> bytes:
    # The wire form is base64 text; a client with botocore's default parser hands over bytes.
    if isinstance(blob, bytes | bytearray):
        return bytes(blob)
    try:
        return base64.b64decode(str(blob), validate=True)
    except ValueError:
        return str(blob).encode()


def _canonical(value: AttributeMap) -> Any:
    """A comparable form: set order and number spelling do not make two values differ."""
    if not value:
        return None
    kind, inner = next(iter(value.items()))
    match kind:
        case "N":
            return (kind, _number(inner))
        case "NS":
            return (kind, frozenset(_number(n) for n in inner))
        case "SS":
            return (kind, frozenset(inner))
        case "B":
            return (kind, _as_bytes(inner))
        case "BS":
            return (kind, frozenset(_as_bytes(b) for b in inner))
        case "L":
            return (kind, tuple(_canonical(v) for v in inner))
        case "M":
            return (kind, frozenset((k, _canonical(v)) for k, v in inner.items()))
    return (kind, inner)


def _number(text: Any) -> Any:
    try:
        return Decimal(str(text)).normalize()
    except InvalidOperation:
        return str(text)


def is_ttl_delete(record: Record) -> bool:
    """True for a REMOVE made by Time to Live (GetRecords capitalises `userIdentity` members)."""
    identity = record.get("userIdentity") or {}
    principal = identity.get("PrincipalId", identity.get("principalId"))
    kind = identity.get("Type", identity.get("type"))
    return principal == "dynamodb.amazonaws.com" and kind == "Service"


def _attributes(image: AttributeMap, key_names: set[str]) -> str:
    return ", ".join(
        f"{name}={format_value(image[name])}" for name in sorted(image) if name not in key_names
    )


def _diff(old: AttributeMap, new: AttributeMap, key_names: set[str]) -> str:
    changes = []
    for name in sorted((set(old) | set(new)) - key_names):
        if name not in old:
            changes.append(f"+{name}={format_value(new[name])}")
        elif name not in new:
            changes.append(f"-{name}={format_value(old[name])}")
        elif _canonical(old[name]) != _canonical(new[name]):
            changes.append(f"{name}: {format_value(old[name])} -> {format_value(new[name])}")
    return ", ".join(changes)


def describe_changes(record: Record) -> str:
    """What the record says changed, from whichever images its view type carries."""
    stream = record.get("dynamodb") or {}
    key_names = set(stream.get("Keys") or {})
    new, old = stream.get("NewImage"), stream.get("OldImage")
    match record.get("eventName"):
        case "INSERT" if new is not None:
            return _attributes(new, key_names)
        case "REMOVE" if old is not None:
            return _attributes(old, key_names)
        case "MODIFY" if new is not None and old is not None:
            return _diff(old, new, key_names)
        case "MODIFY" if new is not None:
            attributes = _attributes(new, key_names)
            return f"new: {attributes}" if attributes else ""
        case "MODIFY" if old is not None:
            attributes = _attributes(old, key_names)
            return f"old: {attributes}" if attributes else ""
    return ""


def _clock(created: Any, tz: tzinfo | None) -> str:
    if isinstance(created, datetime):
        moment = created.astimezone(tz)
    elif isinstance(created, int | float | Decimal):
        moment = datetime.fromtimestamp(float(created), tz)
    else:
        return "--:--:--"
    return moment.strftime("%H:%M:%S")


def format_record(record: Record, key_names: Sequence[str] = (), tz: tzinfo | None = None) -> str:
    """One display line: `HH:MM:SS EVENT [(ttl)] k=v ... | changes` (time in `tz`, default local).

    `key_names` orders the keys (the table's key schema, HASH first); keys not in it follow sorted.
    """
    stream = record.get("dynamodb") or {}
    keys = stream.get("Keys") or {}
    ordered = [name for name in key_names if name in keys]
    ordered += sorted(name for name in keys if name not in ordered)
    parts = [_clock(stream.get("ApproximateCreationDateTime"), tz), str(record.get("eventName"))]
    if is_ttl_delete(record):
        parts.append("(ttl)")
    parts += [f"{name}={format_value(keys[name])}" for name in ordered]
    line = " ".join(parts)
    changes = describe_changes(record)
    return f"{line} | {changes}" if changes else line


def record_text(record: Record, key_names: Sequence[str] = (), tz: tzinfo | None = None) -> Text:
    """`format_record` coloured by event: INSERT green, MODIFY yellow, REMOVE red."""
    from rich.text import Text

    event = str(record.get("eventName"))
    text = Text(format_record(record, key_names, tz), style=EVENT_STYLES.get(event, ""))
    text.stylize("bold", 9, 9 + len(event))  # the event name follows the 8-character time
    return text


def json_line(record: Record, table_name: str, shard_id: str) -> str:
    """The record as GetRecords returned it, plus `tableName` and `shardId`, as one JSON line."""
    document = {**record, "tableName": table_name, "shardId": shard_id}
    return json.dumps(document, separators=(",", ":"), default=_json_default)


def _json_default(value: Any) -> Any:
    # Only reached for records parsed by a default botocore client (datetime/bytes/Decimal).
    if isinstance(value, datetime):
        seconds = value.timestamp()
        return int(seconds) if seconds.is_integer() else seconds
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


# --- Walking the shards -----------------------------------------------------------------------


@dataclass
class Shard:
    shard_id: str
    parent_id: str | None
    closed: bool


class StreamGone(Exception):
    """The stream no longer exists (deleted after retention, or a wrong ARN)."""


class ShardWalker:
    """Reads every shard of one stream, each parent to its end before any of its children.

    `client` is a `dynamodbstreams` client. Records of one shard come out in sequence order;
    records of different shards interleave as they are read. `from_latest` starts at LATEST on
    the shards open at `start()` (closed ones are skipped); otherwise reading starts at the
    TRIM_HORIZON of the root shards. `notice` receives messages meant for stderr.
    """

    def __init__(
        self,
        client: Any,
        stream_arn: str,
        *,
        from_latest: bool,
        notice: Callable[[str], None] = lambda message: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.stream_arn = stream_arn
        self.from_latest = from_latest
        self.notice = notice
        self.clock = clock
        self.table_name = ""
        self.key_names: list[str] = []
        self.status = ""
        # Every shard ever seen (kept after it ages out, so its children still find their parent).
        self._shards: dict[str, Shard] = {}
        self._iterators: dict[str, str] = {}  # shards being read -> their next iterator
        self._last_sequence: dict[str, str] = {}
        self._done: set[str] = set()  # read to the end, skipped, or gone
        self._last_discovery = float("-inf")

    @property
    def reading(self) -> list[str]:
        """The shards currently being read, in id order."""
        return sorted(self._iterators)

    def start(self) -> None:
        """Discover the shards and position the first iterators (raises StreamGone)."""
        self._discover()
        if self.from_latest:
            for shard in sorted(self._shards.values(), key=lambda s: s.shard_id):
                if shard.closed:
                    self._done.add(shard.shard_id)
                else:
                    self._open(shard.shard_id, "LATEST")
        self._activate_ready()

    def poll(self) -> list[tuple[str, Record]]:
        """One pass over the shards being read: `(shard id, record)` pairs in the order read."""
        since = self.clock() - self._last_discovery
        if since >= REDISCOVER_SECONDS or (
            not self._iterators and since >= IDLE_REDISCOVER_SECONDS
        ):
            self._discover()
            self._activate_ready()
        batch: list[tuple[str, Record]] = []
        for shard_id in self.reading:
            batch += [(shard_id, record) for record in self._read(shard_id)]
        return batch

    def follow(
        self, poll_interval: float, sleep: Callable[[float], None] = time.sleep
    ) -> Iterator[tuple[str, Record]]:
        """Records forever; sleeps `poll_interval` only after a pass that found nothing."""
        while True:
            batch = self.poll()
            yield from batch
            if not batch:
                sleep(poll_interval)

    def _discover(self) -> None:
        from botocore.exceptions import ClientError  # type: ignore[import-untyped]

        request: dict[str, Any] = {"StreamArn": self.stream_arn}
        while True:
            try:
                description = self.client.describe_stream(**request)["StreamDescription"]
            except ClientError as error:
                if _code(error) == "ResourceNotFoundException":
                    raise StreamGone(_message(error)) from error
                raise
            self.table_name = description["TableName"]
            self.key_names = [k["AttributeName"] for k in description.get("KeySchema", [])]
            self.status = description["StreamStatus"]
            for entry in description.get("Shards", []):
                shard_id = entry["ShardId"]
                closed = "EndingSequenceNumber" in entry.get("SequenceNumberRange", {})
                self._shards[shard_id] = Shard(shard_id, entry.get("ParentShardId"), closed)
            cursor = description.get("LastEvaluatedShardId")
            if not cursor or cursor == request.get("ExclusiveStartShardId"):
                break
            request["ExclusiveStartShardId"] = cursor
        self._last_discovery = self.clock()

    def _activate_ready(self) -> None:
        # A shard is ready once its parent is done (or was never seen: trimmed, or a root).
        for shard_id in sorted(self._shards):
            if shard_id in self._done or shard_id in self._iterators:
                continue
            parent = self._shards[shard_id].parent_id
            if parent is None or parent not in self._shards or parent in self._done:
                self._open(shard_id, "TRIM_HORIZON")

    def _open(self, shard_id: str, position: str, after: str | None = None) -> None:
        from botocore.exceptions import ClientError

        request = {"StreamArn": self.stream_arn, "ShardId": shard_id, "ShardIteratorType": position}
        if after is not None:
            request["SequenceNumber"] = after
        try:
            self._iterators[shard_id] = self.client.get_shard_iterator(**request)["ShardIterator"]
        except ClientError as error:
            code = _code(error)
            if code == "TrimmedDataAccessException":
                # Past the trim point: skip ahead. (Trimmed at TRIM_HORIZON itself is a race with
                # the trimmer; the next discovery pass opens the shard again.)
                if position != "TRIM_HORIZON":
                    self._skip_trimmed(shard_id)
            elif code == "ResourceNotFoundException":
                self._finish(shard_id)  # the shard aged out: nothing left to read in it
            else:
                raise

    def _read(self, shard_id: str) -> list[Record]:
        from botocore.exceptions import ClientError

        try:
            response = self.client.get_records(ShardIterator=self._iterators[shard_id], Limit=1000)
        except ClientError as error:
            code = _code(error)
            if code == "ExpiredIteratorException":
                self._reopen(shard_id)
            elif code == "TrimmedDataAccessException":
                self._skip_trimmed(shard_id)
            elif code == "ResourceNotFoundException":
                self._finish(shard_id)
            else:
                raise
            return []
        records: list[Record] = response.get("Records", [])
        if records:
            self._last_sequence[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
        following = response.get("NextShardIterator")
        if following:
            self._iterators[shard_id] = following
        else:
            self._finish(shard_id)
        return records

    def _reopen(self, shard_id: str) -> None:
        # Iterators live 15 minutes (e.g. after a laptop sleep): resume after the last record read.
        del self._iterators[shard_id]
        last = self._last_sequence.get(shard_id)
        if last is not None:
            self._open(shard_id, "AFTER_SEQUENCE_NUMBER", last)
        else:
            self._open(shard_id, "LATEST" if self.from_latest else "TRIM_HORIZON")

    def _skip_trimmed(self, shard_id: str) -> None:
        self._iterators.pop(shard_id, None)
        self.notice(f"records of {shard_id} were trimmed before they were read; skipping ahead")
        self._open(shard_id, "TRIM_HORIZON")

    def _finish(self, shard_id: str) -> None:
        self._iterators.pop(shard_id, None)
        self._done.add(shard_id)
        # A closed shard's children are already listed: look for them on the next pass.
        self._last_discovery = float("-inf")


def _code(error: Any) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _message(error: Any) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))


# --- The command ------------------------------------------------------------------------------


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
    from botocore.exceptions import ClientError

    try:
        description = dynamodb.describe_table(TableName=table)["Table"]
        arn = description.get("LatestStreamArn")
    except ClientError as error:
        if _code(error) == "ResourceNotFoundException":
            raise click.ClickException(f"table {table} does not exist") from error
        if _code(error) != "UnknownOperationException":
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
    try:
        _tail(
            table,
            endpoint_url,
            region,
            start_at,
            stream_arn,
            as_json,
            poll_interval,
            max_records,
            no_color,
        )
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a tail ends
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _tail(
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
    from botocore.exceptions import BotoCoreError, ClientError

    def notice(message: str) -> None:
        click.echo(f"rivulet tail: {message}", err=True)

    try:
        dynamodb, streams = _clients(endpoint_url, region)
        arn = stream_arn or _latest_stream(dynamodb, streams, table)
        walker = ShardWalker(streams, arn, from_latest=start_at == "latest", notice=notice)
        walker.start()
        if walker.table_name != table:
            raise click.ClickException(
                f"stream {arn} belongs to table {walker.table_name}, not {table}"
            )
        if walker.status in ("DISABLING", "DISABLED"):
            notice(f"the stream is {walker.status}: it will receive no new records")
        notice(f"following {arn} from {start_at} (Ctrl-C to stop)")
        emit = _json_printer(walker) if as_json else _text_printer(walker, no_color)
        for count, (shard_id, record) in enumerate(walker.follow(poll_interval), start=1):
            emit(shard_id, record)
            if max_records is not None and count >= max_records:
                return
    except StreamGone as error:
        raise click.ClickException(f"the stream no longer exists: {error}") from error
    except ClientError as error:
        raise click.ClickException(f"{_code(error)}: {_message(error)}") from error
    except BotoCoreError as error:
        raise click.ClickException(str(error)) from error


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
