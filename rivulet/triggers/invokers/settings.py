"""What an invoker needs to know about its function: the spec string, its kind, its Lambda name
and ARN, and the environment variables of its processes (triggers.md 13.3)."""

from __future__ import annotations

import os
import re
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from rivulet.triggers.invokers.context import ExecutionEnvironment

ISOLATIONS = ("in-process", "subprocess")

# Lambda function names: [a-zA-Z0-9-_], at most 64 characters. Runs of anything else (and of
# dashes) become one dash.
_NAME_MAX = 64
_NOT_NAME_CHARS = re.compile(r"[^A-Za-z0-9_]+")

# Inherited from the server: what a process needs to run, and nothing else (the server's own
# environment holds secrets such as RIVULET_MASTER_KEY).
_INHERITED = ("PATH", "LANG", "LD_LIBRARY_PATH", "TMPDIR", "PYTHONPATH")

# The server accepts any well-formed SigV4 credentials, so functions calling it back get these.
_LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "rivulet", "AWS_SECRET_ACCESS_KEY": "rivulet"}


@dataclass(frozen=True, slots=True)
class FunctionSettings:
    """One mapping's function.

    `function` is `package.module:callable` (or `package.module.callable`), an `http(s)://` URL,
    or `exec:COMMAND ARGS...`. `isolation` applies to Python functions only; `environment` needs
    a process of the function's own (isolation "subprocess", or exec), because environment
    variables are process-wide. `pool_size` is the number of subprocess workers, i.e. how many
    invocations of this function run at once.
    """

    function: str
    mapping_name: str
    isolation: str = "in-process"
    environment: Mapping[str, str] = field(default_factory=dict)
    region: str = "us-east-1"
    account_id: str = "000000000000"
    memory_mb: int = 128
    pool_size: int = 1
    endpoint_url: str | None = None  # AWS_ENDPOINT_URL for functions that call this server


def function_kind(function: str) -> str:
    """ "python", "http" or "exec"; ValueError for a spec no invocation could ever run.

    A Python spec is only checked against Lambda's Handler pattern ([^\\s]+): a name without a
    dot is accepted here and fails each invocation with Runtime.MalformedHandlerName, as on AWS.
    """
    if not function or function.isspace():
        raise ValueError("Function must not be empty")
    if function.startswith(("http://", "https://")):
        if not urlsplit(function).hostname:
            raise ValueError(f"Function URL '{function}' has no host")
        return "http"
    if function.startswith("exec:"):
        try:
            argv = shlex.split(function.removeprefix("exec:"))
        except ValueError as exc:
            raise ValueError(f"Function command '{function}' cannot be parsed: {exc}") from None
        if not argv:
            raise ValueError(f"Function command '{function}' names no program")
        return "exec"
    if "://" in function:
        raise ValueError(f"Function URL '{function}' must use http:// or https://")
    if any(char.isspace() for char in function):
        raise ValueError(f"Function handler '{function}' must not contain whitespace")
    return "python"


def function_name(settings: FunctionSettings) -> str:
    """The Lambda name of the function: its spec reduced to Lambda's charset (a URL by host and
    path only, so credentials in it never reach names, ARNs or logs)."""
    source = settings.function
    if function_kind(source) == "http":
        url = urlsplit(source)
        source = f"{url.hostname}{f'-{url.port}' if url.port else ''}{url.path}"
    name = _NOT_NAME_CHARS.sub("-", source).strip("-")[:_NAME_MAX].strip("-")
    return name or _NOT_NAME_CHARS.sub("-", settings.mapping_name).strip("-")[:_NAME_MAX]


def function_arn(settings: FunctionSettings) -> str:
    return (
        f"arn:aws:lambda:{settings.region}:{settings.account_id}:function:{function_name(settings)}"
    )


def execution_environment(settings: FunctionSettings) -> ExecutionEnvironment:
    """A new execution environment (its own log stream), as at a Lambda cold start."""
    return ExecutionEnvironment.new(
        function_name(settings), function_arn(settings), settings.memory_mb
    )


def process_environment(
    settings: FunctionSettings, environment: ExecutionEnvironment
) -> dict[str, str]:
    """The environment variables of a function's process: the Lambda ones, then the user's.

    A Python worker's PYTHONPATH carries the server's sys.path, so it imports the same modules
    (and the same rivulet) as an in-process handler would; a user PYTHONPATH goes first. A
    command keeps the server's PYTHONPATH: it may be another Python, with a library of its own.
    """
    env = {name: os.environ[name] for name in _INHERITED if name in os.environ}
    env.update(environment.variables())
    env.update(
        AWS_REGION=settings.region,
        AWS_DEFAULT_REGION=settings.region,
        _HANDLER=settings.function.removeprefix("exec:"),
        LAMBDA_TASK_ROOT=os.getcwd(),
        LAMBDA_RUNTIME_DIR=os.path.dirname(__file__),
        AWS_LAMBDA_INITIALIZATION_TYPE="on-demand",
        TZ=":UTC",
    )
    user = dict(settings.environment)
    if function_kind(settings.function) == "python":
        env["AWS_EXECUTION_ENV"] = f"AWS_Lambda_python{sys.version_info[0]}.{sys.version_info[1]}"
        paths = [user.pop("PYTHONPATH")] if "PYTHONPATH" in user else []
        env["PYTHONPATH"] = os.pathsep.join(paths + [os.path.abspath(path) for path in sys.path])
    if settings.endpoint_url is not None:
        env.update(_LOCAL_CREDENTIALS, AWS_ENDPOINT_URL=settings.endpoint_url)
    env.update(user)
    return env
