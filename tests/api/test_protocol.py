"""The AWS JSON 1.0 wire protocol over raw HTTP: health, dispatch, authentication presence,
serialization errors, request ids, CRC32, and no 500 for any malformed input."""

from __future__ import annotations

import itertools
import json
import zlib
from typing import Any

import pytest
import urllib3
from conftest import RunningServer

AUTH = {
    "Authorization": (
        "AWS4-HMAC-SHA256 Credential=AKIDTEST/20240101/us-east-1/dynamodb/aws4_request, "
        "SignedHeaders=host;x-amz-date;x-amz-target, Signature=0123456789abcdef"
    ),
    "X-Amz-Date": "20240101T000000Z",
    "Content-Type": "application/x-amz-json-1.0",
}
SERIALIZATION = "com.amazon.coral.service#SerializationException"


@pytest.fixture(scope="module")
def http() -> urllib3.PoolManager:
    return urllib3.PoolManager()


class Raw:
    """One raw HTTP exchange."""

    def __init__(self, response: urllib3.BaseHTTPResponse) -> None:
        self.status = response.status
        self.data = response.data
        self.headers = response.headers

    def json(self) -> Any:
        return json.loads(self.data)


def post(
    http: urllib3.PoolManager,
    server: RunningServer,
    target: str | None,
    body: Any,
    headers: dict[str, str] | None = None,
) -> Raw:
    sent = dict(AUTH if headers is None else headers)
    if target is not None:
        sent["X-Amz-Target"] = target if "." in target else "DynamoDB_20120810." + target
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Raw(http.request("POST", server.url + "/", body=data, headers=sent, retries=False))


def assert_framed(raw: Raw) -> None:
    # Every response carries a 52-character request id and the CRC32 of its exact body.
    assert len(raw.headers["x-amzn-RequestId"]) == 52
    assert raw.headers["x-amz-crc32"] == str(zlib.crc32(raw.data))


def test_protocol_health_check(http: urllib3.PoolManager, server: RunningServer) -> None:
    # GET / answers DynamoDB's health text (with its trailing space).
    raw = Raw(http.request("GET", server.url + "/", retries=False))
    assert raw.status == 200
    assert raw.data == b"healthy: dynamodb.us-east-1.amazonaws.com "
    assert_framed(raw)


@pytest.mark.parametrize(
    "target", [None, "Nope", "DynamoDB_20120810.Nope", "DynamoDB_20111205.PutItem", "PutItem.x"]
)
def test_protocol_unknown_operation(
    http: urllib3.PoolManager, server: RunningServer, target: str | None
) -> None:
    # A missing or unknown X-Amz-Target is UnknownOperationException, without a message.
    raw = post(http, server, target, {})
    assert raw.status == 400
    assert raw.json() == {"__type": "com.amazon.coral.service#UnknownOperationException"}
    assert_framed(raw)


@pytest.mark.parametrize("data", [b"{", b"{'a': 1}", b"[1,", b"nope", b"\xff\xfe"])
def test_protocol_malformed_json(
    http: urllib3.PoolManager, server: RunningServer, data: bytes
) -> None:
    # Unparseable JSON is a SerializationException without a message, before anything else.
    raw = post(http, server, "PutItem", data)
    assert raw.status == 400
    assert raw.json() == {"__type": SERIALIZATION}
    assert_framed(raw)
    # JSON syntax is checked even before the target and the credentials.
    assert post(http, server, "Nope", data, headers={}).json() == {"__type": SERIALIZATION}


@pytest.mark.parametrize("data", [b"", b"[]", b"null", b"1", b'"text"'])
def test_protocol_body_not_an_object(
    http: urllib3.PoolManager, server: RunningServer, data: bytes
) -> None:
    # An empty body or a JSON value that is not an object is a SerializationException.
    raw = post(http, server, "GetItem", data)
    assert raw.status == 400
    assert raw.json() == {"__type": SERIALIZATION}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic dXNlcjpwYXNz", "X-Amz-Date": "20240101T000000Z"},
        {"Authorization": "AWS3 Credential=x"},
    ],
)
def test_protocol_missing_authentication(
    http: urllib3.PoolManager, server: RunningServer, headers: dict[str, str]
) -> None:
    # Without a SigV4 Authorization header (or query parameters) the request is refused.
    raw = post(http, server, "ListTables", {}, headers=headers)
    assert raw.status == 400
    assert raw.json() == {
        "__type": "com.amazon.coral.service#MissingAuthenticationTokenException",
        "message": "Request is missing Authentication Token",
    }
    assert_framed(raw)


