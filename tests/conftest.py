"""Shared fixtures: a real `rivulet serve` subprocess on a free port, and boto3 clients for it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import urllib3
from botocore.config import Config
from hypothesis import settings

settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile("ci", max_examples=200, deadline=None, derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

CREDENTIALS = {
    "aws_access_key_id": "AKIDTEST",
    "aws_secret_access_key": "secret",
    "region_name": "us-east-1",
}
# No retries: a test must see the first answer, not a retried one.
BOTO_CONFIG = Config(
    retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=30
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningServer:
    """A `rivulet serve` child process."""

    process: subprocess.Popen[bytes]
    port: int
    streams_port: int
    data_dir: Path
    log_path: Path
    log_file: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, service: str = "dynamodb") -> Any:
        return boto3.client(service, endpoint_url=self.url, config=BOTO_CONFIG, **CREDENTIALS)

    def streams(self, dedicated: bool = False) -> Any:
        """A `dynamodbstreams` client on the main port, or on the dedicated streams listener."""
        url = f"http://127.0.0.1:{self.streams_port}" if dedicated else self.url
        return boto3.client("dynamodbstreams", endpoint_url=url, config=BOTO_CONFIG, **CREDENTIALS)

    def resource(self) -> Any:
        return boto3.resource("dynamodb", endpoint_url=self.url, config=BOTO_CONFIG, **CREDENTIALS)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log_file is not None and not self.log_file.closed:
            self.log_file.close()
        return self.process.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_server(
    data_dir: Path,
    *extra: str,
    port: int | None = None,
    streams_port: int | None = None,
    env: dict[str, str] | None = None,
) -> RunningServer:
    """Start `rivulet serve` on free ports (the main one and the dedicated streams listener)."""
    port = port or free_port()
    streams_port = streams_port or free_port()
    log_path = data_dir.parent / f"server-{port}-{uuid.uuid4().hex[:6]}.log"
    log_file = open(log_path, "wb")  # noqa: SIM115 - kept open for the child's lifetime
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rivulet",
            "serve",
            "--port",
            str(port),
            "--streams-port",
            str(streams_port),
            "--data-dir",
            str(data_dir),
            *extra,
        ],
        stdout=log_file,
        stderr=subprocess.STDOUT,
        env=env,
    )
    server = RunningServer(process, port, streams_port, data_dir, log_path, log_file)
    http = urllib3.PoolManager()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server.log()}")
        try:
            if http.request("GET", server.url + "/", timeout=1.0, retries=False).status == 200:
                return server
        except urllib3.exceptions.HTTPError:
            pass
        time.sleep(0.05)
    server.stop(signal.SIGKILL)
    raise RuntimeError(f"server did not start:\n{server.log()}")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One server shared by the API tests; each test uses its own table names."""
    data_dir = tmp_path_factory.mktemp("shared") / "data"
    srv = start_server(data_dir, "--ttl-interval", "0.2")
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def ddb(server: RunningServer) -> Any:
    return server.client()


@pytest.fixture(scope="session")
def ddb_resource(server: RunningServer) -> Any:
    return server.resource()


@pytest.fixture
def table_name() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def hash_table(ddb: Any, table_name: str) -> str:
    """A PAY_PER_REQUEST table with a string hash key `id`."""
    ddb.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return table_name


@pytest.fixture
def range_table(ddb: Any, table_name: str) -> str:
    """A PAY_PER_REQUEST table with hash `pk` (S) and range `sk` (S)."""
    ddb.create_table(
        TableName=table_name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return table_name
