"""The AWS JSON 1.0 service behind every listener: `POST /` dispatched by X-Amz-Target, `GET /`
health and pages, and a REST-JSON API sharing the port. Knows requests and responses, not
sockets: the HTTP protocol (http.py) and the ASGI adapter (asgi.py) both call `respond`."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from rivulet.errors import (
    DynamoError,
    InternalServerError,
    SerializationException,
    UnknownOperationException,
)
from rivulet.protocol.auth import check_authentication
from rivulet.protocol.rest import JSON, RestRouter
from rivulet.protocol.wire import (
    CONTENT_TYPE,
    encode_error,
    region_from_authorization,
    request_id,
)

log = logging.getLogger("rivulet.protocol")

# Largest request body accepted; DynamoDB's own limit is 16 MB (BatchWriteItem of big items).
MAX_BODY = 16 * 1024 * 1024


@dataclass(slots=True)
class RequestContext:
    """What an operation may know about the HTTP request."""

    request_id: str
    region: str


Handler = Callable[[dict[str, Any], RequestContext], Awaitable[dict[str, Any] | bytes]]
# A GET page other than the health check (e.g. /metrics): returns (content type, body).
Page = Callable[[], Awaitable[tuple[bytes, bytes]]]


@dataclass(slots=True)
class HttpRequest:
    """The parts of an HTTP request the service reads; header values decoded as latin-1."""

    method: str
    path: str
    query: bytes
    target: str | None  # X-Amz-Target
    authorization: str | None
    has_date: bool  # X-Amz-Date or Date present (SigV4 needs one)
    body: bytes


@dataclass(slots=True)
class HttpResponse:
    status: int
    body: bytes
    request_id: bytes
    content_type: bytes = CONTENT_TYPE
    headers: list[tuple[bytes, bytes]] | None = None  # beyond the four every response has


def too_large() -> HttpResponse:
    """A body over MAX_BODY: refused before it is decoded."""
    return HttpResponse(413, b"", request_id(), b"text/plain")


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
        pages: Mapping[str, Page] | None = None,
        rest: RestRouter | None = None,
    ) -> None:
        self.operations = dict(operations)
        self.pages = dict(pages or {})
        self.rest = rest  # a REST-JSON API sharing the port (Lambda's event source mappings)
        self.default_region = default_region
        self.health = health
        # The credential scope repeats on every request of a client; the signature does not.
        self._regions: dict[str, str] = {}

    async def respond(self, req: HttpRequest) -> HttpResponse:
        if req.method == "POST" and (self.rest is None or not self.rest.owns(req.path)):
            rid = request_id()
            status, payload = await self._dispatch(req, rid)
            return HttpResponse(status, payload, rid)
        if self.rest is not None and self.rest.owns(req.path):
            return await self._rest(self.rest, req)
        rid = request_id()
        if req.method == "GET":
            page = self.pages.get(req.path)
            if page is None:
                return HttpResponse(200, self.health, rid, b"text/plain")
            content_type, body = await page()
            return HttpResponse(200, body, rid, content_type)
        return HttpResponse(404, b"<UnknownOperationException/>\n", rid, b"text/xml")

    async def _rest(self, rest: RestRouter, req: HttpRequest) -> HttpResponse:
        # AWS REST services use UUID request ids.
        rid = str(uuid.uuid4()).encode()
        try:
            status, headers, payload = await rest.dispatch(
                req.method,
                req.path,
                req.query,
                req.body,
                req.authorization,
                req.has_date,
                rid.decode(),
            )
        except Exception:
            log.exception("internal error in %s %s", req.method, req.path)
            status, headers = 500, [(b"x-amzn-errortype", b"ServiceException")]
            payload = orjson.dumps({"Type": "Service", "message": "Internal error"})
        return HttpResponse(status, payload, rid, JSON, headers)

    async def _dispatch(self, req: HttpRequest, rid: bytes) -> tuple[int, bytes]:
        # DynamoDB's order: JSON syntax, then the target, then credentials, then the operation.
        target, authorization = req.target, req.authorization
        try:
            request = orjson.loads(req.body) if req.body else None
        except orjson.JSONDecodeError:
            return 400, encode_error(SerializationException())
        handler = self.operations.get(target) if target else None
        if handler is None:
            return 400, encode_error(UnknownOperationException())
        auth_error = check_authentication(authorization, req.has_date, req.query)
        if auth_error is not None:
            return auth_error.status, encode_error(auth_error)
        if not isinstance(request, dict):
            return 400, encode_error(SerializationException())
        ctx = RequestContext(rid.decode(), self._region(authorization))
        try:
            result = await handler(request, ctx)
        except DynamoError as err:
            return err.status, encode_error(err)
        except Exception:
            log.exception("internal error in %s (request %s)", target, ctx.request_id)
            internal = InternalServerError()
            return internal.status, encode_error(internal)
        return 200, result if isinstance(result, bytes) else orjson.dumps(result)

    def _region(self, authorization: str | None) -> str:
        if not authorization:
            return self.default_region
        scope = authorization.partition("Signature=")[0]
        region = self._regions.get(scope)
        if region is None:
            region = region_from_authorization(authorization) or self.default_region
            if len(self._regions) < 1024:  # bounded: a client may vary its key or date
                self._regions[scope] = region
        return region
