"""Triggers survive `kill -9` of the server under write load: every record is delivered at least
once, in per-key order, none skipped; only the batch in flight at the kill comes again."""

from __future__ import annotations

import signal
from pathlib import Path

from conftest import RunningServer
from streams.stream_helpers import stop_under_load

from triggers.crash_helpers import (
    all_delivered,
    check_deliveries,
    config_file,
    counter_table,
    deliveries,
    not_in_flight,
    stream_truth,
    writers_for,
)
from triggers.trigger_helpers import settle, start_trigger_server, status, wait_for

TABLE = "trigger-crash"
KEYS = [f"key-{i:02d}" for i in range(20)]
WRITERS = 4
BATCH_SIZE = 10
SHARDS = 4  # the server's default --stream-shards
ACKS_PER_RUN = 600


def start(tmp: Path, config: Path) -> RunningServer:
    # A short lease: the restarted server takes the killed one's shards over soon.
    server, _ = start_trigger_server(tmp, "--config", str(config), "--lease-ttl", "2")
    return server


def test_kill9_under_load_delivers_every_record_in_key_order(tmp_path: Path) -> None:
    config = config_file(tmp_path / "triggers.toml", TABLE, BATCH_SIZE)
    out = tmp_path / "out"
    counters: dict[str, int] = {}
    acked: list[tuple[str, int]] = []
    pids: list[int] = []

    server = start(tmp_path, config)
    try:
        counter_table(server.client(), TABLE)
        wait_for(lambda: status(server, f"{TABLE}-trigger").get("EventSourceArn"))
        for _ in range(2):
            pids.append(server.process.pid)
            if len(pids) > 1:
                # Kill each process while it delivers: once it has taken the shards over (after
                # the killed one's leases expired) and delivers the backlog.
                wait_for(lambda: pids[-1] in {d.pid for d in deliveries(out, TABLE)}, timeout=30)
            writers = writers_for(server, TABLE, KEYS, WRITERS, counters)
            stop_under_load(server, writers, ACKS_PER_RUN)
            acked += [a for w in writers for a in w.acked]
            assert server.stop() == -signal.SIGKILL
            server = start(tmp_path, config)
        pids.append(server.process.pid)
        # Writes after the last restart are delivered too.
        (writer,) = writers_for(server, TABLE, KEYS, 1, counters)
        for key in KEYS:
            writer.write(key)
        acked += writer.acked
        truth = stream_truth(server, server.client(), TABLE)
        assert len(truth.records) >= 2 * ACKS_PER_RUN + len(KEYS)
        wait_for(lambda: all_delivered(out, TABLE, truth), timeout=60)
        got = settle(lambda: deliveries(out, TABLE))
    finally:
        code = server.stop()
    assert code == 0
    assert "Traceback" not in server.log()

    redelivered = check_deliveries(got, truth, acked)
    # Only what was in flight at a kill comes again, from a later process: at most one batch
    # per shard per kill, each the last batch the killed process invoked on that shard.
    assert len(redelivered) <= 2 * SHARDS * BATCH_SIZE
    first_pid: dict[str, int] = {}
    for d in got:
        first_pid.setdefault(d.id, d.pid)
    assert all(pids.index(d.pid) > pids.index(first_pid[d.id]) for d in redelivered)
    per_process = [(d.pid, d.id) for d in got]
    assert len(set(per_process)) == len(per_process), "a process got a record twice"
    assert not_in_flight(got, truth.shard_of) == []