def test_protocol_incomplete_signature(http: urllib3.PoolManager, server: RunningServer) -> None:
    # A SigV4 header without its parameters or a date lists everything that is missing.
    raw = post(http, server, "ListTables", {}, headers={"Authorization": "AWS4-HMAC-SHA256"})
    assert raw.status == 400
    assert raw.json() == {
        "__type": "com.amazon.coral.service#IncompleteSignatureException",
        "message": "Authorization header requires 'Credential' parameter. Authorization header "
        "requires 'Signature' parameter. Authorization header requires 'SignedHeaders' "
        "parameter. Authorization header requires existence of either a 'X-Amz-Date' or a "
        "'Date' header. Authorization=AWS4-HMAC-SHA256",
    }


def test_protocol_success_is_framed(http: urllib3.PoolManager, server: RunningServer) -> None:
    # Successful responses are AWS JSON 1.0 with a request id and an exact CRC32.
    raw = post(http, server, "ListTables", {"Limit": 1})
    assert raw.status == 200
    assert raw.headers["Content-Type"] == "application/x-amz-json-1.0"
    assert "TableNames" in raw.json()
    assert_framed(raw)


def test_protocol_request_ids_are_unique(http: urllib3.PoolManager, server: RunningServer) -> None:
    # Each response has its own request id.
    ids = {post(http, server, "ListTables", {}).headers["x-amzn-RequestId"] for _ in range(5)}
    assert len(ids) == 5


@pytest.mark.parametrize(
    ("target", "body", "message"),
    [
        ("PutItem", {"TableName": 123, "Item": {}}, "NUMBER_VALUE cannot be converted to String"),
        ("PutItem", {"TableName": True, "Item": {}}, "TRUE_VALUE cannot be converted to String"),
        (
            "PutItem",
            {"TableName": [], "Item": {}},
            "Unrecognized collection type class java.lang.String",
        ),
        (
            "PutItem",
            {"TableName": {}, "Item": {}},
            "Start of structure or map found where not expected",
        ),
        ("PutItem", {"TableName": "t-x", "Item": "x"}, "Unexpected field type"),
        ("PutItem", {"TableName": "t-x", "Item": {"a": "x"}}, "Unexpected value type in payload"),
        (
            "PutItem",
            {"TableName": "t-x", "Item": {"a": []}},
            "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.AttributeValue",
        ),
        (
            "PutItem",
            {"TableName": "t-x", "Item": {"a": {"S": 1}}},
            "NUMBER_VALUE cannot be converted to String",
        ),
        (
            "PutItem",
            {"TableName": "t-x", "Item": {"a": {"N": 1.5}}},
            "DECIMAL_VALUE cannot be converted to String",
        ),
        (
            "PutItem",
            {"TableName": "t-x", "Item": {"a": {"B": "abc"}}},
            "Base64 encoded length is expected a multiple of 4 bytes but found: 3",
        ),
        (
            "PutItem",
            {"TableName": "t-x", "Item": {"a": {"B": 5}}},
            "only base-64-encoded strings are convertible to bytes",
        ),
        (
            "PutItem",
            {"TableName": "t-x", "Item": {"a": {"BOOL": "maybe"}}},
            "Unexpected token received from parser",
        ),
        (
            "PutItem",
            {"TableName": "t-x", "Item": {"a": {"M": []}}},
            "Unrecognized collection type java.util.Map<java.lang.String, "
            "com.amazonaws.dynamodb.v20120810.AttributeValue>",
        ),
        ("PutItem", {"TableName": "t-x", "Item": {"a": {"L": "x"}}}, "Unexpected field type"),
        (
            "PutItem",
            {"TableName": "t-x", "Item": {"a": {"SS": [1]}}},
            "NUMBER_VALUE cannot be converted to String",
        ),
        (
            "PutItem",
            {"TableName": "t-x", "Item": {}, "ReturnConsumedCapacity": 1.5},
            "DECIMAL_VALUE cannot be converted to String",
        ),
        (
            "GetItem",
            {"TableName": "t-x", "Key": {}, "ConsistentRead": "maybe"},
            "Unexpected token received from parser",
        ),
        (
            "GetItem",
            {"TableName": "t-x", "Key": {}, "ConsistentRead": 1},
            "NUMBER_VALUE cannot be converted to Boolean",
        ),
        (
            "GetItem",
            {"TableName": "t-x", "Key": {}, "AttributesToGet": "a"},
            "Unexpected field type",
        ),
        (
            "UpdateItem",
            {"TableName": "t-x", "Key": {}, "AttributeUpdates": {"a": 1}},
            "Unexpected value type in payload",
        ),
        (
            "BatchGetItem",
            {"RequestItems": {"t-x": {"Keys": [1]}}},
            "class sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl cannot be cast to "
            "class java.lang.Class (sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl "
            "and java.lang.Class are in module java.base of loader 'bootstrap')",
        ),
        (
            "TransactWriteItems",
            {"TransactItems": {}},
            "Start of structure or map found where not expected",
        ),
    ],
)
def test_protocol_wrong_json_types(
    http: urllib3.PoolManager, server: RunningServer, target: str, body: Any, message: str
) -> None:
    # Members of the wrong JSON type are SerializationExceptions with Jackson's texts
    # (capital-M "Message").
    raw = post(http, server, target, body)
    assert raw.status == 400
    assert raw.json() == {"__type": SERIALIZATION, "Message": message}
    assert_framed(raw)


