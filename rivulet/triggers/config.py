"""Settings of one trigger (event source mapping): parsing, validation with AWS Lambda's texts,
defaults, TOML files, and the EventSourceMappingConfiguration echo (spec/triggers.md 2.1, 3, 8, 11).

Settings are AWS's CreateEventSourceMapping parameters in snake_case plus Rivulet's own keys.
Validation runs in AWS's order:
1. unknown keys and JSON types (Rivulet's texts; InvalidParameterValueException): nothing else can
   be checked on a value of the wrong type;
2. model constraints (ranges, lengths, enums, patterns from botocore's Lambda model), all
   collected into one `N validation errors detected: ...; ...` ValidationException, as AWS does;
3. service rules (InvalidParameterValueException): required members, event source, starting
   position, the record-age rule, destinations, filter patterns, function form, environment.
Error messages name members in AWS's camelCase ('batchSize' for `batch_size`).
"""

from __future__ import annotations

import copy
import difflib
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from rivulet.core.stream_ids import parse_stream_arn

# --- every user-visible text, so each can be corrected in one place ----------------------------

INVALID = "InvalidParameterValueException"
VALIDATION = "ValidationException"

# Model constraints (Coral's generic texts, as in every AWS JSON service).
ERRORS_DETECTED = "{count} validation error{plural} detected: {errors}"
CONSTRAINT = "Value {value} at '{member}' failed to satisfy constraint: {rule}"
RULE_NOT_NULL = "Member must not be null"
RULE_MIN = "Member must have value greater than or equal to {limit}"
RULE_MAX = "Member must have value less than or equal to {limit}"
RULE_MIN_LENGTH = "Member must have length greater than or equal to {limit}"
RULE_MAX_LENGTH = "Member must have length less than or equal to {limit}"
RULE_PATTERN = "Member must satisfy regular expression pattern: {pattern}"
RULE_ENUM = "Member must satisfy enum value set: [{values}]"
RULE_LIST_ENUM = "Member must satisfy constraint: [Member must satisfy enum value set: [{values}]]"
RULE_MAP_KEYS = (
    "Map keys must satisfy constraint: [Member must satisfy regular expression pattern: {pattern}]"
)

# Service rules observed on AWS (triggers.md 3, open-questions Q-T10).
MISSING_STARTING_POSITION = (
    "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: "
    "Member must not be null."
)
UNRECOGNIZED_EVENT_SOURCE = "Unrecognized event source."
UNSUPPORTED_STARTING_POSITION = "Unsupported starting position for arn type: {arn}"
RECORD_AGE_RULE = (
    "MaximumRecordAgeInSeconds must be either -1 (forever) or between 60 and 604800 (inclusive)"
)
# Lambda's text for reserved environment variable names (recalled from AWS, not in the spec).
RESERVED_ENVIRONMENT = (
    "Lambda was unable to configure your environment variables because the environment variables "
    "you have provided contains reserved keys that are currently not supported for modification. "
    "Reserved keys used in this request: {keys}"
)

# Rivulet's own wording where AWS's text is unknown or the setting is Rivulet's.
UNKNOWN_KEY = "Unknown key '{key}'{hint}"
DID_YOU_MEAN = " (did you mean '{match}'?)"
BAD_TYPE = "Invalid type for parameter {member}: expected {expected}, got {actual}"
BOTH_SOURCES = "Specify either table or eventSourceArn, not both"
CANNOT_UPDATE = "{member} of an existing event source mapping cannot be updated"
IN_PROCESS_ENVIRONMENT = (
    "environment needs functionIsolation 'subprocess' for a Python function: an in-process "
    "function shares the server's environment"
)
ON_SUCCESS_UNSUPPORTED = "OnSuccess destinations are not supported for event source mappings"
BAD_DESTINATION = (
    "Unsupported on-failure destination '{value}': expected an SQS queue, SNS topic or S3 bucket "
    "ARN, a DynamoDB table ARN (arn:aws:dynamodb:<region>:<account>:table/<name>), file:<path>, "
    "or an http:// or https:// URL"
)
BAD_FUNCTION = (
    "Invalid function '{value}': expected a Python handler ('package.module:function' or "
    "'module.function'), an http:// or https:// URL, or 'exec:<command>'"
)
FILE_UNREADABLE = "{path}: cannot read the file: {reason}"
FILE_BAD_TOML = "{path}: invalid TOML: {reason}"
FILE_UNKNOWN_TOP = "{path}: unknown top-level key '{key}'; the file holds only [[triggers]] tables"
FILE_NOT_TABLES = "{path}: 'triggers' must be an array of tables ([[triggers]])"
FILE_TRIGGER = "{path}: trigger {index}{name}: {message}"
FILE_DUPLICATE = "{path}: trigger {index}{name}: duplicate name; trigger {first} already uses it"

