"""Rivulet's trigger control plane: `RivuletTriggers_20261126.<Op>` on the main port, the API the
`rivulet triggers` commands use. Settings travel as the snake_case keys of the config file."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rivulet.api.context import ApiContext
from rivulet.errors import TriggerError
from rivulet.protocol.service import RequestContext
from rivulet.triggers.admin import TriggerAdmin

TRIGGERS_PREFIX = "RivuletTriggers_20261126."
UNAVAILABLE = "The trigger runtime is not running on this server"


def _admin(api: ApiContext) -> TriggerAdmin:
    if api.triggers is None:
        raise TriggerError("ServiceException", UNAVAILABLE)
    return api.triggers


def _member(body: dict[str, Any], name: str, kind: type) -> Any:
    value = body.get(name)
    if not isinstance(value, kind):
        raise TriggerError(
            "InvalidParameterValueException",
            f"1 validation error detected: Value at '{name}' failed to satisfy constraint: "
            f"Member must not be null and must be a {kind.__name__}",
        )
    return value


async def create_trigger(api: ApiContext, body: dict[str, Any], ctx: RequestContext) -> Any:
    return await _admin(api).create(_member(body, "Settings", dict))


async def get_trigger(api: ApiContext, body: dict[str, Any], ctx: RequestContext) -> Any:
    admin = _admin(api)
    return admin.describe(admin.row(_member(body, "Name", str)))


async def list_triggers(api: ApiContext, body: dict[str, Any], ctx: RequestContext) -> Any:
    admin = _admin(api)
    return {"Triggers": admin.describe_all()}


async def update_trigger(api: ApiContext, body: dict[str, Any], ctx: RequestContext) -> Any:
    name = _member(body, "Name", str)
    return await _admin(api).update(name, _member(body, "Settings", dict))


async def delete_trigger(api: ApiContext, body: dict[str, Any], ctx: RequestContext) -> Any:
    return await _admin(api).delete(_member(body, "Name", str))


async def enable_trigger(api: ApiContext, body: dict[str, Any], ctx: RequestContext) -> Any:
    return await _admin(api).set_enabled(_member(body, "Name", str), True)


async def disable_trigger(api: ApiContext, body: dict[str, Any], ctx: RequestContext) -> Any:
    return await _admin(api).set_enabled(_member(body, "Name", str), False)


async def trigger_status(api: ApiContext, body: dict[str, Any], ctx: RequestContext) -> Any:
    return {"Triggers": _admin(api).status()}


async def list_failed_batches(api: ApiContext, body: dict[str, Any], ctx: RequestContext) -> Any:
    return {"FailedBatches": await _admin(api).failed(_member(body, "Name", str))}


async def redrive_failed_batches(api: ApiContext, body: dict[str, Any], ctx: RequestContext) -> Any:
    return await _admin(api).redrive(_member(body, "Name", str))


TRIGGER_OPERATIONS: dict[str, Callable[..., Awaitable[Any]]] = {
    "CreateTrigger": create_trigger,
    "DeleteTrigger": delete_trigger,
    "DisableTrigger": disable_trigger,
    "EnableTrigger": enable_trigger,
    "GetTrigger": get_trigger,
    "ListFailedBatches": list_failed_batches,
    "ListTriggers": list_triggers,
    "RedriveFailedBatches": redrive_failed_batches,
    "TriggerStatus": trigger_status,
    "UpdateTrigger": update_trigger,
}
