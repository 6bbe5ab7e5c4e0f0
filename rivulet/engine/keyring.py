"""Envelope encryption of stream record payloads: a master key wraps random AES-256-GCM data keys.

Data keys live wrapped in the meta table under "data_keys" (a JSON list of
{"id", "wrapped" (base64 of nonce + ciphertext + tag), "master" (fingerprint), "created"}). The
master key never touches the database, so a copy of `rivulet.db` alone does not reveal records.
Rotating the master key re-wraps the data keys in one transaction; records are never rewritten.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import logging
import os
import secrets
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from rivulet.storage.base import Storage, WriteTxn

log = logging.getLogger("rivulet.keys")

ENV_MASTER_KEY = "RIVULET_MASTER_KEY"
ENV_MASTER_KEY_FILE = "RIVULET_MASTER_KEY_FILE"
KEY_FILE_NAME = "master.key"
# Written before a rotation commits, renamed over master.key after: see finish_interrupted_rotation.
PENDING_KEY_FILE_NAME = "master.key.new"
META_KEY = "data_keys"

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # the 96-bit nonce GCM is specified for; random, so at most ~2**32 seals per key
TAG_BYTES = 16

# MasterKey.source values. "generated" and "data-dir" are the key file Rivulet manages itself in
# the data directory; only that one is replaced by `rivulet keys rotate`.
SOURCE_ENV = "env"
SOURCE_FILE = "file"
SOURCE_DATA_DIR = "data-dir"
SOURCE_GENERATED = "generated"


class KeyringError(Exception):
    """A record or data key that cannot be decrypted: wrong master key, unknown data key, tampering."""


@dataclass(frozen=True, slots=True)
class MasterKey:
    key: bytes = field(repr=False)
    fingerprint: str
    source: str  # one of the SOURCE_* values
    path: Path | None = None  # the key file, for SOURCE_FILE / SOURCE_DATA_DIR / SOURCE_GENERATED

    @property
    def managed(self) -> bool:
        """True for <data_dir>/master.key, which Rivulet generated and may replace on rotation."""
        return self.source in (SOURCE_DATA_DIR, SOURCE_GENERATED)

    def describe(self) -> str:
        if self.source == SOURCE_ENV:
            return f"environment variable {ENV_MASTER_KEY}"
        if self.source == SOURCE_GENERATED:
            return f"{self.path} (generated just now)"
        return str(self.path)


def fingerprint(key: bytes) -> str:
    # A domain-separated hash: identifies a key in meta rows and messages, reveals nothing usable.
    return hashlib.sha256(b"rivulet master key\x00" + key).hexdigest()[:16]


def _master(key: bytes, source: str, path: Path | None) -> MasterKey:
    return MasterKey(key, fingerprint(key), source, path)


class Keyring:
    """The unwrapped data keys. New records are sealed with the newest; any known key unseals."""

    __slots__ = ("_ciphers", "current_key_id", "master")

    def __init__(self, data_keys: dict[int, bytes], master: MasterKey) -> None:
        if not data_keys:
            raise ValueError("a keyring needs at least one data key")
        self._ciphers = {key_id: AESGCM(key) for key_id, key in data_keys.items()}
        self.current_key_id = max(data_keys)
        self.master = master

    def __repr__(self) -> str:
        return f"Keyring(keys={sorted(self._ciphers)}, current={self.current_key_id}, master={self.master.fingerprint})"

    def seal(self, plaintext: bytes, aad: bytes) -> tuple[int, bytes]:
        """(data key id, nonce + ciphertext + tag); `aad` must be given again to unseal."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._ciphers[self.current_key_id].encrypt(nonce, plaintext, aad)
        return self.current_key_id, nonce + sealed

    def unseal(self, key_id: int, blob: bytes, aad: bytes) -> bytes:
        """The plaintext; KeyringError on an unknown key, a wrong `aad` or any altered byte."""
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise KeyringError(f"unknown data key {key_id}")
        if len(blob) < NONCE_BYTES + TAG_BYTES:
            raise KeyringError(f"sealed blob of {len(blob)} bytes is too short (data key {key_id})")
        try:
            return cipher.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
        except InvalidTag:
            raise KeyringError(
                f"sealed blob failed authentication (data key {key_id}): altered or wrong context"
            ) from None


# Master key sources --------------------------------------------------------------------------


