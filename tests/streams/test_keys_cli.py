"""`rivulet keys rotate`: re-wraps the stream data keys; records stay readable with the new key."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from conftest import RunningServer, start_server

from rivulet.engine.keyring import (
    MasterKey,
    create_key_file,
    load_master_key,
    open_keyring,
    read_key_file,
    rotate_master_key,
)
from rivulet.keys_cli import keys
from rivulet.storage.sqlite import SqliteStorage

AAD = b"stream record aad"
KEY_A = bytes(range(32))
KEY_B = bytes(range(100, 132))
# The environment must not leak a key into the command.
NO_KEY_ENV: dict[str, str | None] = {"RIVULET_MASTER_KEY": None, "RIVULET_MASTER_KEY_FILE": None}
RUNNING_SERVER_LINE = (
    "A running server keeps working and uses the new data key from its next start.\n"
)


def seal_one(data_dir: Path, master: MasterKey, plaintext: bytes) -> tuple[int, bytes]:
    """Open the keyring on `data_dir` (creating the database and its first data key) and seal."""
    storage = SqliteStorage(data_dir)
    storage.open()
    try:
        return open_keyring(storage, master).seal(plaintext, AAD)
    finally:
        storage.close()


def unseal_with(data_dir: Path, master: MasterKey, sealed: tuple[int, bytes]) -> tuple[int, bytes]:
    """(current data key id, plaintext of `sealed`) with a keyring opened under `master`."""
    storage = SqliteStorage(data_dir)
    storage.open()
    try:
        keyring = open_keyring(storage, master)
        return keyring.current_key_id, keyring.unseal(*sealed, AAD)
    finally:
        storage.close()


def data_key_masters(data_dir: Path) -> list[tuple[int, str]]:
    storage = SqliteStorage(data_dir)
    storage.open()
    try:
        return [(k["id"], k["master"]) for k in storage.get_meta("data_keys")]
    finally:
        storage.close()


def key_file(path: Path, key: bytes) -> Path:
    path.write_text(base64.b64encode(key).decode() + "\n")
    path.chmod(0o600)
    return path


def rotate(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(keys, ["rotate", *args], env={**NO_KEY_ENV, **(env or {})})


def test_keys_rotate_generated_key_replaces_master_key_file(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    old = load_master_key(data_dir, None, None)
    sealed = seal_one(data_dir, old, b"record before rotation")

    result = rotate("--data-dir", str(data_dir))

    assert result.exit_code == 0, result.output
    new = load_master_key(data_dir, None, None)
    assert new.fingerprint != old.fingerprint
    assert result.output == (
        f"Re-wrapped 1 data key under the new master key {new.fingerprint}.\n"
        f"{data_dir / 'master.key'} now holds the new key; back it up.\n" + RUNNING_SERVER_LINE
    )
    assert stat.S_IMODE((data_dir / "master.key").stat().st_mode) == 0o600
    assert not (data_dir / "master.key.new").exists()
    assert data_key_masters(data_dir) == [(1, new.fingerprint), (2, new.fingerprint)]
    assert unseal_with(data_dir, new, sealed) == (2, b"record before rotation")


def test_keys_rotate_operator_keys(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    old_file = key_file(tmp_path / "old.key", KEY_A)
    new_file = key_file(tmp_path / "new.key", KEY_B)
    old, new = read_key_file(old_file), read_key_file(new_file)
    sealed = seal_one(data_dir, old, b"record before rotation")

    result = rotate(
        "--data-dir",
        str(data_dir),
        "--new-master-key-file",
        str(new_file),
        env={"RIVULET_MASTER_KEY_FILE": str(old_file)},
    )

    assert result.exit_code == 0, result.output
    assert result.output == (
        f"Re-wrapped 1 data key under the new master key {new.fingerprint}.\n"
        f"Restart the server with the new key: --master-key-file {new_file} (or "
        f"RIVULET_MASTER_KEY_FILE); the old key {old.fingerprint} no longer opens this "
        "database.\n" + RUNNING_SERVER_LINE
    )
    assert sorted(p.name for p in data_dir.iterdir() if p.name.startswith("master")) == []
    assert old_file.read_bytes() == base64.b64encode(KEY_A) + b"\n"  # the operator's files stay
    assert unseal_with(data_dir, new, sealed) == (2, b"record before rotation")


def test_keys_rotate_env_key_needs_new_key_file(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = {"RIVULET_MASTER_KEY": base64.b64encode(KEY_A).decode()}
    current = load_master_key(data_dir, None, env["RIVULET_MASTER_KEY"])
    seal_one(data_dir, current, b"x")

    refused = rotate("--data-dir", str(data_dir), env=env)
    assert refused.exit_code == 1
    assert refused.output == (
        "Error: the current master key is provided by the operator: give the new one with "
        "--new-master-key-file\n"
    )
    assert data_key_masters(data_dir) == [(1, current.fingerprint)]

    new_file = key_file(tmp_path / "new.key", KEY_B)
    done = rotate("--data-dir", str(data_dir), "--new-master-key-file", str(new_file), env=env)
    assert done.exit_code == 0, done.output
    new = read_key_file(new_file)
    assert data_key_masters(data_dir) == [(1, new.fingerprint), (2, new.fingerprint)]


def test_keys_rotate_with_wrong_current_key_changes_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    right = read_key_file(key_file(tmp_path / "right.key", KEY_A))
    wrong_file = key_file(tmp_path / "wrong.key", KEY_B)
    wrong = read_key_file(wrong_file)
    seal_one(data_dir, right, b"x")

    result = rotate("--data-dir", str(data_dir), "--master-key-file", str(wrong_file))

    assert result.exit_code == 1
    assert result.output == (
        f"Error: the master key from {wrong_file} (fingerprint {wrong.fingerprint}) does not "
        f"match this database: its stream data keys are wrapped under master key "
        f"{right.fingerprint}. Provide that key with --master-key-file or RIVULET_MASTER_KEY.\n"
    )
    assert data_key_masters(data_dir) == [(1, right.fingerprint)]
    assert sorted(p.name for p in data_dir.iterdir() if p.name.startswith("master")) == []


def test_keys_rotate_without_database_or_key(tmp_path: Path) -> None:
    missing = rotate("--data-dir", str(tmp_path / "nowhere"))
    assert missing.exit_code == 1
    assert missing.output == f"Error: no Rivulet database in {tmp_path / 'nowhere'}\n"
    assert not (tmp_path / "nowhere").exists()

    data_dir = tmp_path / "data"
    seal_one(data_dir, read_key_file(key_file(tmp_path / "a.key", KEY_A)), b"x")
    no_key = rotate("--data-dir", str(data_dir))
    assert no_key.exit_code == 1
    assert no_key.output == (
        "Error: no master key: give --master-key-file or RIVULET_MASTER_KEY, or keep the "
        f"generated key at {data_dir / 'master.key'}\n"
    )
    assert not (data_dir / "master.key").exists()  # never generated by a rotation


def test_keys_rotate_reuses_key_of_rotation_that_never_committed(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    old = load_master_key(data_dir, None, None)
    sealed = seal_one(data_dir, old, b"record before rotation")
    leftover = create_key_file(data_dir / "master.key.new", "data-dir")

    result = rotate("--data-dir", str(data_dir))

    assert result.exit_code == 0, result.output
    assert result.output == (
        f"Using {data_dir / 'master.key.new'}, left by an interrupted rotation, as the new "
        "master key.\n"
        f"Re-wrapped 1 data key under the new master key {leftover.fingerprint}.\n"
        f"{data_dir / 'master.key'} now holds the new key; back it up.\n" + RUNNING_SERVER_LINE
    )
    assert load_master_key(data_dir, None, None).key == leftover.key
    assert unseal_with(data_dir, leftover, sealed) == (2, b"record before rotation")


def test_keys_rotate_finishes_interrupted_rotation_first(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The first rotation committed but crashed before renaming master.key.new: the next run
    # completes it, then rotates again from that key.
    data_dir = tmp_path / "data"
    old = load_master_key(data_dir, None, None)
    sealed = seal_one(data_dir, old, b"record before rotation")
    pending = create_key_file(data_dir / "master.key.new", "data-dir")
    storage = SqliteStorage(data_dir)
    storage.open()
    try:
        rotate_master_key(storage, old, pending)
    finally:
        storage.close()

    result = rotate("--data-dir", str(data_dir))

    assert result.exit_code == 0, result.output
    newest = load_master_key(data_dir, None, None)
    assert newest.fingerprint not in (old.fingerprint, pending.fingerprint)
    assert result.output.startswith(
        f"Re-wrapped 2 data keys under the new master key {newest.fingerprint}.\n"
    )
    assert (
        "rivulet.keys",
        f"finished an interrupted master key rotation: {data_dir / 'master.key'} now holds "
        f"master key {pending.fingerprint} (was {old.fingerprint})",
    ) in [(r.name, r.getMessage()) for r in caplog.records]
    assert data_key_masters(data_dir) == [(i, newest.fingerprint) for i in (1, 2, 3)]
    assert unseal_with(data_dir, newest, sealed) == (3, b"record before rotation")


def stream_keys(server: RunningServer, table: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(eventName, key id, NewImage) of every record of the table's stream, sorted by key id."""
    streams = server.streams()
    arn = server.client().describe_table(TableName=table)["Table"]["LatestStreamArn"]
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records += streams.get_records(ShardIterator=iterator)["Records"]
    return sorted(
        (r["eventName"], r["dynamodb"]["Keys"]["id"]["S"], r["dynamodb"]["NewImage"])
        for r in records
    )


