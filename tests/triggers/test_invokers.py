"""Function invokers (triggers.md 13, 7, 9; Q-T16): Python handlers in the server and in worker
processes, webhooks and commands, run for real against the handler modules in handlers/."""

from __future__ import annotations

import asyncio
import datetime
import http.server
import inspect
import json
import os
import re
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from conftest import free_port

from rivulet.triggers.invocation import FunctionError, Invocation
from rivulet.triggers.invokers import (
    FunctionSettings,
    function_arn,
    function_kind,
    function_name,
    lambda_runtime,
    make_invoker,
)
from rivulet.triggers.invokers.webhook import WebhookInvoker
from triggers.handlers import sample

T = TypeVar("T")
REQUEST_ID = "4f7c2d1e-8a3b-4c5d-9e6f-0a1b2c3d4e5f"
EVENT = {"Records": [{"eventID": "1", "dynamodb": {"Keys": {"pk": {"S": "order#1"}}}}]}
ISOLATIONS = ["in-process", "subprocess"]
HANDLERS = Path(sample.__file__).parent
COMMAND = f"exec:{sys.executable} {HANDLERS / 'command.py'}"


def settings(function: str, isolation: str = "in-process", **options: Any) -> FunctionSettings:
    return FunctionSettings(function, "orders-mapping", isolation=isolation, **options)


def sample_handler(name: str) -> str:
    return f"triggers.handlers.sample:{name}"


def run_with(function_settings: FunctionSettings, scenario: Callable[[Any], Awaitable[T]]) -> T:
    """Run `scenario(invoker)` on a fresh event loop, closing the invoker afterwards."""

    async def main() -> T:
        invoker = make_invoker(function_settings)
        try:
            return await scenario(invoker)
        finally:
            await invoker.close()

    return asyncio.run(main())


def invoke(
    function_settings: FunctionSettings, event: Any = EVENT, timeout: float = 3.0
) -> Invocation:
    return run_with(function_settings, lambda invoker: invoker.invoke(event, REQUEST_ID, timeout))


def error_of(invocation: Invocation) -> FunctionError:
    assert invocation.not_invoked is None and invocation.response is None
    assert invocation.error is not None
    return invocation.error


def line_of(function: Callable[..., Any], text: str) -> int:
    lines, start = inspect.getsourcelines(function)
    return start + next(i for i, line in enumerate(lines) if text in line)


def alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def wait_dead(pid: int) -> bool:
    deadline = time.monotonic() + 3
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not alive(pid)


# --- function specs, names, ARNs and settings ------------------------------------------------


def test_function_kind_of_each_form() -> None:
    assert function_kind("app.handlers:process") == "python"
    assert function_kind("app.handlers.process") == "python"
    assert function_kind("nodot") == "python"  # fails at invocation, as on Lambda
    assert function_kind("http://localhost:9000/hook") == "http"
    assert function_kind("https://hooks.example.com/stream") == "http"
    assert function_kind("exec:./process --verbose") == "exec"


