"""Trigger settings: defaults, AWS-exact validation texts, updates, storage round trip, the
EventSourceMappingConfiguration echo and TOML files (spec/triggers.md 2.1, 3, 8, 11)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import MappingProxyType
from typing import Any

import orjson
import pytest

from rivulet.triggers.config import (
    TriggerConfig,
    TriggerConfigError,
    describe,
    load_config_file,
    parse_trigger,
    to_settings,
    update_trigger,
)

INVALID = "InvalidParameterValueException"
VALIDATION = "ValidationException"
STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2025-11-26T11:58:02.123"
BASE: dict[str, Any] = {
    "name": "orders",
    "function": "app.handler",
    "table": "Orders",
    "starting_position": "TRIM_HORIZON",
}
PATTERN = '{"eventName": ["INSERT", "MODIFY"]}'


def reject(raw: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(TriggerConfigError) as info:
        parse_trigger(raw)
    assert str(info.value) == info.value.message
    return info.value.type_name, info.value.message


def one(value: str, member: str, rule: str) -> tuple[str, str]:
    return (
        VALIDATION,
        f"1 validation error detected: Value {value} at '{member}' failed to satisfy "
        f"constraint: {rule}",
    )


def at_least(member: str, value: object, limit: int) -> tuple[str, str]:
    return one(f"'{value}'", member, f"Member must have value greater than or equal to {limit}")


def at_most(member: str, value: object, limit: int) -> tuple[str, str]:
    return one(f"'{value}'", member, f"Member must have value less than or equal to {limit}")


# --- defaults ----------------------------------------------------------------------------------


def test_defaults_are_what_aws_echoes() -> None:
    config = parse_trigger(BASE)
    assert config == TriggerConfig(name="orders", function="app.handler", table="Orders")
    assert config.event_source_arn is None
    assert config.starting_position == "TRIM_HORIZON"
    assert config.batch_size == 100
    assert config.maximum_batching_window_in_seconds == 0
    assert config.parallelization_factor == 1
    assert config.bisect_batch_on_function_error is False
    assert config.maximum_retry_attempts == -1
    assert config.maximum_record_age_in_seconds == -1
    assert config.function_response_types == ()
    assert config.filter_criteria is None
    assert config.tumbling_window_in_seconds == 0
    assert config.on_failure is None
    assert config.enabled is True
    assert config.function_timeout == 3.0
    assert type(config.function_timeout) is float
    assert config.function_isolation == "in-process"
    assert config.environment == {}
    assert isinstance(config.environment, MappingProxyType)
    assert config.report_batch_item_failures is False


def test_null_values_count_as_absent() -> None:
    raw = BASE | {"batch_size": None, "filter_criteria": None, "environment": None}
    assert parse_trigger(raw) == parse_trigger(BASE)


def test_config_is_frozen_and_hashable_with_filters_and_environment() -> None:
    raw = BASE | {
        "filter_criteria": {"Filters": [{"Pattern": PATTERN}]},
        "environment": {"K1": "v"},
        "function_isolation": "subprocess",
    }
    config = parse_trigger(raw)
    assert hash(config) == hash(parse_trigger(raw))
    assert config == parse_trigger(raw)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.batch_size = 5  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.environment["K2"] = "w"  # type: ignore[index]


# --- ranges: min, max, one past each -----------------------------------------------------------

RANGES = [
    ("batch_size", "batchSize", 1, 10000),
    ("maximum_batching_window_in_seconds", "maximumBatchingWindowInSeconds", 0, 300),
    ("parallelization_factor", "parallelizationFactor", 1, 10),
    ("maximum_retry_attempts", "maximumRetryAttempts", -1, 10000),
    ("maximum_record_age_in_seconds", "maximumRecordAgeInSeconds", -1, 604800),
    ("tumbling_window_in_seconds", "tumblingWindowInSeconds", 0, 900),
]


@pytest.mark.parametrize(("key", "member", "low", "high"), RANGES)
def test_integer_ranges(key: str, member: str, low: int, high: int) -> None:
    assert getattr(parse_trigger(BASE | {key: low}), key) == low
    assert getattr(parse_trigger(BASE | {key: high}), key) == high
    assert reject(BASE | {key: low - 1}) == at_least(member, low - 1, low)
    assert reject(BASE | {key: high + 1}) == at_most(member, high + 1, high)


def test_retry_attempts_zero_is_allowed() -> None:  # Q-T9
    assert parse_trigger(BASE | {"maximum_retry_attempts": 0}).maximum_retry_attempts == 0


@pytest.mark.parametrize("age", [0, 1, 59])
def test_record_age_between_0_and_59_is_the_service_rule(age: int) -> None:
    assert reject(BASE | {"maximum_record_age_in_seconds": age}) == (
        INVALID,
        "MaximumRecordAgeInSeconds must be either -1 (forever) or between 60 and 604800 "
        "(inclusive)",
    )


def test_record_age_60_is_the_smallest_finite_age() -> None:
    config = parse_trigger(BASE | {"maximum_record_age_in_seconds": 60})
    assert config.maximum_record_age_in_seconds == 60


def test_function_timeout_range() -> None:
    assert parse_trigger(BASE | {"function_timeout": 1}).function_timeout == 1.0
    assert parse_trigger(BASE | {"function_timeout": 900}).function_timeout == 900.0
    assert parse_trigger(BASE | {"function_timeout": 2.5}).function_timeout == 2.5
    assert reject(BASE | {"function_timeout": 0.5}) == at_least("functionTimeout", 0.5, 1)
    assert reject(BASE | {"function_timeout": 901}) == at_most("functionTimeout", 901, 900)
    assert reject(BASE | {"function_timeout": float("nan")}) == at_least(
        "functionTimeout", "nan", 1
    )


def test_constraint_failures_are_collected_in_member_order_up_to_ten() -> None:
    raw = BASE | {
        "batch_size": 0,
        "parallelization_factor": 11,
        "function_response_types": ["Foo"],
    }
    assert reject(raw) == (
        VALIDATION,
        "3 validation errors detected: "
        "Value '0' at 'batchSize' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1; "
        "Value '11' at 'parallelizationFactor' failed to satisfy constraint: "
        "Member must have value less than or equal to 10; "
        "Value '[Foo]' at 'functionResponseTypes' failed to satisfy constraint: "
        "Member must satisfy constraint: [Member must satisfy enum value set: "
        "[ReportBatchItemFailures]]",
    )
    many = BASE | {
        "batch_size": 0,
        "maximum_batching_window_in_seconds": 301,
        "parallelization_factor": 0,
        "starting_position": "x",
        "maximum_record_age_in_seconds": -2,
        "maximum_retry_attempts": -2,
        "tumbling_window_in_seconds": 901,
        "function_response_types": ["Foo"],
        "name": "a b",
        "table": "T",
        "function_timeout": 0,
        "function_isolation": "thread",
    }
    assert reject(many) == (
        VALIDATION,
        "10 validation errors detected: "
        "Value '0' at 'batchSize' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1; "
        "Value '301' at 'maximumBatchingWindowInSeconds' failed to satisfy constraint: "
        "Member must have value less than or equal to 300; "
        "Value '0' at 'parallelizationFactor' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1; "
        "Value 'x' at 'startingPosition' failed to satisfy constraint: "
        "Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]; "
        "Value '-2' at 'maximumRecordAgeInSeconds' failed to satisfy constraint: "
        "Member must have value greater than or equal to -1; "
        "Value '-2' at 'maximumRetryAttempts' failed to satisfy constraint: "
        "Member must have value greater than or equal to -1; "
        "Value '901' at 'tumblingWindowInSeconds' failed to satisfy constraint: "
        "Member must have value less than or equal to 900; "
        "Value '[Foo]' at 'functionResponseTypes' failed to satisfy constraint: "
        "Member must satisfy constraint: [Member must satisfy enum value set: "
        "[ReportBatchItemFailures]]; "
        "Value 'a b' at 'name' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [A-Za-z0-9_.-]+; "
        "Value 'T' at 'table' failed to satisfy constraint: "
        "Member must have length greater than or equal to 3",
    )


# --- JSON types --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        (
            "batch_size",
            True,
            "Invalid type for parameter batchSize: expected an integer, got a boolean",
        ),
        (
            "batch_size",
            "10",
            "Invalid type for parameter batchSize: expected an integer, got a string",
        ),
        (
            "batch_size",
            10.0,
            "Invalid type for parameter batchSize: expected an integer, got a number",
        ),
        (
            "maximum_retry_attempts",
            None,
            None,
        ),
        ("enabled", 1, "Invalid type for parameter enabled: expected a boolean, got an integer"),
        (
            "bisect_batch_on_function_error",
            "true",
            "Invalid type for parameter bisectBatchOnFunctionError: expected a boolean, got a string",
        ),
        (
            "function",
            ["a.b"],
            "Invalid type for parameter functionName: expected a string, got an array",
        ),
        ("name", 5, "Invalid type for parameter name: expected a string, got an integer"),
        (
            "function_response_types",
            "ReportBatchItemFailures",
            "Invalid type for parameter functionResponseTypes: expected an array of strings, got a string",
        ),
        (
            "function_timeout",
            False,
            "Invalid type for parameter functionTimeout: expected a number, got a boolean",
        ),
        (
            "environment",
            {"PORT": 8080},
            "Invalid type for parameter environment: expected an object of string values, got an object",
        ),
        (
            "filter_criteria",
            [],
            "Invalid type for parameter filterCriteria: expected an object, got an array",
        ),
        (
            "filter_criteria",
            {"Filters": {"Pattern": PATTERN}},
            "Invalid type for parameter filterCriteria.Filters: expected an array, got an object",
        ),
        (
            "filter_criteria",
            {"Filters": [PATTERN]},
            "Invalid type for parameter filterCriteria.Filters.1: expected an object, got a string",
        ),
        (
            "filter_criteria",
            {"Filters": [{"Pattern": {"eventName": ["INSERT"]}}]},
            "Invalid type for parameter filterCriteria.Filters.1.Pattern: expected a string, got an object",
        ),
        (
            "destination_config",
            {"OnFailure": "file:dlq.jsonl"},
            "Invalid type for parameter destinationConfig.OnFailure: expected an object, got a string",
        ),
        (
            "destination_config",
            {"OnFailure": {"Destination": 5}},
            "Invalid type for parameter destinationConfig.OnFailure.Destination: expected a string, got an integer",
        ),
    ],
)
def test_wrong_json_types(key: str, value: Any, expected: str | None) -> None:
    if expected is None:  # null is "absent", never a type error
        assert parse_trigger(BASE | {key: value}) == parse_trigger(BASE)
        return
    assert reject(BASE | {key: value}) == (INVALID, expected)


def test_unknown_keys() -> None:
    assert reject(BASE | {"batchsize": 5}) == (
        INVALID,
        "Unknown key 'batchsize' (did you mean 'batch_size'?)",
    )
    assert reject(BASE | {"zzz": 5}) == (INVALID, "Unknown key 'zzz'")
    assert reject(BASE | {"filter_criteria": {"filters": []}}) == (
        INVALID,
        "Unknown key 'filterCriteria.filters' (did you mean 'filterCriteria.Filters'?)",
    )
    assert reject(
        BASE | {"destination_config": {"OnFailure": {"Destination": "file:x", "Y": 1}}}
    ) == (
        INVALID,
        "Unknown key 'destinationConfig.OnFailure.Y' (did you mean "
        "'destinationConfig.OnFailure.Destination'?)",
    )


# --- required keys, source and starting position -----------------------------------------------


def test_missing_starting_position_is_awss_text() -> None:
    raw = {k: v for k, v in BASE.items() if k != "starting_position"}
    assert reject(raw) == (
        INVALID,
        "1 validation error detected: Value null at 'startingPosition' failed to satisfy "
        "constraint: Member must not be null.",
    )


def test_unknown_starting_position_is_a_validation_exception() -> None:
    assert reject(BASE | {"starting_position": "invalid"}) == one(
        "'invalid'",
        "startingPosition",
        "Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]",
    )
    assert reject(BASE | {"starting_position": "latest"})[0] == VALIDATION


def test_at_timestamp_is_unsupported_for_dynamodb_streams() -> None:
    raw = {k: v for k, v in BASE.items() if k != "table"} | {"event_source_arn": STREAM}
    assert reject(raw | {"starting_position": "AT_TIMESTAMP"}) == (
        INVALID,
        f"Unsupported starting position for arn type: {STREAM}",
    )
    # Table-bound: the stream ARN is not known yet, so the table is named in ARN-resource form.
    assert reject(BASE | {"starting_position": "AT_TIMESTAMP"}) == (
        INVALID,
        "Unsupported starting position for arn type: table/Orders",
    )


@pytest.mark.parametrize("position", ["LATEST", "TRIM_HORIZON"])
def test_supported_starting_positions(position: str) -> None:
    assert parse_trigger(BASE | {"starting_position": position}).starting_position == position


def test_event_source_is_exactly_one_of_table_and_stream_arn() -> None:
    no_table = {k: v for k, v in BASE.items() if k != "table"}
    assert reject(no_table) == (INVALID, "Unrecognized event source.")
    assert reject(BASE | {"event_source_arn": STREAM}) == (
        INVALID,
        "Specify either table or eventSourceArn, not both",
    )
    table_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/Orders"
    assert reject(no_table | {"event_source_arn": table_arn}) == (
        INVALID,
        "Unrecognized event source.",
    )
    config = parse_trigger(no_table | {"event_source_arn": STREAM})
    assert (config.table, config.event_source_arn) == (None, STREAM)


def test_name_and_function_are_required() -> None:
    no_name = {k: v for k, v in BASE.items() if k != "name"}
    assert reject(no_name) == one("null", "name", "Member must not be null")
    no_function = {k: v for k, v in BASE.items() if k != "function"}
    assert reject(no_function) == one("null", "functionName", "Member must not be null")


def test_name_rules() -> None:
    assert parse_trigger(BASE | {"name": "a"}).name == "a"
    assert parse_trigger(BASE | {"name": "A-z_0.9" + "x" * 57}).name == "A-z_0.9" + "x" * 57
    assert reject(BASE | {"name": "x" * 65}) == one(
        f"'{'x' * 65}'", "name", "Member must have length less than or equal to 64"
    )
    assert reject(BASE | {"name": "a b"}) == one(
        "'a b'", "name", "Member must satisfy regular expression pattern: [A-Za-z0-9_.-]+"
    )
    assert reject(BASE | {"name": ""}) == (
        VALIDATION,
        "2 validation errors detected: "
        "Value '' at 'name' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1; "
        "Value '' at 'name' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [A-Za-z0-9_.-]+",
    )


def test_table_name_rules() -> None:
    assert parse_trigger(BASE | {"table": "abc"}).table == "abc"
    assert parse_trigger(BASE | {"table": "t" * 255}).table == "t" * 255
    assert reject(BASE | {"table": "ab"}) == one(
        "'ab'", "table", "Member must have length greater than or equal to 3"
    )
    assert reject(BASE | {"table": "t" * 256}) == one(
        f"'{'t' * 256}'", "table", "Member must have length less than or equal to 255"
    )
    assert reject(BASE | {"table": "Or/ders"}) == one(
        "'Or/ders'", "table", "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
    )


# --- function ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "function",
    [
        "app.handler",
        "pkg.mod.handler",
        "src/app.handler",
        "pkg.mod:handler",
        "pkg.mod:Handler.run",
        "mod:handler",
        "http://localhost:9000/invoke",
        "https://example.com/hook",
        "exec:python3 -m worker --flag",
        "f" * 250 + ".h",
    ],
)
def test_function_forms_accepted(function: str) -> None:
    assert parse_trigger(BASE | {"function": function}).function == function


@pytest.mark.parametrize(
    "function",
    [
        "handler",
        "app.",
        ".handler",
        "app.1handler",
        "pkg-mod.handler",
        "pkg.mod:",
        ":handler",
        "pkg.mod:handler()",
        "exec:",
        "exec:   ",
        "http://",
        "https:///path",
        "ftp://host/x",
        "app handler.x",
    ],
)
def test_function_forms_rejected(function: str) -> None:
    assert reject(BASE | {"function": function}) == (
        INVALID,
        f"Invalid function '{function}': expected a Python handler ('package.module:function' "
        "or 'module.function'), an http:// or https:// URL, or 'exec:<command>'",
    )


def test_function_length() -> None:
    assert (
        reject(BASE | {"function": ""})[1]
        == one("''", "functionName", "Member must have length greater than or equal to 1")[1]
    )
    long = "f" * 255 + ".h"
    assert reject(BASE | {"function": long}) == one(
        f"'{long}'", "functionName", "Member must have length less than or equal to 256"
    )


def test_function_isolation() -> None:
    assert parse_trigger(BASE | {"function_isolation": "subprocess"}).function_isolation == (
        "subprocess"
    )
    assert reject(BASE | {"function_isolation": "thread"}) == one(
        "'thread'",
        "functionIsolation",
        "Member must satisfy enum value set: [in-process, subprocess]",
    )


# --- function response types -------------------------------------------------------------------


def test_function_response_types() -> None:
    config = parse_trigger(BASE | {"function_response_types": ["ReportBatchItemFailures"]})
    assert config.function_response_types == ("ReportBatchItemFailures",)
    assert config.report_batch_item_failures is True
    assert parse_trigger(BASE | {"function_response_types": []}).function_response_types == ()
    two = ["ReportBatchItemFailures", "ReportBatchItemFailures"]
    assert reject(BASE | {"function_response_types": two}) == one(
        "'[ReportBatchItemFailures, ReportBatchItemFailures]'",
        "functionResponseTypes",
        "Member must have length less than or equal to 1",
    )


# --- filter criteria ---------------------------------------------------------------------------


@pytest.mark.parametrize("criteria", [{}, {"Filters": []}, {"Filters": None}])
def test_empty_filter_criteria_normalise_to_none(criteria: dict[str, Any]) -> None:
    assert parse_trigger(BASE | {"filter_criteria": criteria}).filter_criteria is None


def test_filter_criteria_are_kept_verbatim() -> None:
    second = '{"dynamodb": {"NewImage": {"status": {"S": ["PAID"]}}}}'
    criteria = {"Filters": [{"Pattern": PATTERN}, {"Pattern": second}]}
    config = parse_trigger(BASE | {"filter_criteria": criteria})
    assert config.filter_criteria == {"Filters": [{"Pattern": PATTERN}, {"Pattern": second}]}
    assert config.filter_criteria is not criteria


@pytest.mark.parametrize(
    "criteria",
    [
        {"Filters": [{"Pattern": "not json"}]},
        {"Filters": [{"Pattern": '"a string"'}]},
        {"Filters": [{"Pattern": ""}]},
        {"Filters": [{}]},
        {"Filters": [{"Pattern": PATTERN}] * 6},  # the default quota is 5
    ],
)
def test_bad_filter_patterns(criteria: dict[str, Any]) -> None:
    assert reject(BASE | {"filter_criteria": criteria}) == (
        INVALID,
        "Invalid filter pattern definition.",
    )


def test_five_filters_are_allowed() -> None:
    config = parse_trigger(BASE | {"filter_criteria": {"Filters": [{"Pattern": PATTERN}] * 5}})
    assert config.filter_criteria == {"Filters": [{"Pattern": PATTERN}] * 5}


def test_filter_pattern_length() -> None:
    padded = '{"eventName": ["' + "x" * 4077 + '"]}'
    assert len(padded) == 4096
    assert parse_trigger(BASE | {"filter_criteria": {"Filters": [{"Pattern": padded}]}})
    too_long = '{"eventName": ["' + "x" * 4078 + '"]}'
    assert reject(BASE | {"filter_criteria": {"Filters": [{"Pattern": too_long}]}}) == one(
        f"'{too_long}'",
        "filterCriteria.filters.1.member.pattern",
        "Member must have length less than or equal to 4096",
    )


# --- destinations ------------------------------------------------------------------------------


def on_failure(destination: str) -> dict[str, Any]:
    return BASE | {"destination_config": {"OnFailure": {"Destination": destination}}}


@pytest.mark.parametrize(
    "destination",
    [
        "arn:aws:dynamodb:us-east-1:123456789012:table/orders-dlq",
        "file:failures.jsonl",
        "file:/var/log/rivulet/failures.jsonl",
        "file:///var/log/rivulet/failures.jsonl",
        "http://localhost:9000/failed",
        "https://hooks.example.com/failed?team=a",
        "arn:aws:sqs:us-east-1:123456789012:orders-dlq",
        "arn:aws:sqs:eu-west-1:123456789012:orders-dlq.fifo",
        "arn:aws:sns:us-east-1:123456789012:order-failures",
        "arn:aws:s3:::my-failure-bucket",
        "arn:aws-us-gov:sqs:us-gov-west-1:123456789012:q",
    ],
)
def test_destinations_accepted(destination: str) -> None:
    assert parse_trigger(on_failure(destination)).on_failure == destination


@pytest.mark.parametrize(
    "destination",
    [
        "arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2025-11-26T11:58:02.123",
        "arn:aws:dynamodb:us-east-1:123456789012:table/ab",
        "arn:aws:lambda:us-east-1:123456789012:function:f",
        "arn:aws:sqs:us-east-1:12345:q",
        "arn:aws:s3:::Bad_Bucket",
        "kafka://topic",
        "file:",
        "file://host/path",
        "http://",
        "dlq.jsonl",
    ],
)
def test_destinations_rejected(destination: str) -> None:
    assert reject(on_failure(destination)) == (
        INVALID,
        f"Unsupported on-failure destination '{destination}': expected an SQS queue, SNS topic "
        "or S3 bucket ARN, a DynamoDB table ARN (arn:aws:dynamodb:<region>:<account>:"
        "table/<name>), file:<path>, or an http:// or https:// URL",
    )


def test_destination_length() -> None:
    ok = "https://example.com/" + "a" * 330
    assert len(ok) == 350
    assert parse_trigger(on_failure(ok)).on_failure == ok
    long = ok + "a"
    assert reject(on_failure(long)) == one(
        f"'{long}'",
        "destinationConfig.onFailure.destination",
        "Member must have length less than or equal to 350",
    )


@pytest.mark.parametrize(
    "config",
    [{}, {"OnFailure": {}}, {"OnFailure": {"Destination": ""}}, {"OnFailure": None}],
)
def test_unset_destinations(config: dict[str, Any]) -> None:
    assert parse_trigger(BASE | {"destination_config": config}).on_failure is None


def test_on_success_is_not_supported() -> None:
    raw = BASE | {"destination_config": {"OnSuccess": {"Destination": "file:ok.jsonl"}}}
    assert reject(raw) == (
        INVALID,
        "OnSuccess destinations are not supported for event source mappings",
    )


# --- environment -------------------------------------------------------------------------------


def test_environment() -> None:
    isolated = BASE | {"function_isolation": "subprocess"}
    config = parse_trigger(
        isolated | {"environment": {"POWERTOOLS_SERVICE_NAME": "orders", "Ab": ""}}
    )
    assert dict(config.environment) == {"POWERTOOLS_SERVICE_NAME": "orders", "Ab": ""}
    # Commands and webhooks have their own environment; an in-process Python function has not.
    assert parse_trigger(BASE | {"function": "exec:./run.sh", "environment": {"A1": "x"}})
    assert reject(BASE | {"environment": {"STAGE": "x"}}) == (
        INVALID,
        "environment needs functionIsolation 'subprocess' for a Python function: an in-process "
        "function shares the server's environment",
    )
    assert reject(isolated | {"environment": {"1ABC": "x"}}) == one(
        "'1ABC'",
        "environment",
        "Map keys must satisfy constraint: [Member must satisfy regular expression pattern: "
        "[a-zA-Z]([a-zA-Z0-9_])+]",
    )
    assert reject(
        isolated | {"environment": {"AWS_REGION": "x", "LAMBDA_TASK_ROOT": "y", "OK": "z"}}
    ) == (
        INVALID,
        "Lambda was unable to configure your environment variables because the environment "
        "variables you have provided contains reserved keys that are currently not supported "
        "for modification. Reserved keys used in this request: AWS_REGION, LAMBDA_TASK_ROOT",
    )


# --- updates -----------------------------------------------------------------------------------

FULL: dict[str, Any] = BASE | {
    "batch_size": 500,
    "maximum_batching_window_in_seconds": 5,
    "parallelization_factor": 4,
    "bisect_batch_on_function_error": True,
    "maximum_retry_attempts": 3,
    "maximum_record_age_in_seconds": 3600,
    "function_response_types": ["ReportBatchItemFailures"],
    "filter_criteria": {"Filters": [{"Pattern": PATTERN}]},
    "tumbling_window_in_seconds": 60,
    "destination_config": {"OnFailure": {"Destination": "file:///tmp/dlq.jsonl"}},
    "enabled": False,
    "function_timeout": 30,
    "function_isolation": "subprocess",
    "environment": {"STAGE": "test"},
}


def test_update_changes_only_what_is_given() -> None:
    config = parse_trigger(FULL)
    updated = update_trigger(
        config, {"batch_size": 10, "function": "pkg.mod:other", "enabled": True}
    )
    assert updated == dataclasses.replace(
        config, batch_size=10, function="pkg.mod:other", enabled=True
    )
    assert config.batch_size == 500
    assert update_trigger(config, {}) == config
    assert update_trigger(config, {"filter_criteria": None}) == config


def test_update_removes_filters_and_destination() -> None:
    config = parse_trigger(FULL)
    assert update_trigger(config, {"filter_criteria": {}}).filter_criteria is None
    cleared = update_trigger(config, {"destination_config": {"OnFailure": {}}})
    assert cleared.on_failure is None
    assert cleared.filter_criteria == {"Filters": [{"Pattern": PATTERN}]}


@pytest.mark.parametrize(
    ("key", "value", "member"),
    [
        ("starting_position", "LATEST", "startingPosition"),
        ("table", "Other", "table"),
        ("event_source_arn", STREAM, "eventSourceArn"),
        ("name", "renamed", "name"),
    ],
)
def test_update_cannot_change_source_position_or_name(key: str, value: str, member: str) -> None:
    with pytest.raises(TriggerConfigError) as info:
        update_trigger(parse_trigger(FULL), {key: value})
    assert (info.value.type_name, info.value.message) == (
        INVALID,
        f"{member} of an existing event source mapping cannot be updated",
    )


def test_update_accepts_the_fixed_keys_with_their_current_values() -> None:
    config = parse_trigger(FULL)
    assert update_trigger(config, to_settings(config) | {"batch_size": 7}) == dataclasses.replace(
        config, batch_size=7
    )


def test_update_validates_like_create() -> None:
    config = parse_trigger(FULL)
    with pytest.raises(TriggerConfigError) as info:
        update_trigger(config, {"maximum_record_age_in_seconds": 30})
    assert info.value.type_name == INVALID
    assert info.value.message.startswith("MaximumRecordAgeInSeconds must be either -1")
    with pytest.raises(TriggerConfigError) as info:
        update_trigger(config, {"batch_size": 10001})
    assert (info.value.type_name, info.value.message) == at_most("batchSize", 10001, 10000)
    with pytest.raises(TriggerConfigError) as info:
        update_trigger(config, {"batchsize": 1})
    assert info.value.message == "Unknown key 'batchsize' (did you mean 'batch_size'?)"


# --- storage round trip ------------------------------------------------------------------------


def test_to_settings_is_json_and_round_trips() -> None:
    config = parse_trigger(FULL)
    settings = to_settings(config)
    assert settings == {
        "name": "orders",
        "function": "app.handler",
        "table": "Orders",
        "starting_position": "TRIM_HORIZON",
        "batch_size": 500,
        "maximum_batching_window_in_seconds": 5,
        "parallelization_factor": 4,
        "bisect_batch_on_function_error": True,
        "maximum_retry_attempts": 3,
        "maximum_record_age_in_seconds": 3600,
        "function_response_types": ["ReportBatchItemFailures"],
        "tumbling_window_in_seconds": 60,
        "enabled": False,
        "function_timeout": 30.0,
        "function_isolation": "subprocess",
        "environment": {"STAGE": "test"},
        "filter_criteria": {"Filters": [{"Pattern": PATTERN}]},
        "destination_config": {"OnFailure": {"Destination": "file:///tmp/dlq.jsonl"}},
    }
    assert parse_trigger(orjson.loads(orjson.dumps(settings))) == config
    minimal = parse_trigger(
        {k: v for k, v in BASE.items() if k != "table"} | {"event_source_arn": STREAM}
    )
    stored = to_settings(minimal)
    assert "table" not in stored and "filter_criteria" not in stored
    assert "destination_config" not in stored
    assert parse_trigger(orjson.loads(orjson.dumps(stored))) == minimal


# --- describe ----------------------------------------------------------------------------------

UUID = "6d9bfe61-35a4-4a5e-9f64-2c6e0d4b8a11"
MAPPING_ARN = f"arn:aws:lambda:us-east-1:123456789012:event-source-mapping:{UUID}"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:order-events"


def described(config: TriggerConfig, stream: str | None = STREAM) -> dict[str, Any]:
    return describe(
        config,
        uuid=UUID,
        mapping_arn=MAPPING_ARN,
        stream_arn=stream,
        function_arn=FUNCTION_ARN,
        state="Creating",
        state_reason="User action",
        last_modified=1764158500.123,
        last_result="No records processed",
    )


def test_describe_matches_the_specs_create_response() -> None:
    out = described(parse_trigger(BASE))
    assert out == {
        "UUID": UUID,
        "EventSourceMappingArn": MAPPING_ARN,
        "EventSourceArn": STREAM,
        "FunctionArn": FUNCTION_ARN,
        "BatchSize": 100,
        "MaximumBatchingWindowInSeconds": 0,
        "ParallelizationFactor": 1,
        "StartingPosition": "TRIM_HORIZON",
        "DestinationConfig": {"OnFailure": {}},
        "MaximumRecordAgeInSeconds": -1,
        "MaximumRetryAttempts": -1,
        "BisectBatchOnFunctionError": False,
        "TumblingWindowInSeconds": 0,
        "FunctionResponseTypes": [],
        "LastModified": 1764158500.123,
        "LastProcessingResult": "No records processed",
        "State": "Creating",
        "StateTransitionReason": "User action",
        "Rivulet": {
            "Name": "orders",
            "Table": "Orders",
            "Function": "app.handler",
            "FunctionTimeout": 3.0,
            "FunctionIsolation": "in-process",
        },
    }
    assert "Enabled" not in out and "FilterCriteria" not in out
    assert orjson.loads(orjson.dumps(out)) == out


def test_describe_echoes_set_members() -> None:
    out = described(parse_trigger(FULL))
    assert out["FilterCriteria"] == {"Filters": [{"Pattern": PATTERN}]}
    assert out["DestinationConfig"] == {"OnFailure": {"Destination": "file:///tmp/dlq.jsonl"}}
    assert out["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert (out["BatchSize"], out["MaximumBatchingWindowInSeconds"]) == (500, 5)
    assert (out["ParallelizationFactor"], out["TumblingWindowInSeconds"]) == (4, 60)
    assert (out["MaximumRetryAttempts"], out["MaximumRecordAgeInSeconds"]) == (3, 3600)
    assert out["BisectBatchOnFunctionError"] is True
    assert out["Rivulet"] == {
        "Name": "orders",
        "Table": "Orders",
        "Function": "app.handler",
        "FunctionTimeout": 30.0,
        "FunctionIsolation": "subprocess",
    }
    assert "Environment" not in out["Rivulet"]  # sensitive in Lambda's model
    assert "Enabled" not in out


def test_describe_without_a_stream() -> None:
    assert "EventSourceArn" not in described(parse_trigger(BASE), stream=None)
    by_arn = parse_trigger(
        {k: v for k, v in BASE.items() if k != "table"} | {"event_source_arn": STREAM}
    )
    out = described(by_arn, stream=None)
    assert out["EventSourceArn"] == STREAM
    assert out["Rivulet"] == {
        "Name": "orders",
        "Function": "app.handler",
        "FunctionTimeout": 3.0,
        "FunctionIsolation": "in-process",
    }


# --- TOML files --------------------------------------------------------------------------------

GOOD = """
[[triggers]]
name = "orders-to-billing"
table = "Orders"
function = "billing.handlers:on_order"
starting_position = "LATEST"
batch_size = 50
function_response_types = ["ReportBatchItemFailures"]
filter_criteria = { Filters = [ { Pattern = '{"eventName": ["INSERT", "MODIFY"]}' } ] }
destination_config = { OnFailure = { Destination = "file:failures.jsonl" } }
function_timeout = 10
function_isolation = "subprocess"

