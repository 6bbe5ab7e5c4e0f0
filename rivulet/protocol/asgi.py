"""The service as an ASGI application: the lifespan (start and stop of the server) and, for ASGI
servers other than `rivulet serve`'s own HTTP protocol, HTTP requests."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rivulet.errors import ConfigurationError
from rivulet.protocol.service import MAX_BODY, HttpRequest, WireApp, too_large
from rivulet.protocol.wire import crc32_header

log = logging.getLogger("rivulet.protocol")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class AsgiApp:
    """Wraps a WireApp; `wire` is what rivulet's HTTP protocol calls directly."""

    def __init__(
        self,
        wire: WireApp,
        on_startup: Callable[[], Awaitable[None]] | None = None,
        on_shutdown: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.wire = wire
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
        target = authorization = None
        has_date = False
        for name, value in scope["headers"]:
            if name == b"x-amz-target":
                target = value.decode("latin-1")
            elif name == b"authorization":
                authorization = value.decode("latin-1")
            elif name in (b"x-amz-date", b"date"):
                has_date = True
        body = await _read_body(receive)
        if body is None:
            response = too_large()
        else:
            response = await self.wire.respond(
                HttpRequest(
                    scope["method"],
                    scope["path"],
                    scope.get("query_string", b""),
                    target,
                    authorization,
                    has_date,
                    body,
                )
            )
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": [
                    (b"content-type", response.content_type),
                    (b"content-length", str(len(response.body)).encode()),
                    (b"x-amzn-requestid", response.request_id),
                    (b"x-amz-crc32", crc32_header(response.body)),
                    *(response.headers or ()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": response.body})


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
