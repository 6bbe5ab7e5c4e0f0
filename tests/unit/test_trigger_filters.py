"""FilterCriteria on Lambda-form DynamoDB records: every operator, the type-descriptor and
"N is a string" rules, OR across filters, strict mode and every validation failure
(spec/triggers.md sections 10 and 12, open-questions Q-T6 and Q-T7)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rivulet.triggers.filters import FilterPatternError, RecordFilter, compile_filters

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2025-11-26T11:58:02.123"
KEYS = {"pk": {"S": "order#1001"}}
PAID_IMAGE = {
    "pk": {"S": "order#1001"},
    "status": {"S": "PAID"},
    "total": {"N": "25"},
    "expiresAt": {"N": "1764162000"},
}


def _record(name: str, created: int, dynamodb: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "eventID": "1f3c5e7a9b0d2f4a6c8e0a1b3d5f7a9c",
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": created,
            "Keys": KEYS,
            **dynamodb,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        **extra,
        "eventSourceARN": ARN,
    }


# An INSERT whose NewImage holds every attribute type a filter can meet.
INSERT = _record(
    "INSERT",
    1764158400,
    {
        "NewImage": {
            "pk": {"S": "order#1001"},
            "status": {"S": "NEW"},
            "total": {"N": "25"},
            "express": {"BOOL": True},
            "coupon": {"S": ""},
            "comment": {"NULL": True},
            "tags": {"SS": ["gift", "fragile"]},
            "sizes": {"NS": ["1", "2.5"]},
            "customer": {"M": {"name": {"S": "Ada"}, "tier": {"S": "gold"}}},
            "lines": {"L": [{"S": "widget"}, {"N": "3"}, {"M": {"sku": {"S": "W-1"}}}]},
            "history": {"L": []},
        },
        "SequenceNumber": "100000000000000000201",
        "SizeBytes": 54,
    },
)
MODIFY = _record(
    "MODIFY",
    1764158401,
    {
        "NewImage": PAID_IMAGE,
        "OldImage": {**PAID_IMAGE, "status": {"S": "NEW"}},
        "SequenceNumber": "100000000000000000202",
        "SizeBytes": 97,
    },
)
TTL_REMOVE = _record(
    "REMOVE",
    1764162093,
    {"OldImage": PAID_IMAGE, "SequenceNumber": "100000000000000000203", "SizeBytes": 55},
    userIdentity={"type": "Service", "principalId": "dynamodb.amazonaws.com"},
)
USER_REMOVE = _record(
    "REMOVE",
    1764162100,
    {"OldImage": PAID_IMAGE, "SequenceNumber": "100000000000000000204", "SizeBytes": 55},
)
RECORDS = {"INSERT": INSERT, "MODIFY": MODIFY, "TTL_REMOVE": TTL_REMOVE, "USER_REMOVE": USER_REMOVE}


def _with_image(record: dict[str, Any], **attributes: Any) -> dict[str, Any]:
    image = {**record["dynamodb"]["NewImage"], **attributes}
    return {**record, "dynamodb": {**record["dynamodb"], "NewImage": image}}


PAID_101 = _with_image(MODIFY, total={"N": "101"})
MODIFY_NOTED = _with_image(MODIFY, note={"S": "leave at door"})
STARRED = _with_image(MODIFY, pk={"S": "a*b\\c"})
# Lambda records never hold a JSON null; this one exists to pin what `[null]` means.
WITH_NULL = {**INSERT, "batch": None}


def _criteria(*patterns: Any) -> dict[str, Any]:
    texts = [p if isinstance(p, str) else json.dumps(p) for p in patterns]
    return {"Filters": [{"Pattern": text} for text in texts]}


def _compile(*patterns: Any, strict: bool = False) -> RecordFilter:
    compiled = compile_filters(_criteria(*patterns), strict=strict)
    assert isinstance(compiled, RecordFilter)
    return compiled


def _matches(pattern: Any, record: dict[str, Any], strict: bool = False) -> bool:
    return _compile(pattern, strict=strict).matches(record)


def _image(**attributes: Any) -> dict[str, Any]:
    return {"dynamodb": {"NewImage": attributes}}


# (pattern, record, expected). Patterns given as text keep their exact number spelling.
CASES: list[tuple[str, Any, dict[str, Any], bool]] = [
    # --- metadata keys (Q-T6: every key of the Lambda-form record) ---
    ("event name in list", {"eventName": ["INSERT", "MODIFY"]}, INSERT, True),
    ("event name in list, second", {"eventName": ["INSERT", "MODIFY"]}, MODIFY, True),
    ("event name not in list", {"eventName": ["INSERT", "MODIFY"]}, TTL_REMOVE, False),
    ("equality is case-sensitive", {"eventName": ["insert"]}, INSERT, False),
    ("no normalisation", {"eventName": ["INSERT "]}, INSERT, False),
    ("keys are ANDed", {"eventName": ["INSERT"], "awsRegion": ["us-east-1"]}, INSERT, True),
    (
        "keys are ANDed, one fails",
        {"eventName": ["INSERT"], "awsRegion": ["eu-west-1"]},
        INSERT,
        False,
    ),
    ("missing key never equals", {"eventNameX": ["INSERT"]}, INSERT, False),
    (
        "TTL delete by userIdentity",
        {"userIdentity": {"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]}},
        TTL_REMOVE,
        True,
    ),
    (
        "user delete has no userIdentity",
        {"userIdentity": {"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]}},
        USER_REMOVE,
        False,
    ),
    (
        "nested keys are ANDed",
        {"userIdentity": {"type": ["Service"], "principalId": ["lambda.amazonaws.com"]}},
        TTL_REMOVE,
        False,
    ),
    ("no userIdentity", {"userIdentity": [{"exists": False}]}, USER_REMOVE, True),
    ("userIdentity present", {"userIdentity": [{"exists": False}]}, TTL_REMOVE, False),
    ("userIdentity is an object", {"userIdentity": [{"exists": True}]}, TTL_REMOVE, True),
    ("object is not a value", {"userIdentity": ["Service"]}, TTL_REMOVE, False),
    ("descend into a string", {"eventName": {"S": ["INSERT"]}}, INSERT, False),
    # --- type descriptors ---
    ("status S PAID", {"dynamodb": {"NewImage": {"status": {"S": ["PAID"]}}}}, MODIFY, True),
    ("status S NEW", {"dynamodb": {"NewImage": {"status": {"S": ["PAID"]}}}}, INSERT, False),
    ("descriptor left out", {"dynamodb": {"NewImage": {"status": ["PAID"]}}}, MODIFY, False),
    ("wrong descriptor", {"dynamodb": {"NewImage": {"status": {"N": ["PAID"]}}}}, MODIFY, False),
    ("old image", {"dynamodb": {"OldImage": {"status": {"S": ["NEW"]}}}}, MODIFY, True),
    (
        "no new image on REMOVE",
        {"dynamodb": {"NewImage": {"status": {"S": ["PAID"]}}}},
        TTL_REMOVE,
        False,
    ),
    ("keys", {"dynamodb": {"Keys": {"pk": {"S": ["order#1001"]}}}}, USER_REMOVE, True),
    ("BOOL true", _image(express={"BOOL": [True]}), INSERT, True),
    ("BOOL false", _image(express={"BOOL": [False]}), INSERT, False),
    ("BOOL is not the number 1", _image(express={"BOOL": [1]}), INSERT, False),
    ("BOOL is not the string", _image(express={"BOOL": ["true"]}), INSERT, False),
    ("NULL descriptor", _image(comment={"NULL": [True]}), INSERT, True),
    ("map member", _image(customer={"M": {"tier": {"S": ["gold"]}}}), INSERT, True),
    ("map member differs", _image(customer={"M": {"tier": {"S": ["silver"]}}}), INSERT, False),
    (
        "map members ANDed",
        _image(customer={"M": {"tier": {"S": ["gold"]}, "name": {"S": ["Bob"]}}}),
        INSERT,
        False,
    ),
    # --- N values are strings (spec 10.1) ---
    ("numeric never matches N", _image(total={"N": [{"numeric": [">", 100]}]}), PAID_101, False),
    ("N by string equality", _image(total={"N": ["101"]}), PAID_101, True),
    ("pattern number is not an N string", _image(total={"N": [101]}), PAID_101, False),
    ("N string differs", _image(total={"N": ["101.0"]}), PAID_101, False),
    ("N prefix", _image(total={"N": [{"prefix": "10"}]}), PAID_101, True),
    # --- JSON numbers: ApproximateCreationDateTime, SizeBytes ---
    (
        "creation time > 0",
        {"dynamodb": {"ApproximateCreationDateTime": [{"numeric": [">", 0]}]}},
        INSERT,
        True,
    ),
    (
        "creation time = 1764158400",
        {"dynamodb": {"ApproximateCreationDateTime": [{"numeric": ["=", 1764158400]}]}},
        INSERT,
        True,
    ),
    (
        "numeric = by value",
        '{"dynamodb": {"ApproximateCreationDateTime": [{"numeric": ["=", 1.7641584e9]}]}}',
        INSERT,
        True,
    ),
    (
        "creation range hit",
        {
            "dynamodb": {
                "ApproximateCreationDateTime": [{"numeric": [">=", 1764158400, "<", 1764158401]}]
            }
        },
        INSERT,
        True,
    ),
    (
        "creation range miss",
        {
            "dynamodb": {
                "ApproximateCreationDateTime": [{"numeric": [">=", 1764158400, "<", 1764158401]}]
            }
        },
        MODIFY,
        False,
    ),
    (
        "upper bound first",
        {"dynamodb": {"SizeBytes": [{"numeric": ["<", 60, ">", 50]}]}},
        INSERT,
        True,
    ),
    ("< 54", {"dynamodb": {"SizeBytes": [{"numeric": ["<", 54]}]}}, INSERT, False),
    ("< 55", {"dynamodb": {"SizeBytes": [{"numeric": ["<", 55]}]}}, INSERT, True),
    ("<= 54", {"dynamodb": {"SizeBytes": [{"numeric": ["<=", 54]}]}}, INSERT, True),
    ("> 54", {"dynamodb": {"SizeBytes": [{"numeric": [">", 54]}]}}, INSERT, False),
    (">= 54", {"dynamodb": {"SizeBytes": [{"numeric": [">=", 54]}]}}, INSERT, True),
    ("> 53.5", {"dynamodb": {"SizeBytes": [{"numeric": [">", 53.5]}]}}, INSERT, True),
    ("= 55", {"dynamodb": {"SizeBytes": [{"numeric": ["=", 55]}]}}, INSERT, False),
    ("numeric on a string", {"eventVersion": [{"numeric": [">", 1]}]}, INSERT, False),
    ("numeric on a bool", _image(express={"BOOL": [{"numeric": ["=", 1]}]}), INSERT, False),
    ("numeric on an object", {"dynamodb": {"Keys": [{"numeric": [">", 0]}]}}, INSERT, False),
    ("numeric on a missing key", {"dynamodb": {"Size": [{"numeric": [">", 0]}]}}, INSERT, False),
    ("plain number", '{"dynamodb": {"SizeBytes": [54]}}', INSERT, True),
    ("plain number by text: 54.0", '{"dynamodb": {"SizeBytes": [54.0]}}', INSERT, False),
    ("plain number by text: 5.4e1", '{"dynamodb": {"SizeBytes": [5.4e1]}}', INSERT, False),
    (
        "numeric by value: 5.4e1",
        '{"dynamodb": {"SizeBytes": [{"numeric": ["=", 5.4e1]}]}}',
        INSERT,
        True,
    ),
    ("string is not the number", {"dynamodb": {"SizeBytes": ["54"]}}, INSERT, False),
    ("number is not the string", {"eventVersion": [1.1]}, INSERT, False),
    ("number list is ORed", {"dynamodb": {"SizeBytes": [55, 97]}}, MODIFY, True),
    # --- null and empty string ---
    ("null matches a present null", {"batch": [None]}, WITH_NULL, True),
    ("null does not match a missing key", {"batch": [None]}, INSERT, False),
    ("null does not match an empty string", _image(coupon={"S": [None]}), INSERT, False),
    ("null does not match an object", _image(comment=[None]), INSERT, False),
    ("empty string", _image(coupon={"S": [""]}), INSERT, True),
    ("empty string vs NEW", _image(status={"S": [""]}), INSERT, False),
    ("empty string vs null", {"batch": [""]}, WITH_NULL, False),
    # --- lists: SS, NS, L ---
    ("SS member", _image(tags={"SS": ["fragile"]}), INSERT, True),
    ("SS no partial member", _image(tags={"SS": ["gif"]}), INSERT, False),
    ("SS prefix", _image(tags={"SS": [{"prefix": "fra"}]}), INSERT, True),
    ("NS member", _image(sizes={"NS": ["2.5"]}), INSERT, True),
    ("NS numeric never", _image(sizes={"NS": [{"numeric": [">", 0]}]}), INSERT, False),
    ("L member", _image(lines={"L": {"S": ["widget"]}}), INSERT, True),
    ("L member N", _image(lines={"L": {"N": ["3"]}}), INSERT, True),
    ("L nested map", _image(lines={"L": {"M": {"sku": {"S": ["W-1"]}}}}), INSERT, True),
    (
        "L one element must match it all",
        _image(lines={"L": {"S": ["widget"], "N": ["3"]}}),
        INSERT,
        False,
    ),
    ("L elements are objects", _image(lines={"L": ["widget"]}), INSERT, False),
    ("empty L has no value", _image(history={"L": [{"exists": True}]}), INSERT, False),
    ("empty L counts as absent", _image(history={"L": [{"exists": False}]}), INSERT, True),
    ("empty L descend", _image(history={"L": {"S": [{"exists": False}]}}), INSERT, True),
    # --- exists ---
    ("exists at type level", _image(status={"S": [{"exists": True}]}), INSERT, True),
    ("exists, other type", _image(status={"N": [{"exists": True}]}), INSERT, False),
    ("exists false, other type", _image(status={"N": [{"exists": False}]}), INSERT, True),
    ("exists on an object attribute", _image(status=[{"exists": True}]), INSERT, True),
    ("exists on a missing attribute", _image(note=[{"exists": True}]), INSERT, False),
    ("not exists, attribute absent", _image(note=[{"exists": False}]), MODIFY, True),
    ("not exists, attribute present", _image(note=[{"exists": False}]), MODIFY_NOTED, False),
    (
        "not exists below an absent image",
        _image(status={"S": [{"exists": False}]}),
        TTL_REMOVE,
        True,
    ),
    ("exists below an absent image", _image(status={"S": [{"exists": True}]}), TTL_REMOVE, False),
    ("exists on a null", {"batch": [{"exists": True}]}, WITH_NULL, True),
    ("exists on an empty string", _image(coupon={"S": [{"exists": True}]}), INSERT, True),
    ("exists true or false", {"missing": [{"exists": True}, {"exists": False}]}, INSERT, True),
    ("exists or a value", {"eventName": ["MODIFY", {"exists": True}]}, INSERT, True),
    # --- prefix ---
    (
        "prefix",
        {"eventSourceARN": [{"prefix": "arn:aws:dynamodb:us-east-1:123456789012:table/Orders/"}]},
        INSERT,
        True,
    ),
    ("prefix miss", {"eventSourceARN": [{"prefix": "arn:aws:dynamodb:eu-"}]}, INSERT, False),
    ("prefix is case-sensitive", {"eventName": [{"prefix": "ins"}]}, INSERT, False),
    ("empty prefix", {"eventName": [{"prefix": ""}]}, INSERT, True),
    ("prefix never matches numbers", {"dynamodb": {"SizeBytes": [{"prefix": "5"}]}}, INSERT, False),
    ("value or prefix", {"eventName": ["REMOVE", {"prefix": "IN"}]}, INSERT, True),
    ("value or prefix, neither", {"eventName": ["REMOVE", {"prefix": "IN"}]}, MODIFY, False),
    ("value or prefix, value", {"eventName": ["REMOVE", {"prefix": "IN"}]}, TTL_REMOVE, True),
    # --- anything-but ---
    ("anything-but list", {"eventName": [{"anything-but": ["REMOVE", "MODIFY"]}]}, INSERT, True),
    (
        "anything-but list, excluded",
        {"eventName": [{"anything-but": ["REMOVE", "MODIFY"]}]},
        MODIFY,
        False,
    ),
    ("anything-but single", {"awsRegion": [{"anything-but": "eu-west-1"}]}, INSERT, True),
    (
        "anything-but single, excluded",
        {"awsRegion": [{"anything-but": "us-east-1"}]},
        INSERT,
        False,
    ),
    ("anything-but is case-sensitive", {"eventName": [{"anything-but": ["insert"]}]}, INSERT, True),
    (
        "anything-but on a missing key",
        _image(status={"S": [{"anything-but": ["PAID"]}]}),
        TTL_REMOVE,
        False,
    ),
    ("anything-but on NEW", _image(status={"S": [{"anything-but": ["PAID"]}]}), INSERT, True),
    ("anything-but on PAID", _image(status={"S": [{"anything-but": ["PAID"]}]}), MODIFY, False),
    ("anything-but on an object", _image(status=[{"anything-but": ["PAID"]}]), INSERT, False),
    (
        "anything-but numbers",
        {"dynamodb": {"SizeBytes": [{"anything-but": [54, 97]}]}},
        INSERT,
        False,
    ),
    (
        "anything-but numbers, other",
        {"dynamodb": {"SizeBytes": [{"anything-but": [54, 97]}]}},
        TTL_REMOVE,
        True,
    ),
    (
        "anything-but single number",
        {"dynamodb": {"SizeBytes": [{"anything-but": 55}]}},
        TTL_REMOVE,
        False,
    ),
    ("anything-but number vs string", {"eventVersion": [{"anything-but": [1.1]}]}, INSERT, True),
    (
        "anything-but string vs number",
        {"dynamodb": {"SizeBytes": [{"anything-but": ["54"]}]}},
        INSERT,
        True,
    ),
    ("anything-but on a null", {"batch": [{"anything-but": ["x"]}]}, WITH_NULL, True),
    (
        "anything-but, one SS member left",
        _image(tags={"SS": [{"anything-but": ["gift"]}]}),
        INSERT,
        True,
    ),
    (
        "anything-but, every SS member",
        _image(tags={"SS": [{"anything-but": ["gift", "fragile"]}]}),
        INSERT,
        False,
    ),
    (
        "anything-but prefix",
        _image(pk={"S": [{"anything-but": {"prefix": "order#"}}]}),
        INSERT,
        False,
    ),
    (
        "anything-but prefix, other",
        _image(pk={"S": [{"anything-but": {"prefix": "user#"}}]}),
        INSERT,
        True,
    ),
    (
        "anything-but suffix",
        {"eventSourceARN": [{"anything-but": {"suffix": ".123"}}]},
        INSERT,
        False,
    ),
    (
        "anything-but suffix, other",
        {"eventSourceARN": [{"anything-but": {"suffix": ".124"}}]},
        INSERT,
        True,
    ),
    (
        "anything-but prefix on a number",
        {"dynamodb": {"SizeBytes": [{"anything-but": {"prefix": "5"}}]}},
        INSERT,
        True,
    ),
    (
        "anything-but ignore-case",
        {"eventName": [{"anything-but": {"equals-ignore-case": ["insert", "modify"]}}]},
        INSERT,
        False,
    ),
    (
        "anything-but ignore-case, other",
        {"eventName": [{"anything-but": {"equals-ignore-case": ["insert", "modify"]}}]},
        TTL_REMOVE,
        True,
    ),
    (
        "anything-but ignore-case single",
        {"eventName": [{"anything-but": {"equals-ignore-case": "Remove"}}]},
        TTL_REMOVE,
        False,
    ),
    (
        "anything-but wildcard",
        {"eventName": [{"anything-but": {"wildcard": "*MOVE"}}]},
        TTL_REMOVE,
        False,
    ),
    (
        "anything-but wildcard list",
        {"eventName": [{"anything-but": {"wildcard": ["*MOVE", "MOD*"]}}]},
        INSERT,
        True,
    ),
    # --- EventBridge extras (Q-T7) ---
    ("suffix", {"eventSourceARN": [{"suffix": "11:58:02.123"}]}, INSERT, True),
    ("suffix miss", {"eventSourceARN": [{"suffix": "11:58:02"}]}, INSERT, False),
    ("suffix never matches numbers", {"dynamodb": {"SizeBytes": [{"suffix": "4"}]}}, INSERT, False),
    ("equals-ignore-case", {"eventName": [{"equals-ignore-case": "insert"}]}, INSERT, True),
    ("equals-ignore-case miss", {"eventName": [{"equals-ignore-case": "insert"}]}, MODIFY, False),
    ("equals-ignore-case is whole", {"eventName": [{"equals-ignore-case": "ins"}]}, INSERT, False),
    (
        "wildcard",
        {"eventSourceARN": [{"wildcard": "arn:aws:dynamodb:*:table/Orders/stream/*"}]},
        INSERT,
        True,
    ),
    ("wildcard miss", {"eventSourceARN": [{"wildcard": "*table/Users/*"}]}, INSERT, False),
    ("wildcard is whole", {"eventName": [{"wildcard": "IN*R"}]}, INSERT, False),
    ("wildcard star is empty too", {"eventName": [{"wildcard": "INSERT*"}]}, INSERT, True),
    ("wildcard without star", {"eventName": [{"wildcard": "INSERT"}]}, INSERT, True),
    ("wildcard escaped star", _image(pk={"S": [{"wildcard": "a\\*b\\\\c"}]}), STARRED, True),
    (
        "wildcard escaped star is literal",
        _image(pk={"S": [{"wildcard": "a\\*b*"}]}),
        _with_image(MODIFY, pk={"S": "aXb"}),
        False,
    ),
    (
        "wildcard keeps regex text literal",
        _image(pk={"S": [{"wildcard": "order.1001"}]}),
        MODIFY,
        False,
    ),
    (
        "wildcard never matches numbers",
        {"dynamodb": {"SizeBytes": [{"wildcard": "5*"}]}},
        INSERT,
        False,
    ),
    (
        "$or, first branch",
        {"$or": [{"eventName": ["INSERT"]}, {"userIdentity": {"type": ["Service"]}}]},
        INSERT,
        True,
    ),
    (
        "$or, second branch",
        {"$or": [{"eventName": ["INSERT"]}, {"userIdentity": {"type": ["Service"]}}]},
        TTL_REMOVE,
        True,
    ),
    (
        "$or, no branch",
        {"$or": [{"eventName": ["INSERT"]}, {"userIdentity": {"type": ["Service"]}}]},
        MODIFY,
        False,
    ),
    (
        "$or ANDed with siblings",
        {"eventName": ["REMOVE"], "$or": [{"eventName": ["INSERT"]}, {"awsRegion": ["us-east-1"]}]},
        INSERT,
        False,
    ),
    (
        "$or nested",
        {
            "dynamodb": {
                "$or": [
                    {"NewImage": {"status": {"S": ["PAID"]}}},
                    {"OldImage": {"status": {"S": ["PAID"]}}},
                ]
            }
        },
        TTL_REMOVE,
        True,
    ),
    (
        "$or nested, neither",
        {
            "dynamodb": {
                "$or": [
                    {"NewImage": {"status": {"S": ["PAID"]}}},
                    {"OldImage": {"status": {"S": ["PAID"]}}},
                ]
            }
        },
        INSERT,
        False,
    ),
    (
        "$or of absences",
        {"nothing": {"$or": [{"a": [{"exists": False}]}, {"b": ["x"]}]}},
        INSERT,
        True,
    ),
    # --- duplicate keys: the last one wins ---
    ("duplicate key, first", '{"eventName": ["INSERT"], "eventName": ["MODIFY"]}', INSERT, False),
    ("duplicate key, last", '{"eventName": ["INSERT"], "eventName": ["MODIFY"]}', MODIFY, True),
]


@pytest.mark.parametrize(
    ("pattern", "record", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_pattern(pattern: Any, record: dict[str, Any], expected: bool) -> None:
    assert _matches(pattern, record) is expected


def test_case_names_are_unique() -> None:
    names = [c[0] for c in CASES]
    assert len(names) == len(set(names))


# --- spec 10.4 and OR across filters -------------------------------------------------------------

SPEC_EXAMPLE = {
    "Filters": [
        {"Pattern": '{"eventName": ["INSERT", "MODIFY"]}'},
        {
            "Pattern": '{"userIdentity": {"type": ["Service"], '
            '"principalId": ["dynamodb.amazonaws.com"]}}'
        },
        {
            "Pattern": '{"dynamodb": {"NewImage": {"status": {"S": ["PAID"]}, '
            '"note": [{"exists": false}]}}}'
        },
    ]
}


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize(
    ("name", "expected"),
    [("INSERT", True), ("MODIFY", True), ("TTL_REMOVE", True), ("USER_REMOVE", False)],
)
def test_spec_example_filters_are_ored(name: str, expected: bool, strict: bool) -> None:
    compiled = compile_filters(SPEC_EXAMPLE, strict=strict)
    assert isinstance(compiled, RecordFilter)
    assert compiled.matches(RECORDS[name]) is expected


@pytest.mark.parametrize(
    ("record", "expected"),
    [(MODIFY, True), (MODIFY_NOTED, False), (INSERT, False), (TTL_REMOVE, False)],
)
def test_spec_example_paid_without_note(record: dict[str, Any], expected: bool) -> None:
    only_paid = {"Filters": SPEC_EXAMPLE["Filters"][2:]}
    compiled = compile_filters(only_paid)
    assert isinstance(compiled, RecordFilter)
    assert compiled.matches(record) is expected


def test_any_filter_is_enough() -> None:
    compiled = _compile({"eventName": ["REMOVE"]}, {"dynamodb": {"SizeBytes": [97]}})
    assert [compiled.matches(r) for r in RECORDS.values()] == [False, True, True, True]


def test_five_filters() -> None:
    names = ["INSERT", "MODIFY", "REMOVE", "A", "B"]
    compiled = _compile(*({"eventName": [name]} for name in names))
    assert [compiled.matches(r) for r in RECORDS.values()] == [True, True, True, True]
    assert compiled.matches({**INSERT, "eventName": "C"}) is False


@pytest.mark.parametrize("criteria", [None, {}, {"Filters": []}, {"Filters": None}])
def test_no_filtering(criteria: Any) -> None:
    assert compile_filters(criteria) is None
    assert compile_filters(criteria, strict=True) is None


def test_compiled_filter_is_reusable() -> None:
    compiled = _compile({"eventName": ["MODIFY"]})
    assert [compiled.matches(MODIFY) for _ in range(3)] == [True, True, True]
    assert compiled.matches(INSERT) is False


def test_deep_pattern_matches_without_walking_the_record() -> None:
    # Where the record has nothing, the outcome is settled when compiling, so a pattern
    # nested far deeper than any record costs nothing per record.
    depth = 580
    text = '{"a": ' * depth + '[{"exists": false}]' + "}" * depth
    assert len(text) <= 4096
    compiled = _compile(text)
    assert compiled.matches(INSERT) is True
    assert compiled.matches({"a": {"a": {"a": "x"}}}) is True
    assert compiled.matches({"a": [{"b": 1}, {"a": {"c": 2}}]}) is True


# --- strict mode (Q-T7) --------------------------------------------------------------------------

EXTRAS = [
    {"eventName": [{"suffix": "RT"}]},
    {"eventName": [{"equals-ignore-case": "insert"}]},
    {"eventName": [{"wildcard": "IN*"}]},
    {"eventName": [{"anything-but": {"prefix": "MO"}}]},
    {"eventName": [{"anything-but": {"suffix": "FY"}}]},
    {"eventName": [{"anything-but": {"equals-ignore-case": "modify"}}]},
    {"eventName": [{"anything-but": {"wildcard": "MO*"}}]},
    {"$or": [{"eventName": ["INSERT"]}, {"eventName": ["MODIFY"]}]},
    {"dynamodb": {"$or": [{"SizeBytes": [54]}, {"SizeBytes": [97]}]}},
]

DOCUMENTED = [
    {"dynamodb": {"NewImage": {"status": {"S": [None]}}}},
    {"dynamodb": {"NewImage": {"status": {"S": [""]}}}},
    {"eventName": ["INSERT"]},
    {"eventName": ["INSERT"], "awsRegion": ["us-east-1"]},
    {"eventName": ["INSERT", "MODIFY"]},
    {"eventName": [{"anything-but": ["REMOVE", "MODIFY"]}]},
    {"eventName": [{"anything-but": "REMOVE"}]},
    {"dynamodb": {"SizeBytes": [{"numeric": ["=", 54]}]}},
    {"dynamodb": {"SizeBytes": [{"numeric": [">", 10, "<=", 54]}]}},
    {"eventName": [{"exists": True}]},
    {"note": [{"exists": False}]},
    {"eventName": [{"prefix": "IN"}]},
]


@pytest.mark.parametrize("pattern", EXTRAS)
def test_strict_rejects_eventbridge_extras(pattern: dict[str, Any]) -> None:
    with pytest.raises(FilterPatternError) as caught:
        compile_filters(_criteria(pattern), strict=True)
    assert str(caught.value) == "Invalid filter pattern definition."
    assert _matches(pattern, INSERT) is True


@pytest.mark.parametrize("pattern", DOCUMENTED)
def test_strict_keeps_the_documented_subset(pattern: dict[str, Any]) -> None:
    assert _matches(pattern, INSERT, strict=True) is _matches(pattern, INSERT)


# --- validation ----------------------------------------------------------------------------------

BAD_CRITERIA: list[Any] = [
    "x",
    [],
    42,
    {"Filters": {}},
    {"Filters": "x"},
    {"Filters": {"Pattern": '{"eventName": ["INSERT"]}'}},
    {"Filters": [{"Pattern": '{"eventName": ["INSERT"]}'}] * 6},
    {"Filters": ["x"]},
    {"Filters": [None]},
    {"Filters": [{}]},
    {"Filters": [{"pattern": '{"eventName": ["INSERT"]}'}]},
    {"Filters": [{"Pattern": None}]},
    {"Filters": [{"Pattern": {"eventName": ["INSERT"]}}]},
    {"Filters": [{"Pattern": '{"eventName": ["INSERT"]}'}, {"Pattern": "x"}]},
    {"Filters": [{"Pattern": '{"eventName": ["INSERT"]}' + " " * 4072}]},
]

BAD_PATTERNS = [
    # not a JSON object
    "",
    "not json",
    '"INSERT"',
    '["INSERT"]',
    "null",
    "42",
    '{"eventName": ["INSERT"]',
    '{"eventName": ["INSERT"]}}',
    "{'eventName': ['INSERT']}",
    "{}",
    '{"dynamodb": {}}',
    # leaves that are not lists, empty lists, nested lists
    '{"eventName": "INSERT"}',
    '{"eventName": 1}',
    '{"eventName": null}',
    '{"eventName": true}',
    '{"eventName": []}',
    '{"eventName": [["INSERT"]]}',
    '{"dynamodb": {"SizeBytes": [NaN]}}',
    '{"dynamodb": {"SizeBytes": [Infinity]}}',
    # operator objects
    '{"eventName": [{}]}',
    '{"eventName": [{"prefix": "I", "suffix": "T"}]}',
    '{"eventName": [{"unknown": "x"}]}',
    '{"eventName": [{"Prefix": "I"}]}',
    '{"eventName": [{"cidr": "10.0.0.0/24"}]}',
    # prefix
    '{"eventName": [{"prefix": 1}]}',
    '{"eventName": [{"prefix": null}]}',
    '{"eventName": [{"prefix": ["IN"]}]}',
    '{"eventName": [{"prefix": {"equals-ignore-case": "in"}}]}',
    # numeric
    '{"dynamodb": {"SizeBytes": [{"numeric": 5}]}}',
    '{"dynamodb": {"SizeBytes": [{"numeric": []}]}}',
    '{"dynamodb": {"SizeBytes": [{"numeric": [">"]}]}}',
    '{"dynamodb": {"SizeBytes": [{"numeric": [">", "1"]}]}}',
    '{"dynamodb": {"SizeBytes": [{"numeric": [">", true]}]}}',
    '{"dynamodb": {"SizeBytes": [{"numeric": [">", null]}]}}',
    '{"dynamodb": {"SizeBytes": [{"numeric": [1, ">"]}]}}',
    '{"dynamodb": {"SizeBytes": [{"numeric": ["!=", 1]}]}}',
    '{"dynamodb": {"SizeBytes": [{"numeric": ["==", 1]}]}}',
    '{"dynamodb": {"SizeBytes": [{"numeric": [">", 1, "<"]}]}}',
    '{"dynamodb": {"SizeBytes": [{"numeric": ["=", 1, "<", 2]}]}}',
    '{"dynamodb": {"SizeBytes": [{"numeric": [">", 1, ">", 2]}]}}',
    '{"dynamodb": {"SizeBytes": [{"numeric": ["<", 1, "<=", 2]}]}}',
    '{"dynamodb": {"SizeBytes": [{"numeric": [">", 5, "<", 5]}]}}',
    '{"dynamodb": {"SizeBytes": [{"numeric": [">=", 6, "<=", 5]}]}}',
    '{"dynamodb": {"SizeBytes": [{"numeric": [">", 1, "<", 2, "<", 3]}]}}',
    # exists
    '{"eventName": [{"exists": "true"}]}',
    '{"eventName": [{"exists": 1}]}',
    '{"eventName": [{"exists": null}]}',
    '{"eventName": [{"exists": [true]}]}',
    # anything-but
    '{"eventName": [{"anything-but": []}]}',
    '{"eventName": [{"anything-but": null}]}',
    '{"eventName": [{"anything-but": true}]}',
    '{"eventName": [{"anything-but": [null]}]}',
    '{"eventName": [{"anything-but": [true]}]}',
    '{"eventName": [{"anything-but": [["INSERT"]]}]}',
    '{"eventName": [{"anything-but": ["INSERT", 1]}]}',
    '{"eventName": [{"anything-but": [{"prefix": "IN"}]}]}',
    '{"eventName": [{"anything-but": {}}]}',
    '{"eventName": [{"anything-but": {"prefix": "I", "suffix": "T"}}]}',
    '{"eventName": [{"anything-but": {"prefix": 1}}]}',
    '{"eventName": [{"anything-but": {"prefix": ["IN"]}}]}',
    '{"eventName": [{"anything-but": {"suffix": ["RT"]}}]}',
    '{"eventName": [{"anything-but": {"equals-ignore-case": []}}]}',
    '{"eventName": [{"anything-but": {"equals-ignore-case": [1]}}]}',
    '{"eventName": [{"anything-but": {"wildcard": "a**"}}]}',
    '{"eventName": [{"anything-but": {"numeric": [">", 1]}}]}',
    '{"eventName": [{"anything-but": {"exists": false}}]}',
    '{"eventName": [{"anything-but": {"anything-but": "x"}}]}',
    # suffix, equals-ignore-case, wildcard
    '{"eventName": [{"suffix": 1}]}',
    '{"eventName": [{"equals-ignore-case": ["insert"]}]}',
    '{"eventName": [{"wildcard": ["IN*"]}]}',
    '{"eventName": [{"wildcard": "IN**"}]}',
    '{"eventName": [{"wildcard": "IN\\\\T"}]}',
    '{"eventName": [{"wildcard": "INSERT\\\\"}]}',
    # $or
    '{"$or": {"eventName": ["INSERT"]}}',
    '{"$or": [{"eventName": ["INSERT"]}]}',
    '{"$or": []}',
    '{"$or": [{"eventName": ["INSERT"]}, ["MODIFY"]]}',
    '{"$or": [{"eventName": ["INSERT"]}, {}]}',
    '{"$or": ["INSERT", "MODIFY"]}',
    '{"$or": [{"eventName": ["INSERT"]}, {"eventName": "MODIFY"}]}',
]


def _assert_invalid(criteria: Any, strict: bool = False) -> None:
    with pytest.raises(FilterPatternError) as caught:
        compile_filters(criteria, strict=strict)
    assert str(caught.value) == "Invalid filter pattern definition."
    assert caught.value.args == ("Invalid filter pattern definition.",)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("criteria", BAD_CRITERIA)
def test_invalid_criteria(criteria: Any) -> None:
    _assert_invalid(criteria)


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("pattern", BAD_PATTERNS)
def test_invalid_pattern(pattern: str, strict: bool) -> None:
    _assert_invalid({"Filters": [{"Pattern": pattern}]}, strict=strict)


def test_pattern_length_limit_is_4096_characters() -> None:
    # Characters, not bytes: each "é" is two bytes in UTF-8.
    body = '{"eventName": ["INSERT"], "x": ["'
    fits = body + "é" * (4096 - len(body) - 4) + '"]}'
    assert len(fits) == 4095
    fits += " "
    assert _matches(fits, INSERT) is False
    _assert_invalid({"Filters": [{"Pattern": fits + " "}]})


def test_unknown_criteria_members_are_ignored() -> None:
    compiled = compile_filters({"Filters": [{"Pattern": '{"eventName": ["MODIFY"]}'}], "X": 1})
    assert isinstance(compiled, RecordFilter)
    assert compiled.matches(MODIFY) is True


# --- property: a pattern built from a record's own values matches it -----------------------------

NAMES = st.sampled_from(["a", "b", "status", "total", "tags", "nested"])
SCALARS = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(max_size=6)),
    st.builds(lambda n: {"N": str(n)}, st.integers(-1000, 1000)),
    st.builds(lambda b: {"BOOL": b}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda ss: {"SS": sorted(ss)}, st.sets(st.text(max_size=4), min_size=1, max_size=3)),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.builds(lambda m: {"M": m}, st.dictionaries(NAMES, inner, max_size=3)),
        st.builds(lambda items: {"L": items}, st.lists(inner, max_size=3)),
    ),
    max_leaves=10,
)
IMAGES = st.dictionaries(NAMES, VALUES, min_size=1, max_size=4)


def _escape_wildcard(text: str) -> str:
    return text.replace("\\", "\\\\").replace("*", "\\*")


def _leaf_matcher(value: Any, data: st.DataObject) -> Any:
    """One matcher that must accept `value`, drawn from the operators that apply to its type."""
    options: list[Any] = [value, {"exists": True}]
    if isinstance(value, str):
        cut = data.draw(st.integers(0, len(value)))
        options += [
            {"prefix": value[:cut]},
            {"suffix": value[cut:]},
            {"equals-ignore-case": value},
            {"wildcard": _escape_wildcard(value[:cut]) + "*"},
            {"anything-but": value + "x"},
        ]
    elif isinstance(value, int) and not isinstance(value, bool):
        options += [{"numeric": ["=", value]}, {"numeric": [">", value - 1, "<=", value]}]
    return data.draw(st.sampled_from(options))


def _derive(value: Any, data: st.DataObject) -> Any:
    """A pattern fragment the value must match, or None when nothing was picked."""
    if isinstance(value, dict):
        keys = data.draw(st.lists(st.sampled_from(sorted(value)), unique=True)) if value else []
        fragment = {key: sub for key in keys if (sub := _derive(value[key], data)) is not None}
        return fragment or None
    if isinstance(value, list):
        # Any one element matching is enough; an empty list holds nothing to match.
        return _derive(data.draw(st.sampled_from(value)), data) if value else None
    return [_leaf_matcher(value, data)]


@given(image=IMAGES, data=st.data())
def test_pattern_from_the_record_matches_it(image: dict[str, Any], data: st.DataObject) -> None:
    record = _record(
        "INSERT", 1764158400, {"NewImage": image, "SequenceNumber": "1", "SizeBytes": 10}
    )
    pattern = _derive(record, data) or {"eventName": ["INSERT"]}
    assert _matches(pattern, record) is True
    # Sharing the pattern with a filter that matches nothing keeps the result.
    compiled = _compile({"eventName": ["NEVER"]}, pattern)
    assert compiled.matches(record) is True
