"""Graceful stop: SIGTERM or SIGINT under write load exits 0 promptly and loses no acknowledged write."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from conftest import start_server
from streams.stream_helpers import stop_under_load
from test_crash import create_table, load_writers, verify

# Generous for a loaded CI machine; a clean stop under this load takes well under a second.
PROMPT = 5.0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_shutdown_signal_under_load_exits_zero_and_keeps_acknowledged_writes(
    tmp_path: Path, sig: signal.Signals
) -> None:
    data = tmp_path / "data"
    server = start_server(data)
    try:
        create_table(server.client())
        writers = load_writers(server, "w")
        stopped_in = stop_under_load(server, writers, 200, sig)
    finally:
        server.stop(signal.SIGKILL)
    log = server.log()
    assert server.process.returncode == 0, log
    assert stopped_in < PROMPT, log
    assert "Traceback" not in log
    assert "rivulet stopped" in log
    assert any(w.error is not None for w in writers), "the load ran until the server went away"

    server = start_server(data)
    try:
        verify(server.client(), writers)
    finally:
        assert server.stop(sig) == 0
    assert "Traceback" not in server.log()


def test_shutdown_idle_server_exits_zero(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data")
    started = time.monotonic()
    assert server.stop(signal.SIGTERM) == 0
    assert time.monotonic() - started < PROMPT
    log = server.log()
    assert "Traceback" not in log
    assert "rivulet stopped" in log
