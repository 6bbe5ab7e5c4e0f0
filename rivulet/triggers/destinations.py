"""On-failure destinations: where a discarded batch goes, with its records (triggers.md 8, Q-T11).

AWS's SQS and SNS destinations keep only positions, so the records are lost once the stream trims
them. Rivulet keeps the data: every destination receives AWS's invocation record plus
`"payload": {"Records": [...]}` (the full invoke event), the shape AWS writes to S3. The
runtime calls `send`; `rivulet triggers failed NAME` lists with `failed` and `rivulet triggers
redrive NAME` re-invokes with `redrive`.

Targets (validated by config.py):
- `arn:aws:dynamodb:<region>:<account>:table/<Name>`: a dead-letter table inside Rivulet, created
  on first use (layout below); region and account are ignored.
- `file:<path>` or `file:///abs/path`: a JSON-lines file; relative paths resolve against the
  data directory.
- `http://...` / `https://...`: a webhook; the failure JSON is POSTed as the body, with the
  trigger's name in the `X-Rivulet-Trigger` header; any 2xx answer means delivered. Webhooks keep
  nothing here, so they cannot be listed or redriven.
- `arn:aws:sqs:...:<queue>`, `arn:aws:sns:...:<topic>`, `arn:aws:s3:::<bucket>`: there is no SQS,
  SNS or S3 here, so they are mapped to local JSON-lines files
  `<data_dir>/destinations/<sqs|sns|s3>-<name>.jsonl`, with the same payload-carrying record.

A failed batch's id is `<timestamp>#<requestId>` (the record's ISO-8601 millisecond timestamp and
the last invocation's request id), so ids sort by time and a retried `send` of the same failure
rewrites the same entry.

JSON-lines file: one line per failed batch,
`{"trigger": NAME, "id": ID, "failure": {<AWS record>, "payload": {"Records": [...]}}}`.

Dead-letter table item layout (read it with boto3 `query(KeyConditionExpression="#t = :t")`):

| attribute | type | value |
| --- | --- | --- |
| `trigger` | S, HASH | the trigger's name |
| `id` | S, RANGE | `<timestamp>#<requestId>`; `<timestamp>#<requestId>#part-0001`... when split |
| `condition` | S | `requestContext.condition`, e.g. `RetryAttemptsExhausted` |
| `shardId` | S | `DDBStreamBatchInfo.shardId` |
| `startSequenceNumber`, `endSequenceNumber` | S | the discarded records' first and last |
| `batchSize` | N | the number of discarded records |
| `invocationRecord` | S | AWS's on-failure record as JSON, exactly (without `payload`) |
| `records` | S | the payload's `Records` as a JSON array |
| `part`, `parts` | N | only on split entries: this part's number (from 1) and the count |

DynamoDB items are limited to 400 KB. When the records' JSON exceeds 350,000 bytes, the entry is
split into items `<id>#part-0001`, `<id>#part-0002`... that all carry the attributes above, each
`records` holding the next piece of the JSON text: concatenate the pieces in part order, then
parse. (Pieces are cut between characters, not between records, since one record with both images
can itself exceed 400 KB.)
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import httpx
import orjson

from rivulet.triggers.invocation import Invocation, Invoker
from rivulet.triggers.item_sinks import HASH_KEY, RANGE_KEY, ItemSink, ItemSinkError
from rivulet.triggers.responses import judge

log = logging.getLogger("rivulet.triggers")

# Under DynamoDB's 400 KB item limit with room for the other attributes.
PART_BYTES = 350_000
PART_MARK = "#part-"
NOT_LISTABLE = "{destination} cannot be listed"


class DestinationError(Exception):
    """The destination could not take, list or remove a failed batch (the message says why)."""


class NotListable(DestinationError):
    """The destination keeps nothing here (a webhook): its failed batches cannot be listed."""


@dataclass(frozen=True, slots=True)
class FailedBatch:
    id: str
    trigger: str
    failure: dict[str, Any]  # AWS's record plus "payload": {"Records": [...]}


class Destination(Protocol):
    description: str  # e.g. "table FailedOrders", "file /x/y.jsonl", "webhook http://..."

    async def send(self, trigger_name: str, failure: dict[str, Any]) -> None:
        """Store or deliver one failed batch; raises DestinationError (the runtime retries)."""
        ...

    async def failed(self, trigger_name: str) -> list[FailedBatch]:
        """The trigger's failed batches, oldest first."""
        ...

    async def remove(self, trigger_name: str, batch_id: str) -> None: ...

    async def close(self) -> None: ...


