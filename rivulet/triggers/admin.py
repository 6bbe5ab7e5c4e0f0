"""Managing triggers in the server: create, update, delete, enable, disable, status, failed
batches and redrive; and the triggers of a `--config` file applied at start.

Errors are TriggerError with AWS Lambda's codes (the CLI and the API show them as they come).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import uuid as uuidlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import orjson

from rivulet.core.clock import Clock
from rivulet.errors import ConfigurationError, TriggerError
from rivulet.storage.base import TriggerRow
from rivulet.triggers.config import (
    TriggerConfig,
    TriggerConfigError,
    describe,
    parse_trigger,
    to_settings,
    update_trigger,
)
from rivulet.triggers.destinations import (
    Destination,
    DestinationError,
    NotListable,
    make_destination,
    redrive,
)
from rivulet.triggers.invokers import function_arn, make_invoker
from rivulet.triggers.runtime import TriggerRuntime, function_settings
from rivulet.triggers.source import StreamView

NOT_FOUND = "The resource you requested does not exist."
# Observed on AWS (note the spaces inside the quotes).
DUPLICATE = (
    'The event source arn (" {arn} ") and function (" {function} ") provided mapping already '
    "exists. Please update or delete the existing mapping with UUID {uuid}"
)
NAME_TAKEN = "A trigger named {name} already exists (UUID {uuid})"
STREAM_NOT_FOUND = "Stream not found: {arn}"
TABLE_WITHOUT_STREAM = "Stream not found: table {table} has no stream enabled"
NO_DESTINATION = "Trigger {name} has no on-failure destination"
# `--config` problems found before anything is changed; the server logs `cannot start: ...`.
FILE_CONFLICT = '{source}: trigger {index} ("{name}"): {message}'
FILE_SAME_SOURCE = (
    'it reads {arn} with the same function as trigger {first} ("{other}"); one mapping per '
    "stream and function"
)

FIGURES = (
    "delivered",
    "invocations",
    "errors",
    "retries",
    "filtered",
    "dropped",
    "sent_to_destination",
    "not_invoked",
    "polled",
    "failed_invoke",
)


def _config_error(exc: TriggerConfigError) -> TriggerError:
    return TriggerError(exc.type_name, exc.message)


def _destination_error(exc: DestinationError) -> TriggerError:
    # A webhook keeps nothing to list: the request asks for something the trigger cannot do.
    # Anything else (a file or table that cannot be read) is the server's problem.
    kind = "InvalidParameterValueException" if isinstance(exc, NotListable) else "ServiceException"
    return TriggerError(kind, str(exc))


@contextlib.asynccontextmanager
async def config_lock(data_dir: Path) -> AsyncIterator[None]:
    """Held while a `--config` file is applied: a server and workers started together with one
    file would otherwise each find a trigger missing and create it (the second then fails on the
    name)."""
    with (data_dir / "triggers-config.lock").open("a") as lock:
        await asyncio.to_thread(fcntl.flock, lock, fcntl.LOCK_EX)
        yield  # closing the file releases the lock


class TriggerAdmin:
    def __init__(self, runtime: TriggerRuntime, clock: Clock) -> None:
        self.runtime = runtime
        self.store = runtime.store
        self.clock = clock

    # Lookups -------------------------------------------------------------------------------------
    def _rows(self) -> list[TriggerRow]:
        return self.store.triggers()

    def row(self, name_or_uuid: str) -> TriggerRow:
        for row in self._rows():
            if name_or_uuid in (row.name, row.uuid):
                return row
        raise TriggerError("ResourceNotFoundException", NOT_FOUND)

    @staticmethod
    def config(row: TriggerRow) -> TriggerConfig:
        return parse_trigger(orjson.loads(row.settings))

    def _stream_arns(self) -> dict[int, str]:
        return {s.stream_id: s.arn for s in self.runtime.source.streams()}

    def _function_arn(self, config: TriggerConfig) -> str:
        return function_arn(function_settings(config, self.runtime.settings))

    def describe(self, row: TriggerRow, arns: dict[int, str] | None = None) -> dict[str, Any]:
        """AWS's mapping shape; `arns` (stream id -> ARN) saves a read when describing many."""
        if arns is None:
            arns = self._stream_arns()
        config = self.config(row)
        settings = self.runtime.settings
        figures = self.store.storage.reader().trigger_figures(row.uuid)
        return describe(
            config,
            uuid=row.uuid,
            mapping_arn=f"arn:aws:lambda:{settings.region}:{settings.account_id}"
            f":event-source-mapping:{row.uuid}",
            stream_arn=None if row.stream_id is None else arns.get(row.stream_id),
            function_arn=self._function_arn(config),
            state=row.state,
            state_reason=row.reason,
            last_modified=row.modified_at,
            last_result=figures.get("last_result", row.last_result),
        )

    # Changes -------------------------------------------------------------------------------------
    def _check_source(self, config: TriggerConfig, pending_ok: bool) -> None:
        """A trigger created at run time needs its stream now; one declared in a config file may
        wait for its table (it binds when the table's stream appears)."""
        streams = self.runtime.source.streams()
        if config.event_source_arn is not None:
            if not any(s.arn == config.event_source_arn for s in streams):
                raise TriggerError(
                    "InvalidParameterValueException",
                    STREAM_NOT_FOUND.format(arn=config.event_source_arn),
                )
        elif not pending_ok and not any(
            s.table_name == config.table and s.disabled_at is None for s in streams
        ):
            raise TriggerError(
                "InvalidParameterValueException", TABLE_WITHOUT_STREAM.format(table=config.table)
            )

    def _readers(self) -> Callable[[TriggerConfig], str]:
        """What a trigger reads now, for AWS's one-mapping-per-stream-and-function rule: the
        stream ARN (a table-bound trigger: its table's current stream), or the table's name
        while the table has no stream."""
        current: dict[str, StreamView] = {}
        for stream in self.runtime.source.streams():
            latest = current.get(stream.table_name)
            if stream.disabled_at is None and (
                latest is None or stream.created_at > latest.created_at
            ):
                current[stream.table_name] = stream

        def reads(config: TriggerConfig) -> str:
            if config.event_source_arn is not None:
                return config.event_source_arn
            stream = current.get(str(config.table))
            return str(config.table) if stream is None else stream.arn

        return reads

    def _check_unique(self, config: TriggerConfig, others: list[TriggerRow]) -> None:
        reads = self._readers()
        for row in others:
            if row.name == config.name:
                raise TriggerError(
                    "ResourceConflictException", NAME_TAKEN.format(name=row.name, uuid=row.uuid)
                )
            other = self.config(row)
            if other.function == config.function and reads(other) == reads(config):
                raise TriggerError(
                    "ResourceConflictException",
                    DUPLICATE.format(arn=reads(config), function=config.function, uuid=row.uuid),
                )

    async def create(
        self, raw: dict[str, Any], origin: str = "api", pending_ok: bool = False
    ) -> dict[str, Any]:
        try:
            config = parse_trigger(raw)
        except TriggerConfigError as exc:
            raise _config_error(exc) from None
        self._check_unique(config, self._rows())
        self._check_source(config, pending_ok)
        now = self.clock.now()
        row = TriggerRow(
            uuid=str(uuidlib.uuid4()),
            name=config.name,
            settings=orjson.dumps(to_settings(config)),
            origin=origin,
            stream_id=None,
            state="Enabled" if config.enabled else "Disabled",
            reason="User action",
            created_at=now,
            modified_at=now,
            last_result="No records processed",
        )
        await self.store.put(row)
        # Binding now pins LATEST before this call returns (Q-T14).
        await self.runtime.refresh()
        return self.describe(self.row(row.uuid))

    async def update(self, name: str, changes: dict[str, Any]) -> dict[str, Any]:
        row = self.row(name)
        try:
            config = update_trigger(self.config(row), changes)
        except TriggerConfigError as exc:
            raise _config_error(exc) from None
        self._check_unique(config, [r for r in self._rows() if r.uuid != row.uuid])
        state = "Enabled" if config.enabled else "Disabled"
        updated = TriggerRow(
            uuid=row.uuid,
            name=row.name,
            settings=orjson.dumps(to_settings(config)),
            origin=row.origin,
            stream_id=row.stream_id,
            state=state,
            reason="User action",
            created_at=row.created_at,
            modified_at=self.clock.now(),
            last_result=row.last_result,
        )
        await self.store.put(updated)
        await self.runtime.refresh()
        return self.describe(self.row(row.uuid))

    async def set_enabled(self, name: str, enabled: bool) -> dict[str, Any]:
        return await self.update(name, {"enabled": enabled})

    async def delete(self, name: str) -> dict[str, Any]:
        row = self.row(name)
        out = self.describe(row)
        await self.store.delete(row.uuid)
        await self.runtime.refresh()
        out["State"] = "Deleting"
        return out

    @staticmethod
    def _same_source(a: TriggerConfig, b: TriggerConfig) -> bool:
        fixed = ("table", "event_source_arn", "starting_position")
        return all(getattr(a, key) == getattr(b, key) for key in fixed)

    def _check_entry(
        self,
        configs: list[TriggerConfig],
        index: int,
        ours: dict[str, TriggerRow],
        theirs: list[TriggerRow],
    ) -> None:
        """Raise TriggerError if trigger `index` (from 1) of a `--config` file cannot be applied:
        it clashes with a trigger made at run time or an earlier one of the file, or its stream
        ARN does not exist."""
        config = configs[index - 1]
        self._check_unique(config, theirs)
        row = ours.get(config.name)
        if row is None or not self._same_source(self.config(row), config):
            self._check_source(config, pending_ok=True)
        reads = self._readers()
        for first, earlier in enumerate(configs[: index - 1], start=1):
            if earlier.function == config.function and reads(earlier) == reads(config):
                message = FILE_SAME_SOURCE.format(
                    arn=reads(config), first=first, other=earlier.name
                )
                raise TriggerError("ResourceConflictException", message)

    async def apply_config(self, configs: list[TriggerConfig], source: str = "--config") -> None:
        """Make the database match a `--config` file: create what is new, update what changed
        (checkpoints kept), delete config-file triggers no longer in the file. Triggers made at
        run time (origin "api") are left alone. The whole file is checked first, so a file that
        cannot be applied changes nothing: ConfigurationError names `source` and the trigger."""
        async with config_lock(self.runtime.settings.data_dir):
            await self._apply_config(configs, source)

    async def _apply_config(self, configs: list[TriggerConfig], source: str) -> None:
        rows = self._rows()
        ours = {row.name: row for row in rows if row.origin == "config"}
        theirs = [row for row in rows if row.origin != "config"]
        for index, config in enumerate(configs, start=1):
            try:
                self._check_entry(configs, index, ours, theirs)
            except TriggerError as exc:
                message = FILE_CONFLICT.format(
                    source=source, index=index, name=config.name, message=exc.message
                )
                raise ConfigurationError(message) from None
        wanted = {c.name: c for c in configs}
        kept = []
        for name, row in ours.items():  # deletions first: they may free a source for the rest
            declared = wanted.get(name)
            if declared is None or not self._same_source(self.config(row), declared):
                await self.store.delete(row.uuid)  # gone, or a new source: a new mapping
            else:
                kept.append(row)
        for row in kept:
            declared = wanted.pop(row.name)
            if self.config(row) != declared:
                await self.update(row.name, to_settings(declared))
        for declared in wanted.values():
            await self.create(to_settings(declared), origin="config", pending_ok=True)

    def describe_all(self) -> list[dict[str, Any]]:
        arns = self._stream_arns()
        return [self.describe(row, arns) for row in self._rows()]

    # Observability ---------------------------------------------------------------------------------
    def status(self) -> list[dict[str, Any]]:
        out = []
        reader = self.store.storage.reader()
        now = self.clock.now()
        arns = self._stream_arns()
        for row in self._rows():
            config = self.config(row)
            figures = reader.trigger_figures(row.uuid)
            leases = reader.leases(row.uuid)
            checkpoints = reader.checkpoints(row.uuid)
            out.append(
                {
                    "Name": row.name,
                    "UUID": row.uuid,
                    "State": row.state,
                    "Table": config.table,
                    "EventSourceArn": None if row.stream_id is None else arns.get(row.stream_id),
                    "Function": config.function,
                    "LastProcessingResult": figures.get("last_result", row.last_result),
                    "IteratorAgeMilliseconds": figures.get("iterator_age_ms"),
                    "Figures": {name: int(figures.get(name, 0)) for name in FIGURES},
                    "Shards": {
                        "Processing": sorted(
                            {lease.owner for lease in leases if lease.expires > now}
                        ),
                        "Leased": sum(1 for lease in leases if lease.expires > now),
                        "Finished": sum(1 for cp in checkpoints if cp.done),
                    },
                }
            )
        return out

    # Failed batches ------------------------------------------------------------------------------
    def _destination(self, row: TriggerRow) -> tuple[TriggerConfig, Destination, bool]:
        config = self.config(row)
        if config.on_failure is None:
            raise TriggerError(
                "InvalidParameterValueException", NO_DESTINATION.format(name=row.name)
            )
        active = self.runtime.mapping(row.uuid)
        if active is not None and active.destination is not None:
            return config, active.destination, False
        destination = make_destination(
            config.on_failure, data_dir=self.runtime.settings.data_dir, items=self.runtime.items
        )
        return config, destination, True

    async def failed(self, name: str) -> list[dict[str, Any]]:
        row = self.row(name)
        _, destination, own = self._destination(row)
        try:
            batches = await destination.failed(row.name)
        except DestinationError as exc:
            raise _destination_error(exc) from None
        finally:
            if own:
                await destination.close()
        return [{"Id": b.id, **b.failure} for b in batches]

    async def redrive(self, name: str) -> dict[str, Any]:
        row = self.row(name)
        config, destination, own = self._destination(row)
        invoker = make_invoker(function_settings(config, self.runtime.settings))
        try:
            result = await redrive(
                destination,
                row.name,
                invoker,
                config.function_timeout,
                config.report_batch_item_failures,
            )
        except DestinationError as exc:
            raise _destination_error(exc) from None
        finally:
            await invoker.close()
            if own:
                await destination.close()
        return {
            "Redriven": result.redriven,
            "StillFailing": result.still_failing,
            "Errors": list(result.errors),
        }
