"""The keyring: master key sources, sealing of stream record payloads, rotation and its recovery."""

from __future__ import annotations

import base64
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from rivulet.engine.keyring import (
    KeyringError,
    MasterKey,
    create_key_file,
    fingerprint,
    load_master_key,
    open_keyring,
    rotate_master_key,
)
from rivulet.storage.sqlite import SqliteStorage

KEY_A = bytes(range(32))
KEY_B = bytes(range(100, 132))
AAD = b"stream 1|shard 2|seq 100000000000000000001"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def storage(data_dir: Path) -> Iterator[SqliteStorage]:
    store = SqliteStorage(data_dir)
    store.open()
    yield store
    store.close()


def env_key(key: bytes) -> MasterKey:
    return load_master_key(Path("unused"), None, base64.b64encode(key).decode())


def stored_fingerprints(storage: SqliteStorage) -> list[tuple[int, str]]:
    return [(k["id"], k["master"]) for k in storage.get_meta("data_keys")]


# Sealing ------------------------------------------------------------------------------------


def test_keyring_seal_unseal_round_trip(storage: SqliteStorage) -> None:
    keyring = open_keyring(storage, env_key(KEY_A))
    key_id, blob = keyring.seal(b'{"Keys": {"id": {"S": "1"}}}', AAD)
    assert key_id == 1
    # 12-byte nonce + ciphertext of the same length + 16-byte tag
    assert len(blob) == 12 + 28 + 16
    assert keyring.unseal(key_id, blob, AAD) == b'{"Keys": {"id": {"S": "1"}}}'
    # A random nonce per seal: equal payloads do not give equal blobs.
    assert keyring.seal(b'{"Keys": {"id": {"S": "1"}}}', AAD)[1] != blob
    assert keyring.unseal(*keyring.seal(b"", AAD), AAD) == b""


def test_keyring_aad_binds_blob_to_its_record(storage: SqliteStorage) -> None:
    keyring = open_keyring(storage, env_key(KEY_A))
    key_id, blob = keyring.seal(b"payload", AAD)
    with pytest.raises(KeyringError) as err:
        keyring.unseal(key_id, blob, AAD + b"2")
    assert str(err.value) == (
        "sealed blob failed authentication (data key 1): altered or wrong context"
    )


@pytest.mark.parametrize("position", [0, 11, 12, 18, -1])  # nonce, ciphertext, tag
def test_keyring_tampered_blob_fails(storage: SqliteStorage, position: int) -> None:
    keyring = open_keyring(storage, env_key(KEY_A))
    key_id, blob = keyring.seal(b"payload", AAD)
    tampered = bytearray(blob)
    tampered[position] ^= 0x01
    with pytest.raises(KeyringError) as err:
        keyring.unseal(key_id, bytes(tampered), AAD)
    assert str(err.value) == (
        "sealed blob failed authentication (data key 1): altered or wrong context"
    )


def test_keyring_truncated_blob_and_unknown_key_fail(storage: SqliteStorage) -> None:
    keyring = open_keyring(storage, env_key(KEY_A))
    key_id, blob = keyring.seal(b"payload", AAD)
    with pytest.raises(KeyringError) as err:
        keyring.unseal(key_id, blob[:27], AAD)
    assert str(err.value) == "sealed blob of 27 bytes is too short (data key 1)"
    with pytest.raises(KeyringError) as err:
        keyring.unseal(7, blob, AAD)
    assert str(err.value) == "unknown data key 7"


def test_open_keyring_creates_one_data_key_and_reuses_it(data_dir: Path) -> None:
    master = env_key(KEY_A)
    store = SqliteStorage(data_dir)
    store.open()
    keyring = open_keyring(store, master)
    blob = keyring.seal(b"before restart", AAD)
    store.close()

    store = SqliteStorage(data_dir)
    store.open()
    try:
        reopened = open_keyring(store, master)
        assert reopened.current_key_id == 1
        assert stored_fingerprints(store) == [(1, master.fingerprint)]
        assert reopened.unseal(*blob, AAD) == b"before restart"
    finally:
        store.close()


def test_keyring_and_master_key_repr_hide_key_material(storage: SqliteStorage) -> None:
    master = env_key(KEY_A)
    keyring = open_keyring(storage, master)
    assert repr(master) == (
        f"MasterKey(fingerprint='{master.fingerprint}', source='env', path=None)"
    )
    assert repr(keyring) == f"Keyring(keys=[1], current=1, master={master.fingerprint})"


