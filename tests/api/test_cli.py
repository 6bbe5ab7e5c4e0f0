"""The AWS CLI against a live server: item operations and error reporting, unchanged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from conftest import RunningServer

ENV = {
    "AWS_ACCESS_KEY_ID": "x",
    "AWS_SECRET_ACCESS_KEY": "y",
    "AWS_DEFAULT_REGION": "us-east-1",
    # No retries, no pager, no user configuration: the test sees the first answer as-is.
    "AWS_MAX_ATTEMPTS": "1",
    "AWS_PAGER": "",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


def aws(server: RunningServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **ENV}
    return subprocess.run(
        # awscli is a test dependency: run the one installed beside this interpreter.
        [
            sys.executable,
            "-m",
            "awscli",
            "dynamodb",
            *args,
            "--endpoint-url",
            server.url,
            "--output",
            "json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def aws_json(server: RunningServer, *args: str) -> Any:
    done = aws(server, *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else {}


def test_cli_put_get_update_delete(server: RunningServer, hash_table: str) -> None:
    # The CLI's JSON shorthand round-trips items; numbers come back canonical.
    item = {
        "id": {"S": "cli"},
        "n": {"N": "1.50"},
        "tags": {"SS": ["a"]},
        "doc": {"M": {"k": {"BOOL": True}}},
    }
    aws_json(server, "put-item", "--table-name", hash_table, "--item", json.dumps(item))
    got = aws_json(server, "get-item", "--table-name", hash_table, "--key", '{"id": {"S": "cli"}}')
    assert got == {"Item": {**item, "n": {"N": "1.5"}}}

    updated = aws_json(
        server,
        "update-item",
        "--table-name", hash_table,
        "--key", '{"id": {"S": "cli"}}',
        "--update-expression", "SET n = n + :one REMOVE doc.k",
        "--expression-attribute-values", '{":one": {"N": "1"}}',
        "--return-values", "UPDATED_NEW",
    )  # fmt: skip
    # UPDATED_NEW holds the updated paths that still exist: the removed doc.k is absent.
    assert updated == {"Attributes": {"n": {"N": "2.5"}}}

    deleted = aws_json(
        server,
        "delete-item",
        "--table-name", hash_table,
        "--key", '{"id": {"S": "cli"}}',
        "--return-values", "ALL_OLD",
    )  # fmt: skip
    assert deleted["Attributes"]["id"] == {"S": "cli"}
    assert (
        aws_json(server, "get-item", "--table-name", hash_table, "--key", '{"id": {"S": "cli"}}')
        == {}
    )


def test_cli_conditional_check_failed(server: RunningServer, hash_table: str) -> None:
    # A failed condition exits non-zero and prints DynamoDB's error code and message.
    args = (
        "put-item", "--table-name", hash_table, "--item", '{"id": {"S": "once"}}',
        "--condition-expression", "attribute_not_exists(id)",
    )  # fmt: skip
    assert aws(server, *args).returncode == 0
    failed = aws(server, *args)
    assert failed.returncode != 0
    assert (
        "An error occurred (ConditionalCheckFailedException) when calling the PutItem operation: "
        "The conditional request failed"
    ) in failed.stderr


def test_cli_validation_error(server: RunningServer, hash_table: str) -> None:
    # Validation errors reach the CLI user with DynamoDB's text.
    failed = aws(server, "get-item", "--table-name", hash_table, "--key", '{"nope": {"S": "x"}}')
    assert failed.returncode != 0
    assert (
        "An error occurred (ValidationException) when calling the GetItem operation: "
        "The provided key element does not match the schema"
    ) in failed.stderr


def test_cli_batch_write_and_get(server: RunningServer, hash_table: str) -> None:
    # batch-write-item and batch-get-item with request files, as scripts use them.
    requests = {hash_table: [{"PutRequest": {"Item": {"id": {"S": f"b{i}"}}}} for i in range(3)]}
    written = aws_json(server, "batch-write-item", "--request-items", json.dumps(requests))
    assert written == {"UnprocessedItems": {}}
    keys = {hash_table: {"Keys": [{"id": {"S": "b0"}}, {"id": {"S": "b2"}}]}}
    got = aws_json(server, "batch-get-item", "--request-items", json.dumps(keys))
    assert sorted(item["id"]["S"] for item in got["Responses"][hash_table]) == ["b0", "b2"]
    assert got["UnprocessedKeys"] == {}
