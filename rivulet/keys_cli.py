"""`rivulet keys`: master key management for the encryption of stream records."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import click

from rivulet.cli_options import data_dir_option, master_key_file_option
from rivulet.engine.keyring import (
    ENV_MASTER_KEY,
    ENV_MASTER_KEY_FILE,
    KEY_FILE_NAME,
    PENDING_KEY_FILE_NAME,
    SOURCE_DATA_DIR,
    KeyringError,
    MasterKey,
    create_key_file,
    install_pending_key,
    load_master_key,
    open_keyring,
    read_key_file,
    rotate_master_key,
)
from rivulet.storage.base import StorageError
from rivulet.storage.sqlite import SqliteStorage


@click.group()
def keys() -> None:
    """Manage the master key that protects stream records."""


@keys.command()
@data_dir_option("The server's data directory.")
@master_key_file_option(
    f"The current master key (else {ENV_MASTER_KEY}, else <data-dir>/{KEY_FILE_NAME})."
)
@click.option(
    "--new-master-key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"The new master key (base64 of 32 bytes). Without it, when the current key is "
    f"<data-dir>/{KEY_FILE_NAME}, a new key is generated there.",
)
def rotate(data_dir: Path, master_key_file: Path | None, new_master_key_file: Path | None) -> None:
    """Re-wrap every data key under a new master key and start a fresh data key.

    Records are not rewritten and stay readable. Safe while a server runs on the same data
    directory: it keeps working and picks up the new data key at its next start."""
    # Warnings only (a finished interrupted rotation, a key file readable by others).
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not (data_dir / "rivulet.db").is_file():
        raise click.ClickException(f"no Rivulet database in {data_dir}")
    # Read from the environment rather than a flag: a key on the command line shows up in `ps`.
    key_b64 = os.environ.get(ENV_MASTER_KEY) or None
    if key_b64 is None and master_key_file is None and not (data_dir / KEY_FILE_NAME).exists():
        raise click.ClickException(
            f"no master key: give --master-key-file or {ENV_MASTER_KEY}, "
            f"or keep the generated key at {data_dir / KEY_FILE_NAME}"
        )
    storage = SqliteStorage(data_dir)
    try:
        current = load_master_key(data_dir, master_key_file, key_b64)
        storage.open()
        try:
            _rotate(storage, data_dir, current, new_master_key_file)
        finally:
            storage.close()
    except (KeyringError, ValueError, StorageError) as exc:
        raise click.ClickException(str(exc)) from exc


def _rotate(
    storage: SqliteStorage, data_dir: Path, current: MasterKey, new_key_file: Path | None
) -> None:
    # Opening the keyring checks the current key and finishes a rotation that crashed earlier.
    current = open_keyring(storage, current).master
    generate = new_key_file is None
    if new_key_file is not None:
        new = read_key_file(new_key_file)
    elif current.managed:
        new = _pending_key(data_dir)
    else:
        raise click.ClickException(
            "the current master key is provided by the operator: give the new one with "
            "--new-master-key-file"
        )
    count = rotate_master_key(storage, current, new)
    noun = "data key" if count == 1 else "data keys"
    click.echo(f"Re-wrapped {count} {noun} under the new master key {new.fingerprint}.")
    if generate:
        assert current.path is not None
        _install(new, current.path)
        click.echo(f"{current.path} now holds the new key; back it up.")
    else:
        click.echo(
            f"Restart the server with the new key: --master-key-file {new.path} "
            f"(or {ENV_MASTER_KEY_FILE}); the old key {current.fingerprint} no longer opens "
            "this database."
        )
    click.echo("A running server keeps working and uses the new data key from its next start.")


def _pending_key(data_dir: Path) -> MasterKey:
    path = data_dir / PENDING_KEY_FILE_NAME
    try:
        return create_key_file(path, SOURCE_DATA_DIR)
    except FileExistsError:
        # Left by a rotation that never committed (one that did was finished by open_keyring):
        # no data key is wrapped under it, so it is as good as a fresh key.
        click.echo(f"Using {path}, left by an interrupted rotation, as the new master key.")
        return read_key_file(path, SOURCE_DATA_DIR)


def _install(new: MasterKey, key_path: Path) -> None:
    try:
        install_pending_key(new, key_path)
    except FileNotFoundError:
        # A server starting right now saw the committed data keys and did the rename for us.
        if read_key_file(key_path, SOURCE_DATA_DIR).fingerprint != new.fingerprint:
            raise


if __name__ == "__main__":
    keys()