def batch_id(failure: dict[str, Any]) -> str:
    return f"{failure['timestamp']}#{failure['requestContext']['requestId']}"


# --- JSON-lines file ------------------------------------------------------------------------------


class FileDestination:
    """Appends one JSON line per failed batch. Writers in several processes (workers, the CLI's
    redrive) serialise on an flock of `<file>.lock`; each append is fsynced before `send` returns,
    because the runtime moves the checkpoint past the records right after."""

    def __init__(self, path: Path, label: str | None = None) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        self.description = f"file {path}" if label is None else f"{label} (local file {path})"

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "ab") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield  # closing the file releases the lock

    def _append(self, line: bytes) -> None:
        with self._locked(), open(self.path, "ab") as f:
            # A crash mid-append leaves a torn last line: start on a fresh one.
            if f.tell() > 0 and not self._ends_with_newline():
                line = b"\n" + line
            f.write(line)
            f.flush()
            os.fsync(f.fileno())

    def _ends_with_newline(self) -> bool:
        with open(self.path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            return f.read(1) == b"\n"

    def _lines(self) -> list[bytes]:
        try:
            return self.path.read_bytes().splitlines()
        except FileNotFoundError:
            return []

    def _entry(self, line: bytes) -> dict[str, Any] | None:
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            if line.strip():
                log.warning("%s: skipping a line that is not JSON (a torn write?)", self.path)
            return None
        return entry if isinstance(entry, dict) else None

    def _read(self, trigger_name: str) -> list[FailedBatch]:
        with self._locked():
            lines = self._lines()
        batches = []
        for line in lines:
            entry = self._entry(line)
            if entry is not None and entry.get("trigger") == trigger_name:
                batches.append(FailedBatch(entry["id"], trigger_name, entry["failure"]))
        return batches

    def _remove(self, trigger_name: str, batch_id: str) -> None:
        with self._locked():
            lines = self._lines()
            kept = []
            for line in lines:
                entry = self._entry(line)
                if entry is None or (entry.get("trigger"), entry.get("id")) != (
                    trigger_name,
                    batch_id,
                ):
                    kept.append(line)  # lines we cannot read are kept, never destroyed
            if len(kept) == len(lines):
                return
            temp = self.path.with_name(self.path.name + ".tmp")
            with open(temp, "wb") as f:
                f.write(b"".join(line + b"\n" for line in kept))
                f.flush()
                os.fsync(f.fileno())
            os.replace(temp, self.path)

    async def send(self, trigger_name: str, failure: dict[str, Any]) -> None:
        entry = {"trigger": trigger_name, "id": batch_id(failure), "failure": failure}
        line = orjson.dumps(entry) + b"\n"
        try:
            await asyncio.to_thread(self._append, line)
        except OSError as exc:
            raise DestinationError(f"{self.description}: {exc}") from exc

    async def failed(self, trigger_name: str) -> list[FailedBatch]:
        try:
            return await asyncio.to_thread(self._read, trigger_name)
        except OSError as exc:
            raise DestinationError(f"{self.description}: {exc}") from exc

    async def remove(self, trigger_name: str, batch_id: str) -> None:
        try:
            await asyncio.to_thread(self._remove, trigger_name, batch_id)
        except OSError as exc:
            raise DestinationError(f"{self.description}: {exc}") from exc

    async def close(self) -> None:
        """Files are opened per call."""


# --- Webhook --------------------------------------------------------------------------------------


class WebhookDestination:
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url
        self.description = f"webhook {url}"
        self.client = httpx.AsyncClient(timeout=timeout)

    async def send(self, trigger_name: str, failure: dict[str, Any]) -> None:
        try:
            response = await self.client.post(
                self.url,
                content=orjson.dumps(failure),
                headers={"Content-Type": "application/json", "X-Rivulet-Trigger": trigger_name},
            )
        except httpx.HTTPError as exc:
            raise DestinationError(f"{self.description}: {type(exc).__name__}: {exc}") from exc
        if not response.is_success:
            raise DestinationError(f"{self.description} answered HTTP {response.status_code}")

    async def failed(self, trigger_name: str) -> list[FailedBatch]:
        raise NotListable(NOT_LISTABLE.format(destination=self.description))

    async def remove(self, trigger_name: str, batch_id: str) -> None:
        raise NotListable(NOT_LISTABLE.format(destination=self.description))

    async def close(self) -> None:
        await self.client.aclose()


# --- Dead-letter table ----------------------------------------------------------------------------


def _pieces(data: bytes) -> list[str]:
    """`data` (UTF-8) cut into strings of at most PART_BYTES bytes, never inside a character."""
    pieces = []
    start = 0
    while start < len(data):
        end = min(start + PART_BYTES, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # a continuation byte
            end -= 1
        pieces.append(data[start:end].decode())
        start = end
    return pieces


def table_items(trigger_name: str, failure: dict[str, Any]) -> list[dict[str, Any]]:
    """The dead-letter items of one failed batch (DynamoDB JSON), split when too big."""
    record = {k: v for k, v in failure.items() if k != "payload"}
    info = record["DDBStreamBatchInfo"]
    common = {
        HASH_KEY: {"S": trigger_name},
        "condition": {"S": record["requestContext"]["condition"]},
        "shardId": {"S": info["shardId"]},
        "startSequenceNumber": {"S": info["startSequenceNumber"]},
        "endSequenceNumber": {"S": info["endSequenceNumber"]},
        "batchSize": {"N": str(info["batchSize"])},
        "invocationRecord": {"S": orjson.dumps(record).decode()},
    }
    ident = batch_id(failure)
    records = orjson.dumps(failure["payload"]["Records"])
    if len(records) <= PART_BYTES:
        return [{**common, RANGE_KEY: {"S": ident}, "records": {"S": records.decode()}}]
    pieces = _pieces(records)
    return [
        {
            **common,
            RANGE_KEY: {"S": f"{ident}{PART_MARK}{n:04d}"},
            "records": {"S": piece},
            "part": {"N": str(n)},
            "parts": {"N": str(len(pieces))},
        }
        for n, piece in enumerate(pieces, start=1)
    ]


def _base_id(item: dict[str, Any]) -> str:
    ident: str = item[RANGE_KEY]["S"]
    return ident.rsplit(PART_MARK, 1)[0] if "part" in item else ident


class TableDestination:
    def __init__(self, table: str, items: ItemSink) -> None:
        self.table = table
        self.items = items
        self.description = f"table {table}"
        self._ready = False

    async def _ensure(self) -> None:
        if not self._ready:
            await self.items.ensure_table(self.table)
            self._ready = True

    async def send(self, trigger_name: str, failure: dict[str, Any]) -> None:
        try:
            await self._ensure()
            for item in table_items(trigger_name, failure):
                await self.items.put(self.table, item)
        except ItemSinkError as exc:
            raise DestinationError(str(exc)) from exc

    async def failed(self, trigger_name: str) -> list[FailedBatch]:
        try:
            await self._ensure()
            rows = await self.items.query(self.table, trigger_name)
        except ItemSinkError as exc:
            raise DestinationError(str(exc)) from exc
        groups: dict[str, list[dict[str, Any]]] = {}
        for row in rows:  # ascending id: a split entry's parts are adjacent and in order
            groups.setdefault(_base_id(row), []).append(row)
        batches = []
        for ident, parts in groups.items():
            expected = int(parts[0]["parts"]["N"]) if "parts" in parts[0] else 1
            if len(parts) != expected:
                # A send interrupted between parts; the runtime's retry rewrites them all.
                log.warning(
                    "%s: entry %s of trigger %s has %d of its %d parts; skipped",
                    self.description,
                    ident,
                    trigger_name,
                    len(parts),
                    expected,
                )
                continue
            records = orjson.loads("".join(p["records"]["S"] for p in parts))
            failure = {**orjson.loads(parts[0]["invocationRecord"]["S"])}
            failure["payload"] = {"Records": records}
            batches.append(FailedBatch(ident, trigger_name, failure))
        return batches

    async def remove(self, trigger_name: str, batch_id: str) -> None:
        try:
            await self._ensure()
            rows = await self.items.query(self.table, trigger_name, batch_id)
            for row in rows:
                if _base_id(row) == batch_id:
                    key = {HASH_KEY: row[HASH_KEY], RANGE_KEY: row[RANGE_KEY]}
                    await self.items.delete(self.table, key)
        except ItemSinkError as exc:
            raise DestinationError(str(exc)) from exc

    async def close(self) -> None:
        """The item sink is shared by every trigger of the runtime, which closes it."""


# --- Construction ---------------------------------------------------------------------------------


def _file_path(target: str, data_dir: Path) -> Path:
    if target.startswith("file://"):
        path = Path(unquote(urlsplit(target).path))
    else:
        path = Path(target[len("file:") :])
    return path if path.is_absolute() else data_dir / path


def make_destination(target: str, *, data_dir: Path, items: ItemSink | None) -> Destination:
    """The destination for a validated `DestinationConfig.OnFailure.Destination`."""
    if target.startswith(("http://", "https://")):
        return WebhookDestination(target)
    if target.startswith("file:"):
        return FileDestination(_file_path(target, data_dir))
    parts = target.split(":")
    service = parts[2] if len(parts) > 2 and parts[0] == "arn" else ""
    if service == "dynamodb":
        if items is None:
            raise ValueError(f"{target}: a table destination needs an item sink")
        return TableDestination(target.split(":table/", 1)[1], items)
    if service in ("sqs", "sns", "s3"):
        # Q-T11: no SQS, SNS or S3 here; a local file per queue, topic or bucket keeps the record.
        path = data_dir / "destinations" / f"{service}-{parts[-1]}.jsonl"
        return FileDestination(path, label=f"{service} {target}")
    raise ValueError(f"unsupported on-failure destination: {target}")


# --- Redrive --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RedriveResult:
    redriven: int
    still_failing: int
    errors: list[str]  # one line per batch that is still failing or could not be removed


def _why(invocation: Invocation) -> str:
    if invocation.not_invoked is not None:
        return f"not invoked: {invocation.not_invoked}"
    if invocation.error is not None:
        return f"{invocation.error.error_type}: {invocation.error.message}"
    response = orjson.dumps(invocation.response, default=str).decode()
    return f"the function's response failed the batch: {response}"


async def redrive(
    destination: Destination,
    trigger_name: str,
    invoker: Invoker,
    timeout: float,
    report_item_failures: bool,
) -> RedriveResult:
    """Invoke each failed batch's event once, oldest first; remove those that succeed.

    Success is judged as for a normal invocation (responses.judge). A batch that fails again is
    kept whole, with its original record, even if the function reported only some records.
    """
    redriven = still_failing = 0
    errors: list[str] = []
    for batch in await destination.failed(trigger_name):
        records = batch.failure["payload"]["Records"]
        invocation = await invoker.invoke({"Records": records}, str(uuid.uuid4()), timeout)
        numbers = [r["dynamodb"]["SequenceNumber"] for r in records]
        if not judge(invocation, numbers, report_item_failures, windowed=False).ok:
            still_failing += 1
            errors.append(f"{batch.id}: {_why(invocation)}")
            continue
        redriven += 1
        try:
            await destination.remove(trigger_name, batch.id)
        except DestinationError as exc:
            errors.append(f"{batch.id}: redriven, but not removed: {exc}")
    return RedriveResult(redriven, still_failing, errors)