def load_master_key(
    data_dir: Path, key_file: Path | None, key_b64: str | None, generate: bool = True
) -> MasterKey:
    """The master key from `key_b64` (RIVULET_MASTER_KEY), else `key_file`, else
    <data_dir>/master.key, generated (mode 0600, with a WARNING) when it does not exist and
    `generate` is set. ValueError with a message naming the source when a key is malformed,
    unreadable or (without `generate`) missing."""
    if key_b64 is not None:
        if key_file is not None:
            log.warning("%s is set: ignoring the master key file %s", ENV_MASTER_KEY, key_file)
        return _master(_decode_b64(key_b64.strip(), ENV_MASTER_KEY), SOURCE_ENV, None)
    if key_file is not None:
        return read_key_file(Path(key_file), SOURCE_FILE)
    path = Path(data_dir) / KEY_FILE_NAME
    if path.exists():
        return read_key_file(path, SOURCE_DATA_DIR)
    if not generate:
        raise ValueError(
            f"no master key: {path} does not exist; give the server's key with "
            f"--master-key-file or {ENV_MASTER_KEY}"
        )
    try:
        Path(data_dir).mkdir(parents=True, exist_ok=True)
        master = create_key_file(path, SOURCE_GENERATED)
    except FileExistsError:  # another process generated it first: use theirs
        return read_key_file(path, SOURCE_DATA_DIR)
    log.warning(
        "generated a new master key for stream record encryption at %s (fingerprint %s). "
        "Back it up: without it stream records cannot be read. In production provide the key "
        "with --master-key-file or %s instead.",
        path,
        master.fingerprint,
        ENV_MASTER_KEY,
    )
    return master


def _decode_b64(text: str, what: str) -> bytes:
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(
            f"{what} is not valid base64; it must hold the base64 encoding of exactly "
            f"{KEY_BYTES} bytes (e.g. `openssl rand -base64 {KEY_BYTES}`)"
        ) from None
    if len(key) != KEY_BYTES:
        raise ValueError(
            f"{what} must hold the base64 encoding of exactly {KEY_BYTES} bytes, "
            f"but it decodes to {len(key)} bytes"
        )
    return key


_B64_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\r\n\t ")


def read_key_file(path: Path, source: str = SOURCE_FILE) -> MasterKey:
    """A key file: base64 of 32 bytes (surrounding whitespace ignored) or exactly 32 raw bytes."""
    try:
        content = path.read_bytes()
        mode = path.stat().st_mode
    except OSError as exc:
        raise ValueError(f"cannot read master key file {path}: {exc.strerror or exc}") from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("master key file %s is accessible to other users (mode %o)", path, mode & 0o777)
    # 32 bytes that are all base64 characters are a mistyped base64 key, not a raw one: a random
    # raw key is practically never made only of them.
    if len(content) == KEY_BYTES and not set(content) <= _B64_CHARS:
        return _master(content, source, path)
    try:
        text = content.decode("ascii")
    except UnicodeDecodeError:
        raise ValueError(
            f"master key file {path} must hold the base64 encoding of {KEY_BYTES} bytes "
            f"or exactly {KEY_BYTES} raw bytes, but it holds {len(content)} bytes of binary data"
        ) from None
    return _master(_decode_b64(text.strip(), f"master key file {path}"), source, path)


def create_key_file(path: Path, source: str = SOURCE_GENERATED) -> MasterKey:
    """Write a fresh random key (base64 text, mode 0600) to `path`; FileExistsError if it exists.

    The key is written to a private temporary file first and then hard-linked into place, so
    `path` never exists half-written and an existing key is never overwritten."""
    key = secrets.token_bytes(KEY_BYTES)
    data = base64.b64encode(key) + b"\n"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    _write_private(tmp, data)
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:  # a filesystem without hard links: create the key file in place instead
        _write_private(path, data)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    _fsync_dir(path.parent)
    return _master(key, source, path)


def _write_private(path: Path, data: bytes) -> None:
    # Created with mode 0600 from the start: a chmod afterwards would leave a window of exposure.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    # Makes a created or renamed key file survive a power loss (POSIX; no-op where unsupported).
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def install_pending_key(pending: MasterKey, current_path: Path) -> None:
    """Rename master.key.new over master.key (the last step of a generated-key rotation)."""
    assert pending.path is not None
    os.replace(pending.path, current_path)
    _fsync_dir(current_path.parent)


# Stored data keys ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredDataKey:
    id: int
    wrapped: bytes
    master: str  # fingerprint of the master key that wrapped it
    created: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "wrapped": base64.b64encode(self.wrapped).decode("ascii"),
            "master": self.master,
            "created": self.created,
        }


def _wrap_aad(key_id: int) -> bytes:
    # Binds a wrapped key to its id: swapping two rows of the list cannot go unnoticed.
    return b"rivulet data key %d" % key_id


def _wrap(master: MasterKey, key_id: int, data_key: bytes, created: str) -> StoredDataKey:
    nonce = secrets.token_bytes(NONCE_BYTES)
    wrapped = nonce + AESGCM(master.key).encrypt(nonce, data_key, _wrap_aad(key_id))
    return StoredDataKey(key_id, wrapped, master.fingerprint, created)


