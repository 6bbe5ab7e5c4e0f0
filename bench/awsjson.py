"""A lean AWS JSON 1.0 client on http.client: one keep-alive connection, static auth headers.

boto3 spends ~1 ms of client CPU per call (signing, model validation, parsing into Python
types); at 150 GetRecords calls/s that alone would eat a core of a 2-core machine. The servers
benchmarked here only check that a SigV4-shaped Authorization header is present (Rivulet:
rivulet/protocol/auth.py; moto routes on its credential scope), so the headers are static.
"""

from __future__ import annotations

import http.client
from typing import Any

from servers import BenchError

try:
    import orjson

    def _dumps(value: Any) -> bytes:
        return orjson.dumps(value)

    def _loads(data: bytes) -> Any:
        return orjson.loads(data)
except ImportError:  # orjson comes with Rivulet; plain json keeps a moto-only run possible
    import json

    def _dumps(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode()

    def _loads(data: bytes) -> Any:
        return json.loads(data)


DYNAMODB = "DynamoDB_20120810."
STREAMS = "DynamoDBStreams_20120810."
_AUTH = (
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/dynamodb/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=0000"
)


class AwsError(BenchError):
    """A non-2xx response: keeps the status and the error `__type` for callers that expect one."""

    def __init__(self, target: str, status: int, body: bytes) -> None:
        self.status = status
        try:
            self.type = str(_loads(body).get("__type", "")).rpartition("#")[2]
        except ValueError:
            self.type = ""
        super().__init__(f"{target} -> HTTP {status}: {body[:500].decode(errors='replace')}")


class Client:
    """One persistent connection; not thread-safe (give every thread its own)."""

    def __init__(self, host: str, port: int, timeout: float = 120.0) -> None:
        self.conn = http.client.HTTPConnection(host, port, timeout=timeout)
        self.headers = {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Date": "20260101T000000Z",
            "Authorization": _AUTH,
            "X-Amz-Target": "",
        }

    def raw(self, target: str, body: bytes) -> bytes:
        """Send one request and return the raw 2xx response body (no JSON parsing)."""
        self.headers["X-Amz-Target"] = target
        try:
            self.conn.request("POST", "/", body, self.headers)
            resp = self.conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException):
            # A server that closed an idle keep-alive connection: retry once on a new one.
            self.conn.close()
            self.conn.request("POST", "/", body, self.headers)
            resp = self.conn.getresponse()
            data = resp.read()
        if resp.status != 200:
            raise AwsError(target, resp.status, data)
        return data

    def call(self, target: str, body: dict[str, Any]) -> Any:
        return _loads(self.raw(target, _dumps(body)))

    def ddb(self, op: str, body: dict[str, Any]) -> Any:
        return self.call(DYNAMODB + op, body)

    def streams(self, op: str, body: dict[str, Any]) -> Any:
        return self.call(STREAMS + op, body)

    def close(self) -> None:
        self.conn.close()


dumps = _dumps
loads = _loads
