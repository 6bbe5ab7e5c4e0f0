"""`rivulet worker`: the trigger runtime in its own process, on the server's data dir.

A worker has no engine: it reads streams and writes only trigger state (checkpoints, leases,
figures) in the shared SQLite file, learns of new records from the database's data version,
and writes dead-letter table entries through the server's API.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

from rivulet.core.clock import Clock
from rivulet.engine.keyring import KeyringError, load_master_key, open_keyring
from rivulet.errors import ConfigurationError
from rivulet.storage.base import StorageError
from rivulet.storage.sqlite import SqliteStorage
from rivulet.triggers.admin import TriggerAdmin
from rivulet.triggers.config import TriggerConfigError, load_config_file
from rivulet.triggers.item_sinks import HttpItemSink
from rivulet.triggers.runtime import RuntimeSettings, TriggerRuntime
from rivulet.triggers.source import DataVersionSignal, StreamSource
from rivulet.triggers.store import TriggerStore

log = logging.getLogger("rivulet.worker")


async def run_worker(
    *,
    data_dir: Path,
    config_file: Path | None,
    endpoint_url: str,
    region: str,
    lease_ttl: float,
    master_key_file: Path | None,
    master_key: str | None,
) -> int:
    """Run until SIGINT/SIGTERM; returns the exit status."""
    loop = asyncio.get_running_loop()
    storage = SqliteStorage(data_dir)
    try:
        configs = None if config_file is None else load_config_file(config_file)
        storage.open()
        # A worker never makes a key: one that differs from the server's opens nothing.
        master = load_master_key(data_dir, master_key_file, master_key, generate=False)
        keyring = open_keyring(storage, master)
    except TriggerConfigError as exc:
        log.error("cannot start: %s", exc.message)
        return 2
    except (StorageError, ValueError, KeyringError) as exc:
        log.error("cannot start: %s", exc)
        storage.close()
        return 2
    signal_ = DataVersionSignal(storage)
    signal_.start()
    source = StreamSource(
        storage, lambda: open_keyring(storage, master), signal_, region, "000000000000"
    )
    clock = Clock()
    runtime = TriggerRuntime(
        TriggerStore(storage, lambda job: storage.submit(job, loop)),
        source,
        RuntimeSettings(
            data_dir=data_dir, region=region, lease_ttl=lease_ttl, endpoint_url=endpoint_url
        ),
        clock,
        HttpItemSink(endpoint_url, region),
    )
    del keyring  # the source reopens it when a record needs a newer data key
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        if configs is not None:
            try:
                await TriggerAdmin(runtime, clock).apply_config(configs, source=str(config_file))
            except ConfigurationError as exc:
                log.error("cannot start: %s", exc)
                return 2
        await runtime.start()
        log.info("rivulet worker %s running triggers of %s", runtime.settings.owner, data_dir)
        await stop.wait()
    finally:
        await runtime.stop()
        await signal_.stop()
        storage.close()
        log.info("rivulet worker stopped")
    return 0
