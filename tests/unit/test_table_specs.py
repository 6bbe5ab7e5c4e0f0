"""CreateTable / UpdateTable semantic validation: exact DynamoDB texts and the values they produce."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from rivulet.api.table_specs import (
    SseSpec,
    TableUpdate,
    parse_create_table,
    parse_update_table,
)
from rivulet.core.schema import IndexSchema, KeySchema, Projection, StreamSpec, TableDefinition
from rivulet.errors import (
    DynamoError,
    LimitExceededException,
    ResourceNotFoundException,
    ValidationException,
)

INVALID = "One or more parameter values were invalid: "
PT = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}


def attr(name: str, type_: str = "S") -> dict[str, str]:
    return {"AttributeName": name, "AttributeType": type_}


def key(*names: str, types: tuple[str, ...] = ("HASH", "RANGE")) -> list[dict[str, str]]:
    return [{"AttributeName": n, "KeyType": t} for n, t in zip(names, types, strict=False)]


def gsi(
    name: str, *keys: str, projection: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": key(*keys),
        "Projection": projection or {"ProjectionType": "ALL"},
        **extra,
    }


def create(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "TableName": "t",
        "AttributeDefinitions": [attr("id")],
        "KeySchema": key("id"),
        "BillingMode": "PAY_PER_REQUEST",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def create_error(body: dict[str, Any], cls: type[DynamoError] = ValidationException) -> str:
    with pytest.raises(cls) as info:
        parse_create_table(body)
    assert type(info.value) is cls
    return str(info.value.message)


# --- CreateTable: happy paths --------------------------------------------------------------


def test_create_table_minimal_on_demand() -> None:
    assert parse_create_table(create()) == TableDefinition(
        name="t",
        key=KeySchema("id", "S"),
        attribute_definitions=(("id", "S"),),
        billing_mode="PAY_PER_REQUEST",
    )


def test_create_table_provisioned_defaults_billing_mode() -> None:
    body = create(
        BillingMode=None, ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4}
    )
    table = parse_create_table(body)
    assert (table.billing_mode, table.read_capacity, table.write_capacity) == ("PROVISIONED", 3, 4)


def test_create_table_full_definition() -> None:
    body = create(
        AttributeDefinitions=[attr("pk"), attr("sk", "N"), attr("lsk", "B"), attr("g", "N")],
        KeySchema=key("pk", "sk"),
        BillingMode="PROVISIONED",
        ProvisionedThroughput=PT,
        LocalSecondaryIndexes=[
            gsi(
                "lsi1",
                "pk",
                "lsk",
                projection={"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a", "b"]},
            )
        ],
        GlobalSecondaryIndexes=[
            gsi(
                "gsi1",
                "g",
                projection={"ProjectionType": "KEYS_ONLY"},
                ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 2},
            )
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        SSESpecification={"Enabled": True, "KMSMasterKeyId": "alias/k"},
        Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": ""}, {"Key": "a", "Value": "2"}],
        TableClass="STANDARD_INFREQUENT_ACCESS",
        DeletionProtectionEnabled=True,
    )
    assert parse_create_table(body) == TableDefinition(
        name="t",
        key=KeySchema("pk", "S", "sk", "N"),
        attribute_definitions=(("pk", "S"), ("sk", "N"), ("lsk", "B"), ("g", "N")),
        local_indexes=(
            IndexSchema(
                "lsi1", KeySchema("pk", "S", "lsk", "B"), Projection("INCLUDE", ("a", "b")), False
            ),
        ),
        global_indexes=(
            IndexSchema("gsi1", KeySchema("g", "N"), Projection("KEYS_ONLY"), True, 1, 2),
        ),
        billing_mode="PROVISIONED",
        read_capacity=5,
        write_capacity=5,
        stream=StreamSpec(True, "NEW_AND_OLD_IMAGES"),
        sse_enabled=True,
        sse_type="KMS",
        kms_master_key_id="alias/k",
        table_class="STANDARD_INFREQUENT_ACCESS",
        deletion_protection=True,
        tags=(("a", "2"), ("b", "")),
    )


def test_create_table_disabled_stream_means_no_stream() -> None:
    # DynamoDB accepts {StreamEnabled: false} on CreateTable and describes the table without a stream.
    assert parse_create_table(create(StreamSpecification={"StreamEnabled": False})).stream is None


def test_create_table_sse_disabled_uses_owned_key() -> None:
    table = parse_create_table(create(SSESpecification={"Enabled": False}))
    assert (table.sse_enabled, table.sse_type, table.kms_master_key_id) == (False, None, None)


def test_create_table_sse_type_kms_alone_enables_kms() -> None:
    table = parse_create_table(create(SSESpecification={"SSEType": "KMS"}))
    assert (table.sse_enabled, table.sse_type) == (True, "KMS")


def test_create_table_gsi_may_reuse_table_keys() -> None:
    body = create(AttributeDefinitions=[attr("id")], GlobalSecondaryIndexes=[gsi("byid", "id")])
    assert parse_create_table(body).global_indexes == (
        IndexSchema("byid", KeySchema("id", "S"), Projection("ALL"), True),
    )


# --- CreateTable: errors -------------------------------------------------------------------


def test_create_table_missing_key_schema_and_definitions() -> None:
    body = {"TableName": "t", "BillingMode": "PAY_PER_REQUEST"}
    assert create_error(body) == (
        "2 validation errors detected: Value null at 'attributeDefinitions' failed to satisfy "
        "constraint: Member must not be null; Value null at 'keySchema' failed to satisfy "
        "constraint: Member must not be null"
    )
    assert create_error({**body, "AttributeDefinitions": []}) == (
        "1 validation error detected: Value null at 'keySchema' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_create_table_pay_per_request_with_throughput() -> None:
    assert create_error(create(ProvisionedThroughput=PT)) == (
        INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when "
        "BillingMode is PAY_PER_REQUEST"
    )


@pytest.mark.parametrize("mode", [None, "PROVISIONED"])
def test_create_table_provisioned_without_throughput(mode: str | None) -> None:
    assert create_error(create(BillingMode=mode)) == (
        INVALID + "ReadCapacityUnits and WriteCapacityUnits must both be specified when "
        "BillingMode is PROVISIONED"
    )


def test_create_table_capacity_out_of_bounds() -> None:
    big = 1_000_000_000_001
    body = create(
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": big, "WriteCapacityUnits": 1},
    )
    assert create_error(body) == f"Given value {big} for ReadCapacityUnits is out of bounds"
    body["ProvisionedThroughput"] = {"ReadCapacityUnits": 1, "WriteCapacityUnits": big}
    assert create_error(body) == f"Given value {big} for WriteCapacityUnits is out of bounds"


def test_create_table_key_schema_longer_than_two() -> None:
    body = create(
        AttributeDefinitions=[attr("a"), attr("b"), attr("c")],
        KeySchema=key("a", "b", "c", types=("HASH", "RANGE", "RANGE")),
    )
    assert create_error(body) == (
        "1 validation error detected: Value '[KeySchemaElement(attributeName=a, keyType=HASH), "
        "KeySchemaElement(attributeName=b, keyType=RANGE), KeySchemaElement(attributeName=c, "
        "keyType=RANGE)]' at 'keySchema' failed to satisfy constraint: Member must have length "
        "less than or equal to 2"
    )


def test_create_table_more_keys_than_definitions() -> None:
    body = create(KeySchema=key("id", "sk"))
    assert create_error(body) == "Invalid KeySchema: Some index key attribute have no definition"


def test_create_table_key_not_defined() -> None:
    body = create(KeySchema=key("x"))
    assert create_error(body) == (
        INVALID + "Some index key attributes are not defined in AttributeDefinitions. "
        "Keys: [x], AttributeDefinitions: [id]"
    )


def test_create_table_hash_and_range_same_name() -> None:
    body = create(AttributeDefinitions=[attr("id"), attr("x")], KeySchema=key("id", "id"))
    assert create_error(body) == (
        "Both the Hash Key and the Range Key element in the KeySchema have the same name"
    )


def test_create_table_first_element_not_hash() -> None:
    body = create(KeySchema=key("id", types=("RANGE",)))
    assert (
        create_error(body) == "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"
    )


def test_create_table_second_element_not_range() -> None:
    body = create(
        AttributeDefinitions=[attr("id"), attr("sk")],
        KeySchema=key("id", "sk", types=("HASH", "HASH")),
    )
    assert (
        create_error(body)
        == "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"
    )


def test_create_table_unused_definition_without_indexes() -> None:
    body = create(AttributeDefinitions=[attr("id"), attr("other")])
    assert create_error(body) == (
        INVALID + "Number of attributes in KeySchema does not exactly match number of attributes "
        "defined in AttributeDefinitions"
    )


def test_create_table_unused_definition_with_indexes() -> None:
    body = create(
        AttributeDefinitions=[attr("id"), attr("g"), attr("other")],
        GlobalSecondaryIndexes=[gsi("gi1", "g")],
    )
    assert create_error(body) == (
        INVALID + "Some AttributeDefinitions are not used. AttributeDefinitions: [id, g, other], "
        "keys used: [id, g]"
    )


def test_create_table_duplicate_definitions() -> None:
    body = create(
        AttributeDefinitions=[attr("id"), attr("id", "N"), attr("g")],
        GlobalSecondaryIndexes=[gsi("gi1", "g")],
    )
    assert create_error(body) == "Cannot have two attributes with the same name"


# --- CreateTable: local secondary indexes --------------------------------------------------


def lsi_table(*lsis: dict[str, Any]) -> dict[str, Any]:
    return create(
        AttributeDefinitions=[attr("pk"), attr("sk"), attr("x")],
        KeySchema=key("pk", "sk"),
        LocalSecondaryIndexes=list(lsis),
    )


def test_create_table_lsi_empty_list() -> None:
    assert create_error(lsi_table()) == INVALID + "List of LocalSecondaryIndexes is empty"


def test_create_table_lsi_requires_table_range_key() -> None:
    body = create(
        AttributeDefinitions=[attr("pk"), attr("x")],
        KeySchema=key("pk"),
        LocalSecondaryIndexes=[gsi("lsi", "pk", "x")],
    )
    assert create_error(body) == (
        INVALID + "Table KeySchema does not have a range key, which is required when specifying "
        "a LocalSecondaryIndex"
    )


def test_create_table_lsi_key_not_defined() -> None:
    assert create_error(lsi_table(gsi("lsi", "pk", "nope"))) == (
        INVALID + "Some index key attributes are not defined in AttributeDefinitions. "
        "Keys: [pk, nope], AttributeDefinitions: [pk, sk, x]"
    )


def test_create_table_lsi_key_schema_errors() -> None:
    assert create_error(lsi_table(gsi("lsi", "x", "x"))) == (
        "Both the Hash Key and the Range Key element in the KeySchema have the same name"
    )
    bad_first = {**gsi("lsi", "pk", "x"), "KeySchema": key("pk", "x", types=("RANGE", "RANGE"))}
    assert create_error(lsi_table(bad_first)) == (
        "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"
    )
    bad_second = {**gsi("lsi", "pk", "x"), "KeySchema": key("pk", "x", types=("HASH", "HASH"))}
    assert create_error(lsi_table(bad_second)) == (
        "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"
    )


def test_create_table_lsi_requires_range_key() -> None:
    assert create_error(lsi_table(gsi("lsi", "pk"), gsi("lsi2", "pk", "x"))) == (
        INVALID + "Index KeySchema does not have a range key for index: lsi"
    )


def test_create_table_lsi_must_share_hash_key() -> None:
    assert create_error(lsi_table(gsi("lsi", "x", "sk"))) == (
        INVALID + "Index KeySchema does not have the same leading hash key as table KeySchema "
        "for index: lsi. index hash key: x, table hash key: pk"
    )


def test_create_table_projection_type_missing() -> None:
    assert create_error(
        lsi_table(gsi("lsi", "pk", "x", projection={"NonKeyAttributes": ["a"]}))
    ) == (INVALID + "Unknown ProjectionType: null")


@pytest.mark.parametrize("projection_type", ["ALL", "KEYS_ONLY"])
def test_create_table_non_key_attributes_need_include(projection_type: str) -> None:
    projection = {"ProjectionType": projection_type, "NonKeyAttributes": ["a"]}
    assert create_error(lsi_table(gsi("lsi", "pk", "x", projection=projection))) == (
        INVALID + f"ProjectionType is {projection_type}, but NonKeyAttributes is specified"
    )


def test_create_table_duplicate_index_name_across_kinds() -> None:
    body = lsi_table(gsi("idx", "pk", "x"))
    body["GlobalSecondaryIndexes"] = [gsi("idx", "x")]
    assert create_error(body) == INVALID + "Duplicate index name: idx"


def test_create_table_too_many_lsis() -> None:
    body = lsi_table(*(gsi(f"lsi{i}", "pk", "x") for i in range(6)))
    assert create_error(body) == (
        INVALID + "Number of LocalSecondaryIndexes exceeds per-table limit of 5"
    )


# --- CreateTable: global secondary indexes -------------------------------------------------


def test_create_table_gsi_empty_list() -> None:
    assert create_error(create(GlobalSecondaryIndexes=[])) == (
        INVALID + "List of GlobalSecondaryIndexes is empty"
    )


def test_create_table_gsi_key_not_defined() -> None:
    assert create_error(create(GlobalSecondaryIndexes=[gsi("gi1", "g")])) == (
        INVALID + "Some index key attributes are not defined in AttributeDefinitions. "
        "Keys: [g], AttributeDefinitions: [id]"
    )


def test_create_table_gsi_key_schema_longer_than_two() -> None:
    index = gsi("gi1", "id")
    index["KeySchema"] = key("id", "id", "id", types=("HASH", "RANGE", "RANGE"))
    assert create_error(create(GlobalSecondaryIndexes=[index])) == (
        "1 validation error detected: Value '[KeySchemaElement(attributeName=id, keyType=HASH), "
        "KeySchemaElement(attributeName=id, keyType=RANGE), KeySchemaElement(attributeName=id, "
        "keyType=RANGE)]' at 'globalSecondaryIndexes.1.member.keySchema' failed to satisfy "
        "constraint: Member must have length less than or equal to 2"
    )


def test_create_table_gsi_throughput_on_demand() -> None:
    body = create(GlobalSecondaryIndexes=[gsi("gi1", "id", ProvisionedThroughput=PT)])
    assert create_error(body) == (
        INVALID + "ProvisionedThroughput should not be specified for index: gi1 when BillingMode "
        "is PAY_PER_REQUEST"
    )


def test_create_table_gsi_throughput_missing_on_provisioned() -> None:
    body = create(
        BillingMode="PROVISIONED",
        ProvisionedThroughput=PT,
        GlobalSecondaryIndexes=[gsi("gi1", "id")],
    )
    assert create_error(body) == INVALID + "ProvisionedThroughput must be specified for index: gi1"


def test_create_table_duplicate_gsi_name() -> None:
    body = create(GlobalSecondaryIndexes=[gsi("gi1", "id"), gsi("gi1", "id")])
    assert create_error(body) == INVALID + "Duplicate index name: gi1"


def test_create_table_too_many_gsis() -> None:
    body = create(GlobalSecondaryIndexes=[gsi(f"gi{i}", "id") for i in range(21)])
    assert (
        create_error(body)
        == INVALID + "GlobalSecondaryIndex count exceeds the per-table limit of 20"
    )


def test_create_table_projected_attributes_limit() -> None:
    # NonKeyAttributes summed over all indexes may not exceed 100; repeats count again.
    include = {"ProjectionType": "INCLUDE", "NonKeyAttributes": [f"a{i}" for i in range(20)]}
    ok = create(GlobalSecondaryIndexes=[gsi(f"gi{i}", "id", projection=include) for i in range(5)])
    assert len(parse_create_table(ok).global_indexes) == 5
    body = create(
        GlobalSecondaryIndexes=[gsi(f"gi{i}", "id", projection=include) for i in range(6)]
    )
    assert create_error(body) == (
        INVALID + "Number of projected attributes in all indexes exceeds limit of 100, number of "
        "projected attributes:120"
    )


# --- CreateTable: streams, tags ------------------------------------------------------------


def test_create_table_stream_enabled_without_view_type() -> None:
    assert create_error(create(StreamSpecification={"StreamEnabled": True})) == (
        INVALID + "If stream is being enabled then UpdateViewType is required"
    )


def test_create_table_stream_disabled_with_view_type() -> None:
    body = create(StreamSpecification={"StreamEnabled": False, "StreamViewType": "KEYS_ONLY"})
    assert create_error(body) == (
        INVALID + "If stream is being disabled, then UpdateViewType must not be specified"
    )


def test_create_table_too_many_tags() -> None:
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    assert len(parse_create_table(create(Tags=tags[:50])).tags) == 50
    assert create_error(create(Tags=tags)) == INVALID + "The number of tags exceeds the limit of 50"


# --- UpdateTable ---------------------------------------------------------------------------

PROVISIONED_TABLE = TableDefinition(
    name="orders",
    key=KeySchema("pk", "S", "sk", "S"),
    attribute_definitions=(("pk", "S"), ("sk", "S"), ("g", "N")),
    local_indexes=(IndexSchema("lsi1", KeySchema("pk", "S", "g", "N"), Projection(), False),),
    global_indexes=(
        IndexSchema("gi1", KeySchema("g", "N"), Projection(), True, 5, 5),
        IndexSchema("gi2", KeySchema("sk", "S"), Projection("KEYS_ONLY"), True, 2, 2),
    ),
    billing_mode="PROVISIONED",
    read_capacity=5,
    write_capacity=5,
)
ON_DEMAND_TABLE = replace(
    PROVISIONED_TABLE,
    billing_mode="PAY_PER_REQUEST",
    read_capacity=None,
    write_capacity=None,
    global_indexes=tuple(
        replace(ix, read_capacity=None, write_capacity=None)
        for ix in PROVISIONED_TABLE.global_indexes
    ),
)


def update(
    body: dict[str, Any],
    table: TableDefinition = PROVISIONED_TABLE,
    *,
    stream_enabled: bool = False,
) -> TableUpdate:
    return parse_update_table(
        {"TableName": table.name, **body}, table, stream_enabled=stream_enabled
    )


def update_error(
    body: dict[str, Any],
    table: TableDefinition = PROVISIONED_TABLE,
    *,
    stream_enabled: bool = False,
    cls: type[DynamoError] = ValidationException,
) -> str:
    with pytest.raises(cls) as info:
        update(body, table, stream_enabled=stream_enabled)
    assert type(info.value) is cls
    return str(info.value.message)


def create_action(name: str, *keys: str, **extra: Any) -> dict[str, Any]:
    return {"Create": gsi(name, *keys, **extra)}


NOTHING = (
    "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
    "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required"
)


@pytest.mark.parametrize(
    "body", [{}, {"GlobalSecondaryIndexUpdates": []}, {"AttributeDefinitions": [attr("x")]}]
)
def test_update_table_nothing_to_update(body: dict[str, Any]) -> None:
    assert update_error(body) == NOTHING


def test_update_table_simple_flags() -> None:
    assert update({"DeletionProtectionEnabled": True, "TableClass": "STANDARD"}) == TableUpdate(
        table_class="STANDARD", deletion_protection=True
    )
    # Members we accept but do not model still count as "something to update".
    assert update({"OnDemandThroughput": {"MaxReadRequestUnits": 10}}) == TableUpdate()


def test_update_table_throughput() -> None:
    body = {"ProvisionedThroughput": {"ReadCapacityUnits": 6, "WriteCapacityUnits": 5}}
    assert update(body) == TableUpdate(read_capacity=6, write_capacity=5)


def test_update_table_throughput_unchanged() -> None:
    assert update_error({"ProvisionedThroughput": PT}) == (
        "The provisioned throughput for the table will not change. The requested value equals the "
        "current value. Current ReadCapacityUnits provisioned for the table: 5. Requested "
        "ReadCapacityUnits: 5. Current WriteCapacityUnits provisioned for the table: 5. Requested "
        "WriteCapacityUnits: 5. Refer to the Amazon DynamoDB Developer Guide for current limits "
        "and how to request higher limits."
    )


def test_update_table_index_throughput_unchanged() -> None:
    body = {
        "GlobalSecondaryIndexUpdates": [
            {
                "Update": {
                    "IndexName": "gi2",
                    "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 2},
                }
            }
        ]
    }
    assert update_error(body) == (
        "The provisioned throughput for the table will not change. The requested value equals the "
        "current value. Current ReadCapacityUnits provisioned for the table: 2. Requested "
        "ReadCapacityUnits: 2. Current WriteCapacityUnits provisioned for the table: 2. Requested "
        "WriteCapacityUnits: 2. Refer to the Amazon DynamoDB Developer Guide for current limits "
        "and how to request higher limits."
    )


def test_update_table_throughput_out_of_bounds() -> None:
    body = {
        "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 2_000_000_000_000}
    }
    assert update_error(body) == "Given value 2000000000000 for WriteCapacityUnits is out of bounds"


def test_update_table_index_throughput_out_of_bounds() -> None:
    body = {
        "GlobalSecondaryIndexUpdates": [
            {
                "Update": {
                    "IndexName": "gi1",
                    "ProvisionedThroughput": {
                        "ReadCapacityUnits": 2_000_000_000_000,
                        "WriteCapacityUnits": 1,
                    },
                }
            }
        ]
    }
    assert update_error(body) == (
        "This operation cannot be performed with given input values. Please contact DynamoDB "
        "service team for more info: Action Blocked: IndexUpdate"
    )


def test_update_table_provisioned_mode_requires_throughput() -> None:
    assert update_error({"BillingMode": "PROVISIONED"}, ON_DEMAND_TABLE) == (
        INVALID + "ProvisionedThroughput must be specified when BillingMode is PROVISIONED"
    )


@pytest.mark.parametrize(
    ("body", "table"),
    [
        ({"ProvisionedThroughput": PT}, ON_DEMAND_TABLE),
        ({"ProvisionedThroughput": PT, "BillingMode": "PAY_PER_REQUEST"}, PROVISIONED_TABLE),
    ],
)
def test_update_table_throughput_on_demand(body: dict[str, Any], table: TableDefinition) -> None:
    assert update_error(body, table) == (
        INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when "
        "BillingMode is PAY_PER_REQUEST"
    )


def test_update_table_switch_to_on_demand() -> None:
    assert update({"BillingMode": "PAY_PER_REQUEST"}) == TableUpdate(billing_mode="PAY_PER_REQUEST")
    # Asking for the mode the table already has is not a switch.
    assert update({"BillingMode": "PAY_PER_REQUEST"}, ON_DEMAND_TABLE) == TableUpdate()


def test_update_table_switch_to_provisioned_needs_every_index() -> None:
    body: dict[str, Any] = {"BillingMode": "PROVISIONED", "ProvisionedThroughput": PT}
    assert update_error(body, ON_DEMAND_TABLE) == (
        INVALID + "ProvisionedThroughput must be specified for index: gi1,gi2"
    )
    body["GlobalSecondaryIndexUpdates"] = [
        {"Update": {"IndexName": "gi1", "ProvisionedThroughput": PT}},
        {
            "Update": {
                "IndexName": "gi2",
                "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 3},
            }
        },
    ]
    assert update(body, ON_DEMAND_TABLE) == TableUpdate(
        billing_mode="PROVISIONED",
        read_capacity=5,
        write_capacity=5,
        update_indexes=(("gi1", 5, 5), ("gi2", 1, 3)),
    )


def test_update_table_index_throughput_on_demand() -> None:
    body = {
        "GlobalSecondaryIndexUpdates": [
            {"Update": {"IndexName": "gi1", "ProvisionedThroughput": PT}}
        ]
    }
    assert update_error(body, ON_DEMAND_TABLE) == (
        INVALID + "ProvisionedThroughput should not be specified for index: gi1 when BillingMode "
        "is PAY_PER_REQUEST"
    )


def test_update_table_index_update_without_action() -> None:
    assert update_error({"GlobalSecondaryIndexUpdates": [{}]}) == (
        INVALID + "One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, "
        "GlobalSecondaryIndexUpdate.Delete must not be null"
    )


def test_update_table_index_update_with_two_actions() -> None:
    both = {
        "Delete": {"IndexName": "gi1"},
        "Update": {"IndexName": "gi1", "ProvisionedThroughput": PT},
    }
    assert update_error({"GlobalSecondaryIndexUpdates": [both]}) == (
        INVALID
        + "Only one of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, "
        "GlobalSecondaryIndexUpdate.Delete can be specified"
    )


def test_update_table_two_updates_for_one_index() -> None:
    body = {
        "GlobalSecondaryIndexUpdates": [
            {"Delete": {"IndexName": "gi1"}},
            {"Update": {"IndexName": "gi1", "ProvisionedThroughput": PT}},
        ]
    }
    assert update_error(body) == (
        INVALID + "Only one global secondary index update per index is allowed simultaneously. "
        "Index: gi1"
    )


def test_update_table_one_online_index_change_at_a_time() -> None:
    body = {
        "GlobalSecondaryIndexUpdates": [
            {"Delete": {"IndexName": "gi1"}},
            {"Delete": {"IndexName": "gi2"}},
        ]
    }
    assert update_error(body, cls=LimitExceededException) == (
        "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously "
        "per table"
    )


def test_update_table_delete_index() -> None:
    body = {"GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "gi2"}}]}
    assert update(body) == TableUpdate(delete_indexes=("gi2",))


@pytest.mark.parametrize(
    "action",
    [
        {"Delete": {"IndexName": "nope"}},
        {"Update": {"IndexName": "lsi1", "ProvisionedThroughput": PT}},
    ],
)
def test_update_table_unknown_index(action: dict[str, Any]) -> None:
    body = {"GlobalSecondaryIndexUpdates": [action]}
    assert update_error(body, cls=ResourceNotFoundException) == "Requested resource not found"


def test_update_table_create_index_on_demand() -> None:
    body = {
        "AttributeDefinitions": [attr("pk"), attr("n", "N"), attr("unused")],
        "GlobalSecondaryIndexUpdates": [
            create_action(
                "gi3",
                "n",
                "pk",
                projection={"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a"]},
            )
        ],
    }
    assert update(body, ON_DEMAND_TABLE) == TableUpdate(
        create_indexes=(
            IndexSchema("gi3", KeySchema("n", "N", "pk", "S"), Projection("INCLUDE", ("a",)), True),
        ),
        new_attribute_definitions=(("n", "N"),),
    )


def test_update_table_create_index_provisioned() -> None:
    body = {
        "GlobalSecondaryIndexUpdates": [create_action("gi3", "sk", "g", ProvisionedThroughput=PT)]
    }
    assert update(body) == TableUpdate(
        create_indexes=(
            IndexSchema("gi3", KeySchema("sk", "S", "g", "N"), Projection(), True, 5, 5),
        )
    )
    assert update_error({"GlobalSecondaryIndexUpdates": [create_action("gi3", "sk")]}) == (
        INVALID + "ProvisionedThroughput must be specified for index: gi3"
    )


def test_update_table_create_index_throughput_on_demand() -> None:
    body = {"GlobalSecondaryIndexUpdates": [create_action("gi3", "sk", ProvisionedThroughput=PT)]}
    assert update_error(body, ON_DEMAND_TABLE) == (
        INVALID + "ProvisionedThroughput should not be specified for index: gi3 when BillingMode "
        "is PAY_PER_REQUEST"
    )


@pytest.mark.parametrize("name", ["gi1", "lsi1"])
def test_update_table_create_existing_index(name: str) -> None:
    body = {"GlobalSecondaryIndexUpdates": [create_action(name, "sk")]}
    assert (
        update_error(body, ON_DEMAND_TABLE) == "Attempting to create an index which already exists"
    )


def test_update_table_create_index_key_not_defined() -> None:
    body = {
        "AttributeDefinitions": [attr("x")],
        "GlobalSecondaryIndexUpdates": [create_action("gi3", "y")],
    }
    assert update_error(body, ON_DEMAND_TABLE) == (
        INVALID + "Some index key attributes are not defined in AttributeDefinitions. "
        "Keys: [y], AttributeDefinitions: [pk, sk, g, x]"
    )


def test_update_table_create_index_key_schema_errors() -> None:
    bad = create_action("gi3", "sk", "sk")
    assert update_error({"GlobalSecondaryIndexUpdates": [bad]}, ON_DEMAND_TABLE) == (
        "Both the Hash Key and the Range Key element in the KeySchema have the same name"
    )
    bad = {"Create": {**gsi("gi3", "sk"), "Projection": {}}}
    assert update_error({"GlobalSecondaryIndexUpdates": [bad]}, ON_DEMAND_TABLE) == (
        INVALID + "Unknown ProjectionType: null"
    )


def test_update_table_attribute_type_conflict() -> None:
    body = {
        "AttributeDefinitions": [attr("g", "S")],
        "GlobalSecondaryIndexUpdates": [create_action("gi3", "g")],
    }
    assert (
        update_error(body, ON_DEMAND_TABLE)
        == INVALID + "Attribute g is already defined with type N"
    )


def test_update_table_create_index_over_limit() -> None:
    many = tuple(
        IndexSchema(f"g{i:02}", KeySchema("pk", "S"), Projection(), True) for i in range(20)
    )
    table = replace(ON_DEMAND_TABLE, global_indexes=many)
    body = {"GlobalSecondaryIndexUpdates": [create_action("gi3", "sk")]}
    assert update_error(body, table) == (
        INVALID + "GlobalSecondaryIndex count exceeds the per-table limit of 20"
    )


def test_update_table_create_index_projected_limit() -> None:
    include = Projection("INCLUDE", tuple(f"a{i}" for i in range(20)))
    table = replace(
        ON_DEMAND_TABLE,
        global_indexes=tuple(
            IndexSchema(f"g{i}", KeySchema("pk", "S"), include, True) for i in range(5)
        ),
    )
    body = {
        "GlobalSecondaryIndexUpdates": [
            create_action(
                "gi3", "sk", projection={"ProjectionType": "INCLUDE", "NonKeyAttributes": ["z"]}
            )
        ]
    }
    assert update_error(body, table) == (
        INVALID + "Number of projected attributes in all indexes exceeds limit of 100, number of "
        "projected attributes:101"
    )


# --- UpdateTable: streams (records.md §7.3) -------------------------------------------------


def test_update_table_enable_stream() -> None:
    body = {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}}
    assert update(body) == TableUpdate(stream=StreamSpec(True, "KEYS_ONLY"))


def test_update_table_disable_stream() -> None:
    body = {"StreamSpecification": {"StreamEnabled": False}}
    assert update(body, stream_enabled=True) == TableUpdate(stream=StreamSpec(False))


@pytest.mark.parametrize("view_type", ["KEYS_ONLY", "NEW_IMAGE"])
def test_update_table_stream_already_enabled(view_type: str) -> None:
    # Same or different view type: DynamoDB refuses while a stream is enabled.
    body = {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": view_type}}
    assert update_error(body, stream_enabled=True) == (
        "Table already has an enabled stream: TableName: orders"
    )


def test_update_table_no_stream_to_disable() -> None:
    body = {"StreamSpecification": {"StreamEnabled": False}}
    assert update_error(body) == "Table has no stream to disable: TableName: orders"


def test_update_table_stream_view_type_rules() -> None:
    assert update_error({"StreamSpecification": {"StreamEnabled": True}}) == (
        INVALID + "If stream is being enabled then UpdateViewType is required"
    )
    body = {"StreamSpecification": {"StreamEnabled": False, "StreamViewType": "NEW_IMAGE"}}
    assert update_error(body, stream_enabled=True) == (
        INVALID + "If stream is being disabled, then UpdateViewType must not be specified"
    )


def test_update_table_stream_with_throughput_change() -> None:
    body = {
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        "ProvisionedThroughput": {"ReadCapacityUnits": 7, "WriteCapacityUnits": 7},
    }
    assert update_error(body) == "cannot modify stream status while updating table IOPS"


def test_update_table_stream_with_billing_switch() -> None:
    # A switch to on-demand is the one capacity change that may travel with a stream change.
    body = {
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    }
    assert update(body) == TableUpdate(
        billing_mode="PAY_PER_REQUEST", stream=StreamSpec(True, "NEW_IMAGE")
    )


# --- UpdateTable: SSE ----------------------------------------------------------------------


def test_update_table_enable_kms() -> None:
    body = {"SSESpecification": {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": "k"}}
    assert update(body) == TableUpdate(sse=SseSpec(True, "KMS", "k"))


def test_update_table_disable_sse() -> None:
    kms_table = replace(PROVISIONED_TABLE, sse_enabled=True, sse_type="KMS")
    assert update({"SSESpecification": {"Enabled": False}}, kms_table) == TableUpdate(
        sse=SseSpec(False)
    )
    assert (
        update_error({"SSESpecification": {"Enabled": False}})
        == "Table is already encrypted by default"
    )


def test_update_table_switch_to_provisioned_skips_deleted_index() -> None:
    body = {
        "BillingMode": "PROVISIONED",
        "ProvisionedThroughput": PT,
        "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "gi2"}}],
    }
    assert update_error(body, ON_DEMAND_TABLE) == (
        INVALID + "ProvisionedThroughput must be specified for index: gi1"
    )
