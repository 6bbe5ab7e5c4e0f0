"""TransactWriteItems: up to 100 actions on distinct items, all or nothing, in one storage transaction."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from rivulet.api.common import consumed_capacity, read_units, request_expressions, write_units
from rivulet.api.conditions import condition_apply
from rivulet.api.context import ApiContext
from rivulet.api.update_item import check_key_not_updated, update_step
from rivulet.api.validate import validate_request
from rivulet.core.sizes import item_size
from rivulet.core.types import Item
from rivulet.core.values import key_of, normalize_item, validate_item_for_put, validate_key
from rivulet.engine.catalog import TableRuntime
from rivulet.engine.writes import ClientToken, Mutation, Outcome
from rivulet.errors import (
    TransactionCanceledException,
    ValidationException,
)
from rivulet.protocol.service import RequestContext


def _keep(item: Item | None) -> Item | None:
    return item


def _action(api: ApiContext, action: dict[str, Any]) -> tuple[Mutation, dict[str, Any]]:
    kinds = [k for k in ("ConditionCheck", "Put", "Delete", "Update") if k in action]
    if len(kinds) != 1:
        raise ValidationException(
            "TransactItems can only contain one of Check, Put, Update or Delete"
        )
    kind = kinds[0]
    spec = action[kind]
    table = api.db.table(spec["TableName"])
    operation = {
        "ConditionCheck": "DeleteItem",
        "Put": "PutItem",
        "Delete": "DeleteItem",
        "Update": "UpdateItem",
    }[kind]
    exprs = request_expressions(spec, operation)
    if kind == "Put":
        item = normalize_item(spec["Item"])
        validate_item_for_put(item, table.key, [i.schema for i in table.indexes])
        new_item = item
        return Mutation(
            table, key_of(item, table.key), condition_apply(exprs.condition, lambda old: new_item)
        ), spec
    key = validate_key(normalize_item(spec["Key"]), table.key)
    if kind == "Delete":
        return Mutation(table, key, condition_apply(exprs.condition, lambda old: None)), spec
    if kind == "ConditionCheck":
        if exprs.condition is None:
            raise ValidationException(
                "1 validation error detected: Value null at 'transactItems.1.member.conditionCheck.conditionExpression' "
                "failed to satisfy constraint: Member must not be null"
            )
        return Mutation(table, key, condition_apply(exprs.condition, _keep)), spec
    check_key_not_updated(table, exprs.update)
    return Mutation(
        table, key, condition_apply(exprs.condition, update_step(table, key, exprs.update))
    ), spec


def _reason(out: Outcome, spec: dict[str, Any]) -> dict[str, Any]:
    if out.error is not None:
        return {"Code": "ValidationError", "Message": out.error.message}
    if out.failed:
        reason: dict[str, Any] = {
            "Code": "ConditionalCheckFailed",
            "Message": "The conditional request failed",
        }
        if spec.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and out.old is not None:
            reason["Item"] = out.old
        return reason
    return {"Code": "None"}


async def transact_write_items(
    api: ApiContext, body: dict[str, Any], ctx: RequestContext
) -> dict[str, Any]:
    body = validate_request("TransactWriteItems", body)
    planned = [_action(api, a or {}) for a in body["TransactItems"]]
    keys = set()
    for m, _ in planned:
        k = (m.table.table_id, m.table.storage_key(m.key))
        if k in keys:
            raise ValidationException(
                "Transaction request cannot include multiple operations on one item"
            )
        keys.add(k)
    mutations = [m for m, _ in planned]
    token = body.get("ClientRequestToken")
    outcomes = await api.db.transact(
        mutations,
        None
        if token is None
        else ClientToken(token, _digest(body["TransactItems"]), lambda o: orjson.dumps(_sizes(o))),
    )
    if isinstance(outcomes, bytes):
        # A retry of a completed request: nothing written. Its capacity is the reads that found
        # the transaction done, not the writes (AWS: "the number of read capacity units consumed
        # in reading the item").
        return _capacity(body, mutations, orjson.loads(outcomes), read=True)
    if any(o.failed for o in outcomes):
        reasons = [_reason(o, spec) for o, (_, spec) in zip(outcomes, planned, strict=True)]
        codes = ", ".join(r["Code"] for r in reasons)
        raise TransactionCanceledException(
            f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
            CancellationReasons=reasons,
        )
    return _capacity(body, mutations, _sizes(outcomes), read=False)


def _digest(actions: list[Any]) -> bytes:
    """Identifies the request a token was used with (member order does not matter)."""
    return hashlib.sha256(orjson.dumps(actions, option=orjson.OPT_SORT_KEYS)).digest()


def _sizes(outcomes: list[Outcome]) -> list[int]:
    """The size of the larger of the old and new item, per action (kept with the token, it
    gives a retry's capacity)."""
    return [
        max(item_size(o.old) if o.old else 0, item_size(o.new) if o.new else 0) for o in outcomes
    ]


def _capacity(
    body: dict[str, Any], mutations: list[Mutation], sizes: list[int], *, read: bool
) -> dict[str, Any]:
    if body.get("ReturnConsumedCapacity", "NONE") == "NONE":
        return {}
    units: dict[str, tuple[TableRuntime, float]] = {}
    for m, size in zip(mutations, sizes, strict=True):
        # Transactional reads and writes cost two units each.
        cost = 2 * (read_units(size, consistent=True) if read else write_units(size))
        t, u = units.get(m.table.name, (m.table, 0.0))
        units[m.table.name] = (t, u + cost)
    return {
        "ConsumedCapacity": [consumed_capacity(body, t, u, read=read) for t, u in units.values()]
    }
