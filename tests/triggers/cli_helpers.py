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


def put_many(
    ddb: Any,
    table: str,
    pk: str,
    count: int,
    start: int = 0,
    extra: dict[int, dict[str, Any]] | None = None,
) -> None:
    """`count` items of one partition key (so one shard) with sort keys `start`.. (0000, 0001...)
    in one commit; `extra` maps an item's number to more attributes."""
    extra = extra or {}
    requests = [
        {"PutRequest": {"Item": {"pk": {"S": pk}, "sk": {"S": f"{i:04d}"}, **extra.get(i, {})}}}
        for i in range(start, start + count)
    ]
    ddb.batch_write_item(RequestItems={table: requests})
