"""`rivulet worker` processes beside the server: per-shard leases keep them off each other's
shards, and when one is killed the others take its shards over after the lease TTL, from its
checkpoints (design.md "Triggers": multi-process)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conftest import RunningServer

from triggers.crash_helpers import (
    CounterWriter,
    Delivery,
    all_delivered,
    check_deliveries,
    config_file,
    counter_table,
    deliveries,
    handoffs,
    not_in_flight,
    stream_truth,
    writers_for,
)
from triggers.trigger_helpers import HERE, api, settle, start_trigger_server, wait_for

KEYS = [f"key-{i:02d}" for i in range(20)]
LEASE_TTL = 2
BATCH_SIZE = 5


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: Any

    @property
    def owner(self) -> str:
        return f"{socket.gethostname()}:{self.process.pid}"

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()
        return self.process.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_worker(server: RunningServer, config: Path, out: Path, name: str, *extra: str) -> Worker:
    """`rivulet worker` on the server's data dir; its functions import `trigger_apps.*` and
    record into `out` (as start_trigger_server sets up the server)."""
    log_path = server.data_dir.parent / f"worker-{name}.log"
    log_file = open(log_path, "wb")  # noqa: SIM115 - kept open for the child's lifetime
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(HERE),
        "RIVULET_TEST_OUT": str(out),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rivulet",
            "worker",
            "--data-dir",
            str(server.data_dir),
            "--endpoint-url",
            server.url,
            "--lease-ttl",
            str(LEASE_TTL),
            "--config",
            str(config),
            *extra,
        ],
        stdout=log_file,
        stderr=subprocess.STDOUT,
        env=env,
    )
    return Worker(process, log_path, log_file)


class Load:
    """Writer threads running until `stop()`; returns what was acknowledged."""

    def __init__(self, writers: list[CounterWriter]) -> None:
        self.writers = writers
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=w.run, args=(self._stop,), daemon=True) for w in writers
        ]
        for t in self._threads:
            t.start()

    def stop(self) -> list[tuple[str, int]]:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=30)
        errors = [w.error for w in self.writers if w.error is not None]
        assert not errors, errors
        return [a for w in self.writers for a in w.acked]


def shards(server: RunningServer, name: str) -> dict[str, Any] | None:
    """The trigger's `Shards` status, None until a worker has created it from its config."""
    for row in api(server).call("TriggerStatus", {})["Triggers"]:
        if row["Name"] == name:
            return dict(row["Shards"])
    return None


def overlapping(got: list[Delivery], shard_of: dict[str, str]) -> list[tuple[Delivery, Delivery]]:
    """Invocations of one shard by two processes whose run times overlap."""
    calls: dict[tuple[str, int], Delivery] = {}
    for d in got:
        calls.setdefault((shard_of[d.id], d.call), d)
    by_shard: dict[str, list[Delivery]] = {}
    for (shard, _), d in calls.items():
        by_shard.setdefault(shard, []).append(d)
    found = []
    for ds in by_shard.values():
        for a in ds:
            for b in ds:
                if a.pid < b.pid and a.started < b.ended and b.started < a.ended:
                    found.append((a, b))
    return found


def test_two_workers_share_shards_and_the_survivor_takes_over(tmp_path: Path) -> None:
    table = "workers"
    server, out = start_trigger_server(tmp_path, "--no-triggers")
    workers: list[Worker] = []
    try:
        ddb = server.client()
        counter_table(ddb, table)
        config = config_file(tmp_path / "triggers.toml", table, BATCH_SIZE)
        workers = [start_worker(server, config, out, name) for name in ("a", "b")]
        owners = {w.owner for w in workers}
        name = f"{table}-trigger"

        counters: dict[str, int] = {}
        load = Load(writers_for(server, table, KEYS, 2, counters, pause=0.05))
        # Both workers hold leases: the shards are shared, each shard by one worker.
        both = {"Processing": sorted(owners), "Leased": 4, "Finished": 0}
        wait_for(lambda: shards(server, name) == both, timeout=30)
        wait_for(
            lambda: {d.pid for d in deliveries(out, table)} >= {w.process.pid for w in workers}
        )

        killed, survivor = workers
        assert killed.stop(signal.SIGKILL) == -signal.SIGKILL
        killed_at = time.time()
        # The survivor takes the dead worker's shards over once their leases expire.
        wait_for(
            lambda: (
                shards(server, name) == {"Processing": [survivor.owner], "Leased": 4, "Finished": 0}
            ),
            timeout=30,
        )
        time.sleep(1)
        acked = load.stop()
        truth = stream_truth(server, ddb, table)
        wait_for(lambda: all_delivered(out, table, truth), timeout=60)
        got = settle(lambda: deliveries(out, table))
    finally:
        codes = [w.stop() for w in workers]
        server.stop()
        for w in workers:  # shown by pytest when the test fails
            print(f"--- worker {w.owner} ---\n{w.log()}")
    assert codes == [-signal.SIGKILL, 0]
    assert "Traceback" not in survivor.log()

    redelivered = check_deliveries(got, truth, acked)
    # Records come again only when a shard changes hands (a worker takes one from the other to
    # even out, which the other logs, or the survivor takes the dead one's): at most the batch
    # the previous worker had in flight, whose checkpoint it could not commit.
    assert not_in_flight(got, truth.shard_of) == []
    taken = sum(w.log().count("was taken over by another runtime") for w in workers)
    assert len(redelivered) <= (handoffs(got, truth.shard_of) + taken) * BATCH_SIZE
    # Never two workers on one shard at once; after the kill only the survivor delivers.
    assert overlapping(got, truth.shard_of) == []
    assert {d.pid for d in got if d.started > killed_at} == {survivor.process.pid}
    assert len(truth.records) == len(acked)