def test_protocol_unknown_members_and_nulls_are_ignored(
    http: urllib3.PoolManager, server: RunningServer, hash_table: str
) -> None:
    # Unknown members and null members are ignored, as DynamoDB's deserializer does.
    raw = post(
        http,
        server,
        "PutItem",
        {"TableName": hash_table, "Item": {"id": {"S": "x"}}, "Bogus": 1, "ReturnValues": None},
    )
    assert raw.status == 200
    assert raw.json() == {}
    got = post(http, server, "GetItem", {"TableName": hash_table, "Key": {"id": {"S": "x"}}})
    assert got.json() == {"Item": {"id": {"S": "x"}}}


WEIRD_VALUES: list[Any] = [
    None,
    0,
    -1.5,
    True,
    "",
    "x",
    [],
    [None],
    [1],
    {},
    {"": None},
    {"S": None},
    {"S": "x", "N": "1"},
    {"N": "1e999"},
    {"B": "===="},
    {"L": [{"NULL": False}]},
    {"M": {"a": {"SS": ["a", "a"]}}},
    {"a": {"Action": "ADD"}},
    [{"Put": None}],
    [{"PutRequest": {"Item": {"a": {}}}}],
    "x" * 2000,
]

MEMBERS: dict[str, list[str]] = {
    "PutItem": [
        "TableName",
        "Item",
        "Expected",
        "ConditionExpression",
        "ExpressionAttributeValues",
        "ExpressionAttributeNames",
        "ReturnValues",
        "ConditionalOperator",
    ],
    "GetItem": ["Key", "AttributesToGet", "ProjectionExpression", "ConsistentRead"],
    "UpdateItem": [
        "Key",
        "AttributeUpdates",
        "UpdateExpression",
        "ExpressionAttributeValues",
        "Expected",
    ],
    "DeleteItem": ["Key", "Expected", "ConditionExpression", "ReturnValuesOnConditionCheckFailure"],
    "BatchGetItem": ["RequestItems"],
    "BatchWriteItem": ["RequestItems"],
    "TransactWriteItems": ["TransactItems", "ClientRequestToken"],
    "TransactGetItems": ["TransactItems"],
}


def test_protocol_never_500_for_bad_input(
    http: urllib3.PoolManager, server: RunningServer, hash_table: str
) -> None:
    # Whatever a client sends in any member, the answer is a 4xx error (or a success), never a
    # 500, and always a well-formed error envelope.
    base: dict[str, dict[str, Any]] = {
        "PutItem": {"TableName": hash_table, "Item": {"id": {"S": "f"}}},
        "GetItem": {"TableName": hash_table, "Key": {"id": {"S": "f"}}},
        "UpdateItem": {"TableName": hash_table, "Key": {"id": {"S": "f"}}},
        "DeleteItem": {"TableName": hash_table, "Key": {"id": {"S": "f"}}},
        "BatchGetItem": {"RequestItems": {hash_table: {"Keys": [{"id": {"S": "f"}}]}}},
        "BatchWriteItem": {
            "RequestItems": {hash_table: [{"DeleteRequest": {"Key": {"id": {"S": "f"}}}}]}
        },
        "TransactWriteItems": {
            "TransactItems": [{"Delete": {"TableName": hash_table, "Key": {"id": {"S": "f"}}}}]
        },
        "TransactGetItems": {
            "TransactItems": [{"Get": {"TableName": hash_table, "Key": {"id": {"S": "f"}}}}]
        },
    }
    failures = []
    for (operation, members), value in itertools.product(MEMBERS.items(), WEIRD_VALUES):
        for member in members:
            raw = post(http, server, operation, {**base[operation], member: value})
            if raw.status >= 500 or (raw.status != 200 and "__type" not in raw.json()):
                failures.append((operation, member, value, raw.status, raw.data[:200]))
    assert failures == []