[triggers.environment]
STAGE = "dev"

[[triggers]]
name = "audit"
event_source_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2025-11-26T11:58:02.123"
function = "https://audit.example.com/hook"
starting_position = "TRIM_HORIZON"
enabled = false
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "triggers.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path) -> tuple[str, str]:
    with pytest.raises(TriggerConfigError) as info:
        load_config_file(path)
    return info.value.type_name, info.value.message


def test_load_a_good_file(tmp_path: Path) -> None:
    first, second = load_config_file(write(tmp_path, GOOD))
    assert first == TriggerConfig(
        name="orders-to-billing",
        table="Orders",
        function="billing.handlers:on_order",
        starting_position="LATEST",
        batch_size=50,
        function_response_types=("ReportBatchItemFailures",),
        filter_criteria={"Filters": [{"Pattern": PATTERN}]},
        on_failure="file:failures.jsonl",
        function_timeout=10.0,
        function_isolation="subprocess",
        environment=MappingProxyType({"STAGE": "dev"}),
    )
    assert second == TriggerConfig(
        name="audit",
        event_source_arn=STREAM,
        function="https://audit.example.com/hook",
        starting_position="TRIM_HORIZON",
        enabled=False,
    )


def test_empty_file_has_no_triggers(tmp_path: Path) -> None:
    assert load_config_file(write(tmp_path, "")) == []