MAX_ERRORS = 10  # Coral lists at most ten failures

# --- limits (botocore's Lambda model unless noted) ---------------------------------------------

STARTING_POSITIONS = ("LATEST", "AT_TIMESTAMP", "TRIM_HORIZON")  # the order AWS prints them
RESPONSE_TYPES = ("ReportBatchItemFailures",)
ISOLATIONS = ("in-process", "subprocess")
INT_RANGES = {  # key: (low, high)
    "batch_size": (1, 10000),  # Q-T1: the API's 10000, not CloudFormation's 1000
    "maximum_batching_window_in_seconds": (0, 300),
    "parallelization_factor": (1, 10),
    "maximum_record_age_in_seconds": (-1, 604800),  # plus the 60-second rule, Q-T10
    "maximum_retry_attempts": (-1, 10000),  # Q-T9
    "tumbling_window_in_seconds": (0, 900),
}
FUNCTION_LENGTH = (1, 256)  # NamespacedFunctionName
FUNCTION_TIMEOUT = (1, 900)  # Lambda's Timeout: at least 1 s, service maximum 900 s
NAME_LENGTH = (1, 64)  # Rivulet: fits metric labels and Lambda's function-name length
NAME_PATTERN = "[A-Za-z0-9_.-]+"
TABLE_LENGTH = (3, 255)  # DynamoDB table names
TABLE_PATTERN = "[a-zA-Z0-9_.-]+"
PATTERN_LENGTH = 4096
DESTINATION_LENGTH = 350
ENV_NAME_PATTERN = "[a-zA-Z]([a-zA-Z0-9_])+"
# Variables the runtime sets itself; Lambda refuses them in a function's configuration.
# (_HANDLER and _X_AMZN_TRACE_ID are reserved too, but ENV_NAME_PATTERN already rejects them.)
RESERVED_ENV = frozenset(
    {
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)

# Destination shapes (Q-T11: AWS's SQS/SNS/S3 kinds are stored; the runtime maps them to sinks).
_PARTITION_REGION = r"arn:aws[a-zA-Z-]*:{service}:[a-z0-9-]+"
_DESTINATION_ARNS = tuple(
    re.compile(pattern)
    for pattern in (
        _PARTITION_REGION.format(service="sqs") + r":[0-9]{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?",
        _PARTITION_REGION.format(service="sns") + r":[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?",
        r"arn:aws[a-zA-Z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]",
        _PARTITION_REGION.format(service="dynamodb") + r":[0-9]{12}:table/[a-zA-Z0-9_.-]{3,255}",
    )
)

# snake_case key -> AWS member name used in messages, in the model's member order (which is the
# order Coral lists constraint failures in); Rivulet's own keys last.
MEMBERS = {
    "event_source_arn": "eventSourceArn",
    "function": "functionName",
    "enabled": "enabled",
    "batch_size": "batchSize",
    "filter_criteria": "filterCriteria",
    "maximum_batching_window_in_seconds": "maximumBatchingWindowInSeconds",
    "parallelization_factor": "parallelizationFactor",
    "starting_position": "startingPosition",
    "destination_config": "destinationConfig",
    "maximum_record_age_in_seconds": "maximumRecordAgeInSeconds",
    "bisect_batch_on_function_error": "bisectBatchOnFunctionError",
    "maximum_retry_attempts": "maximumRetryAttempts",
    "tumbling_window_in_seconds": "tumblingWindowInSeconds",
    "function_response_types": "functionResponseTypes",
    "name": "name",
    "table": "table",
    "function_timeout": "functionTimeout",
    "function_isolation": "functionIsolation",
    "environment": "environment",
}
# Keys an update may not change (AWS: the source and start position are fixed; Rivulet: the name
# identifies the mapping).
IMMUTABLE = ("name", "table", "event_source_arn", "starting_position")


class TriggerConfigError(Exception):
    """A rejected setting; `type_name` is the AWS error code the control plane answers with."""

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(message)
        self.type_name = type_name
        self.message = message


@dataclass(frozen=True, slots=True)
class TriggerConfig:
    """One mapping's validated settings. Build it with parse_trigger / update_trigger."""

    name: str
    function: str
    table: str | None = None
    event_source_arn: str | None = None
    starting_position: str = "TRIM_HORIZON"
    batch_size: int = 100
    maximum_batching_window_in_seconds: int = 0
    parallelization_factor: int = 1
    bisect_batch_on_function_error: bool = False
    maximum_retry_attempts: int = -1  # Q-T12: AWS echoes -1 / -1 today
    maximum_record_age_in_seconds: int = -1
    function_response_types: tuple[str, ...] = ()
    # {"Filters": [{"Pattern": str}, ...]} with at least one filter, else None. Not hashed.
    filter_criteria: dict[str, Any] | None = field(default=None, hash=False)
    tumbling_window_in_seconds: int = 0
    on_failure: str | None = None  # DestinationConfig.OnFailure.Destination
    enabled: bool = True
    function_timeout: float = 3.0
    function_isolation: str = "in-process"
    environment: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)

    @property
    def report_batch_item_failures(self) -> bool:
        return "ReportBatchItemFailures" in self.function_response_types


