"""The ASGI callable: `POST /` dispatched by X-Amz-Target, `GET /` health. Hand-made for a lean hot path."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from rivulet.errors import (
    ConfigurationError,
    DynamoError,
    InternalServerError,
    SerializationException,
    UnknownOperationException,
)
from rivulet.protocol.auth import check_authentication
from rivulet.protocol.rest import JSON, RestRouter
from rivulet.protocol.wire import (
    CONTENT_TYPE,
    crc32_header,
    encode_error,
    region_from_authorization,
    request_id,
)

log = logging.getLogger("rivulet.protocol")

# Largest request body accepted; DynamoDB's own limit is 16 MB (BatchWriteItem of big items).
MAX_BODY = 16 * 1024 * 1024

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass(slots=True)
class RequestContext:
    """What an operation may know about the HTTP request."""

    request_id: str
    region: str


Handler = Callable[[dict[str, Any], RequestContext], Awaitable[dict[str, Any] | bytes]]
# A GET page other than the health check (e.g. /metrics): returns (content type, body).
Page = Callable[[], Awaitable[tuple[bytes, bytes]]]


class WireApp:
    """Routes `POST /` to `operations[target]` and turns DynamoErrors into the JSON error envelope.

    Handlers return a dict (encoded with orjson) or already-encoded JSON bytes (hot paths that
    splice stored item bytes into the response without decoding them).
    """

    def __init__(
        self,
        operations: Mapping[str, Handler],
        default_region: str,
        health: bytes = b"healthy: dynamodb.us-east-1.amazonaws.com ",
        on_startup: Callable[[], Awaitable[None]] | None = None,
        on_shutdown: Callable[[], Awaitable[None]] | None = None,
        pages: Mapping[str, Page] | None = None,
        rest: RestRouter | None = None,
    ) -> None:
        self.operations = dict(operations)
        self.pages = dict(pages or {})
        self.rest = rest  # a REST-JSON API sharing the port (Lambda's event source mappings)
        self.default_region = default_region
        self.health = health
        self.on_startup = on_startup
        self.on_shutdown = on_shutdown

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    if self.on_startup is not None:
                        await self.on_startup()
                except ConfigurationError as exc:
                    log.error("cannot start: %s", exc)
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                except Exception as exc:
                    log.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    if self.on_shutdown is not None:
                        await self.on_shutdown()
                finally:
                    await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        rid = request_id()
        method = scope["method"]
        if self.rest is not None and self.rest.owns(scope["path"]):
            await self._rest(self.rest, scope, receive, send)
            return
        if method == "GET":
            page = self.pages.get(scope["path"])
            if page is None:
                await _respond(send, 200, self.health, rid, b"text/plain")
            else:
                content_type, body = await page()
                await _respond(send, 200, body, rid, content_type)
            return
        if method != "POST":
            await _respond(send, 404, b"<UnknownOperationException/>\n", rid, b"text/xml")
            return

        target, authorization, has_date = _request_headers(scope)
        request = await _read_body(receive)
        if request is None:
            await _respond(send, 413, b"", rid, b"text/plain")
            return
        status, payload = await self._dispatch(scope, request, target, authorization, has_date, rid)
        await _respond(send, status, payload, rid, CONTENT_TYPE)

    async def _rest(self, rest: RestRouter, scope: Scope, receive: Receive, send: Send) -> None:
        # AWS REST services use UUID request ids.
        rid = str(uuid.uuid4()).encode()
        _, authorization, has_date = _request_headers(scope)
        body = await _read_body(receive)
        if body is None:
            await _respond(send, 413, b"", rid, b"text/plain")
            return
        try:
            status, headers, payload = await rest.dispatch(
                scope["method"],
                scope["path"],
                scope.get("query_string", b""),
                body,
                authorization,
                has_date,
                rid.decode(),
            )
        except Exception:
            log.exception("internal error in %s %s", scope["method"], scope["path"])
            status, headers = 500, [(b"x-amzn-errortype", b"ServiceException")]
            payload = orjson.dumps({"Type": "Service", "message": "Internal error"})
        await _respond(send, status, payload, rid, JSON, headers)

    async def _dispatch(
        self,
        scope: Scope,
        body: bytes,
        target: str | None,
        authorization: str | None,
        has_date: bool,
        rid: bytes,
    ) -> tuple[int, bytes]:
        # DynamoDB's order: JSON syntax, then the target, then credentials, then the operation.
        try:
            request = orjson.loads(body) if body else None
        except orjson.JSONDecodeError:
            return 400, encode_error(SerializationException())
        handler = self.operations.get(target) if target else None
        if handler is None:
            return 400, encode_error(UnknownOperationException())
        auth_error = check_authentication(authorization, has_date, scope.get("query_string", b""))
        if auth_error is not None:
            return auth_error.status, encode_error(auth_error)
        if not isinstance(request, dict):
            return 400, encode_error(SerializationException())
        ctx = RequestContext(
            rid.decode(),
            (authorization and region_from_authorization(authorization)) or self.default_region,
        )
        try:
            result = await handler(request, ctx)
        except DynamoError as err:
            return err.status, encode_error(err)
        except Exception:
            log.exception("internal error in %s (request %s)", target, ctx.request_id)
            internal = InternalServerError()
            return internal.status, encode_error(internal)
        return 200, result if isinstance(result, bytes) else orjson.dumps(result)


def _request_headers(scope: Scope) -> tuple[str | None, str | None, bool]:
    """(X-Amz-Target, Authorization, whether a date header is present)."""
    target = authorization = None
    has_date = False
    for name, value in scope["headers"]:
        if name == b"x-amz-target":
            target = value.decode("latin-1")
        elif name == b"authorization":
            authorization = value.decode("latin-1")
        elif name in (b"x-amz-date", b"date"):
            has_date = True
    return target, authorization, has_date


async def _read_body(receive: Receive) -> bytes | None:
    """The request body, or None when it is larger than MAX_BODY."""
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
        if len(body) > MAX_BODY:
            return None
    return body


async def _respond(
    send: Send,
    status: int,
    body: bytes,
    rid: bytes,
    content_type: bytes,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"x-amzn-requestid", rid),
                (b"x-amz-crc32", crc32_header(body)),
                *(extra or ()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
