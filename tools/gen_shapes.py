"""Generate rivulet/api/shapes.py: the input shapes of the operations we serve, as DynamoDB checks them.

Source: botocore's DynamoDB model, corrected where DynamoDB really behaves differently. The
corrections come from dynalite's per-operation validation tables (recorded against DynamoDB):

* member order and enum order are Java's, not the model's, and show in the error texts;
* table names are `[a-zA-Z0-9_.-]+`, 3..255 (the model now says "TableArn", 1..1024): a name is
  checked as before, and a well-formed table ARN in its place passes (constraint `table_arn`);
* some model constraints are replaced by DynamoDB's own semantic checks (e.g. the 20
  NonKeyAttributes limit, BatchGetItem's 100 keys, index KeyType), so they must not fire here.

Policy: the model stands wherever dynalite gives no evidence of a difference (e.g. Scan's
TotalSegments <= 1000000, newer members such as ReturnValuesOnConditionCheckFailure).

Run: python tools/gen_shapes.py
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import botocore
import botocore.loaders

OUT = Path(__file__).resolve().parent.parent / "rivulet" / "api" / "shapes.py"

OPERATIONS = [
    *("PutItem", "GetItem", "UpdateItem", "DeleteItem", "Query", "Scan"),
    *("BatchGetItem", "BatchWriteItem", "TransactWriteItems", "TransactGetItems"),
    *("CreateTable", "DescribeTable", "ListTables", "UpdateTable", "DeleteTable"),
    *("TagResource", "UntagResource", "ListTagsOfResource"),
    *("UpdateTimeToLive", "DescribeTimeToLive", "DescribeLimits", "DescribeEndpoints"),
]

JAVA_PACKAGE = "com.amazonaws.dynamodb.v20120810."
TABLE_NAME_PATTERN = "[a-zA-Z0-9_.-]+"

# Order in which DynamoDB checks (and reports) the members of a structure; members not listed
# follow in model order.
MEMBER_ORDER: dict[str, list[str]] = {
    "BatchGetItemInput": ["ReturnConsumedCapacity", "RequestItems"],
    "BatchWriteItemInput": [
        "ReturnConsumedCapacity",
        "ReturnItemCollectionMetrics",
        "RequestItems",
    ],
    "WriteRequest": ["DeleteRequest", "PutRequest"],
    "CreateTableInput": [
        "AttributeDefinitions",
        "TableName",
        "BillingMode",
        "ProvisionedThroughput",
        "KeySchema",
        "LocalSecondaryIndexes",
        "GlobalSecondaryIndexes",
    ],
    "ProvisionedThroughput": ["WriteCapacityUnits", "ReadCapacityUnits"],
    "DeleteItemInput": [
        "ReturnConsumedCapacity",
        "TableName",
        "ReturnValues",
        "ReturnItemCollectionMetrics",
        "Key",
        "ConditionalOperator",
        "Expected",
        "ConditionExpression",
        "ExpressionAttributeValues",
        "ExpressionAttributeNames",
    ],
    "ExpectedAttributeValue": ["AttributeValueList", "ComparisonOperator", "Exists", "Value"],
    "GetItemInput": [
        "ReturnConsumedCapacity",
        "AttributesToGet",
        "TableName",
        "Key",
        "ConsistentRead",
        "ProjectionExpression",
        "ExpressionAttributeNames",
    ],
    "ListTablesInput": ["Limit", "ExclusiveStartTableName"],
    "PutItemInput": [
        "ReturnConsumedCapacity",
        "TableName",
        "Item",
        "ConditionalOperator",
        "Expected",
        "ReturnValues",
        "ReturnItemCollectionMetrics",
        "ConditionExpression",
        "ExpressionAttributeValues",
        "ExpressionAttributeNames",
    ],
    "QueryInput": [
        "Select",
        "IndexName",
        "ReturnConsumedCapacity",
        "QueryFilter",
        "TableName",
        "ConditionalOperator",
        "AttributesToGet",
        "Limit",
        "KeyConditions",
        "ExclusiveStartKey",
        "ConsistentRead",
        "ScanIndexForward",
        "KeyConditionExpression",
        "FilterExpression",
        "ProjectionExpression",
        "ExpressionAttributeValues",
        "ExpressionAttributeNames",
    ],
    "ScanInput": [
        "Select",
        "IndexName",
        "TotalSegments",
        "ReturnConsumedCapacity",
        "TableName",
        "ConditionalOperator",
        "ScanFilter",
        "Segment",
        "Limit",
        "AttributesToGet",
        "ExclusiveStartKey",
        "FilterExpression",
        "ProjectionExpression",
        "ExpressionAttributeValues",
        "ExpressionAttributeNames",
    ],
    "UpdateItemInput": [
        "ReturnConsumedCapacity",
        "TableName",
        "ReturnItemCollectionMetrics",
        "ReturnValues",
        "Key",
        "ConditionalOperator",
        "Expected",
        "AttributeUpdates",
        "ConditionExpression",
        "UpdateExpression",
        "ExpressionAttributeValues",
        "ExpressionAttributeNames",
    ],
    "AttributeValueUpdate": ["Action", "Value"],
    "UpdateTableInput": [
        "TableName",
        "ProvisionedThroughput",
        "BillingMode",
        "GlobalSecondaryIndexUpdates",
    ],
    "CreateGlobalSecondaryIndexAction": [
        "Projection",
        "IndexName",
        "ProvisionedThroughput",
        "KeySchema",
    ],
}

# Order DynamoDB lists enum values in ("Member must satisfy enum value set: [...]").
ENUM_ORDER: dict[str, list[str]] = {
    "ScalarAttributeType": ["B", "N", "S"],
    "ProjectionType": ["ALL", "INCLUDE", "KEYS_ONLY"],
    "ReturnValue": ["ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"],
    "ConditionalOperator": ["OR", "AND"],
    "ComparisonOperator": [
        "IN",
        "NULL",
        "BETWEEN",
        "LT",
        "NOT_CONTAINS",
        "EQ",
        "GT",
        "NOT_NULL",
        "NE",
        "LE",
        "BEGINS_WITH",
        "GE",
        "CONTAINS",
    ],
    "Select": ["SPECIFIC_ATTRIBUTES", "COUNT", "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES"],
}

# Constraint corrections, applied in this order: by shape, by member name, by member path
# ("Op.Member[].Member{}": "[]" is a list member, "{}" a map value). A value of None removes
# the model's constraint.
SHAPE_OVERRIDES: dict[str, dict[str, Any]] = {
    # DynamoDB does not length-check attribute names in ExpressionAttributeNames or
    # AttributesToGet (dynalite records none); it also keeps 65535-char checks off the hot path.
    "AttributeName": {"max": None},
    "AttributeNameList": {"max": 255},
    "KeySchema": {"max": 2},
    # "Number of projected attributes in all indexes exceeds limit of 20" is checked later.
    "NonKeyAttributeNameList": {"max": None},
}
MEMBER_OVERRIDES: dict[str, dict[str, Any]] = {
    "TableName": {"table_arn": True, "pattern": TABLE_NAME_PATTERN, "min": 3, "max": 255},
}
# Control-plane operations check a missing or mis-sized table name first, with their own texts.
_CONTROL_TABLE_NAME = {
    "table_arn": True,
    "required": None,
    "required_param": True,
    "name_length": [3, 255],
    "min": None,
    "max": None,
}
# BatchGetItem/BatchWriteItem report bad table names as "Map keys must satisfy constraint".
_TABLE_NAME_KEYS = {"table_arn": True, "max": 255, "min": 3, "pattern": TABLE_NAME_PATTERN}
# The tagging operations check the ARN (and report a missing one) themselves.
_NO_CHECKS = {"required": None, "min": None, "max": None}
PATH_OVERRIDES: dict[str, dict[str, Any]] = {
    "CreateTable.TableName": _CONTROL_TABLE_NAME,
    "DeleteTable.TableName": _CONTROL_TABLE_NAME,
    "DescribeTable.TableName": _CONTROL_TABLE_NAME,
    "UpdateTable.TableName": _CONTROL_TABLE_NAME,
    "DescribeTimeToLive.TableName": _CONTROL_TABLE_NAME,
    "UpdateTimeToLive.TableName": _CONTROL_TABLE_NAME,
    "CreateTable.AttributeDefinitions": {"required": True},
    "CreateTable.KeySchema": {"required": True},
    # Index key types are checked later ("Invalid KeySchema: The first KeySchemaElement ...").
    "CreateTable.LocalSecondaryIndexes[].KeySchema[].KeyType": {"enum": None},
    "CreateTable.GlobalSecondaryIndexes[].KeySchema[].KeyType": {"enum": None},
    "UpdateTable.GlobalSecondaryIndexUpdates[].Create.KeySchema[].KeyType": {"enum": None},
    # "Too many items requested for the BatchGetItem call" replaces the map size limit.
    "BatchGetItem.RequestItems": {"max": None, "keys": _TABLE_NAME_KEYS},
    "BatchWriteItem.RequestItems": {
        "max": None,
        "keys": _TABLE_NAME_KEYS,
        "values": {"max": 25, "min": 1},
    },
    "BatchWriteItem.RequestItems{}": {"min": None, "max": None},
    "TagResource.ResourceArn": _NO_CHECKS,
    "TagResource.Tags": {"required": None},
    "UntagResource.ResourceArn": _NO_CHECKS,
    "UntagResource.TagKeys": {"required": None},
    "ListTagsOfResource.ResourceArn": _NO_CHECKS,
}

# Canonical order of the checks on one member (DynamoDB's order).
CONSTRAINT_ORDER = (
    "table_arn",
    "required_param",
    "name_length",
    "required",
    "pattern",
    "min",
    "max",
    "enum",
    "keys",
    "values",
)
# Blob and double members occur only inside attribute values in the operations we serve.
SCALARS = {"string", "integer", "long", "boolean"}


class Generator:
    def __init__(self, model: dict[str, Any]) -> None:
        self.shapes: dict[str, Any] = model["shapes"]
        self.operations: dict[str, Any] = model["operations"]
        self.used_paths: set[str] = set()

    def java_type(self, name: str) -> str:
        shape = self.shapes[name]
        kind = shape["type"]
        if kind == "structure":
            return JAVA_PACKAGE + name
        if kind == "string":
            return "java.lang.String"
        if kind == "list":
            return f"java.util.List<{self.java_type(shape['member']['shape'])}>"
        if kind == "map":
            return f"java.util.Map<java.lang.String, {self.java_type(shape['value']['shape'])}>"
        raise ValueError(f"no Java type for {name} ({kind})")

    def node(self, name: str, path: str, member: str | None, required: bool) -> tuple[Any, ...]:
        shape = self.shapes[name]
        kind = shape["type"]
        constraints: dict[str, Any] = {"required": True} if required else {}
        if name == "AttributeValue":
            # Attribute values are validated by the core layer, not walked here.
            return ("attribute_value", name, constraints, None)
        # A minimum length of 0 can never fail; a minimum value of 0 can.
        if "min" in shape and (shape["min"] or kind in ("integer", "long")):
            constraints["min"] = shape["min"]
        if "max" in shape:
            constraints["max"] = shape["max"]
        if "pattern" in shape:
            constraints["pattern"] = shape["pattern"]
        if "enum" in shape:
            enum = ENUM_ORDER.get(name, shape["enum"])
            if sorted(enum) != sorted(shape["enum"]):
                raise ValueError(f"ENUM_ORDER[{name}] is not a permutation of {shape['enum']}")
            constraints["enum"] = enum
        constraints = apply(constraints, SHAPE_OVERRIDES.get(name))
        if member is not None:
            constraints = apply(constraints, MEMBER_OVERRIDES.get(member))
        if path in PATH_OVERRIDES:
            self.used_paths.add(path)
            constraints = apply(constraints, PATH_OVERRIDES[path])
        ordered = {key: constraints[key] for key in CONSTRAINT_ORDER if key in constraints}
        if set(ordered) != set(constraints):
            raise ValueError(f"unknown constraint at {path}: {constraints}")
        if "pattern" in ordered:
            re.compile(ordered["pattern"])
        if kind in SCALARS:
            return (kind, "", ordered, None)
        if kind == "structure":
            return ("structure", name, ordered, self.members(name, path))
        if kind == "list":
            child = self.node(shape["member"]["shape"], path + "[]", None, False)
            return ("list", "", ordered, child)
        if kind == "map":
            value = shape["value"]["shape"]
            child = self.node(value, path + "{}", None, False)
            return ("map", self.java_type(value), ordered, child)
        raise ValueError(f"unsupported shape type {kind} for {name} at {path}")

    def members(self, name: str, path: str) -> tuple[tuple[str, Any], ...]:
        shape = self.shapes[name]
        order = MEMBER_ORDER.get(name, [])
        unknown = set(order) - set(shape["members"])
        if unknown:
            raise ValueError(f"MEMBER_ORDER[{name}] names unknown members {unknown}")
        names = order + [m for m in shape["members"] if m not in order]
        required = set(shape.get("required", ()))
        return tuple(
            (m, self.node(shape["members"][m]["shape"], f"{path}.{m}", m, m in required))
            for m in names
        )

    def operation(self, op: str) -> tuple[Any, ...]:
        input_ref = self.operations[op].get("input")
        if input_ref is None:
            return ("structure", op + "Input", {}, ())
        return ("structure", input_ref["shape"], {}, self.members(input_ref["shape"], op))


def apply(constraints: dict[str, Any], override: dict[str, Any] | None) -> dict[str, Any]:
    if not override:
        return constraints
    out = dict(constraints)
    for key, value in override.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def render(node: tuple[Any, ...], indent: int) -> str:
    """A node as a Python literal: one line unless it holds a structure (one member per line)."""
    kind, java, constraints, children = node
    head = f"({literal(kind)}, {literal(java)}, {literal(constraints)}, "
    if kind == "structure":
        pad = "    " * indent
        inner = "".join(
            f"{pad}    ({literal(name)}, {render(child, indent + 1)}),\n"
            for name, child in children
        )
        return f"{head}(\n{inner}{pad}))"
    if kind in ("list", "map"):
        return head + render(children, indent) + ")"
    return head + "None)"


def literal(value: Any) -> str:
    """repr with lists as tuples (the generated tables are read-only)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "(" + ", ".join(literal(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


HEADER = '''\
# GENERATED by tools/gen_shapes.py from botocore's DynamoDB model ({version}) plus the
# corrections listed there. Do not edit: change the generator and run `python tools/gen_shapes.py`.
"""Input shapes of the DynamoDB operations we serve, as DynamoDB validates them (generated)."""

from typing import Any

# A node is (kind, java, constraints, children):
#   kind: string integer long boolean structure list map attribute_value
#   java: Java class of a structure / attribute_value, Java type of a map's values (error texts)
#   constraints: in check order; table_arn (a well-formed table ARN passes every other check),
#     required_param, name_length (early control-plane checks), required, pattern, min, max
#     (length for string/list/map, value for numbers), enum, keys, values (map key / map value
#     constraints)
#   children: structure -> ((member, node), ...); list -> member node; map -> value node
Node = tuple[str, str, dict[str, Any], Any]

# fmt: off
OPERATIONS: dict[str, Node] = {{
{body}}}
# fmt: on
'''


def generate() -> str:
    """The text of rivulet/api/shapes.py for the installed botocore."""
    loader = botocore.loaders.Loader()
    model = loader.load_service_model("dynamodb", "service-2", "2012-08-10")
    gen = Generator(model)
    body = "".join(f"    {literal(op)}: {render(gen.operation(op), 1)},\n" for op in OPERATIONS)
    unused = set(PATH_OVERRIDES) - gen.used_paths
    if unused:
        raise ValueError(f"PATH_OVERRIDES match no member: {sorted(unused)}")
    return HEADER.format(version=f"botocore {botocore.__version__}", body=body)


def main() -> int:
    OUT.write_text(generate())
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
