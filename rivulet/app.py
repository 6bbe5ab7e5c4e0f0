"""Composition root: settings -> storage -> engine -> API -> the service apps, plus background tasks."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging

from rivulet.api.context import ApiContext
from rivulet.api.event_source_mappings import event_source_mapping_api
from rivulet.api.registry import operations, streams_operations
from rivulet.config import Settings
from rivulet.core.clock import Clock
from rivulet.engine.database import Database
from rivulet.engine.keyring import Keyring, KeyringError, load_master_key, open_keyring
from rivulet.engine.streams import StreamConfig, run_maintenance
from rivulet.engine.ttl import run_sweeper
from rivulet.errors import ConfigurationError
from rivulet.protocol.asgi import AsgiApp
from rivulet.protocol.service import WireApp
from rivulet.storage.base import StorageError
from rivulet.storage.sqlite import SqliteStorage
from rivulet.triggers.admin import TriggerAdmin
from rivulet.triggers.config import TriggerConfig, TriggerConfigError, load_config_file
from rivulet.triggers.item_sinks import EngineItemSink
from rivulet.triggers.metrics import metrics_page
from rivulet.triggers.runtime import RuntimeSettings, TriggerRuntime
from rivulet.triggers.source import CommitSignal, StreamSource
from rivulet.triggers.store import TriggerStore

log = logging.getLogger("rivulet")


class Server:
    """Owns the database and the background tasks for one `rivulet serve`.

    `app` serves DynamoDB and DynamoDB Streams (and runs start/stop in its lifespan);
    `streams_app` serves only the Streams operations, for the dedicated streams listener.
    """

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        stream_config = StreamConfig(
            shards=settings.stream_shards,
            rotation=settings.shard_rotation,
            retention=settings.stream_retention,
            read_wait=settings.get_records_wait,
            trim_interval=settings.trim_interval,
        )
        self.db = Database(
            SqliteStorage(settings.data_dir, settings.durability), clock or Clock(), stream_config
        )
        self.api = ApiContext(self.db, settings)
        self.app = AsgiApp(
            WireApp(
                operations(self.api),
                settings.region,
                pages={"/metrics": metrics_page(lambda: self.api.triggers)},
                rest=event_source_mapping_api(self.api),
            ),
            on_startup=self.start,
            on_shutdown=self.stop,
        )
        self.runtime: TriggerRuntime | None = None
        self.streams_app = AsgiApp(WireApp(streams_operations(self.api), settings.region))
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            self.db.open()
            master = load_master_key(
                self.settings.data_dir, self.settings.master_key_file, self.settings.master_key
            )
            keyring = open_keyring(self.db.storage, master)
            configs = (
                None
                if self.settings.trigger_config is None
                else load_config_file(self.settings.trigger_config)
            )
        except (StorageError, ValueError, KeyringError) as exc:
            self.db.close()
            raise ConfigurationError(str(exc)) from exc
        except TriggerConfigError as exc:
            self.db.close()
            raise ConfigurationError(exc.message) from exc
        self.db.bind_loop(loop)
        self.db.streams.open(keyring, loop)
        await self._start_triggers(keyring, configs)
        self._tasks.append(asyncio.create_task(run_sweeper(self.db, self.settings.ttl_interval)))
        self._tasks.append(asyncio.create_task(run_maintenance(self.db.streams, self.db.run)))
        # What start-up made lives as long as the server: keep it out of the collector's full
        # passes. Under a PutItem load they came twice a second and stopped the event loop for
        # 25-39 ms each, most of the PutItem p99 (bench/README.md, "Latency and the collector").
        gc.freeze()
        log.info(
            "rivulet ready: data in %s (durability %s), master key %s",
            self.settings.data_dir,
            self.settings.durability,
            keyring.master.describe(),
        )

    async def _start_triggers(self, keyring: Keyring, configs: list[TriggerConfig] | None) -> None:
        settings = self.settings
        storage = self.db.storage
        source = StreamSource(
            storage,
            # Reopened when a record names a data key added after start (keys rotate).
            lambda: open_keyring(storage, keyring.master),
            CommitSignal(self.db.streams),
            settings.region,
            settings.account_id,
        )
        runtime = TriggerRuntime(
            TriggerStore(storage, self.db.run),
            source,
            RuntimeSettings(
                data_dir=settings.data_dir,
                region=settings.region,
                account_id=settings.account_id,
                lease_ttl=settings.lease_ttl,
                endpoint_url=f"http://{settings.host}:{settings.port}",
                process=settings.run_triggers,
            ),
            self.db.clock,
            EngineItemSink(self.db),
        )
        admin = TriggerAdmin(runtime, self.db.clock)
        if configs is not None:
            await admin.apply_config(configs, source=str(self.settings.trigger_config))
        await runtime.start()
        self.db.streams.on_new_stream(runtime.poke)
        self.runtime = runtime
        self.api.triggers = admin

    async def stop(self) -> None:
        if self.runtime is not None:
            await self.runtime.stop()
            self.runtime = None
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        # Closing the storage drains the writer queue: every acknowledged write is committed.
        self.db.close()
        log.info("rivulet stopped")
