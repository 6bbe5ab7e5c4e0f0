"""Semantic validation of CreateTable and UpdateTable requests, after the generic type/constraint pass."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NoReturn, cast

from rivulet.core.schema import (
    IndexSchema,
    KeySchema,
    KeyType,
    Projection,
    ProjectionType,
    StreamSpec,
    TableDefinition,
)
from rivulet.core.table_arns import table_name_of
from rivulet.errors import LimitExceededException, ResourceNotFoundException, ValidationException

BillingMode = Literal["PROVISIONED", "PAY_PER_REQUEST"]

INVALID = "One or more parameter values were invalid: "
MAX_CAPACITY_UNITS = 1_000_000_000_000
MAX_LOCAL_INDEXES = 5
MAX_GLOBAL_INDEXES = 20
MAX_PROJECTED_ATTRIBUTES = 100  # NonKeyAttributes summed over every index of a table
MAX_TAGS = 50

# Members that make an UpdateTable request "do something"; the error text predates most of them.
_UPDATE_MEMBERS = (
    "ProvisionedThroughput",
    "BillingMode",
    "StreamSpecification",
    "SSESpecification",
    "ReplicaUpdates",
    "TableClass",
    "DeletionProtectionEnabled",
    "OnDemandThroughput",
    "WarmThroughput",
    "MultiRegionConsistency",
    "GlobalTableWitnessUpdates",
    "GlobalTableSettingsReplicationMode",
)


@dataclass(frozen=True, slots=True)
class SseSpec:
    """A requested server-side encryption setting (KMS when enabled, AWS owned key otherwise)."""

    enabled: bool
    sse_type: str | None = None
    kms_master_key_id: str | None = None


@dataclass(frozen=True, slots=True)
class TableUpdate:
    """What a validated UpdateTable request asks for; None / () means "leave as is".

    `billing_mode` is set only when the mode changes. Switching to PAY_PER_REQUEST drops the
    capacities of the table and of every GSI; switching to PROVISIONED comes with `read_capacity`,
    `write_capacity` and an `update_indexes` entry for every remaining GSI.
    """

    billing_mode: BillingMode | None = None
    read_capacity: int | None = None
    write_capacity: int | None = None
    stream: StreamSpec | None = None
    create_indexes: tuple[IndexSchema, ...] = ()
    delete_indexes: tuple[str, ...] = ()
    update_indexes: tuple[tuple[str, int | None, int | None], ...] = ()
    new_attribute_definitions: tuple[tuple[str, KeyType], ...] = ()
    sse: SseSpec | None = None
    table_class: str | None = None
    deletion_protection: bool | None = None


def _fail(message: str) -> NoReturn:
    raise ValidationException(message)


# --- shared pieces -------------------------------------------------------------------------


def _check_key_length(elements: Sequence[Mapping[str, Any]], path: str) -> None:
    # The public model dropped KeySchema's max of 2 (multi-attribute GSI keys); we support 1 or 2.
    if len(elements) > 2:
        rendered = ", ".join(
            f"KeySchemaElement(attributeName={e['AttributeName']}, keyType={e['KeyType']})"
            for e in elements
        )
        _fail(
            f"1 validation error detected: Value '[{rendered}]' at '{path}' failed to satisfy "
            "constraint: Member must have length less than or equal to 2"
        )


def _check_defined(keys: Sequence[str], defined: Sequence[str]) -> None:
    if any(key not in defined for key in keys):
        _fail(
            INVALID + "Some index key attributes are not defined in AttributeDefinitions. "
            f"Keys: [{', '.join(keys)}], AttributeDefinitions: [{', '.join(defined)}]"
        )


def _check_key_elements(elements: Sequence[Mapping[str, Any]]) -> None:
    if len(elements) == 2 and elements[0]["AttributeName"] == elements[1]["AttributeName"]:
        _fail("Both the Hash Key and the Range Key element in the KeySchema have the same name")
    if elements[0]["KeyType"] != "HASH":
        _fail("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    if len(elements) == 2 and elements[1]["KeyType"] != "RANGE":
        _fail("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")


def _key_schema(elements: Sequence[Mapping[str, Any]], types: Mapping[str, KeyType]) -> KeySchema:
    hash_name = elements[0]["AttributeName"]
    if len(elements) == 1:
        return KeySchema(hash_name, types[hash_name])
    range_name = elements[1]["AttributeName"]
    return KeySchema(hash_name, types[hash_name], range_name, types[range_name])


def _projection(raw: Mapping[str, Any]) -> Projection:
    projection_type = raw.get("ProjectionType")
    if projection_type is None:
        _fail(INVALID + "Unknown ProjectionType: null")
    non_key = raw.get("NonKeyAttributes")
    if non_key is not None and projection_type != "INCLUDE":
        _fail(INVALID + f"ProjectionType is {projection_type}, but NonKeyAttributes is specified")
    return Projection(cast(ProjectionType, projection_type), tuple(non_key or ()))


def _check_projected_total(indexes: Iterable[IndexSchema]) -> None:
    # The same attribute projected into two indexes counts twice (model docs).
    total = sum(len(index.projection.non_key_attributes) for index in indexes)
    if total > MAX_PROJECTED_ATTRIBUTES:
        _fail(
            INVALID + "Number of projected attributes in all indexes exceeds limit of "
            f"{MAX_PROJECTED_ATTRIBUTES}, number of projected attributes:{total}"
        )


def _table_capacity(throughput: Mapping[str, Any]) -> tuple[int, int]:
    read, write = throughput["ReadCapacityUnits"], throughput["WriteCapacityUnits"]
    if read > MAX_CAPACITY_UNITS:
        _fail(f"Given value {read} for ReadCapacityUnits is out of bounds")
    if write > MAX_CAPACITY_UNITS:
        _fail(f"Given value {write} for WriteCapacityUnits is out of bounds")
    return int(read), int(write)


def _global_index(
    raw: Mapping[str, Any],
    types: Mapping[str, KeyType],
    billing_mode: str,
    path: str,
) -> IndexSchema:
    name: str = raw["IndexName"]
    elements = raw["KeySchema"]
    _check_key_length(elements, path)
    _check_defined([e["AttributeName"] for e in elements], list(types))
    _check_key_elements(elements)
    projection = _projection(raw["Projection"])
    throughput = raw.get("ProvisionedThroughput")
    if billing_mode == "PAY_PER_REQUEST":
        if throughput is not None:
            _fail(
                INVALID + f"ProvisionedThroughput should not be specified for index: {name} "
                "when BillingMode is PAY_PER_REQUEST"
            )
        return IndexSchema(name, _key_schema(elements, types), projection, is_global=True)
    if throughput is None:
        _fail(INVALID + f"ProvisionedThroughput must be specified for index: {name}")
    read, write = int(throughput["ReadCapacityUnits"]), int(throughput["WriteCapacityUnits"])
    return IndexSchema(name, _key_schema(elements, types), projection, True, read, write)


def _local_index(
    raw: Mapping[str, Any], table_key: KeySchema, types: Mapping[str, KeyType], path: str
) -> IndexSchema:
    name: str = raw["IndexName"]
    elements = raw["KeySchema"]
    _check_key_length(elements, path)
    _check_defined([e["AttributeName"] for e in elements], list(types))
    _check_key_elements(elements)
    if len(elements) != 2:
        _fail(INVALID + f"Index KeySchema does not have a range key for index: {name}")
    index_hash = elements[0]["AttributeName"]
    if index_hash != table_key.hash_name:
        _fail(
            INVALID + "Index KeySchema does not have the same leading hash key as table KeySchema "
            f"for index: {name}. index hash key: {index_hash}, table hash key: {table_key.hash_name}"
        )
    projection = _projection(raw["Projection"])
    return IndexSchema(name, _key_schema(elements, types), projection, is_global=False)


def _stream_spec(raw: Mapping[str, Any]) -> StreamSpec:
    view_type = raw.get("StreamViewType")
    if raw["StreamEnabled"]:
        if view_type is None:
            _fail(INVALID + "If stream is being enabled then UpdateViewType is required")
        return StreamSpec(True, view_type)
    if view_type is not None:
        _fail(INVALID + "If stream is being disabled, then UpdateViewType must not be specified")
    return StreamSpec(False)


def _sse_spec(raw: Mapping[str, Any]) -> SseSpec:
    # Enabled=true means KMS; SSEType=KMS alone asks for the same thing.
    enabled = raw.get("Enabled")
    if enabled is None:
        enabled = raw.get("SSEType") == "KMS"
    if not enabled:
        return SseSpec(False)
    return SseSpec(True, "KMS", raw.get("KMSMasterKeyId"))


def _tags(raw: Sequence[Mapping[str, Any]]) -> tuple[tuple[str, str], ...]:
    # A repeated key keeps the last value, as TagResource overwrites an existing key.
    tags = {tag["Key"]: tag["Value"] for tag in raw}
    if len(tags) > MAX_TAGS:
        _fail(INVALID + f"The number of tags exceeds the limit of {MAX_TAGS}")
    return tuple(tags.items())


# --- CreateTable ---------------------------------------------------------------------------


def _check_required_key_members(body: Mapping[str, Any]) -> None:
    # The public model no longer marks these required (GlobalTableSourceArn); DynamoDB does.
    paths = {"AttributeDefinitions": "attributeDefinitions", "KeySchema": "keySchema"}
    errors = [
        f"Value null at '{path}' failed to satisfy constraint: Member must not be null"
        for member, path in paths.items()
        if body.get(member) is None
    ]
    if errors:
        plural = "s" if len(errors) > 1 else ""
        _fail(f"{len(errors)} validation error{plural} detected: " + "; ".join(errors))


def parse_create_table(body: Mapping[str, Any]) -> TableDefinition:
    """Validate a CreateTable request (already type-checked) into a TableDefinition."""
    _check_required_key_members(body)
    billing_mode: BillingMode = body.get("BillingMode") or "PROVISIONED"
    throughput = body.get("ProvisionedThroughput")
    read: int | None = None
    write: int | None = None
    if billing_mode == "PAY_PER_REQUEST":
        if throughput is not None:
            _fail(
                INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified "
                "when BillingMode is PAY_PER_REQUEST"
            )
    elif throughput is None:
        _fail(
            INVALID + "ReadCapacityUnits and WriteCapacityUnits must both be specified "
            "when BillingMode is PROVISIONED"
        )
    else:
        read, write = _table_capacity(throughput)

    definitions = body["AttributeDefinitions"]
    elements = body["KeySchema"]
    _check_key_length(elements, "keySchema")
    defined = [d["AttributeName"] for d in definitions]
    keys = [e["AttributeName"] for e in elements]
    if len(keys) > len(defined):
        _fail("Invalid KeySchema: Some index key attribute have no definition")
    _check_defined(keys, defined)
    _check_key_elements(elements)
    raw_lsis = body.get("LocalSecondaryIndexes")
    raw_gsis = body.get("GlobalSecondaryIndexes")
    if raw_lsis is None and raw_gsis is None and len(keys) != len(defined):
        _fail(
            INVALID + "Number of attributes in KeySchema does not exactly match number of "
            "attributes defined in AttributeDefinitions"
        )
    if len(set(defined)) != len(defined):
        _fail("Cannot have two attributes with the same name")
    types: dict[str, KeyType] = {d["AttributeName"]: d["AttributeType"] for d in definitions}
    table_key = _key_schema(elements, types)

    seen: set[str] = set()

    def unique(index: IndexSchema) -> IndexSchema:
        if index.name in seen:
            _fail(INVALID + f"Duplicate index name: {index.name}")
        seen.add(index.name)
        return index

    lsis: list[IndexSchema] = []
    if raw_lsis is not None:
        if not raw_lsis:
            _fail(INVALID + "List of LocalSecondaryIndexes is empty")
        if table_key.range_name is None:
            _fail(
                INVALID + "Table KeySchema does not have a range key, which is required when "
                "specifying a LocalSecondaryIndex"
            )
        for i, raw in enumerate(raw_lsis, 1):
            path = f"localSecondaryIndexes.{i}.member.keySchema"
            lsis.append(unique(_local_index(raw, table_key, types, path)))
        if len(lsis) > MAX_LOCAL_INDEXES:
            _fail(
                INVALID + "Number of LocalSecondaryIndexes exceeds per-table limit of "
                f"{MAX_LOCAL_INDEXES}"
            )
    gsis: list[IndexSchema] = []
    if raw_gsis is not None:
        if not raw_gsis:
            _fail(INVALID + "List of GlobalSecondaryIndexes is empty")
        for i, raw in enumerate(raw_gsis, 1):
            path = f"globalSecondaryIndexes.{i}.member.keySchema"
            gsis.append(unique(_global_index(raw, types, billing_mode, path)))
        if len(gsis) > MAX_GLOBAL_INDEXES:
            _fail(
                INVALID + "GlobalSecondaryIndex count exceeds the per-table limit of "
                f"{MAX_GLOBAL_INDEXES}"
            )

    used = list(dict.fromkeys([*keys, *(n for ix in (*lsis, *gsis) for n in ix.key.names)]))
    if len(used) != len(defined):
        _fail(
            INVALID + f"Some AttributeDefinitions are not used. AttributeDefinitions: "
            f"[{', '.join(defined)}], keys used: [{', '.join(used)}]"
        )
    _check_projected_total((*lsis, *gsis))

    stream = None
    if (raw_stream := body.get("StreamSpecification")) is not None:
        stream = _stream_spec(raw_stream)
        if not stream.enabled:
            stream = None  # accepted, and the table simply has no stream
    raw_sse = body.get("SSESpecification")
    sse = None if raw_sse is None else _sse_spec(raw_sse)
    return TableDefinition(
        name=table_name_of(body["TableName"]),  # CreateTable takes an ARN too (botocore TableArn)
        key=table_key,
        attribute_definitions=tuple(types.items()),
        local_indexes=tuple(lsis),
        global_indexes=tuple(gsis),
        billing_mode=billing_mode,
        read_capacity=read,
        write_capacity=write,
        stream=stream,
        sse_enabled=None if sse is None else sse.enabled,
        sse_type=None if sse is None else sse.sse_type,
        kms_master_key_id=None if sse is None else sse.kms_master_key_id,
        table_class=body.get("TableClass"),
        deletion_protection=bool(body.get("DeletionProtectionEnabled", False)),
        tags=_tags(body.get("Tags") or ()),
    )


# --- UpdateTable ---------------------------------------------------------------------------


def _index_actions(updates: Sequence[Mapping[str, Any]]) -> list[tuple[str, Mapping[str, Any]]]:
    """(action, payload) per GlobalSecondaryIndexUpdate, checking one action per index."""
    actions: list[tuple[str, Mapping[str, Any]]] = []
    names: set[str] = set()
    for update in updates:
        present = [a for a in ("Update", "Create", "Delete") if update.get(a) is not None]
        if not present:
            _fail(
                INVALID
                + "One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, "
                "GlobalSecondaryIndexUpdate.Delete must not be null"
            )
        if len(present) > 1:
            _fail(
                INVALID + "Only one of GlobalSecondaryIndexUpdate.Update, "
                "GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete can be specified"
            )
        payload = update[present[0]]
        name = payload["IndexName"]
        if name in names:
            _fail(
                INVALID + "Only one global secondary index update per index is allowed "
                f"simultaneously. Index: {name}"
            )
        names.add(name)
        actions.append((present[0], payload))
    return actions


def _unchanged_throughput(
    current_read: int | None, current_write: int | None, read: int, write: int
) -> str:
    return (
        "The provisioned throughput for the table will not change. The requested value equals the "
        f"current value. Current ReadCapacityUnits provisioned for the table: {current_read}. "
        f"Requested ReadCapacityUnits: {read}. Current WriteCapacityUnits provisioned for the table: "
        f"{current_write}. Requested WriteCapacityUnits: {write}. Refer to the Amazon DynamoDB "
        "Developer Guide for current limits and how to request higher limits."
    )


def _merged_types(
    raw_definitions: Sequence[Mapping[str, Any]], current: TableDefinition
) -> dict[str, KeyType]:
    # New index keys may use attributes the table already defines; a redefinition must agree.
    types: dict[str, KeyType] = dict(current.attribute_definitions)
    for definition in raw_definitions:
        name, type_ = definition["AttributeName"], definition["AttributeType"]
        if types.get(name, type_) != type_:
            _fail(INVALID + f"Attribute {name} is already defined with type {types[name]}")
        types[name] = type_
    return types


def parse_update_table(
    body: Mapping[str, Any], current: TableDefinition, *, stream_enabled: bool
) -> TableUpdate:
    """Validate an UpdateTable request (already type-checked) against the table as stored."""
    raw_updates = body.get("GlobalSecondaryIndexUpdates") or ()
    if not raw_updates and all(body.get(m) is None for m in _UPDATE_MEMBERS):
        _fail(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
            "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required"
        )
    requested_mode: BillingMode | None = body.get("BillingMode")
    throughput = body.get("ProvisionedThroughput")
    if requested_mode == "PROVISIONED" and throughput is None:
        _fail(INVALID + "ProvisionedThroughput must be specified when BillingMode is PROVISIONED")
    read = write = None
    if throughput is not None:
        read, write = _table_capacity(throughput)
    actions = _index_actions(raw_updates)
    raw_stream = body.get("StreamSpecification")
    stream = None if raw_stream is None else _stream_spec(raw_stream)
    # Only a billing-mode switch may travel with a stream change, not a capacity change.
    if stream is not None and throughput is not None:
        _fail("cannot modify stream status while updating table IOPS")
    mode: BillingMode = requested_mode or current.billing_mode
    if throughput is not None and mode == "PAY_PER_REQUEST":
        _fail(
            INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified "
            "when BillingMode is PAY_PER_REQUEST"
        )
    if sum(1 for action, _ in actions if action != "Update") > 1:
        raise LimitExceededException(
            "Subscriber limit exceeded: Only 1 online index can be created or deleted "
            "simultaneously per table"
        )

    existing = {index.name: index for index in current.global_indexes}
    local_names = {index.name for index in current.local_indexes}
    types = _merged_types(body.get("AttributeDefinitions") or (), current)
    creates: list[IndexSchema] = []
    deletes: list[str] = []
    updates: list[tuple[str, int, int]] = []
    for i, (action, payload) in enumerate(actions, 1):
        name = payload["IndexName"]
        if action == "Create":
            if name in existing or name in local_names:
                _fail("Attempting to create an index which already exists")
            path = f"globalSecondaryIndexUpdates.{i}.member.create.keySchema"
            creates.append(_global_index(payload, types, mode, path))
            continue
        if name not in existing:
            raise ResourceNotFoundException("Requested resource not found")
        if action == "Delete":
            deletes.append(name)
            continue
        index_throughput = payload.get("ProvisionedThroughput")
        if index_throughput is None:
            continue  # OnDemandThroughput / WarmThroughput only: nothing we keep
        if mode == "PAY_PER_REQUEST":
            _fail(
                INVALID + f"ProvisionedThroughput should not be specified for index: {name} "
                "when BillingMode is PAY_PER_REQUEST"
            )
        index_read = index_throughput["ReadCapacityUnits"]
        index_write = index_throughput["WriteCapacityUnits"]
        if max(index_read, index_write) > MAX_CAPACITY_UNITS:
            _fail(
                "This operation cannot be performed with given input values. Please contact "
                "DynamoDB service team for more info: Action Blocked: IndexUpdate"
            )
        updates.append((name, int(index_read), int(index_write)))

    switching = requested_mode is not None and requested_mode != current.billing_mode
    if switching and mode == "PROVISIONED":
        updated = {name for name, _, _ in updates}
        remaining = [n for n in existing if n not in updated and n not in deletes]
        if remaining:
            _fail(
                INVALID
                + f"ProvisionedThroughput must be specified for index: {','.join(remaining)}"
            )
    elif mode == "PROVISIONED":
        # (current read, current write, requested read, requested write), table first
        changes = [
            (existing[n].read_capacity, existing[n].write_capacity, r, w) for n, r, w in updates
        ]
        if read is not None and write is not None:
            changes.insert(0, (current.read_capacity, current.write_capacity, read, write))
        for old_read, old_write, new_read, new_write in changes:
            # dynalite (our reference) words an unchanged index like an unchanged table.
            if (old_read, old_write) == (new_read, new_write):
                _fail(_unchanged_throughput(old_read, old_write, new_read, new_write))

    if creates:
        kept = [ix for ix in current.global_indexes if ix.name not in deletes]
        if len(kept) + len(creates) > MAX_GLOBAL_INDEXES:
            _fail(
                INVALID + "GlobalSecondaryIndex count exceeds the per-table limit of "
                f"{MAX_GLOBAL_INDEXES}"
            )
        _check_projected_total((*current.local_indexes, *kept, *creates))

    if stream is not None:
        if stream.enabled and stream_enabled:
            _fail(f"Table already has an enabled stream: TableName: {current.name}")
        if not stream.enabled and not stream_enabled:
            _fail(f"Table has no stream to disable: TableName: {current.name}")

    raw_sse = body.get("SSESpecification")
    sse = None if raw_sse is None else _sse_spec(raw_sse)
    if sse is not None and not sse.enabled and not current.sse_enabled:
        _fail("Table is already encrypted by default")

    known = dict(current.attribute_definitions)
    new_names = dict.fromkeys(n for ix in creates for n in ix.key.names if n not in known)
    return TableUpdate(
        billing_mode=requested_mode if switching else None,
        read_capacity=read,
        write_capacity=write,
        stream=stream,
        create_indexes=tuple(creates),
        delete_indexes=tuple(deletes),
        update_indexes=tuple(updates),
        new_attribute_definitions=tuple((n, types[n]) for n in new_names),
        sse=sse,
        table_class=body.get("TableClass"),
        deletion_protection=body.get("DeletionProtectionEnabled"),
    )