# --- public API --------------------------------------------------------------------------------


def parse_trigger(raw: Mapping[str, Any]) -> TriggerConfig:
    """Validate a create request (all rules, required keys included). None values count as absent,
    as JSON nulls do in AWS requests."""
    values = _typed(raw)
    _check_constraints(values)
    _check_rules(values)
    return _build(values)


def update_trigger(config: TriggerConfig, changes: Mapping[str, Any]) -> TriggerConfig:
    """Apply an update: the create rules minus the fixed keys. `filter_criteria: {}` removes the
    filters and `destination_config: {"OnFailure": {}}` the destination (as on AWS). A fixed key
    may be repeated with its current value, so a whole settings dict can be applied as an update."""
    values = _typed(changes)
    for key in IMMUTABLE:
        if key in values and values[key] != getattr(config, key):
            raise TriggerConfigError(INVALID, CANNOT_UPDATE.format(member=MEMBERS[key]))
    return parse_trigger(to_settings(config) | values)


def to_settings(config: TriggerConfig) -> dict[str, Any]:
    """Every setting as a JSON-compatible snake_case dict; parse_trigger(to_settings(c)) == c."""
    out: dict[str, Any] = {"name": config.name, "function": config.function}
    if config.table is not None:
        out["table"] = config.table
    if config.event_source_arn is not None:
        out["event_source_arn"] = config.event_source_arn
    out |= {
        "starting_position": config.starting_position,
        "batch_size": config.batch_size,
        "maximum_batching_window_in_seconds": config.maximum_batching_window_in_seconds,
        "parallelization_factor": config.parallelization_factor,
        "bisect_batch_on_function_error": config.bisect_batch_on_function_error,
        "maximum_retry_attempts": config.maximum_retry_attempts,
        "maximum_record_age_in_seconds": config.maximum_record_age_in_seconds,
        "function_response_types": list(config.function_response_types),
        "tumbling_window_in_seconds": config.tumbling_window_in_seconds,
        "enabled": config.enabled,
        "function_timeout": config.function_timeout,
        "function_isolation": config.function_isolation,
        "environment": dict(config.environment),
    }
    if config.filter_criteria is not None:
        out["filter_criteria"] = copy.deepcopy(config.filter_criteria)
    if config.on_failure is not None:
        out["destination_config"] = {"OnFailure": {"Destination": config.on_failure}}
    return out


