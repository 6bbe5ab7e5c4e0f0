"""AWS Lambda's event source mapping API on the main port, so boto3's `lambda` client (and tools
built on it) manage triggers: Create/Get/Update/Delete/ListEventSourceMappings (triggers.md 2).

`FunctionName` is a Rivulet function spec (`package.module:callable`, an http(s) URL or
`exec:COMMAND`). Mappings made here are triggers like any other, named `esm-<uuid prefix>`.
"""

from __future__ import annotations

import base64
import re
import uuid
from typing import Any

from rivulet.api.context import ApiContext
from rivulet.errors import TriggerError
from rivulet.protocol.rest import RestError, RestRequest, RestRouter, Route
from rivulet.triggers.admin import TriggerAdmin

PREFIX = "/2015-03-31/event-source-mappings"

# Lambda member -> trigger setting. Members for other event sources (Kafka, MQ, SQS, DocumentDB,
# scaling, logging, metrics, KMS, tags) do not apply to DynamoDB streams and are ignored.
MEMBERS = {
    "EventSourceArn": "event_source_arn",
    "FunctionName": "function",
    "Enabled": "enabled",
    "BatchSize": "batch_size",
    "FilterCriteria": "filter_criteria",
    "MaximumBatchingWindowInSeconds": "maximum_batching_window_in_seconds",
    "ParallelizationFactor": "parallelization_factor",
    "StartingPosition": "starting_position",
    "DestinationConfig": "destination_config",
    "MaximumRecordAgeInSeconds": "maximum_record_age_in_seconds",
    "BisectBatchOnFunctionError": "bisect_batch_on_function_error",
    "MaximumRetryAttempts": "maximum_retry_attempts",
    "TumblingWindowInSeconds": "tumbling_window_in_seconds",
    "FunctionResponseTypes": "function_response_types",
}
STATUS = {
    "ResourceNotFoundException": 404,
    "ResourceConflictException": 409,
    "ServiceException": 500,
    "TooManyRequestsException": 429,
}
MAX_PAGE = 100  # MaxItems may say up to 10000; a page holds at most 100 (observed on AWS)
BAD_MAX_ITEMS = (
    "1 validation error detected: Value '{value}' at 'maxItems' failed to satisfy constraint: "
    "Member must have value {rule}"
)
BAD_MARKER = "Invalid Marker: {value}"


def _admin(api: ApiContext) -> TriggerAdmin:
    if api.triggers is None:
        raise RestError(500, "ServiceException", "The trigger runtime is not running", "Service")
    return api.triggers


def _rest_error(exc: TriggerError) -> RestError:
    assert exc.message is not None
    return RestError(STATUS.get(exc.type_name, 400), exc.type_name, exc.message)


def _settings(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        body = {}
    return {setting: body[member] for member, setting in MEMBERS.items() if member in body}


def _wire(description: dict[str, Any]) -> dict[str, Any]:
    """The EventSourceMappingConfiguration: Rivulet's own member is left out of this API."""
    return {k: v for k, v in description.items() if k != "Rivulet"}


async def create(api: ApiContext, request: RestRequest) -> tuple[int, Any]:
    admin = _admin(api)
    settings = {"name": f"esm-{uuid.uuid4().hex[:12]}", **_settings(request.body)}
    try:
        created = await admin.create(settings)
    except TriggerError as exc:
        raise _rest_error(exc) from None
    return 202, _wire(created) | {"State": "Creating"}


def _row_uuid(admin: TriggerAdmin, request: RestRequest) -> str:
    wanted = request.params["uuid"]
    try:
        row = admin.row(wanted)
    except TriggerError as exc:
        raise _rest_error(exc) from None
    if row.uuid != wanted:  # the API addresses mappings by UUID only, not by trigger name
        raise RestError(
            404, "ResourceNotFoundException", "The resource you requested does not exist."
        )
    return row.uuid


async def get(api: ApiContext, request: RestRequest) -> tuple[int, Any]:
    admin = _admin(api)
    return 200, _wire(admin.describe(admin.row(_row_uuid(admin, request))))


async def update(api: ApiContext, request: RestRequest) -> tuple[int, Any]:
    admin = _admin(api)
    key = _row_uuid(admin, request)
    before = admin.row(key).state
    try:
        updated = await admin.update(key, _settings(request.body))
    except TriggerError as exc:
        raise _rest_error(exc) from None
    # The transitional state AWS answers with; the change itself is applied at once (Q-T14).
    after = updated["State"]
    state = "Updating" if after == before else ("Enabling" if after == "Enabled" else "Disabling")
    return 202, _wire(updated) | {"State": state}


async def delete(api: ApiContext, request: RestRequest) -> tuple[int, Any]:
    admin = _admin(api)
    return 202, _wire(await admin.delete(_row_uuid(admin, request)))


async def list_(api: ApiContext, request: RestRequest) -> tuple[int, Any]:
    admin = _admin(api)
    query = request.query
    page = MAX_PAGE
    if "MaxItems" in query:
        text = query["MaxItems"]
        if not re.fullmatch(r"-?\d+", text):
            raise RestError(400, "InvalidParameterValueException", f"Invalid MaxItems: {text}")
        value = int(text)
        if not 1 <= value <= 10000:
            rule = "greater than or equal to 1" if value < 1 else "less than or equal to 10000"
            raise RestError(
                400, "ValidationException", BAD_MAX_ITEMS.format(value=value, rule=rule)
            )
        page = min(value, MAX_PAGE)
    rows = admin.describe_all()
    rows.sort(key=lambda d: d["UUID"])
    if "EventSourceArn" in query:
        rows = [d for d in rows if d.get("EventSourceArn") == query["EventSourceArn"]]
    if "FunctionName" in query:
        wanted = query["FunctionName"]
        rows = [d for d in rows if wanted in (d["Rivulet"]["Function"], d["FunctionArn"])]
    if "Marker" in query:
        marker = query["Marker"]
        try:
            after = base64.urlsafe_b64decode(marker.encode()).decode()
        except (ValueError, UnicodeDecodeError):
            raise RestError(
                400, "InvalidParameterValueException", BAD_MARKER.format(value=marker)
            ) from None
        rows = [d for d in rows if d["UUID"] > after]
    out: dict[str, Any] = {"EventSourceMappings": [_wire(d) for d in rows[:page]]}
    if len(rows) > page:
        out["NextMarker"] = base64.urlsafe_b64encode(rows[page - 1]["UUID"].encode()).decode()
    return 200, out


def event_source_mapping_api(api: ApiContext) -> RestRouter:
    def bind(op: Any) -> Any:
        async def handler(request: RestRequest) -> tuple[int, Any]:
            return await op(api, request)  # type: ignore[no-any-return]

        return handler

    one = re.compile(PREFIX + r"/(?P<uuid>[^/]+)")
    every = re.compile(PREFIX + "/?")
    return RestRouter(
        PREFIX,
        [
            Route("POST", every, bind(create)),
            Route("GET", every, bind(list_)),
            Route("GET", one, bind(get)),
            Route("PUT", one, bind(update)),
            Route("DELETE", one, bind(delete)),
        ],
    )