# Master key sources ---------------------------------------------------------------------------


def test_load_master_key_generates_private_key_file_and_warns(
    data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="rivulet.keys")
    old_umask = os.umask(0)  # the mode must come from the open() call, not from the umask
    try:
        master = load_master_key(data_dir, None, None)
    finally:
        os.umask(old_umask)
    path = data_dir / "master.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes() == base64.b64encode(master.key) + b"\n"
    assert len(master.key) == 32
    assert master.fingerprint == fingerprint(master.key)
    assert (master.source, master.path) == ("generated", path)
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "rivulet.keys",
            "WARNING",
            f"generated a new master key for stream record encryption at {path} "
            f"(fingerprint {master.fingerprint}). Back it up: without it stream records cannot "
            "be read. In production provide the key with --master-key-file or "
            "RIVULET_MASTER_KEY instead.",
        )
    ]
    assert sorted(p.name for p in data_dir.iterdir()) == ["master.key"]  # no temp file left

    caplog.clear()
    again = load_master_key(data_dir, None, None)
    assert (again.key, again.source, again.path) == (master.key, "data-dir", path)
    assert caplog.records == []


def test_load_master_key_env_wins_over_file_and_data_dir(
    data_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key_file = tmp_path / "file.key"
    key_file.write_text(base64.b64encode(KEY_B).decode())
    master = load_master_key(data_dir, key_file, base64.b64encode(KEY_A).decode() + "\n")
    assert (master.key, master.source, master.path) == (KEY_A, "env", None)
    assert master.describe() == "environment variable RIVULET_MASTER_KEY"
    assert not data_dir.exists()
    assert [r.getMessage() for r in caplog.records] == [
        f"RIVULET_MASTER_KEY is set: ignoring the master key file {key_file}"
    ]


def test_load_master_key_from_file_base64_or_raw(data_dir: Path, tmp_path: Path) -> None:
    b64_file = tmp_path / "b64.key"
    b64_file.write_text("\n  " + base64.b64encode(KEY_A).decode() + "  \n\n")
    b64_file.chmod(0o600)
    master = load_master_key(data_dir, b64_file, None)
    assert (master.key, master.source, master.path) == (KEY_A, "file", b64_file)
    assert master.describe() == str(b64_file)

    raw_file = tmp_path / "raw.key"
    raw_file.write_bytes(KEY_B)
    raw_file.chmod(0o600)
    assert load_master_key(data_dir, raw_file, None).key == KEY_B
    assert not data_dir.exists()


def test_load_master_key_warns_about_readable_key_file(
    data_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key_file = tmp_path / "open.key"
    key_file.write_text(base64.b64encode(KEY_A).decode())
    key_file.chmod(0o644)
    load_master_key(data_dir, key_file, None)
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", f"master key file {key_file} is accessible to other users (mode 644)")
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            base64.b64encode(bytes(16)).decode(),
            "RIVULET_MASTER_KEY must hold the base64 encoding of exactly 32 bytes, "
            "but it decodes to 16 bytes",
        ),
        (
            "not base64!",
            "RIVULET_MASTER_KEY is not valid base64; it must hold the base64 encoding of exactly "
            "32 bytes (e.g. `openssl rand -base64 32`)",
        ),
        (
            "",
            "RIVULET_MASTER_KEY must hold the base64 encoding of exactly 32 bytes, "
            "but it decodes to 0 bytes",
        ),
    ],
)
def test_load_master_key_rejects_bad_env_value(data_dir: Path, value: str, message: str) -> None:
    with pytest.raises(ValueError) as err:
        load_master_key(data_dir, None, value)
    assert str(err.value) == message
    assert not data_dir.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            base64.b64encode(bytes(33)) + b"\n",
            "master key file {path} must hold the base64 encoding of exactly 32 bytes, "
            "but it decodes to 33 bytes",
        ),
        # 32 characters of base64 (24 bytes) is a short base64 key, not a raw one
        (
            base64.b64encode(bytes(24)),
            "master key file {path} must hold the base64 encoding of exactly 32 bytes, "
            "but it decodes to 24 bytes",
        ),
        (
            b"",
            "master key file {path} must hold the base64 encoding of exactly 32 bytes, "
            "but it decodes to 0 bytes",
        ),
        (
            b"\xff" * 31,
            "master key file {path} must hold the base64 encoding of 32 bytes or exactly 32 "
            "raw bytes, but it holds 31 bytes of binary data",
        ),
        (
            b"%%%%",
            "master key file {path} is not valid base64; it must hold the base64 encoding of "
            "exactly 32 bytes (e.g. `openssl rand -base64 32`)",
        ),
    ],
)
def test_load_master_key_rejects_bad_key_file(
    data_dir: Path, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.key"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(ValueError) as err:
        load_master_key(data_dir, path, None)
    assert str(err.value) == message.format(path=path)


def test_load_master_key_missing_file(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "absent.key"
    with pytest.raises(ValueError) as err:
        load_master_key(data_dir, path, None)
    assert str(err.value) == f"cannot read master key file {path}: No such file or directory"
    assert not data_dir.exists()


def test_create_key_file_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    first = create_key_file(path)
    with pytest.raises(FileExistsError):
        create_key_file(path)
    assert path.read_bytes() == base64.b64encode(first.key) + b"\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["master.key"]


# Wrong master key -----------------------------------------------------------------------------


def test_open_keyring_with_wrong_master_key_fails_and_creates_nothing(
    storage: SqliteStorage,
) -> None:
    right, wrong = env_key(KEY_A), env_key(KEY_B)
    open_keyring(storage, right)
    with pytest.raises(KeyringError) as err:
        open_keyring(storage, wrong)
    assert str(err.value) == (
        f"the master key from environment variable RIVULET_MASTER_KEY (fingerprint "
        f"{wrong.fingerprint}) does not match this database: its stream data keys are wrapped "
        f"under master key {right.fingerprint}. Provide that key with --master-key-file or "
        "RIVULET_MASTER_KEY."
    )
    assert stored_fingerprints(storage) == [(1, right.fingerprint)]


def test_open_keyring_with_generated_key_on_existing_database_says_so(
    storage: SqliteStorage, data_dir: Path
) -> None:
    right = env_key(KEY_A)
    open_keyring(storage, right)
    generated = load_master_key(data_dir, None, None)
    with pytest.raises(KeyringError) as err:
        open_keyring(storage, generated)
    assert str(err.value) == (
        f"the master key from {data_dir / 'master.key'} (generated just now) (fingerprint "
        f"{generated.fingerprint}) does not match this database: its stream data keys are "
        f"wrapped under master key {right.fingerprint}. Provide that key with --master-key-file "
        "or RIVULET_MASTER_KEY. (No master key was provided, so a new one was generated; it "
        "cannot help.)"
    )


def test_open_keyring_detects_damaged_wrapped_key(storage: SqliteStorage) -> None:
    master = env_key(KEY_A)
    open_keyring(storage, master)
    [row] = storage.get_meta("data_keys")
    wrapped = bytearray(base64.b64decode(row["wrapped"]))
    wrapped[20] ^= 0x80
    row["wrapped"] = base64.b64encode(wrapped).decode()
    storage.run_sync(lambda txn: txn.set_meta("data_keys", [row]))
    with pytest.raises(KeyringError) as err:
        open_keyring(storage, master)
    assert str(err.value) == (
        f"data key 1 does not unwrap under master key {master.fingerprint} although it is "
        "recorded as wrapped by it: the stored data keys are damaged"
    )


# Rotation -------------------------------------------------------------------------------------


def test_rotate_master_key_keeps_records_readable_with_new_key_only(
    storage: SqliteStorage,
) -> None:
    old, new = env_key(KEY_A), env_key(KEY_B)
    before = open_keyring(storage, old).seal(b"sealed before rotation", AAD)

    assert rotate_master_key(storage, old, new) == 1
    assert stored_fingerprints(storage) == [(1, new.fingerprint), (2, new.fingerprint)]

    keyring = open_keyring(storage, new)
    assert keyring.unseal(*before, AAD) == b"sealed before rotation"
    after = keyring.seal(b"sealed after rotation", AAD)
    assert after[0] == 2  # new records use the fresh data key
    assert keyring.unseal(*after, AAD) == b"sealed after rotation"
    with pytest.raises(KeyringError) as err:
        open_keyring(storage, old)
    assert str(err.value).startswith(
        f"the master key from environment variable RIVULET_MASTER_KEY (fingerprint "
        f"{old.fingerprint}) does not match this database: its stream data keys are wrapped "
        f"under master key {new.fingerprint}."
    )

    # A second rotation (back to the first key) carries every earlier data key along.
    assert rotate_master_key(storage, new, old) == 2
    again = open_keyring(storage, old)
    assert again.current_key_id == 3
    assert again.unseal(*before, AAD) == b"sealed before rotation"
    assert again.unseal(*after, AAD) == b"sealed after rotation"


def test_rotate_master_key_refuses_wrong_or_same_key(storage: SqliteStorage) -> None:
    current, other = env_key(KEY_A), env_key(KEY_B)
    open_keyring(storage, current)
    with pytest.raises(ValueError) as same:
        rotate_master_key(storage, current, current)
    assert str(same.value) == (
        f"the new master key is the current one (fingerprint {current.fingerprint})"
    )
    with pytest.raises(KeyringError) as wrong:
        rotate_master_key(storage, other, env_key(bytes(32)))
    assert str(wrong.value).startswith(
        f"the master key from environment variable RIVULET_MASTER_KEY (fingerprint "
        f"{other.fingerprint}) does not match this database"
    )
    assert stored_fingerprints(storage) == [(1, current.fingerprint)]


def test_open_keyring_finishes_rotation_interrupted_after_commit(
    storage: SqliteStorage, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    old = load_master_key(data_dir, None, None)
    before = open_keyring(storage, old).seal(b"sealed before rotation", AAD)
    # `keys rotate` wrote master.key.new and committed, then crashed before the rename.
    pending = create_key_file(data_dir / "master.key.new", "data-dir")
    rotate_master_key(storage, old, pending)

    caplog.clear()
    caplog.set_level(logging.WARNING, logger="rivulet.keys")
    reloaded = load_master_key(data_dir, None, None)
    assert reloaded.fingerprint == old.fingerprint
    keyring = open_keyring(storage, reloaded)

    assert keyring.master.fingerprint == pending.fingerprint
    assert (keyring.master.source, keyring.master.path) == ("data-dir", data_dir / "master.key")
    assert (data_dir / "master.key").read_bytes() == base64.b64encode(pending.key) + b"\n"
    assert stat.S_IMODE((data_dir / "master.key").stat().st_mode) == 0o600
    assert not (data_dir / "master.key.new").exists()
    assert keyring.unseal(*before, AAD) == b"sealed before rotation"
    assert [r.getMessage() for r in caplog.records] == [
        f"finished an interrupted master key rotation: {data_dir / 'master.key'} now holds "
        f"master key {pending.fingerprint} (was {old.fingerprint})"
    ]
    assert load_master_key(data_dir, None, None).fingerprint == pending.fingerprint


def test_open_keyring_ignores_rotation_interrupted_before_commit(
    storage: SqliteStorage, data_dir: Path
) -> None:
    old = load_master_key(data_dir, None, None)
    before = open_keyring(storage, old).seal(b"sealed before rotation", AAD)
    pending = create_key_file(data_dir / "master.key.new", "data-dir")  # crash: nothing committed

    keyring = open_keyring(storage, load_master_key(data_dir, None, None))
    assert keyring.master.fingerprint == old.fingerprint
    assert keyring.unseal(*before, AAD) == b"sealed before rotation"
    # Left in place: a rotation may be between its two steps right now; `keys rotate` reuses it.
    assert (data_dir / "master.key.new").read_bytes() == base64.b64encode(pending.key) + b"\n"
    assert stored_fingerprints(storage) == [(1, old.fingerprint)]


def test_open_keyring_never_replaces_operator_key(storage: SqliteStorage, data_dir: Path) -> None:
    # Recovery only concerns the generated data-dir key: with a key given by the operator, a
    # master.key.new in the data dir is not consulted and the mismatch is reported.
    old = env_key(KEY_A)
    open_keyring(storage, old)
    pending = create_key_file(data_dir / "master.key.new", "data-dir")
    rotate_master_key(storage, old, pending)
    with pytest.raises(KeyringError):
        open_keyring(storage, old)
    assert (data_dir / "master.key.new").exists()
    assert not (data_dir / "master.key").exists()
