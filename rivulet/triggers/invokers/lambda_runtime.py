"""The Python runtime's rules, as awslambdaric applies them (triggers.md 13.1): resolving a handler
string, calling the handler, marshalling its result, and the error object of every failure.

Used both in the server (in-process handlers) and in worker processes, so it imports nothing
beyond the standard library and rivulet.triggers.invocation.
"""

from __future__ import annotations

import importlib
import inspect
import json
import math
import signal
import sys
import traceback
from collections.abc import Callable
from decimal import Decimal
from types import TracebackType
from typing import Any

from rivulet.triggers.invocation import FunctionError

Handler = Callable[[Any, Any], Any]
Outcome = str | FunctionError  # the JSON payload of a successful call, or why it failed

# Lambda's on-demand init phase limit: importing the handler may take this long, separately from
# the invocation timeout, so a slow cold start never eats the function's own time.
INIT_TIMEOUT = 10.0


def resolve_handler(spec: str) -> Handler | FunctionError:
    """Import the handler's module and get the handler, or the runtime's error for why not."""
    try:
        module_name, attribute = split_handler(spec)
    except ValueError as exc:
        return FunctionError("Runtime.MalformedHandlerName", f"Bad handler '{spec}': {exc}")
    if module_name.split(".")[0] in sys.builtin_module_names:
        return FunctionError(
            "Runtime.BuiltInModuleConflict",
            f"Cannot use built-in module {module_name} as a handler module",
        )
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        return FunctionError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        )
    except SyntaxError as exc:
        # awslambdaric's one-frame trace for syntax errors ("Line", capitalised, no "in").
        trace = f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}'
        return FunctionError(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{module_name}': {exc}",
            (trace,),
        )
    except Exception as exc:  # module-level code raised: reported like a handler error
        return error_from(exc)
    try:
        handler: Handler = getattr(module, attribute)
    except AttributeError:
        return FunctionError(
            "Runtime.HandlerNotFound", f"Handler '{attribute}' missing on module '{module_name}'"
        )
    return handler


def split_handler(spec: str) -> tuple[str, str]:
    # `module:callable`, or Lambda's `module.callable` split at the last dot; unpacking gives
    # awslambdaric's details ("not enough values to unpack (expected 2, got 1)").
    module_name, attribute = spec.split(":") if ":" in spec else spec.rsplit(".", 1)
    if "" in module_name.replace("/", ".").split("."):
        raise ValueError(f"invalid module name '{module_name}'")
    return module_name, attribute


def is_async(handler: Handler) -> bool:
    # An object with an async __call__ counts too.
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
        type(handler).__call__
    )


def call_sync(handler: Handler, event: Any, context: Any) -> Outcome:
    try:
        result = handler(event, context)
    except Exception as exc:
        return error_from(exc)
    return marshal_response(result)


async def call_async(handler: Handler, event: Any, context: Any) -> Outcome:
    try:
        result = await handler(event, context)
    except Exception as exc:
        return error_from(exc)
    return marshal_response(result)


def error_from(exc: BaseException) -> FunctionError:
    """The error object of an exception caught by the caller of user code: the caller's own
    frame is left out of the stack trace, as awslambdaric leaves out bootstrap.py's."""
    tb = exc.__traceback__.tb_next if exc.__traceback__ is not None else None
    return FunctionError(type(exc).__name__, str(exc), _stack_trace(tb))


def _stack_trace(tb: TracebackType | None) -> tuple[str, ...]:
    # Plain 4-tuples, as awslambdaric formats them: no column markers (^^^) under the code.
    frames = [(f.filename, f.lineno or 0, f.name, f.line) for f in traceback.extract_tb(tb)]
    return tuple(traceback.format_list(frames))


def marshal_response(result: Any) -> Outcome:
    """The JSON payload of a handler's return value; Runtime.MarshalError if it has none.

    bytes are the payload itself (awslambdaric passes them through), so they must hold JSON.
    """
    try:
        if isinstance(result, bytes):
            result = decode_payload(result)
        return json.dumps(result, default=_decimal_number)
    except (TypeError, ValueError) as exc:
        return marshal_error(exc)


def _decimal_number(value: object) -> Any:
    # awslambdaric writes a Decimal's digits as a JSON number (NaN as NaN); the value a reader of
    # that payload gets is what json.loads makes of the digits: an int or a float.
    if isinstance(value, Decimal):
        return math.nan if value.is_nan() else json.loads(str(value))
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def decode_payload(body: bytes) -> Any:
    """A raw response payload as a JSON value (empty: None). Raises ValueError."""
    return json.loads(body) if body.strip() else None


def marshal_error(exc: Exception) -> FunctionError:
    return FunctionError("Runtime.MarshalError", f"Unable to marshal response: {exc}")


def timed_out(request_id: str, seconds: float) -> FunctionError:
    """Lambda's error for an invocation that ran past its timeout (the sandbox is then reset)."""
    return FunctionError(
        "Sandbox.Timedout",
        f"RequestId: {request_id} Error: Task timed out after {seconds:.2f} seconds",
    )


def runtime_exited(request_id: str, returncode: int) -> FunctionError:
    """Lambda's error for a runtime process that died during an invocation."""
    return FunctionError(
        "Runtime.ExitError",
        f"RequestId: {request_id} Error: Runtime exited with error: {_exit_status(returncode)}",
    )


def _exit_status(returncode: int) -> str:
    # Go's os.ProcessState wording, which Lambda's platform reports: "exit status 1",
    # "signal: segmentation fault", "signal: killed".
    if returncode >= 0:
        return f"exit status {returncode}"
    name = signal.strsignal(-returncode) or f"signal {-returncode}"
    return f"signal: {name.lower()}"


def exit_code(exc: SystemExit) -> int:
    """The status a process ending with this SystemExit reports (sys.exit("text") exits 1)."""
    if exc.code is None or isinstance(exc.code, int):
        return exc.code or 0
    return 1
