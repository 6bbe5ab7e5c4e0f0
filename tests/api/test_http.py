"""HTTP/1.1 as `rivulet serve` speaks it (rivulet/protocol/http.py), over raw sockets: keep-alive,
pipelining, bodies in pieces and chunked, Expect: 100-continue, oversized bodies, malformed
requests, `Connection: close`, HTTP/1.0 and the idle keep-alive timeout."""

from __future__ import annotations

import json
import socket
import time
import zlib
from collections.abc import Iterator

import pytest
from conftest import RunningServer

AUTH = (
    b"Authorization: AWS4-HMAC-SHA256 Credential=AKIDTEST/20240101/us-east-1/dynamodb/"
    b"aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=0123456789abcdef\r\n"
    b"X-Amz-Date: 20240101T000000Z\r\n"
)
LIMITS = {
    "AccountMaxReadCapacityUnits": 80000,
    "AccountMaxWriteCapacityUnits": 80000,
    "TableMaxReadCapacityUnits": 40000,
    "TableMaxWriteCapacityUnits": 40000,
}


def request(target: str, body: bytes = b"{}", version: bytes = b"1.1", extra: bytes = b"") -> bytes:
    return (
        b"POST / HTTP/" + version + b"\r\nHost: localhost\r\n" + AUTH
        + b"X-Amz-Target: DynamoDB_20120810." + target.encode() + b"\r\n"
        + b"Content-Type: application/x-amz-json-1.0\r\n"
        + b"Content-Length: %d\r\n" % len(body) + extra + b"\r\n" + body
    )  # fmt: skip


class Conn:
    """A raw client connection that reads whole responses (Content-Length framed)."""

    def __init__(self, server: RunningServer) -> None:
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        self.buf += chunk
        return bool(chunk)

    def response(self) -> tuple[bytes, dict[str, str], bytes]:
        """(status line, lower-cased headers, body)."""
        while b"\r\n\r\n" not in self.buf:
            assert self._fill(), f"connection closed mid-response: {self.buf!r}"
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        status, *lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(self.buf) < length:
            assert self._fill(), "connection closed mid-body"
        body, self.buf = self.buf[:length], self.buf[length:]
        return status.encode(), headers, body

    def closed_by_server(self) -> bool:
        """True when the server closed the connection (EOF) with nothing more to read."""
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def conn(server: RunningServer) -> Iterator[Conn]:
    c = Conn(server)
    yield c
    c.close()


def test_http_keep_alive_answers_every_request_on_one_connection(conn: Conn) -> None:
    for _ in range(3):
        conn.send(request("DescribeLimits"))
        status, headers, body = conn.response()
        assert status == b"HTTP/1.1 200 OK"
        assert json.loads(body) == LIMITS
        assert headers["content-type"] == "application/x-amz-json-1.0"
        assert headers["content-length"] == str(len(body))
        assert headers["x-amz-crc32"] == str(zlib.crc32(body))
        assert len(headers["x-amzn-requestid"]) == 52
        assert "date" in headers
        assert "connection" not in headers


def test_http_pipelined_requests_are_answered_in_order(conn: Conn) -> None:
    # Three requests in one write: an error, a success, a serialization error, answered in order.
    conn.send(request("NoSuchOperation") + request("DescribeLimits") + request("ListTables", b"["))
    answers = [conn.response() for _ in range(3)]
    assert [a[0] for a in answers] == [
        b"HTTP/1.1 400 Bad Request",
        b"HTTP/1.1 200 OK",
        b"HTTP/1.1 400 Bad Request",
    ]
    assert json.loads(answers[0][2]) == {
        "__type": "com.amazon.coral.service#UnknownOperationException"
    }
    assert json.loads(answers[1][2]) == LIMITS
    assert json.loads(answers[2][2]) == {
        "__type": "com.amazon.coral.service#SerializationException"
    }
    ids = {a[1]["x-amzn-requestid"] for a in answers}
    assert len(ids) == 3


def test_http_body_arriving_in_pieces(conn: Conn) -> None:
    raw = request("DescribeLimits", b'{"Unused": "' + b"x" * 5000 + b'"}')
    for i in range(0, len(raw), 700):
        conn.send(raw[i : i + 700])
        time.sleep(0.005)
    status, _, body = conn.response()
    assert status == b"HTTP/1.1 200 OK"
    assert json.loads(body) == LIMITS