@pytest.mark.parametrize(
    ("function", "message"),
    [
        ("", "Function must not be empty"),
        ("  ", "Function must not be empty"),
        ("http:///path", "Function URL 'http:///path' has no host"),
        ("ftp://example.com/x", "Function URL 'ftp://example.com/x' must use http:// or https://"),
        ("exec:", "Function command 'exec:' names no program"),
        (
            "exec:run 'unclosed",
            "Function command 'exec:run 'unclosed' cannot be parsed: No closing quotation",
        ),
        ("app.handler extra", "Function handler 'app.handler extra' must not contain whitespace"),
    ],
)
def test_function_kind_rejects_malformed_specs(function: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        function_kind(function)
    assert str(raised.value) == message


def test_function_name_and_arn_follow_lambda_naming() -> None:
    python = FunctionSettings(
        "app.handlers:process", "m", region="eu-west-1", account_id="123456789012"
    )
    assert function_name(python) == "app-handlers-process"
    assert (
        function_arn(python)
        == "arn:aws:lambda:eu-west-1:123456789012:function:app-handlers-process"
    )
    # A URL is named by host, port and path: its credentials never reach the name.
    hook = FunctionSettings("https://user:secret@hooks.example.com:8443/stream/orders", "m")
    assert function_name(hook) == "hooks-example-com-8443-stream-orders"
    assert function_name(FunctionSettings("exec:./process --fast", "m")) == "exec-process-fast"
    long = FunctionSettings("a" * 70 + ".handler", "m")
    assert function_name(long) == "a" * 64
    assert function_name(FunctionSettings("...:...", "orders mapping")) == "orders-mapping"


@pytest.mark.parametrize(
    ("function", "options", "message"),
    [
        (
            sample_handler("echo"),
            {"isolation": "thread"},
            "Isolation must be one of in-process, subprocess, not 'thread'",
        ),
        (sample_handler("echo"), {"pool_size": 0}, "Pool size must be at least 1, not 0"),
        (
            sample_handler("echo"),
            {"environment": {"COLOR": "blue"}},
            "Environment variables need a process of the function's own: isolation "
            "'subprocess' or an exec: command",
        ),
        (
            "http://localhost:9000/hook",
            {"environment": {"COLOR": "blue"}},
            "Environment variables need a process of the function's own: isolation "
            "'subprocess' or an exec: command",
        ),
    ],
)
def test_make_invoker_rejects_settings_no_invocation_can_run_with(
    function: str, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError) as raised:
        make_invoker(settings(function, **options))
    assert str(raised.value) == message


# --- Python handlers, in the server and in worker processes ----------------------------------


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_python_response_is_the_json_round_trip_of_the_result(isolation: str) -> None:
    invocation = invoke(settings(sample_handler("echo"), isolation))
    assert invocation.ok and invocation.request_id == REQUEST_ID
    # Decimals become JSON numbers (read back as int or float), tuples lists.
    assert invocation.response == {
        "event": EVENT,
        "total": 12.5,
        "count": 3,
        "lines": [{"sku": "A-1", "price": 0.1}, ["tuple", None, True]],
    }
    assert type(invocation.response["total"]) is float
    assert type(invocation.response["count"]) is int
    assert invocation.duration > 0


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_python_async_handler_is_awaited(isolation: str) -> None:
    invocation = invoke(settings(sample_handler("async_echo"), isolation))
    assert invocation.ok and invocation.response == {"event": EVENT, "async": True}


@pytest.mark.parametrize("isolation", ISOLATIONS)
@pytest.mark.parametrize(
    ("handler", "response"), [("nothing", None), ("returns_bytes", {"from": "bytes"})]
)
def test_python_none_and_bytes_responses(isolation: str, handler: str, response: Any) -> None:
    invocation = invoke(settings(sample_handler(handler), isolation))
    assert invocation.ok and invocation.response == response


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_python_context_has_the_lambda_attributes(isolation: str) -> None:
    invocation = invoke(
        settings(sample_handler("context_attributes"), isolation, memory_mb=256), timeout=3.0
    )
    assert invocation.ok
    response = invocation.response
    remaining = response.pop("remaining")
    assert 2000 < remaining <= 3000
    stream = response.pop("log_stream_name")
    day = datetime.datetime.now(datetime.UTC).strftime("%Y/%m/%d")
    assert re.fullmatch(re.escape(f"{day}/[$LATEST]") + "[0-9a-f]{32}", stream)
    name = "triggers-handlers-sample-context_attributes"
    assert response == {
        "aws_request_id": REQUEST_ID,
        "function_name": name,
        "function_version": "$LATEST",
        "invoked_function_arn": f"arn:aws:lambda:us-east-1:000000000000:function:{name}",
        "memory_limit_in_mb": "256",
        "log_group_name": f"/aws/lambda/{name}",
        "identity": [None, None],
        "client_context": None,
        "tenant_id": None,
        "w3c": {},
    }


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_python_powertools_logger_reads_the_context(isolation: str) -> None:
    invocation = invoke(settings("triggers.handlers.powertools_logging:handler", isolation))
    assert invocation.ok
    name = "triggers-handlers-powertools_logging-handler"
    expected: dict[str, Any] = {
        "level": "INFO",
        "message": "processing",
        "service": "orders",
        "function_name": name,
        "function_memory_size": "128",
        "function_arn": f"arn:aws:lambda:us-east-1:000000000000:function:{name}",
        "function_request_id": REQUEST_ID,
    }
    if isolation == "subprocess":  # in the server, another test may have logged first
        expected["cold_start"] = True
    assert {key: invocation.response[key] for key in expected} == expected


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_python_handler_error_is_the_runtime_error_object(isolation: str) -> None:
    error = error_of(invoke(settings(sample_handler("raises"), isolation), event={"order": "o-7"}))
    assert error.error_type == "OrderRejected"
    assert error.message == "order o-7 rejected"
    # The official runtime's frames: the handler's first, no column markers.
    assert error.stack_trace == (
        f'  File "{sample.__file__}", line {line_of(sample.raises, "_reject(")}, in raises\n'
        '    _reject(event["order"])\n',
        f'  File "{sample.__file__}", line {line_of(sample._reject, "raise Order")}, in _reject\n'
        '    raise OrderRejected(f"order {order} rejected")\n',
    )
    assert error.as_json(REQUEST_ID)["errorType"] == "OrderRejected"


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_python_async_handler_error(isolation: str) -> None:
    error = error_of(invoke(settings(sample_handler("async_raises"), isolation)))
    assert (error.error_type, error.message) == ("OrderRejected", "async rejection")
    assert error.stack_trace == (
        f'  File "{sample.__file__}", line {line_of(sample.async_raises, "raise Order")}, in async_raises\n'
        '    raise OrderRejected("async rejection")\n',
    )


@pytest.mark.parametrize("isolation", ISOLATIONS)
@pytest.mark.parametrize(
    ("function", "error_type", "message"),
    [
        (
            "nodot",
            "Runtime.MalformedHandlerName",
            "Bad handler 'nodot': not enough values to unpack (expected 2, got 1)",
        ),
        (
            "a:b:c",
            "Runtime.MalformedHandlerName",
            "Bad handler 'a:b:c': too many values to unpack (expected 2)",
        ),
        (
            ".handler",
            "Runtime.MalformedHandlerName",
            "Bad handler '.handler': invalid module name ''",
        ),
        (
            "sys.handler",
            "Runtime.BuiltInModuleConflict",
            "Cannot use built-in module sys as a handler module",
        ),
        (
            "triggers.handlers.absent:handler",
            "Runtime.ImportModuleError",
            "Unable to import module 'triggers.handlers.absent': "
            "No module named 'triggers.handlers.absent'",
        ),
        (
            "triggers.handlers.missing_dependency.handler",
            "Runtime.ImportModuleError",
            "Unable to import module 'triggers.handlers.missing_dependency': "
            "No module named 'rivulet_no_such_module'",
        ),
        (
            "triggers/handlers/sample.absent",
            "Runtime.HandlerNotFound",
            "Handler 'absent' missing on module 'triggers/handlers/sample'",
        ),
        ("triggers.handlers.init_raises:handler", "RuntimeError", "ORDERS_TABLE is not set"),
        (
            "triggers.handlers.sample:unserialisable",
            "Runtime.MarshalError",
            "Unable to marshal response: Object of type set is not JSON serializable",
        ),
        (
            "triggers.handlers.sample:exits",
            "Runtime.ExitError",
            f"RequestId: {REQUEST_ID} Error: Runtime exited with error: exit status 3",
        ),
    ],
)
def test_python_runtime_errors(
    isolation: str, function: str, error_type: str, message: str
) -> None:
    error = error_of(invoke(settings(function, isolation)))
    assert (error.error_type, error.message) == (error_type, message)


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_python_syntax_error_in_the_module(
    isolation: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = f"broken_{isolation.replace('-', '_')}"
    path = tmp_path / f"{module}.py"
    path.write_text("def handler(event, context)\n    return None\n")
    monkeypatch.syspath_prepend(tmp_path)
    error = error_of(invoke(settings(f"{module}.handler", isolation)))
    assert error.error_type == "Runtime.UserCodeSyntaxError"
    assert error.message == f"Syntax error in module '{module}': expected ':' ({module}.py, line 1)"
    assert error.stack_trace == (f'  File "{path}" Line 1\n    def handler(event, context)\n',)


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_python_module_level_error_carries_its_frames(isolation: str) -> None:
    error = error_of(invoke(settings("triggers.handlers.init_raises:handler", isolation)))
    path = HANDLERS / "init_raises.py"
    assert error.stack_trace[-2:] == (
        f'  File "{path}", line 8, in <module>\n    _load_settings()\n',
        f'  File "{path}", line 5, in _load_settings\n'
        '    raise RuntimeError("ORDERS_TABLE is not set")\n',
    )


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_python_import_outlasting_the_init_limit_times_out(
    isolation: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lambda_runtime, "INIT_TIMEOUT", 0.3)
    error = error_of(invoke(settings("triggers.handlers.slow_import:handler", isolation)))
    assert (error.error_type, error.message) == (
        "Sandbox.Timedout",
        f"RequestId: {REQUEST_ID} Error: Task timed out after 0.30 seconds",
    )


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_python_handler_is_imported_once_and_reused(isolation: str) -> None:
    async def twice(invoker: Any) -> list[Invocation]:
        return [await invoker.invoke({}, f"request-{n}", 3.0) for n in range(2)]

    first, second = run_with(settings(sample_handler("counter"), isolation), twice)
    assert second.response["calls"] == first.response["calls"] + 1
    assert second.response["pid"] == first.response["pid"]


def test_in_process_each_invocation_gets_its_own_event() -> None:
    async def twice(invoker: Any) -> list[Invocation]:
        return [await invoker.invoke(EVENT, f"request-{n}", 3.0) for n in range(2)]

    first, second = run_with(settings(sample_handler("mutate")), twice)
    assert (
        first.response["Records"][1:] == second.response["Records"][1:] == ["added by the handler"]
    )
    assert len(EVENT["Records"]) == 1


def test_in_process_sync_timeout_abandons_the_thread() -> None:
    async def scenario(invoker: Any) -> list[Invocation]:
        timed_out = await invoker.invoke({}, REQUEST_ID, 0.2)
        sample.released.set()  # the abandoned thread finishes; the invoker still works
        return [timed_out, await invoker.invoke({}, "request-2", 3.0)]

    try:
        timed_out, later = run_with(settings(sample_handler("waits")), scenario)
    finally:
        sample.released.clear()
    assert error_of(timed_out) == FunctionError(
        "Sandbox.Timedout", f"RequestId: {REQUEST_ID} Error: Task timed out after 0.20 seconds"
    )
    assert 0.2 <= timed_out.duration < 1.0
    assert later.ok and later.response == "late"


def test_in_process_async_timeout_cancels_the_handler() -> None:
    invocation = invoke(settings(sample_handler("async_sleeps")), timeout=0.2)
    assert error_of(invocation) == FunctionError(
        "Sandbox.Timedout", f"RequestId: {REQUEST_ID} Error: Task timed out after 0.20 seconds"
    )


def test_subprocess_timeout_kills_the_worker_and_the_next_call_gets_a_new_one() -> None:
    async def scenario(invoker: Any) -> list[Invocation]:
        return [
            await invoker.invoke({}, "request-1", 3.0),
            await invoker.invoke({"hang": True}, REQUEST_ID, 0.5),
            await invoker.invoke({}, "request-3", 3.0),
        ]

    before, hung, after = run_with(settings(sample_handler("pid_or_hang"), "subprocess"), scenario)
    assert error_of(hung) == FunctionError(
        "Sandbox.Timedout", f"RequestId: {REQUEST_ID} Error: Task timed out after 0.50 seconds"
    )
    assert not alive(before.response["pid"])
    assert after.ok and after.response["pid"] != before.response["pid"]


@pytest.mark.parametrize(
    ("how", "status"), [("exit", "exit status 1"), ("segfault", "signal: segmentation fault")]
)
def test_subprocess_crashed_worker_is_a_function_error_and_replaced(how: str, status: str) -> None:
    async def scenario(invoker: Any) -> list[Invocation]:
        return [
            await invoker.invoke({}, "request-1", 3.0),
            await invoker.invoke({"how": how}, REQUEST_ID, 3.0),
            await invoker.invoke({}, "request-3", 3.0),
        ]

    before, crashed, after = run_with(settings(sample_handler("crashes"), "subprocess"), scenario)
    assert error_of(crashed) == FunctionError(
        "Runtime.ExitError", f"RequestId: {REQUEST_ID} Error: Runtime exited with error: {status}"
    )
    assert after.ok and after.response["pid"] != before.response["pid"]


def test_subprocess_pool_of_two_runs_two_invocations_at_once(tmp_path: Path) -> None:
    async def scenario(invoker: Any) -> list[Invocation]:
        event = {"dir": str(tmp_path)}
        calls = (invoker.invoke(event, f"request-{n}", 5.0) for n in range(2))
        return list(await asyncio.gather(*calls))

    first, second = run_with(
        settings(sample_handler("rendezvous"), "subprocess", pool_size=2), scenario
    )
    assert first.ok and second.ok
    assert first.response["marks"] == second.response["marks"] == 2
    assert first.response["pid"] != second.response["pid"]


def test_subprocess_worker_has_the_lambda_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIVULET_MASTER_KEY", "server secret")
    names = [
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV",
        "_HANDLER", "LAMBDA_TASK_ROOT", "AWS_LAMBDA_INITIALIZATION_TYPE", "TZ", "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "COLOR", "RIVULET_MASTER_KEY",
    ]  # fmt: skip
    function_settings = settings(
        sample_handler("environment"),
        "subprocess",
        environment={"COLOR": "blue"},
        region="eu-west-1",
        memory_mb=512,
        endpoint_url="http://127.0.0.1:8000",
    )
    invocation = invoke(function_settings, event={"names": names})
    name = "triggers-handlers-sample-environment"
    assert invocation.ok and invocation.response == {
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{sys.version_info[0]}.{sys.version_info[1]}",
        "_HANDLER": "triggers.handlers.sample:environment",
        "LAMBDA_TASK_ROOT": os.getcwd(),
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "TZ": ":UTC",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:8000",
        "AWS_ACCESS_KEY_ID": "rivulet",
        "AWS_SECRET_ACCESS_KEY": "rivulet",
        "COLOR": "blue",
        "RIVULET_MASTER_KEY": None,  # the server's secrets stay in the server
    }


def test_subprocess_handler_output_and_input_stay_off_the_protocol() -> None:
    invocation = invoke(settings(sample_handler("forges_replies"), "subprocess"))
    assert invocation.ok and invocation.response == {"stdin": ""}


def test_subprocess_close_stops_the_workers() -> None:
    invocation = invoke(
        settings(sample_handler("counter"), "subprocess")
    )  # invoke() closes the invoker
    assert invocation.ok and wait_dead(invocation.response["pid"])


# --- webhooks ---------------------------------------------------------------------------------


class _Endpoint(http.server.BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, str], Any]] = []
    slow_release = threading.Event()

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received.append((self.path, dict(self.headers), body))
        if self.path == "/failures":
            self._send(200, b'{"batchItemFailures": [{"itemIdentifier": "100000000000000000102"}]}')
        elif self.path == "/empty":
            self._send(204, b"")
        elif self.path == "/error":
            self._send(500, b"database unavailable")
        elif self.path == "/text":
            self._send(200, b"OK")
        elif self.path == "/slow":
            self.slow_release.wait(5)
            self._send(200, b"{}")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Endpoint)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        _Endpoint.slow_release.set()
        server.shutdown()
        server.server_close()
        thread.join()


