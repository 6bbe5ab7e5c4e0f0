"""Fixtures of the DynamoDB Streams tests: clients of the shared server, and the servers with
other stream flags that several modules use (each module gets its own instance)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import RunningServer, start_server

from streams.stream_helpers import ROTATING_SHARDS


@pytest.fixture(scope="module")
def streams(server: RunningServer) -> Any:
    """A dynamodbstreams client of the shared server (4 shards per stream)."""
    return server.streams()


@pytest.fixture(scope="module")
def one_shard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server with one shard per stream (all of a table's records in one shard) and a fast
    TTL sweep."""
    srv = start_server(
        tmp_path_factory.mktemp("one-shard") / "data",
        "--stream-shards",
        "1",
        "--ttl-interval",
        "0.2",
    )
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def ddb1(one_shard: RunningServer) -> Any:
    return one_shard.client()


@pytest.fixture(scope="module")
def streams1(one_shard: RunningServer) -> Any:
    return one_shard.streams()


@pytest.fixture(scope="module")
def rotating(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server whose ROTATING_SHARDS open shards rotate every 2 s."""
    srv = start_server(
        tmp_path_factory.mktemp("rotating") / "data",
        "--shard-rotation",
        "2s",
        "--stream-shards",
        str(ROTATING_SHARDS),
    )
    yield srv
    srv.stop()