def test_server_and_worker_share_shards_never_one_at_once(tmp_path: Path) -> None:
    # The server runs triggers too (same --config): it and the worker split the shards by lease;
    # when the worker stops, the server carries on from the worker's checkpoints.
    table = "shared"
    config = config_file(tmp_path / "triggers.toml", table, BATCH_SIZE)
    server, out = start_trigger_server(
        tmp_path, "--config", str(config), "--lease-ttl", str(LEASE_TTL)
    )
    worker: Worker | None = None
    try:
        ddb = server.client()
        counter_table(ddb, table)
        worker = start_worker(server, config, out, "w")
        server_owner = f"{socket.gethostname()}:{server.process.pid}"
        name = f"{table}-trigger"

        load = Load(writers_for(server, table, KEYS, 2, {}, pause=0.05))
        both = {"Processing": sorted([worker.owner, server_owner]), "Leased": 4, "Finished": 0}
        wait_for(lambda: shards(server, name) == both, timeout=30)
        pids = {worker.process.pid, server.process.pid}
        wait_for(lambda: {d.pid for d in deliveries(out, table)} >= pids)
        assert worker.stop() == 0
        stopped_at = time.time()
        alone = {"Processing": [server_owner], "Leased": 4, "Finished": 0}
        wait_for(lambda: shards(server, name) == alone, timeout=30)
        time.sleep(1)
        acked = load.stop()
        truth = stream_truth(server, ddb, table)
        wait_for(lambda: all_delivered(out, table, truth), timeout=60)
        got = settle(lambda: deliveries(out, table))
    finally:
        code = server.stop()
        if worker is not None:
            worker.stop()
            print(f"--- worker {worker.owner} ---\n{worker.log()}")
    assert code == 0
    assert "Traceback" not in server.log() + worker.log()

    check_deliveries(got, truth, acked)
    assert not_in_flight(got, truth.shard_of) == []
    assert overlapping(got, truth.shard_of) == []
    assert {d.pid for d in got if d.started > stopped_at} == {server.process.pid}
    assert len(truth.records) == len(acked)


def test_a_worker_opens_records_with_the_servers_master_key(tmp_path: Path) -> None:
    key = tmp_path / "master.key"
    key.write_text("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=\n")  # base64 of 32 bytes
    key.chmod(0o600)
    server, out = start_trigger_server(tmp_path, "--no-triggers", "--master-key-file", str(key))
    try:
        ddb = server.client()
        counter_table(ddb, "keyed")
        config = config_file(tmp_path / "triggers.toml", "keyed", BATCH_SIZE)
        # Without the key a worker refuses to start, and never makes a key of its own.
        keyless = start_worker(server, config, out, "keyless")
        assert keyless.process.wait(timeout=30) == 2
        message = f"cannot start: no master key: {server.data_dir / 'master.key'} does not exist"
        assert message in keyless.log()
        assert not (server.data_dir / "master.key").exists()
        keyless.stop()
        worker = start_worker(server, config, out, "keyed", "--master-key-file", str(key))
        try:
            ddb.put_item(TableName="keyed", Item={"pk": {"S": "k"}, "n": {"N": "1"}})
            got = wait_for(lambda: deliveries(out, "keyed"), timeout=30)
            assert [(d.id, d.pid) for d in got] == [(got[0].id, worker.process.pid)]
        finally:
            worker.stop()
    finally:
        server.stop()
