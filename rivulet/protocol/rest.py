"""AWS REST-JSON framing, for the Lambda event source mapping API on the main port
(spec/triggers.md 2): routes by method and path, JSON bodies, errors as an `x-amzn-ErrorType`
header plus `{"Type", "message"}`. DynamoDB only uses `POST /`, so the two share a port."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson

from rivulet.protocol.auth import check_authentication

JSON = b"application/json"


@dataclass(frozen=True, slots=True)
class RestRequest:
    params: dict[str, str]  # from the path
    query: dict[str, str]
    body: Any
    request_id: str


RestHandler = Callable[[RestRequest], Awaitable[tuple[int, Any]]]


class RestError(Exception):
    """An error answer: HTTP status, the error code botocore reads, and the message."""

    def __init__(self, status: int, code: str, message: str, kind: str = "User") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.kind = kind


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    pattern: re.Pattern[str]  # fullmatch on the path; named groups become params
    handler: RestHandler


class RestRouter:
    def __init__(self, prefix: str, routes: Sequence[Route]) -> None:
        self.prefix = prefix
        self.routes = tuple(routes)

    def owns(self, path: str) -> bool:
        return path.startswith(self.prefix)

    async def dispatch(
        self,
        method: str,
        path: str,
        query_string: bytes,
        body: bytes,
        authorization: str | None,
        has_date: bool,
        request_id: str,
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """(status, extra headers, body) for one request."""
        try:
            route, params = self._route(method, path)
            auth = check_authentication(authorization, has_date, query_string)
            if auth is not None:
                raise RestError(403, auth.type_name, auth.message or "")
            try:
                parsed = orjson.loads(body) if body else None
            except orjson.JSONDecodeError:
                raise RestError(
                    400, "InvalidRequestContentException", "Could not parse request body into json"
                ) from None
            query = dict(parse_qsl(query_string.decode("latin-1")))
            status, result = await route.handler(RestRequest(params, query, parsed, request_id))
        except RestError as err:
            payload = {"Type": err.kind, "message": err.message}
            return err.status, [(b"x-amzn-errortype", err.code.encode())], orjson.dumps(payload)
        return status, [], orjson.dumps(result)

    def _route(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        allowed = False
        for route in self.routes:
            match = route.pattern.fullmatch(path)
            if match is None:
                continue
            if route.method == method:
                return route, match.groupdict()
            allowed = True
        if allowed:
            raise RestError(405, "MethodNotAllowedException", f"{method} is not allowed on {path}")
        raise RestError(404, "UnknownOperationException", f"No operation at {method} {path}")
