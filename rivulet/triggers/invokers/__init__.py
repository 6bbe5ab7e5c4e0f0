"""Function invokers: a Python handler in the server or in worker processes, an HTTP endpoint, or a
command (triggers.md 13). `make_invoker` builds the one a mapping's settings call for."""

from __future__ import annotations

import shlex

from rivulet.triggers.invocation import Invoker
from rivulet.triggers.invokers.exec_command import CommandInvoker
from rivulet.triggers.invokers.python_handler import InProcessInvoker
from rivulet.triggers.invokers.settings import (
    ISOLATIONS,
    FunctionSettings,
    execution_environment,
    function_arn,
    function_kind,
    function_name,
    process_environment,
)
from rivulet.triggers.invokers.subprocess_pool import SubprocessPoolInvoker

__all__ = [
    "FunctionSettings",
    "function_arn",
    "function_kind",
    "function_name",
    "make_invoker",
]


def make_invoker(settings: FunctionSettings) -> Invoker:
    """The invoker for `settings`. Raises ValueError for settings no invocation could run with;
    everything about the function itself (can its module be imported?) is found out, and
    reported as the invocation's result, when it is invoked."""
    kind = function_kind(settings.function)
    if settings.isolation not in ISOLATIONS:
        raise ValueError(
            f"Isolation must be one of {', '.join(ISOLATIONS)}, not '{settings.isolation}'"
        )
    if settings.pool_size < 1:
        raise ValueError(f"Pool size must be at least 1, not {settings.pool_size}")
    own_process = kind == "exec" or (kind == "python" and settings.isolation == "subprocess")
    if settings.environment and not own_process:
        raise ValueError(
            "Environment variables need a process of the function's own: isolation "
            "'subprocess' or an exec: command"
        )
    if kind == "http":
        # Imported here only: worker processes import this package, and need no HTTP client.
        from rivulet.triggers.invokers.webhook import WebhookInvoker

        return WebhookInvoker(settings.function, function_arn(settings))
    if kind == "exec":
        argv = shlex.split(settings.function.removeprefix("exec:"))
        return CommandInvoker(argv, process_environment(settings, execution_environment(settings)))
    if settings.isolation == "subprocess":
        return SubprocessPoolInvoker(settings)
    return InProcessInvoker(settings.function, execution_environment(settings))
