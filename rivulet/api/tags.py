"""Resolving a table ARN for TagResource, UntagResource and ListTagsOfResource."""

from __future__ import annotations

import re
from typing import Any

from rivulet.api.context import ApiContext
from rivulet.engine.catalog import TableRuntime
from rivulet.errors import AccessDeniedException, ResourceNotFoundException, ValidationException

_ANY_ARN = re.compile(r"^.+:.+:.+:.+:.+:.+/.+$")
_TABLE_ARN = re.compile(r"^arn:aws:dynamodb:.+:\d+:table/[^/]{2}[^/]+$")


def tagged_table(api: ApiContext, body: dict[str, Any], operation: str) -> TableRuntime:
    arn = body.get("ResourceArn")
    if arn is None:
        raise ValidationException("Invalid TableArn")
    if not _ANY_ARN.match(arn):
        # DynamoDB answers a string that is not an ARN at all as an IAM denial.
        # Coral's AccessDeniedException spells the member "Message".
        raise AccessDeniedException(
            None,
            Message=f"User: arn:aws:iam::{api.settings.account_id}:user/rivulet is not authorized "
            f"to perform: dynamodb:{operation} on resource: {arn}",
        )
    if not _TABLE_ARN.match(arn):
        raise ValidationException(f"Invalid TableArn: Invalid ResourceArn provided as input {arn}")
    name = arn.split(":table/", 1)[1]
    table = api.db.tables.get(name)
    if table is None:
        raise ResourceNotFoundException(
            f"Requested resource not found: ResourcArn: {arn} not found"
        )
    return table
