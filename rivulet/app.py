"""Composition root: settings -> storage -> engine -> API -> ASGI app, plus background tasks."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from rivulet.api.context import ApiContext
from rivulet.api.registry import operations
from rivulet.config import Settings
from rivulet.core.clock import Clock
from rivulet.engine.database import Database
from rivulet.engine.ttl import run_sweeper
from rivulet.protocol.asgi import WireApp
from rivulet.storage.sqlite import SqliteStorage

log = logging.getLogger("rivulet")


class Server:
    """Owns the database and the background tasks for one `rivulet serve`."""

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.db = Database(SqliteStorage(settings.data_dir, settings.durability), clock or Clock())
        self.api = ApiContext(self.db, settings)
        self.app = WireApp(
            operations(self.api), settings.region, on_startup=self.start, on_shutdown=self.stop
        )
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self.db.open()
        self.db.bind_loop(asyncio.get_running_loop())
        self._tasks.append(asyncio.create_task(run_sweeper(self.db, self.settings.ttl_interval)))
        log.info(
            "rivulet ready: data in %s (durability %s)",
            self.settings.data_dir,
            self.settings.durability,
        )

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        # Closing the storage drains the writer queue: every acknowledged write is committed.
        self.db.close()
        log.info("rivulet stopped")
