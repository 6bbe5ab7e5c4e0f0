"""The shard walker of `rivulet tail`: every shard of a stream, each parent before its children."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from rivulet.tail.format import Record

# How often the shard list is re-read to notice rotations that no read has revealed yet.
REDISCOVER_SECONDS = 5.0
# With nothing to read (a stream still ENABLING, or every shard read to its end) look sooner.
IDLE_REDISCOVER_SECONDS = 1.0


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
                if error_code(error) == "ResourceNotFoundException":
                    raise StreamGone(error_message(error)) from error
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
            code = error_code(error)
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
            code = error_code(error)
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


def error_code(error: Any) -> str:
    """The `Code` of a botocore ClientError."""
    return str(error.response.get("Error", {}).get("Code", ""))


def error_message(error: Any) -> str:
    """The `Message` of a botocore ClientError."""
    return str(error.response.get("Error", {}).get("Message", ""))