def test_webhook_posts_the_event_and_returns_the_json_body(endpoint: str) -> None:
    function_settings = settings(f"{endpoint}/failures")
    assert isinstance(make_invoker(function_settings), WebhookInvoker)
    before = int(time.time() * 1000)
    invocation = invoke(function_settings, timeout=3.0)
    assert invocation.ok
    assert invocation.response == {
        "batchItemFailures": [{"itemIdentifier": "100000000000000000102"}]
    }
    path, headers, body = _Endpoint.received[-1]
    assert (path, body) == ("/failures", EVENT)
    assert headers["Content-Type"] == "application/json"
    assert headers["Lambda-Runtime-Aws-Request-Id"] == REQUEST_ID
    assert headers["Lambda-Runtime-Invoked-Function-Arn"] == function_arn(function_settings)
    assert before + 3000 <= int(headers["Lambda-Runtime-Deadline-Ms"]) <= before + 4000


def test_webhook_empty_204_is_a_none_response(endpoint: str) -> None:
    invocation = invoke(settings(f"{endpoint}/empty"))
    assert invocation.ok and invocation.response is None


def test_webhook_error_status_is_a_function_error(endpoint: str) -> None:
    error = error_of(invoke(settings(f"{endpoint}/error")))
    assert error == FunctionError(
        "Function.ResponseError", "HTTP 500 Internal Server Error: database unavailable"
    )


