"""A function that is an HTTP endpoint: the event is POSTed as JSON, the response body is the
function's response.

Outcomes:
- 2xx: success; an empty body is a None response, any other body must be JSON, else
  Runtime.MarshalError (a 200 page from the wrong server must not pass for success and move the
  checkpoint);
- any other status (redirects are not followed): Function.ResponseError, message
  "HTTP <status> <reason>: <start of the body>";
- no complete response within the timeout: Sandbox.Timedout;
- the endpoint cannot be reached (connection refused, DNS failure): not invoked (Q-T16), so the
  mapping retries without spending the user's retry attempts;
- the connection fails after the request went out: a function error named after the failure
  (e.g. RemoteProtocolError), since the function may have run.

The request carries the Runtime API's invocation headers, so the endpoint knows which invocation
it is serving and its deadline.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from rivulet.triggers.invocation import Event, FunctionError, Invocation, event_json
from rivulet.triggers.invokers import lambda_runtime

_BODY_START = 200  # characters of an error response's body kept in the message


class WebhookInvoker:
    def __init__(self, url: str, function_arn: str) -> None:
        self._url = url
        self._where = str(httpx.URL(url).copy_with(userinfo=b""))  # no password in messages
        self._arn = function_arn
        # The invocation timeout bounds the whole exchange (asyncio.timeout below), so the
        # client adds no per-phase limits of its own.
        self._client = httpx.AsyncClient(timeout=None)

    async def invoke(self, event: Event, request_id: str, timeout: float) -> Invocation:
        started = time.monotonic()
        headers = {
            "Content-Type": "application/json",
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Deadline-Ms": str(int((time.time() + timeout) * 1000)),
            "Lambda-Runtime-Invoked-Function-Arn": self._arn,
        }
        try:
            async with asyncio.timeout(timeout):
                reply = await self._client.post(
                    self._url, content=event_json(event), headers=headers
                )
        except TimeoutError:
            error = lambda_runtime.timed_out(request_id, timeout)
            return Invocation(request_id, error=error, duration=time.monotonic() - started)
        except httpx.ConnectError as exc:
            return Invocation(request_id, not_invoked=f"could not reach {self._where}: {exc}")
        except httpx.TransportError as exc:
            error = FunctionError(type(exc).__name__, str(exc))
            return Invocation(request_id, error=error, duration=time.monotonic() - started)
        duration = time.monotonic() - started
        if not reply.is_success:
            body = reply.text[:_BODY_START]
            message = f"HTTP {reply.status_code} {reply.reason_phrase}" + (
                f": {body}" if body else ""
            )
            error = FunctionError("Function.ResponseError", message)
            return Invocation(request_id, error=error, duration=duration)
        try:
            response = lambda_runtime.decode_payload(reply.content)
        except ValueError as exc:
            error = lambda_runtime.marshal_error(exc)
            return Invocation(request_id, error=error, duration=duration)
        return Invocation(request_id, response=response, duration=duration)

    async def close(self) -> None:
        await self._client.aclose()
