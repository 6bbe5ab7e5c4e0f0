"""HTTP/1.1 for `rivulet serve`: uvicorn's `http` protocol class, parsing with httptools and
calling the service directly.

uvicorn still owns the listening sockets, signals, graceful shutdown and the lifespan; this class
replaces only its per-request ASGI machinery (a scope dict, receive/send message dicts, an Event
per request), which cost about a quarter of the CPU of a PutItem. AWS JSON needs little of HTTP:
POST with a Content-Length body and keep-alive. Pipelined requests are answered in order.
"""

from __future__ import annotations

import asyncio
import http
import logging
from collections import deque
from typing import Any

import httptools

from rivulet.protocol.service import (
    MAX_BODY,
    HttpRequest,
    HttpResponse,
    WireApp,
    too_large,
)
from rivulet.protocol.wire import crc32, request_id

log = logging.getLogger("rivulet.protocol")

_STATUS = {s.value: b"HTTP/1.1 %d %s\r\n" % (s.value, s.phrase.encode()) for s in http.HTTPStatus}
_HEAD = b"content-type: %s\r\ncontent-length: %d\r\nx-amzn-requestid: %s\r\nx-amz-crc32: %d\r\n"
# Pipelined requests waiting beyond this many stop the reading until they are answered.
_MAX_QUEUED = 16


def _bad_request(message: bytes) -> HttpResponse:
    return HttpResponse(400, message, request_id(), b"text/plain; charset=utf-8")