def test_webhook_non_json_body_is_a_marshal_error(endpoint: str) -> None:
    error = error_of(invoke(settings(f"{endpoint}/text")))
    assert error == FunctionError(
        "Runtime.MarshalError",
        "Unable to marshal response: Expecting value: line 1 column 1 (char 0)",
    )


def test_webhook_slow_response_times_out(endpoint: str) -> None:
    invocation = invoke(settings(f"{endpoint}/slow"), timeout=0.3)
    assert error_of(invocation) == FunctionError(
        "Sandbox.Timedout", f"RequestId: {REQUEST_ID} Error: Task timed out after 0.30 seconds"
    )


def test_webhook_closed_port_is_not_invoked() -> None:
    url = f"http://user:secret@127.0.0.1:{free_port()}/hook"
    invocation = invoke(settings(url))
    assert invocation.error is None and invocation.response is None
    assert invocation.not_invoked == (
        f"could not reach {url.replace('user:secret@', '')}: All connection attempts failed"
    )


# --- commands ----------------------------------------------------------------------------------


def test_exec_reads_the_event_on_stdin_and_the_response_on_stdout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RIVULET_MASTER_KEY", "server secret")
    function = f"{COMMAND} echo"
    invocation = invoke(settings(function, environment={"COLOR": "blue"}, region="eu-west-1"))
    assert invocation.ok and invocation.response == {
        "event": EVENT,
        "env": {
            "_HANDLER": function.removeprefix("exec:"),
            "AWS_LAMBDA_FUNCTION_NAME": function_name(settings(function)),
            "AWS_REGION": "eu-west-1",
            "COLOR": "blue",
            "RIVULET_MASTER_KEY": None,
        },
    }


