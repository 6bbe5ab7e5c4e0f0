"""Options shared by several `rivulet` commands, so they read the same flags and variables."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from rivulet.engine.keyring import ENV_MASTER_KEY_FILE


def data_dir_option(help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--data-dir` / RIVULET_DATA_DIR: where `rivulet serve` keeps its SQLite database."""
    return click.option(
        "--data-dir",
        default="rivulet-data",
        show_default=True,
        type=click.Path(file_okay=False, path_type=Path),
        envvar="RIVULET_DATA_DIR",
        help=help,
    )


def master_key_file_option(help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--master-key-file` / RIVULET_MASTER_KEY_FILE: the key that opens stream records."""
    return click.option(
        "--master-key-file",
        default=None,
        type=click.Path(dir_okay=False, path_type=Path),
        envvar=ENV_MASTER_KEY_FILE,
        help=help,
    )


def import_from_cwd() -> None:
    """Python trigger functions import from the directory the server was started in, as with
    `python -m`: the console script alone does not put it on the path."""
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
