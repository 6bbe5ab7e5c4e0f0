"""Bad input over raw HTTP: always a 400 with a JSON `__type`, never a 500 or a dropped connection."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from conftest import RunningServer, start_server
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TABLE = "fuzz-target"
INDEX = "by-g"
TARGET_PREFIX = "DynamoDB_20120810."
HEADERS = {
    "Content-Type": "application/x-amz-json-1.0",
    "X-Amz-Date": "20240101T000000Z",
    "Authorization": (
        "AWS4-HMAC-SHA256 Credential=AKIDTEST/20240101/us-east-1/dynamodb/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=abc123"
    ),
}
SEED = [
    {
        "pk": {"S": f"k{n}"},
        "g": {"S": f"g{n % 2}"},
        "n": {"N": str(n)},
        "doc": {"M": {"l": {"L": [{"N": "1"}, {"S": "x"}]}, "b": {"BOOL": True}}},
    }
    for n in range(6)
]

# Each base request is well-formed but fails at its last, semantic step (a failed condition, an
# unsupported key condition, a key schema that does not match its attribute definitions), so
# whichever members the fuzzer replaces, the request can never succeed and change anything.
# (A null member counts as absent, so base members are only ever replaced by non-null values.)
BASES: dict[str, dict[str, Any]] = {
    "PutItem": {
        "TableName": TABLE,
        "Item": {"pk": {"S": "k0"}, "v": {"S": "overwritten"}},
        "ConditionExpression": "attribute_not_exists(pk)",
        "ReturnValues": "ALL_OLD",
    },
    "UpdateItem": {
        "TableName": TABLE,
        "Key": {"pk": {"S": "k1"}},
        "UpdateExpression": "SET v = :v REMOVE doc.l[0]",
        "ConditionExpression": "attribute_not_exists(pk) OR n > :v",
        "ExpressionAttributeValues": {":v": {"S": "x"}},
        "ReturnValues": "ALL_NEW",
    },
    "Query": {
        "TableName": TABLE,
        "KeyConditionExpression": "pk = :v AND #x = :v",
        "ExpressionAttributeNames": {"#x": "n"},
        "ExpressionAttributeValues": {":v": {"S": "k0"}},
        "FilterExpression": "size(doc) > :v",
        "Limit": 5,
    },
    "CreateTable": {
        "TableName": TABLE,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "unused", "AttributeType": "N"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
    },
}
# Members the fuzzer may add or replace, beyond those of the base request.
EXTRA_MEMBERS: dict[str, tuple[str, ...]] = {
    "PutItem": ("Expected", "ConditionalOperator", "ExpressionAttributeValues",
                "ExpressionAttributeNames", "ReturnConsumedCapacity", "ReturnItemCollectionMetrics",
                "ReturnValuesOnConditionCheckFailure"),
    "UpdateItem": ("AttributeUpdates", "Expected", "ExpressionAttributeNames",
                   "ReturnConsumedCapacity"),
    "Query": ("IndexName", "Select", "ProjectionExpression", "ExclusiveStartKey",
              "KeyConditions", "QueryFilter", "AttributesToGet", "ScanIndexForward",
              "ConsistentRead"),
    "CreateTable": ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "ProvisionedThroughput",
                    "StreamSpecification", "Tags", "SSESpecification", "TableClass"),
}  # fmt: skip
TARGETS = [TARGET_PREFIX + op for op in BASES]

# JSON text without lone surrogates (orjson refuses to encode them).
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
numbers = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**64 - 1),  # what orjson can write
    st.floats(allow_nan=False, allow_infinity=False),
)
json_scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)
number_texts = st.one_of(
    st.sampled_from(
        ["1e126", "1e125", "-1e-130", "1e-131", "9" * 38, "9" * 39, "1" + "0" * 40, "1E+1000000",
         "0.0000000000000000000000000000000000000001", "-0", " 1", "0x10", "Infinity", "NaN",
         "1e", ".", "", "+1", "--1", "1_000"]
    ),
    numbers.map(str),
)  # fmt: skip
# Attribute names that can never complete a valid key for the fuzz table.
names = texts.filter(lambda s: s != "pk")
attribute_values = st.recursive(
    st.one_of(
        st.builds(lambda s: {"S": s}, texts),
        st.builds(lambda s: {"N": s}, number_texts),
        st.builds(lambda s: {"B": s}, st.sampled_from(["", "AA==", "AAA", "!!!!", "AQID"])),
        st.builds(lambda b: {"BOOL": b}, json_scalars),
        st.builds(lambda b: {"NULL": b}, json_scalars),
        st.builds(lambda ss: {"SS": ss}, st.lists(texts, max_size=3)),
        st.builds(lambda ns: {"NS": ns}, st.lists(number_texts, max_size=3)),
        st.builds(lambda bs: {"BS": bs}, st.lists(st.sampled_from(["AA==", "AQ=="]), max_size=3)),
        st.dictionaries(st.sampled_from(["S", "N", "B", "M", "L", "X", "BOOL"]), json_values),
        json_scalars,
    ),
    lambda inner: st.one_of(
        st.builds(lambda m: {"M": m}, st.dictionaries(names, inner, max_size=3)),
        st.builds(lambda m: {"L": m}, st.lists(inner, max_size=3)),
    ),
    max_leaves=10,
)
attribute_maps = st.dictionaries(names, attribute_values, max_size=4)
expressions = st.one_of(
    texts,
    st.sampled_from(
        ["a = :v", "SET a = :v", "#a = :v", "pk = :v", "attribute_exists(", "a.b[1] < :v",
         "SET a = a + :v, b = list_append(:v, b)", "REMOVE", "a BETWEEN :v AND", "size(a)",
         "NOT NOT a = :v", "(a = :v", "a IN (:v, :v)", "begins_with(a, :v)", "a[-1] = :v",
         "a[99999999999999999999] = :v", "ADD a :v DELETE b :v", "SET a = if_not_exists(a)"]
    ),
)  # fmt: skip
member_values = st.one_of(json_values, attribute_values, attribute_maps, expressions)
latin1 = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f"))


@st.composite
def member_fuzz(draw: st.DrawFn) -> tuple[str, bytes]:
    """A base request with one to three members replaced or added with random values."""
    op = draw(st.sampled_from(sorted(BASES)))
    body = dict(BASES[op])
    members = sorted(set(BASES[op]) | set(EXTRA_MEMBERS[op]))
    for member in draw(st.lists(st.sampled_from(members), min_size=1, max_size=3, unique=True)):
        values = member_values.filter(lambda v: v is not None) if member in body else member_values
        body[member] = draw(values)
    return TARGET_PREFIX + op, orjson.dumps(body)


def nested_value(depth: int, kind: str) -> Any:
    value: Any = {"S": "leaf"}
    for _ in range(depth):
        value = {"M": {"a": value}} if kind == "M" else {"L": [value]}
    return value


@st.composite
def deep_nesting(draw: st.DrawFn) -> tuple[str, bytes]:
    """Attribute values, JSON and expressions nested past every limit (and a bit under some)."""
    depth = draw(st.sampled_from([33, 34, 100, 400, 600, 2000]))
    shape = draw(
        st.sampled_from(["M", "L", "json", "parens", "path", "not", "index", "calls", "update"])
    )
    op = draw(st.sampled_from(["PutItem", "UpdateItem", "Query"]))
    body = dict(BASES[op])
    if shape in ("M", "L"):
        # Spliced in as text: the JSON encoders themselves refuse to nest this deep.
        opening, closing = ('{"M": {"a": ', "}}") if shape == "M" else ('{"L": [', "]}")
        deep = (opening * depth + '{"S": "leaf"}' + closing * depth).encode()
        if op == "PutItem":
            body["Item"] = {**body["Item"], "deep": "DEEP"}
        else:
            body["ExpressionAttributeValues"] = {":v": "DEEP"}
        raw = orjson.dumps(body).replace(b'"DEEP"', deep)
    elif shape == "json":
        raw = b'{"TableName": "' + TABLE.encode() + b'", "Item": ' + b"[" * depth + b"]" * depth
        raw += b"}"
    elif shape == "update":
        body = dict(BASES["UpdateItem"])
        body["UpdateExpression"] = (
            "SET n" + ".a[0]" * depth + " = list_append(" * depth + "n" + ", :v)" * depth
        )
        raw = orjson.dumps(body)
        op = "UpdateItem"
    else:
        text = {
            "parens": "(" * depth + "n = :v" + ")" * depth,
            "path": "n" + ".a" * depth + " = :v",
            "not": "NOT " * depth + "n = :v",
            "index": "n" + "[0]" * depth + " = :v",
            "calls": "size(" * depth + "n" + ")" * depth + " = :v",
        }[shape]
        member = "FilterExpression" if op == "Query" else "ConditionExpression"
        body[member] = text
        body["ExpressionAttributeValues"] = {":v": {"S": "x"}}
        raw = orjson.dumps(body)
    return TARGET_PREFIX + op, raw


RAW_BODIES = [
    b"",
    b"null",
    b"[]",
    b"1",
    b'"TableName"',
    b"{",
    b'{"TableName": "fuzz-target",}',
    b"{'TableName': 'fuzz-target'}",
    b'{"TableName": "fuzz-target", "Limit": 1e400}',
    b'{"TableName": "fuzz-target", "Limit": -1e400}',
    b'{"TableName": "fuzz-target", "Limit": 123456789012345678901234567890}',
    b'{"TableName": "fuzz-target", "Limit": 1.5}',
    b'{"TableName": "fuzz-target", "Item": {"pk": {"N": 1e400}}}',
    b'{"TableName": "fuzz-target", "Item": {"pk": {"S": "\\ud800"}}}',
    b'{"TableName": "fuzz-target", "Key": {"pk": {"S": "k0"}}, "Key": 5}',
    b'{"TableName": "fuzz-target"}\x00',
    b"\xff\xfe{}",
    b'{"TableName": "\xff\xfe"}',
]
raw_bodies = st.tuples(
    st.sampled_from([*TARGETS, TARGET_PREFIX + "GetItem", TARGET_PREFIX + "BatchWriteItem"]),
    st.one_of(st.sampled_from(RAW_BODIES), st.binary(max_size=64)),
)
random_targets = st.tuples(
    st.one_of(
        latin1,
        st.builds(lambda s: TARGET_PREFIX + s, latin1),
        st.sampled_from(
            ["DynamoDB_20120810", "DynamoDB_20120810.", "dynamodb_20120810.PutItem",
             "DynamoDB_20111205.PutItem", "DynamoDB_20120810.PutItem.", "DynamoDBStreams_20120810.PutItem"]
        ),
    ),
    json_values.map(orjson.dumps),
)  # fmt: skip
# Operations that require a member: a random object can never be a valid request for them.
REQUIRING = ["PutItem", "GetItem", "UpdateItem", "DeleteItem", "Query", "Scan", "CreateTable",
             "DeleteTable", "DescribeTable", "UpdateTable", "BatchWriteItem", "BatchGetItem",
             "TransactWriteItems", "TransactGetItems", "TagResource", "UntagResource",
             "UpdateTimeToLive", "DescribeTimeToLive", "ListTagsOfResource"]  # fmt: skip
random_bodies = st.tuples(
    st.sampled_from([TARGET_PREFIX + op for op in REQUIRING]),
    st.dictionaries(texts.filter(lambda s: s[:1].islower() or not s), json_values).map(
        orjson.dumps
    ),
)
cases = st.one_of(member_fuzz(), deep_nesting(), raw_bodies, random_targets, random_bodies)


def post(server: RunningServer, target: str | None, body: bytes) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        headers = dict(HEADERS)
        if target is not None:
            headers["X-Amz-Target"] = target
        conn.request("POST", "/", body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def call(server: RunningServer, op: str, body: dict[str, Any]) -> dict[str, Any]:
    status, raw = post(server, TARGET_PREFIX + op, orjson.dumps(body))
    assert status == 200, raw
    return orjson.loads(raw)  # type: ignore[no-any-return]


def snapshot(server: RunningServer) -> dict[str, Any]:
    tables = call(server, "ListTables", {})["TableNames"]
    items = call(server, "Scan", {"TableName": TABLE, "ConsistentRead": True})["Items"]
    by_g = [
        call(
            server,
            "Query",
            {
                "TableName": TABLE,
                "IndexName": INDEX,
                "KeyConditionExpression": "g = :g",
                "ExpressionAttributeValues": {":g": {"S": g}},
            },
        )["Items"]
        for g in ("g0", "g1")
    ]
    return {"tables": tables, "items": sorted(items, key=lambda i: i["pk"]["S"]), "by_g": by_g}


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("fuzz") / "data")
    try:
        call(
            server,
            "CreateTable",
            {
                "TableName": TABLE,
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "g", "AttributeType": "S"},
                ],
                "GlobalSecondaryIndexes": [
                    {
                        "IndexName": INDEX,
                        "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                ],
                "BillingMode": "PAY_PER_REQUEST",
            },
        )
        for item in SEED:
            call(server, "PutItem", {"TableName": TABLE, "Item": item})
        yield server
    finally:
        server.stop()


def assert_client_error(status: int, raw: bytes) -> None:
    assert status == 400, (status, raw[:500])
    body = orjson.loads(raw)
    assert isinstance(body, dict)
    assert isinstance(body.get("__type"), str) and "#" in body["__type"], body


def test_bad_input_fuzz_is_always_a_400_and_changes_nothing(fuzz_server: RunningServer) -> None:
    before = snapshot(fuzz_server)
    assert [i["pk"]["S"] for i in before["items"]] == [f"k{n}" for n in range(6)]

    @settings(
        max_examples=200,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(case=cases)
    def check(case: tuple[str, bytes]) -> None:
        target, body = case
        assert_client_error(*post(fuzz_server, target, body))

    check()
    assert snapshot(fuzz_server) == before
    assert fuzz_server.process.poll() is None
    assert "Traceback" not in fuzz_server.log()


def test_bad_input_missing_target_is_a_400(fuzz_server: RunningServer) -> None:
    assert_client_error(*post(fuzz_server, None, b"{}"))


@pytest.mark.parametrize("depth", [31, 32])
@pytest.mark.parametrize("kind", ["M", "L"])
def test_bad_input_nesting_up_to_32_levels_is_accepted(
    fuzz_server: RunningServer, depth: int, kind: str
) -> None:
    # DynamoDB supports nested attributes up to 32 levels deep.
    item = {"pk": {"S": f"deep-{kind}-{depth}"}, "deep": nested_value(depth, kind)}
    call(fuzz_server, "PutItem", {"TableName": TABLE, "Item": item})
    got = call(fuzz_server, "GetItem", {"TableName": TABLE, "Key": {"pk": item["pk"]}})
    assert got["Item"] == item
    call(fuzz_server, "DeleteItem", {"TableName": TABLE, "Key": {"pk": item["pk"]}})


@pytest.mark.parametrize("kind", ["M", "L"])
def test_bad_input_nesting_past_32_levels_is_rejected(
    fuzz_server: RunningServer, kind: str
) -> None:
    # DynamoDB supports nested attributes up to 32 levels deep.
    item = {"pk": {"S": "too-deep"}, "deep": nested_value(33, kind)}
    status, raw = post(
        fuzz_server, TARGET_PREFIX + "PutItem", orjson.dumps({"TableName": TABLE, "Item": item})
    )
    assert (status, orjson.loads(raw)) == (
        400,
        {
            "__type": "com.amazon.coral.validate#ValidationException",
            "message": "Nesting Levels have exceeded supported limits",
        },
    )


def test_bad_input_update_nesting_past_32_levels_is_rejected(fuzz_server: RunningServer) -> None:
    # DynamoDB supports nested attributes up to 32 levels deep, however an update builds them.
    item = {"pk": {"S": "grown"}, "d": nested_value(31, "M")}
    call(fuzz_server, "PutItem", {"TableName": TABLE, "Item": item})
    path = "d" + ".a" * 30 + ".b"
    update = {"TableName": TABLE, "Key": {"pk": item["pk"]}, "UpdateExpression": f"SET {path} = :v"}
    too_deep = {":v": {"M": {"c": {"M": {}}}}}
    status, raw = post(
        fuzz_server,
        TARGET_PREFIX + "UpdateItem",
        orjson.dumps({**update, "ExpressionAttributeValues": too_deep}),
    )
    assert (status, orjson.loads(raw)) == (
        400,
        {
            "__type": "com.amazon.coral.validate#ValidationException",
            "message": "Nesting Levels have exceeded supported limits",
        },
    )
    got = call(fuzz_server, "GetItem", {"TableName": TABLE, "Key": {"pk": item["pk"]}})
    assert got["Item"] == item
    call(fuzz_server, "UpdateItem", {**update, "ExpressionAttributeValues": {":v": {"M": {}}}})
    call(fuzz_server, "DeleteItem", {"TableName": TABLE, "Key": {"pk": item["pk"]}})


def test_bad_input_update_huge_list_index_appends(fuzz_server: RunningServer) -> None:
    key = {"pk": {"S": "listy"}}
    call(fuzz_server, "PutItem", {"TableName": TABLE, "Item": {**key, "l": {"L": [{"N": "1"}]}}})
    status, raw = post(
        fuzz_server,
        TARGET_PREFIX + "UpdateItem",
        orjson.dumps(
            {
                "TableName": TABLE,
                "Key": key,
                "UpdateExpression": "SET l[99999999999999999999] = :v",
                "ExpressionAttributeValues": {":v": {"N": "2"}},
            }
        ),
    )
    # DynamoDB: SET of a list index past the end appends the value, whatever the index.
    assert status == 200, raw
    got = call(fuzz_server, "GetItem", {"TableName": TABLE, "Key": key})
    call(fuzz_server, "DeleteItem", {"TableName": TABLE, "Key": key})
    assert got["Item"]["l"] == {"L": [{"N": "1"}, {"N": "2"}]}