def test_exec_empty_stdout_is_a_none_response() -> None:
    invocation = invoke(settings(f"{COMMAND} empty"))
    assert invocation.ok and invocation.response is None


def test_exec_non_zero_exit_is_a_function_error_with_the_stderr_tail() -> None:
    error = error_of(invoke(settings(f"{COMMAND} fail")))
    assert error == FunctionError(
        "Runtime.ExitError",
        f"RequestId: {REQUEST_ID} Error: Runtime exited with error: exit status 1\n"
        "loaded 2 records\nrecord 2 is malformed",
    )


def test_exec_non_json_stdout_is_a_marshal_error() -> None:
    error = error_of(invoke(settings(f"{COMMAND} garbage")))
    assert error == FunctionError(
        "Runtime.MarshalError",
        "Unable to marshal response: Expecting value: line 1 column 1 (char 0)",
    )


def test_exec_timeout_kills_the_process_group(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    invocation = invoke(settings(f"{COMMAND} hang"), event={"pids": str(pids)}, timeout=1.0)
    assert error_of(invocation) == FunctionError(
        "Sandbox.Timedout", f"RequestId: {REQUEST_ID} Error: Task timed out after 1.00 seconds"
    )
    command_pid, child_pid = map(int, pids.read_text().split())
    assert wait_dead(command_pid) and wait_dead(child_pid)


def test_exec_missing_command_is_not_invoked() -> None:
    invocation = invoke(settings("exec:rivulet-no-such-command --flag"))
    assert invocation.error is None and invocation.response is None
    assert invocation.not_invoked == (
        "could not start command: [Errno 2] No such file or directory: 'rivulet-no-such-command'"
    )
