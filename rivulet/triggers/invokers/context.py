"""The `context` argument of a Python handler, attribute for attribute as awslambdaric's
LambdaContext (triggers.md 13.2), and the execution environment it describes."""

from __future__ import annotations

import datetime
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

VERSION = "$LATEST"


@dataclass(frozen=True, slots=True)
class ExecutionEnvironment:
    """One Lambda execution environment of a function (a worker process, or the server for
    in-process handlers): what its context and AWS_LAMBDA_* variables report."""

    function_name: str
    function_arn: str
    memory_size: str  # a string, as AWS_LAMBDA_FUNCTION_MEMORY_SIZE and memory_limit_in_mb are
    log_group_name: str
    log_stream_name: str

    @classmethod
    def new(cls, function_name: str, function_arn: str, memory_mb: int) -> ExecutionEnvironment:
        # Lambda's stream name format: one stream per execution environment.
        day = datetime.datetime.now(datetime.UTC).strftime("%Y/%m/%d")
        return cls(
            function_name=function_name,
            function_arn=function_arn,
            memory_size=str(memory_mb),
            log_group_name=f"/aws/lambda/{function_name}",
            log_stream_name=f"{day}/[{VERSION}]{uuid.uuid4().hex}",
        )

    @classmethod
    def from_variables(cls, env: Mapping[str, str], function_arn: str) -> ExecutionEnvironment:
        """What a worker process reads back from the variables of `variables()`."""
        return cls(
            function_name=env["AWS_LAMBDA_FUNCTION_NAME"],
            function_arn=function_arn,
            memory_size=env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"],
            log_group_name=env["AWS_LAMBDA_LOG_GROUP_NAME"],
            log_stream_name=env["AWS_LAMBDA_LOG_STREAM_NAME"],
        )

    def variables(self) -> dict[str, str]:
        return {
            "AWS_LAMBDA_FUNCTION_NAME": self.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": VERSION,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": self.memory_size,
            "AWS_LAMBDA_LOG_GROUP_NAME": self.log_group_name,
            "AWS_LAMBDA_LOG_STREAM_NAME": self.log_stream_name,
        }


@dataclass(slots=True)
class CognitoIdentity:
    cognito_identity_id: str | None = None
    cognito_identity_pool_id: str | None = None


class LambdaContext:
    """Read by user code and by Powertools (Logger: function_name, memory_limit_in_mb,
    invoked_function_arn, aws_request_id; Idempotency: get_remaining_time_in_millis)."""

    __slots__ = (
        "_deadline",
        "aws_request_id",
        "client_context",
        "function_name",
        "function_version",
        "identity",
        "invoked_function_arn",
        "log_group_name",
        "log_stream_name",
        "memory_limit_in_mb",
        "tenant_id",
    )

    def __init__(self, environment: ExecutionEnvironment, request_id: str, timeout: float) -> None:
        self.aws_request_id = request_id
        self.function_name = environment.function_name
        self.function_version = VERSION
        self.invoked_function_arn = environment.function_arn
        self.memory_limit_in_mb = environment.memory_size
        self.log_group_name = environment.log_group_name
        self.log_stream_name = environment.log_stream_name
        # Stream triggers carry no identity, client context or tenant.
        self.identity = CognitoIdentity()
        self.client_context: None = None
        self.tenant_id: str | None = None
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def log(self, msg: object) -> None:
        # awslambdaric writes str(msg) as is (no newline added) to the function's log: stdout.
        sys.stdout.write(str(msg))
        sys.stdout.flush()

    def w3c(self) -> dict[str, str]:
        return {}  # no W3C trace context reaches a stream trigger