def test_keys_rotate_while_server_runs(tmp_path: Path) -> None:
    # The rotation commits beside a live server (SQLite WAL + busy timeout); the server keeps
    # serving and sealing stream records, and after a restart it opens the database with the
    # rotated key and still reads the records written before the rotation.
    data_dir = tmp_path / "data"
    old = load_master_key(data_dir, None, None)
    sealed = seal_one(data_dir, old, b"record before rotation")
    server = start_server(data_dir)
    try:
        ddb = server.client()
        ddb.create_table(
            TableName="rotated",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
        ddb.put_item(TableName="rotated", Item={"id": {"S": "before"}})

        env = {k: v for k, v in os.environ.items() if k not in NO_KEY_ENV}
        done = subprocess.run(
            [sys.executable, "-m", "rivulet.keys_cli", "rotate", "--data-dir", str(data_dir)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        new = read_key_file(data_dir / "master.key")
        assert done.stdout == (
            f"Re-wrapped 1 data key under the new master key {new.fingerprint}.\n"
            f"{data_dir / 'master.key'} now holds the new key; back it up.\n" + RUNNING_SERVER_LINE
        )
        assert done.stderr == ""

        ddb.put_item(TableName="rotated", Item={"id": {"S": "during"}})
        assert ddb.get_item(TableName="rotated", Key={"id": {"S": "before"}})["Item"] == {
            "id": {"S": "before"}
        }
    finally:
        assert server.stop() == 0, server.log()

    assert unseal_with(data_dir, new, sealed) == (2, b"record before rotation")
    restarted = start_server(data_dir)
    try:
        restarted.client().put_item(TableName="rotated", Item={"id": {"S": "after"}})
        assert stream_keys(restarted, "rotated") == [
            ("INSERT", key, {"id": {"S": key}}) for key in ("after", "before", "during")
        ]
        assert (
            f"stream records encrypted with data key 2 (2 data keys, master key "
            f"{new.fingerprint} from {data_dir / 'master.key'})"
        ) in restarted.log()
    finally:
        assert restarted.stop() == 0, restarted.log()
