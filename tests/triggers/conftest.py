"""One trigger server per test module; tests use their own tables and trigger names."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import RunningServer

from triggers.trigger_helpers import start_trigger_server


@pytest.fixture(scope="module")
def tserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, Path]]:
    server, out = start_trigger_server(tmp_path_factory.mktemp("triggers"))
    yield server, out
    server.stop()


@pytest.fixture
def tname() -> str:
    return f"tt{uuid.uuid4().hex[:10]}"


@pytest.fixture
def tddb(tserver: tuple[RunningServer, Path]) -> Any:
    return tserver[0].client()
