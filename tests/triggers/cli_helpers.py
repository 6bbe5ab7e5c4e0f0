"""Running the real `rivulet triggers ...` commands against a test server, and reading their
output."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from conftest import RunningServer


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        assert self.code == 0, self.err
        return json.loads(self.out)


def cli(server: RunningServer, *args: str) -> Result:
    """`rivulet triggers ARGS --endpoint-url <server>` in a child process."""
    done = subprocess.run(
        [sys.executable, "-m", "rivulet", "triggers", *args, "--endpoint-url", server.url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def table_rows(text: str) -> list[list[str]]:
    """The header (┃-separated cells) and body rows (│) of a rich table, stripped."""
    return [
        [cell.strip() for cell in re.split("[┃│]", line)[1:-1]]
        for line in text.splitlines()
        if line.startswith(("┃", "│"))
    ]