def _unwrap(master: MasterKey, stored: StoredDataKey) -> bytes:
    try:
        return AESGCM(master.key).decrypt(
            stored.wrapped[:NONCE_BYTES], stored.wrapped[NONCE_BYTES:], _wrap_aad(stored.id)
        )
    except InvalidTag:
        raise KeyringError(
            f"data key {stored.id} does not unwrap under master key {master.fingerprint} although "
            "it is recorded as wrapped by it: the stored data keys are damaged"
        ) from None


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _load_stored(storage: Storage) -> list[StoredDataKey]:
    raw = storage.get_meta(META_KEY)
    if raw is None:
        return []
    try:
        return [
            StoredDataKey(int(k["id"]), base64.b64decode(k["wrapped"]), k["master"], k["created"])
            for k in raw
        ]
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise KeyringError(
            f"the stored data keys ({META_KEY!r} in meta) are malformed: {exc}"
        ) from None


def _save(txn: WriteTxn, keys: Iterable[StoredDataKey]) -> None:
    txn.set_meta(META_KEY, [k.to_json() for k in keys])


def _check_master(stored: list[StoredDataKey], master: MasterKey) -> None:
    others = sorted({k.master for k in stored} - {master.fingerprint})
    if not others:
        return
    message = (
        f"the master key from {master.describe()} (fingerprint {master.fingerprint}) does not "
        f"match this database: its stream data keys are wrapped under master key "
        f"{', '.join(others)}. Provide that key with --master-key-file or {ENV_MASTER_KEY}."
    )
    if master.source == SOURCE_GENERATED:
        message += " (No master key was provided, so a new one was generated; it cannot help.)"
    raise KeyringError(message)


# Jobs below read the meta table through `storage` from inside the write job: the job holds
# SQLite's write lock, so nothing can commit between that read and the job's own commit (a
# `keys rotate` process and a starting server never interleave).


def open_keyring(storage: Storage, master: MasterKey) -> Keyring:
    """Unwrap every data key (creating the first one on a new database). KeyringError, naming
    the fingerprints, when the data keys were wrapped under another master key."""
    master = finish_interrupted_rotation(storage, master)
    stored = _load_stored(storage)
    if not stored:

        def create_first(txn: WriteTxn) -> list[StoredDataKey]:
            existing = _load_stored(storage)
            if existing:
                return existing
            first = [_wrap(master, 1, secrets.token_bytes(KEY_BYTES), _now())]
            _save(txn, first)
            return first

        stored = storage.run_sync(create_first)
    _check_master(stored, master)
    keyring = Keyring({k.id: _unwrap(master, k) for k in stored}, master)
    log.info(
        "stream records encrypted with data key %d (%d data keys, master key %s from %s)",
        keyring.current_key_id,
        len(stored),
        master.fingerprint,
        master.describe(),
    )
    return keyring


def rotate_master_key(storage: Storage, old: MasterKey, new: MasterKey) -> int:
    """In one transaction, re-wrap every data key under `new` and add a fresh data key (used for
    records sealed after the next start). Returns how many existing data keys were re-wrapped."""
    if old.fingerprint == new.fingerprint:
        raise ValueError(f"the new master key is the current one (fingerprint {new.fingerprint})")

    def rewrap(txn: WriteTxn) -> int:
        stored = _load_stored(storage)
        _check_master(stored, old)
        rewrapped = [_wrap(new, k.id, _unwrap(old, k), k.created) for k in stored]
        next_id = max((k.id for k in stored), default=0) + 1
        fresh = _wrap(new, next_id, secrets.token_bytes(KEY_BYTES), _now())
        _save(txn, [*rewrapped, fresh])
        return len(rewrapped)

    count = storage.run_sync(rewrap)
    log.info(
        "re-wrapped %d data keys under master key %s (was %s)",
        count,
        new.fingerprint,
        old.fingerprint,
    )
    return count


def finish_interrupted_rotation(storage: Storage, master: MasterKey) -> MasterKey:
    """Complete a rotation of <data_dir>/master.key that crashed after its commit.

    `keys rotate` writes the new key to master.key.new, commits the re-wrapped data keys, then
    renames master.key.new over master.key. If the data keys are wrapped under master.key.new
    while master.key still holds the old key, the rename is done here. Otherwise `master` is
    returned unchanged (a master.key.new from a rotation that never committed is left alone:
    it protects nothing, and `keys rotate` reuses it)."""
    if not master.managed or master.path is None:
        return master
    pending_path = master.path.with_name(PENDING_KEY_FILE_NAME)
    stored = _load_stored(storage)
    wrapped_under = {k.master for k in stored}
    if not stored or wrapped_under == {master.fingerprint} or not pending_path.exists():
        return master
    pending = read_key_file(pending_path, SOURCE_DATA_DIR)
    if wrapped_under != {pending.fingerprint}:
        return master
    # FileNotFoundError: the rotating process itself renamed it a moment ago.
    with contextlib.suppress(FileNotFoundError):
        install_pending_key(pending, master.path)
    log.warning(
        "finished an interrupted master key rotation: %s now holds master key %s (was %s)",
        master.path,
        pending.fingerprint,
        master.fingerprint,
    )
    return MasterKey(pending.key, pending.fingerprint, SOURCE_DATA_DIR, master.path)
