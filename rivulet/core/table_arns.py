"""Table ARNs: DynamoDB accepts `arn:aws:dynamodb:<region>:<account>:table/<name>` wherever a
TableName goes (botocore's `TableArn` shape, 1..1024 characters)."""

from __future__ import annotations

import re

TABLE_NAME = r"[a-zA-Z0-9_.-]{3,255}"
# Any partition (aws, aws-cn, aws-us-gov), region and account: every ARN names this server's
# table, as the stream ARNs do (stream_ids.STREAM_ARN).
TABLE_ARN_PREFIX = r"arn:aws[a-zA-Z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/"
_TABLE_ARN = re.compile(TABLE_ARN_PREFIX + f"(?P<table>{TABLE_NAME})")
MAX_TABLE_ARN = 1024


def table_of_arn(value: str) -> str | None:
    """The table name of a well-formed table ARN, else None."""
    if not value.startswith("arn:") or len(value) > MAX_TABLE_ARN:
        return None
    m = _TABLE_ARN.fullmatch(value)  # `$` alone would accept a trailing newline
    return None if m is None else m["table"]


def table_name_of(name_or_arn: str) -> str:
    """The table a TableName member names: itself, or the name inside a table ARN."""
    return table_of_arn(name_or_arn) or name_or_arn