def test_http_chunked_body(conn: Conn) -> None:
    payload = b'{"Limit": 1}'
    chunks = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (5, payload[:5], len(payload) - 5, payload[5:])
    head = request("ListTables").split(b"Content-Length")[0]
    conn.send(head + b"Transfer-Encoding: chunked\r\n\r\n" + chunks)
    status, _, body = conn.response()
    assert status == b"HTTP/1.1 200 OK"
    assert "TableNames" in json.loads(body)


def test_http_expect_100_continue(conn: Conn) -> None:
    body = b"{}"
    raw = request("DescribeLimits", body, extra=b"Expect: 100-continue\r\n")
    conn.send(raw[: -len(body)])
    while b"\r\n\r\n" not in conn.buf:
        assert conn._fill()
    assert conn.buf == b"HTTP/1.1 100 Continue\r\n\r\n"
    conn.buf = b""
    conn.send(body)
    status, _, answer = conn.response()
    assert status == b"HTTP/1.1 200 OK"
    assert json.loads(answer) == LIMITS


def test_http_body_over_16_mb_is_refused_unread(conn: Conn) -> None:
    # The Content-Length alone decides: nothing of the body is sent, the answer comes anyway.
    conn.send(request("PutItem").replace(b"Content-Length: 2", b"Content-Length: 16777217")[:-2])
    status, headers, body = conn.response()
    assert status == b"HTTP/1.1 413 Request Entity Too Large"
    assert body == b""
    assert headers["connection"] == "close"
    assert len(headers["x-amzn-requestid"]) == 52
    assert conn.closed_by_server()


def test_http_malformed_request_gets_400_and_close(conn: Conn) -> None:
    conn.send(b"NOT HTTP AT ALL\r\n\r\n")
    status, headers, body = conn.response()
    assert status == b"HTTP/1.1 400 Bad Request"
    assert body == b"Invalid HTTP request received."
    assert headers["connection"] == "close"
    assert conn.closed_by_server()


@pytest.mark.parametrize(
    ("version", "extra"),
    [(b"1.1", b"Connection: close\r\n"), (b"1.0", b"")],
    ids=["connection-close", "http-1.0"],
)
def test_http_connection_closes_after_the_answer_when_asked(
    conn: Conn, version: bytes, extra: bytes
) -> None:
    conn.send(request("DescribeLimits", version=version, extra=extra))
    status, headers, body = conn.response()
    assert status == b"HTTP/1.1 200 OK"
    assert json.loads(body) == LIMITS
    assert headers["connection"] == "close"
    assert conn.closed_by_server()


def test_http_malformed_request_after_a_pipelined_one_is_refused_in_its_turn(conn: Conn) -> None:
    conn.send(request("DescribeLimits") + b"NOT HTTP AT ALL\r\n\r\n" + request("DescribeLimits"))
    status, _, body = conn.response()
    assert (status, json.loads(body)) == (b"HTTP/1.1 200 OK", LIMITS)
    status, headers, body = conn.response()
    assert (status, body) == (b"HTTP/1.1 400 Bad Request", b"Invalid HTTP request received.")
    assert headers["connection"] == "close"
    assert conn.closed_by_server()  # the request after the garbage is not answered


def test_http_get_health_and_unknown_method(conn: Conn) -> None:
    conn.send(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    status, headers, body = conn.response()
    assert (status, headers["content-type"], body) == (
        b"HTTP/1.1 200 OK",
        "text/plain",
        b"healthy: dynamodb.us-east-1.amazonaws.com ",
    )
    conn.send(b"PUT / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n")
    status, headers, body = conn.response()
    assert (status, headers["content-type"], body) == (
        b"HTTP/1.1 404 Not Found",
        "text/xml",
        b"<UnknownOperationException/>\n",
    )


def test_http_idle_connection_is_closed_after_the_keep_alive_timeout(conn: Conn) -> None:
    # uvicorn's default keep-alive timeout (5 s) applies: an idle client is let go, a busy one not.
    conn.send(request("DescribeLimits"))
    assert conn.response()[0] == b"HTTP/1.1 200 OK"
    time.sleep(3)
    conn.send(request("DescribeLimits"))  # activity restarts the idle clock
    assert conn.response()[0] == b"HTTP/1.1 200 OK"
    time.sleep(3)
    conn.send(request("DescribeLimits"))
    assert conn.response()[0] == b"HTTP/1.1 200 OK"
    conn.sock.settimeout(10)
    started = time.monotonic()
    assert conn.closed_by_server()
    assert 4.0 < time.monotonic() - started < 7.5