def test_file_errors_name_the_file_and_the_trigger(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + '\n[[triggers]]\nname = "third"\nbatch_sise = 5\n')
    assert load_error(path) == (
        INVALID,
        f"{path}: trigger 3 (\"third\"): Unknown key 'batch_sise' (did you mean 'batch_size'?)",
    )
    path = write(tmp_path, GOOD.replace("batch_size = 50", "batch_size = 0"))
    assert load_error(path) == (
        VALIDATION,
        f"{path}: trigger 1 (\"orders-to-billing\"): 1 validation error detected: Value '0' at "
        "'batchSize' failed to satisfy constraint: Member must have value greater than or equal "
        "to 1",
    )
    path = write(tmp_path, "[[triggers]]\ntable = 'Orders'\n")
    assert load_error(path) == (
        VALIDATION,
        f"{path}: trigger 1: 2 validation errors detected: Value null at 'functionName' failed "
        "to satisfy constraint: Member must not be null; Value null at 'name' failed to satisfy "
        "constraint: Member must not be null",
    )


def test_duplicate_names_are_rejected(tmp_path: Path) -> None:
    duplicate = GOOD + '\n[[triggers]]\nname = "audit"\ntable = "T2x"\nfunction = "a.b"\n'
    path = write(tmp_path, duplicate + 'starting_position = "LATEST"\n')
    assert load_error(path) == (
        INVALID,
        f'{path}: trigger 3 ("audit"): duplicate name; trigger 2 already uses it',
    )


def test_bad_toml_syntax(tmp_path: Path) -> None:
    path = write(tmp_path, '[[triggers]]\nname = "a"\nbatch_size = \n')
    assert load_error(path) == (
        INVALID,
        f"{path}: invalid TOML: Invalid value (at line 3, column 14)",
    )


def test_file_shape_errors(tmp_path: Path) -> None:
    path = write(tmp_path, 'region = "us-east-1"\n')
    assert load_error(path) == (
        INVALID,
        f"{path}: unknown top-level key 'region'; the file holds only [[triggers]] tables",
    )
    path = write(tmp_path, 'triggers = ["a"]\n')
    assert load_error(path) == (
        INVALID,
        f"{path}: 'triggers' must be an array of tables ([[triggers]])",
    )
    missing = tmp_path / "absent.toml"
    assert load_error(missing) == (
        INVALID,
        f"{missing}: cannot read the file: No such file or directory",
    )