class AwsHttpProtocol(asyncio.Protocol):
    """One HTTP/1.1 connection. Instantiated by uvicorn with its config and server state."""

    def __init__(
        self,
        config: Any,
        server_state: Any,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        if not config.loaded:
            config.load()
        self.wire: WireApp = config.app.wire
        self.loop = _loop or asyncio.get_event_loop()
        self.state = server_state
        self.keep_alive_timeout: float = config.timeout_keep_alive
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        # Connection state.
        self.busy = False  # a request is being answered
        # Requests waiting for the one being answered, and refusals ready to go out in their turn.
        self.queued: deque[tuple[HttpRequest | HttpResponse, bool]] = deque()
        self.paused = False
        self.refused = False  # a refusal is queued: nothing more is read from this connection
        self.close_after = False  # uvicorn asked for a graceful stop
        self.last_active = 0.0
        self.idle_timer: asyncio.TimerHandle | None = None
        self._date_source: object = None
        self._date = b""
        # The request being parsed.
        self.url = b""
        self.target: str | None = None
        self.authorization: str | None = None
        self.has_date = False
        self.expect_continue = False
        self.oversized = False
        self.body: list[bytes] = []
        self.size = 0

    # asyncio.Protocol --------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass
        self.state.connections.add(self)
        self._arm_idle_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self.state.connections.discard(self)
        if self.idle_timer is not None:
            self.idle_timer.cancel()
            self.idle_timer = None
        self.queued.clear()

    def data_received(self, data: bytes) -> None:
        if self.refused:
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._refuse(_bad_request(b"Upgrades are not supported."))
        except httptools.HttpParserError:
            self._refuse(_bad_request(b"Invalid HTTP request received."))

    # httptools callbacks -----------------------------------------------------------------------
    def on_message_begin(self) -> None:
        self.url = b""
        self.target = self.authorization = None
        self.has_date = self.expect_continue = self.oversized = False
        self.body = []
        self.size = 0

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name == b"x-amz-target":
            self.target = value.decode("latin-1")
        elif name == b"authorization":
            self.authorization = value.decode("latin-1")
        elif name == b"x-amz-date" or name == b"date":
            self.has_date = True
        elif name == b"content-length":
            if value.isdigit() and int(value) > MAX_BODY:
                self.oversized = True
        elif name == b"expect" and value.lower() == b"100-continue":
            self.expect_continue = True

    def on_headers_complete(self) -> None:
        transport = self.transport
        if transport is None:
            return
        if self.oversized:
            # Answered without reading the body; the connection closes after the answer.
            self._refuse(too_large())
        elif self.expect_continue:
            transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        if self.oversized:
            return
        self.size += len(body)
        if self.size > MAX_BODY:  # a chunked body, whose size was not announced
            self.oversized = True
            self.body = []
        else:
            self.body.append(body)

    def on_message_complete(self) -> None:
        if self.oversized:
            if self.size > MAX_BODY:
                self._refuse(too_large())
            return  # else refused when its headers completed
        url = httptools.parse_url(self.url)
        request = HttpRequest(
            self.parser.get_method().decode("ascii"),
            # Percent-escapes are not decoded: every route here is plain ASCII.
            url.path.decode("latin-1"),
            url.query or b"",
            self.target,
            self.authorization,
            self.has_date,
            b"".join(self.body) if len(self.body) != 1 else self.body[0],
        )
        self._enqueue(request, self.parser.should_keep_alive())

    def _enqueue(self, request: HttpRequest | HttpResponse, keep_alive: bool) -> None:
        if not self.busy:
            self._start(request, keep_alive)
            return
        self.queued.append((request, keep_alive))
        if len(self.queued) >= _MAX_QUEUED and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()

    # Answering ---------------------------------------------------------------------------------
    def _start(self, request: HttpRequest | HttpResponse, keep_alive: bool) -> None:
        self.busy = True
        if isinstance(request, HttpResponse):  # a refusal: answered, then the connection closes
            self._finish(request, False)
            return
        task = self.loop.create_task(self._answer(request, keep_alive))
        tasks = self.state.tasks
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def _answer(self, request: HttpRequest, keep_alive: bool) -> None:
        try:
            response = await self.wire.respond(request)
        except Exception:  # the service answers its own errors; this is a bug in it
            log.exception("unhandled error answering %s %s", request.method, request.path)
            response = HttpResponse(500, b"", request_id(), b"text/plain")
        self._finish(response, keep_alive)

    def _finish(self, response: HttpResponse, keep_alive: bool) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            self.busy = False
            return
        keep_alive = keep_alive and not self.close_after
        body = response.body
        head = [
            _STATUS.get(response.status) or b"HTTP/1.1 %d \r\n" % response.status,
            _HEAD % (response.content_type, len(body), response.request_id, crc32(body)),
            self._date_header(),
        ]
        for name, value in response.headers or ():
            head.append(b"%s: %s\r\n" % (name, value))
        if not keep_alive:
            head.append(b"connection: close\r\n")
        head.append(b"\r\n")
        head.append(body)
        transport.write(b"".join(head))
        self.last_active = self.loop.time()
        if not keep_alive:
            transport.close()
            return
        if self.queued:
            request, keep = self.queued.popleft()
            if self.paused and not self.refused and len(self.queued) < _MAX_QUEUED // 2:
                self.paused = False
                transport.resume_reading()
            self._start(request, keep)
        else:
            self.busy = False

    def _date_header(self) -> bytes:
        # uvicorn refreshes its default headers (the Date header) once a second, as a new list.
        source = self.state.default_headers
        if source is not self._date_source:
            self._date_source = source
            self._date = b"".join(b"%s: %s\r\n" % (name, value) for name, value in source)
        return self._date

    def _refuse(self, response: HttpResponse) -> None:
        """Answer `response` in its turn (after the answers still due), then close; nothing more
        is read from this connection."""
        self.refused = True
        if self.transport is not None and not self.paused:
            self.paused = True
            self.transport.pause_reading()
        self._enqueue(response, False)

    # Keep-alive and shutdown -------------------------------------------------------------------
    def _arm_idle_timer(self) -> None:
        # One timer per idle period, not per request: it re-arms itself while the connection is
        # in use and closes it after `timeout_keep_alive` seconds without a request.
        self.last_active = self.loop.time()
        self.idle_timer = self.loop.call_later(self.keep_alive_timeout, self._idle_check)

    def _idle_check(self) -> None:
        self.idle_timer = None
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        idle_for = self.loop.time() - self.last_active
        if not self.busy and idle_for >= self.keep_alive_timeout:
            transport.close()
            return
        delay = self.keep_alive_timeout - idle_for if not self.busy else self.keep_alive_timeout
        self.idle_timer = self.loop.call_later(max(delay, 0.01), self._idle_check)

    def shutdown(self) -> None:
        """uvicorn's graceful stop: close now if idle, else right after the answer in progress."""
        transport = self.transport
        if transport is None:
            return
        if self.busy:
            self.close_after = True
        else:
            transport.close()

    def pause_writing(self) -> None:
        # A client that does not read its answers: stop reading its requests meanwhile.
        if self.transport is not None and not self.paused:
            self.paused = True
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        transport = self.transport
        if (
            transport is not None
            and self.paused
            and not self.refused
            and len(self.queued) < _MAX_QUEUED
        ):
            self.paused = False
            transport.resume_reading()