def describe(
    config: TriggerConfig,
    *,
    uuid: str,
    mapping_arn: str,
    stream_arn: str | None,
    function_arn: str,
    state: str,
    state_reason: str,
    last_modified: float,
    last_result: str,
) -> dict[str, Any]:
    """The EventSourceMappingConfiguration of triggers.md 2.1 with AWS's echo rules, plus
    Rivulet's settings under "Rivulet". `stream_arn` is the resolved stream (None while a
    table-bound mapping's table has no stream). Environment values are left out: Lambda's model
    marks them sensitive."""
    out: dict[str, Any] = {"UUID": uuid, "EventSourceMappingArn": mapping_arn}
    source = stream_arn if stream_arn is not None else config.event_source_arn
    if source is not None:
        out["EventSourceArn"] = source
    out |= {
        "FunctionArn": function_arn,
        "BatchSize": config.batch_size,
        "MaximumBatchingWindowInSeconds": config.maximum_batching_window_in_seconds,
        "ParallelizationFactor": config.parallelization_factor,
        "StartingPosition": config.starting_position,
    }
    if config.filter_criteria is not None:  # omitted when unset or empty
        out["FilterCriteria"] = copy.deepcopy(config.filter_criteria)
    on_failure = {} if config.on_failure is None else {"Destination": config.on_failure}
    out |= {
        "DestinationConfig": {"OnFailure": on_failure},
        "MaximumRecordAgeInSeconds": config.maximum_record_age_in_seconds,
        "MaximumRetryAttempts": config.maximum_retry_attempts,
        "BisectBatchOnFunctionError": config.bisect_batch_on_function_error,
        "TumblingWindowInSeconds": config.tumbling_window_in_seconds,
        "FunctionResponseTypes": list(config.function_response_types),
        "LastModified": last_modified,
        "LastProcessingResult": last_result,
        "State": state,
        "StateTransitionReason": state_reason,
    }
    rivulet: dict[str, Any] = {"Name": config.name}
    if config.table is not None:
        rivulet["Table"] = config.table
    out["Rivulet"] = rivulet | {
        "Function": config.function,
        "FunctionTimeout": config.function_timeout,
        "FunctionIsolation": config.function_isolation,
    }
    return out


def load_config_file(path: Path) -> list[TriggerConfig]:
    """Read a TOML file of `[[triggers]]` tables. Errors name the file, the trigger (1-based
    index and name) and the problem."""
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise TriggerConfigError(
            INVALID, FILE_UNREADABLE.format(path=path, reason=exc.strerror or exc)
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise TriggerConfigError(INVALID, FILE_BAD_TOML.format(path=path, reason=exc)) from None
    for key in data:
        if key != "triggers":
            raise TriggerConfigError(INVALID, FILE_UNKNOWN_TOP.format(path=path, key=key))
    tables = data.get("triggers", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise TriggerConfigError(INVALID, FILE_NOT_TABLES.format(path=path))
    configs: list[TriggerConfig] = []
    first_index: dict[str, int] = {}
    for index, raw in enumerate(tables, start=1):
        raw_name = raw.get("name")
        label = f' ("{raw_name}")' if isinstance(raw_name, str) else ""
        try:
            config = parse_trigger(raw)
        except TriggerConfigError as exc:
            message = FILE_TRIGGER.format(path=path, index=index, name=label, message=exc.message)
            raise TriggerConfigError(exc.type_name, message) from None
        if config.name in first_index:
            message = FILE_DUPLICATE.format(
                path=path, index=index, name=label, first=first_index[config.name]
            )
            raise TriggerConfigError(INVALID, message)
        first_index[config.name] = index
        configs.append(config)
    return configs


# --- step 1: keys and JSON types ---------------------------------------------------------------


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)


def _is_str_map(value: Any) -> bool:
    return isinstance(value, Mapping) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


# key -> (expected, check) for the flat keys; the nested ones have their own walkers below.
_TYPES: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "name": ("a string", lambda v: isinstance(v, str)),
    "function": ("a string", lambda v: isinstance(v, str)),
    "table": ("a string", lambda v: isinstance(v, str)),
    "event_source_arn": ("a string", lambda v: isinstance(v, str)),
    "starting_position": ("a string", lambda v: isinstance(v, str)),
    "enabled": ("a boolean", lambda v: isinstance(v, bool)),
    "bisect_batch_on_function_error": ("a boolean", lambda v: isinstance(v, bool)),
    "function_response_types": ("an array of strings", _is_str_list),
    "function_timeout": ("a number", _is_number),
    "function_isolation": ("a string", lambda v: isinstance(v, str)),
    "environment": ("an object of string values", _is_str_map),
    **{key: ("an integer", _is_int) for key in INT_RANGES},
}


def _unknown(key: str, known: Any) -> TriggerConfigError:
    matches = difflib.get_close_matches(key, list(known), n=1)
    hint = DID_YOU_MEAN.format(match=matches[0]) if matches else ""
    return TriggerConfigError(INVALID, UNKNOWN_KEY.format(key=key, hint=hint))


def _type_error(member: str, expected: str, value: Any) -> TriggerConfigError:
    actual = _json_type(value)
    return TriggerConfigError(
        INVALID, BAD_TYPE.format(member=member, expected=expected, actual=actual)
    )


def _typed(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The given (non-null) settings, after checking keys and JSON types."""
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in MEMBERS:
            raise _unknown(str(key), MEMBERS)
        if value is None:
            continue
        if key == "filter_criteria":
            _check_filter_types(value)
        elif key == "destination_config":
            _check_destination_types(value)
        else:
            expected, check = _TYPES[key]
            if not check(value):
                raise _type_error(MEMBERS[key], expected, value)
        values[key] = value
    return values


def _check_members(value: Any, member: str, allowed: tuple[str, ...]) -> None:
    if not isinstance(value, Mapping):
        raise _type_error(member, "an object", value)
    for key in value:
        if key not in allowed:
            raise _unknown(f"{member}.{key}", [f"{member}.{a}" for a in allowed])


def _check_filter_types(value: Any) -> None:
    _check_members(value, "filterCriteria", ("Filters",))
    filters = value.get("Filters")
    if filters is None:
        return
    if not isinstance(filters, list | tuple):
        raise _type_error("filterCriteria.Filters", "an array", filters)
    for number, item in enumerate(filters, start=1):
        member = f"filterCriteria.Filters.{number}"
        _check_members(item, member, ("Pattern",))
        pattern = item.get("Pattern")
        if pattern is not None and not isinstance(pattern, str):
            raise _type_error(f"{member}.Pattern", "a string", pattern)


def _check_destination_types(value: Any) -> None:
    _check_members(value, "destinationConfig", ("OnFailure", "OnSuccess"))
    for kind in ("OnFailure", "OnSuccess"):
        target = value.get(kind)
        if target is None:
            continue
        member = f"destinationConfig.{kind}"
        _check_members(target, member, ("Destination",))
        destination = target.get("Destination")
        if destination is not None and not isinstance(destination, str):
            raise _type_error(f"{member}.Destination", "a string", destination)


# --- step 2: model constraints (collected) -----------------------------------------------------


def _show(value: Any) -> str:
    if isinstance(value, list | tuple):  # Java's List.toString
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def _fail(errors: list[str], value: Any, member: str, rule: str) -> None:
    shown = "null" if value is None else f"'{_show(value)}'"
    errors.append(CONSTRAINT.format(value=shown, member=member, rule=rule))


def _range(errors: list[str], value: float, member: str, low: float, high: float) -> None:
    # NaN fails both comparisons; report it against the minimum.
    if not value >= low:
        _fail(errors, value, member, RULE_MIN.format(limit=low))
    elif value > high:
        _fail(errors, value, member, RULE_MAX.format(limit=high))


def _length(errors: list[str], value: Any, member: str, low: int, high: int) -> None:
    if len(value) < low:
        _fail(errors, value, member, RULE_MIN_LENGTH.format(limit=low))
    elif len(value) > high:
        _fail(errors, value, member, RULE_MAX_LENGTH.format(limit=high))


def _pattern(errors: list[str], value: str, member: str, pattern: str) -> None:
    if re.fullmatch(pattern, value) is None:
        _fail(errors, value, member, RULE_PATTERN.format(pattern=pattern))


def _enum(errors: list[str], value: str, member: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        _fail(errors, value, member, RULE_ENUM.format(values=", ".join(allowed)))


def _check_constraints(values: Mapping[str, Any]) -> None:
    errors: list[str] = []
    for key, member in MEMBERS.items():
        value = values.get(key)
        if key in ("function", "name") and value is None:
            _fail(errors, None, member, RULE_NOT_NULL)  # required by the model (name: by Rivulet)
        if value is None:
            continue
        if key in INT_RANGES:
            _range(errors, value, member, *INT_RANGES[key])
        elif key == "function":
            _length(errors, value, member, *FUNCTION_LENGTH)
        elif key == "filter_criteria":
            for number, item in enumerate(value.get("Filters") or (), start=1):
                pattern = item.get("Pattern")
                if pattern is not None:
                    path = f"filterCriteria.filters.{number}.member.pattern"
                    _length(errors, pattern, path, 0, PATTERN_LENGTH)
        elif key == "starting_position":
            _enum(errors, value, member, STARTING_POSITIONS)
        elif key == "destination_config":
            destination = (value.get("OnFailure") or {}).get("Destination")
            if destination is not None:
                path = "destinationConfig.onFailure.destination"
                _length(errors, destination, path, 0, DESTINATION_LENGTH)
        elif key == "function_response_types":
            if len(value) > 1:
                _fail(errors, value, member, RULE_MAX_LENGTH.format(limit=1))
            elif any(v not in RESPONSE_TYPES for v in value):
                rule = RULE_LIST_ENUM.format(values=", ".join(RESPONSE_TYPES))
                _fail(errors, value, member, rule)
        elif key == "name":
            _length(errors, value, member, *NAME_LENGTH)
            _pattern(errors, value, member, NAME_PATTERN)
        elif key == "table":
            _length(errors, value, member, *TABLE_LENGTH)
            _pattern(errors, value, member, TABLE_PATTERN)
        elif key == "function_timeout":
            _range(errors, value, member, *FUNCTION_TIMEOUT)
        elif key == "function_isolation":
            _enum(errors, value, member, ISOLATIONS)
        elif key == "environment":
            for name in value:
                if re.fullmatch(ENV_NAME_PATTERN, name) is None:
                    _fail(errors, name, member, RULE_MAP_KEYS.format(pattern=ENV_NAME_PATTERN))
    if errors:
        errors = errors[:MAX_ERRORS]
        plural = "s" if len(errors) > 1 else ""
        text = ERRORS_DETECTED.format(count=len(errors), plural=plural, errors="; ".join(errors))
        raise TriggerConfigError(VALIDATION, text)


# --- step 3: service rules ---------------------------------------------------------------------


def _invalid(message: str) -> TriggerConfigError:
    return TriggerConfigError(INVALID, message)


def _check_rules(values: Mapping[str, Any]) -> None:
    table, arn = values.get("table"), values.get("event_source_arn")
    if table is not None and arn is not None:
        raise _invalid(BOTH_SOURCES)
    if table is None and (arn is None or parse_stream_arn(arn) is None):
        raise _invalid(UNRECOGNIZED_EVENT_SOURCE)
    position = values.get("starting_position")
    if position is None:
        raise _invalid(MISSING_STARTING_POSITION)
    if position == "AT_TIMESTAMP":
        # A table-bound mapping has no stream ARN yet: name the table in ARN-resource form.
        raise _invalid(UNSUPPORTED_STARTING_POSITION.format(arn=arn or f"table/{table}"))
    age = values.get("maximum_record_age_in_seconds", -1)
    if age != -1 and age < 60:  # the model allows 0..59; the service does not (Q-T10)
        raise _invalid(RECORD_AGE_RULE)
    destinations = values.get("destination_config") or {}
    if (destinations.get("OnSuccess") or {}).get("Destination"):
        raise _invalid(ON_SUCCESS_UNSUPPORTED)
    destination = (destinations.get("OnFailure") or {}).get("Destination")
    if destination and not _destination_ok(destination):
        raise _invalid(BAD_DESTINATION.format(value=destination))
    criteria = values.get("filter_criteria")
    if criteria is not None:
        _check_filters(criteria)
    if not _function_ok(values["function"]):
        raise _invalid(BAD_FUNCTION.format(value=values["function"]))
    reserved = sorted(RESERVED_ENV.intersection(values.get("environment", {})))
    if reserved:
        raise _invalid(RESERVED_ENVIRONMENT.format(keys=", ".join(reserved)))
    python = not values["function"].startswith(("http://", "https://", "exec:"))
    if python and values.get("environment") and values.get("function_isolation") != "subprocess":
        raise _invalid(IN_PROCESS_ENVIRONMENT)


def _check_filters(criteria: Mapping[str, Any]) -> None:
    # Imported here: filters.py sits beside this module and is only needed for validation.
    # It also enforces the 5-filter quota and answers AWS's "Invalid filter pattern definition.".
    from rivulet.triggers.filters import FilterPatternError, compile_filters

    try:
        compile_filters(_normal_filters(criteria))
    except FilterPatternError as exc:
        raise _invalid(str(exc)) from None


def _url_ok(text: str) -> bool:
    try:
        return bool(urlsplit(text).hostname)
    except ValueError:  # e.g. a malformed IPv6 host
        return False


def _destination_ok(text: str) -> bool:
    if text.startswith(("http://", "https://")):
        return _url_ok(text)
    if text.startswith("file://"):  # only file:///abs/path; no remote hosts
        return len(text) > len("file:///") and text[len("file://")] == "/"
    if text.startswith("file:"):
        return len(text) > len("file:")
    return any(p.fullmatch(text) for p in _DESTINATION_ARNS)


def _dotted(text: str, separators: str) -> bool:
    return all(part.isidentifier() for part in re.split(f"[{re.escape(separators)}]", text))


def _function_ok(text: str) -> bool:
    """The invoker kinds: HTTP webhook, command, or a Python handler as `module:attr.path` or
    Lambda's `module.function` (with `/` allowed in the module part, triggers.md 13.1)."""
    if text.startswith(("http://", "https://")):
        return _url_ok(text)
    if text.startswith("exec:"):
        return bool(text[len("exec:") :].strip())
    module, colon, attribute = text.partition(":")
    if colon:
        return _dotted(module, "./") and _dotted(attribute, ".")
    module, dot, function = text.rpartition(".")
    return bool(dot) and _dotted(module, "./") and function.isidentifier()


# --- building ----------------------------------------------------------------------------------


def _normal_filters(criteria: Mapping[str, Any]) -> dict[str, Any] | None:
    filters = criteria.get("Filters") or ()
    if not filters:
        return None  # AWS omits FilterCriteria when Filters is empty
    return {"Filters": [{"Pattern": item.get("Pattern")} for item in filters]}


def _build(values: Mapping[str, Any]) -> TriggerConfig:
    simple = {
        key: values[key]
        for key in (
            "name",
            "function",
            "table",
            "event_source_arn",
            "starting_position",
            "batch_size",
            "maximum_batching_window_in_seconds",
            "parallelization_factor",
            "bisect_batch_on_function_error",
            "maximum_retry_attempts",
            "maximum_record_age_in_seconds",
            "tumbling_window_in_seconds",
            "enabled",
            "function_isolation",
        )
        if key in values
    }
    criteria = values.get("filter_criteria")
    destination = ((values.get("destination_config") or {}).get("OnFailure") or {}).get(
        "Destination"
    )
    return TriggerConfig(
        **simple,
        function_response_types=tuple(values.get("function_response_types", ())),
        filter_criteria=None if criteria is None else _normal_filters(criteria),
        on_failure=destination or None,  # "" clears it, as the model's pattern allows
        function_timeout=float(values.get("function_timeout", 3.0)),
        environment=MappingProxyType(dict(values.get("environment", {}))),
    )
