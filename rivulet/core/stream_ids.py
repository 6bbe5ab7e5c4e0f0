"""Stream identifiers in AWS's formats (spec/stream-model.md section 1)."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime

from rivulet.core.table_arns import TABLE_ARN_PREFIX, TABLE_NAME

# Sequence numbers are a per-stream counter n >= 1 sent as 10**20 + n: 21 digits, fixed width,
# so string order and integer order agree (botocore rejects numbers shorter than 21 digits).
SEQ_BASE = 10**20

# Matches every ARN we emit and what the Kinesis adapter accepts (streams-api.md section 0).
STREAM_ARN = re.compile(
    f"^{TABLE_ARN_PREFIX}(?P<table>{TABLE_NAME})"
    r"/stream/(?P<label>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3})$"
)


def stream_label(ms: int) -> str:
    """`YYYY-MM-DDTHH:MM:SS.mmm` in UTC, no zone suffix, as AWS formats StreamLabel."""
    t = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}"


def stream_arn(region: str, account: str, table_name: str, label: str) -> str:
    return f"arn:aws:dynamodb:{region}:{account}:table/{table_name}/stream/{label}"


def parse_stream_arn(arn: str) -> tuple[str, str] | None:
    """(table name, label) of a well-formed stream ARN, else None."""
    m = STREAM_ARN.fullmatch(arn)  # `$` alone would accept a trailing newline
    return None if m is None else (m["table"], m["label"])


def shard_id(ms: int) -> str:
    """`shardId-<20-digit epoch ms>-<8 hex>`: the Kinesis adapter parses the middle as a time."""
    return f"shardId-{ms:020d}-{os.urandom(4).hex()}"


def shard_ms(shard: str) -> int:
    return int(shard.split("-")[1])


def wire_seq(n: int) -> str:
    return str(SEQ_BASE + n)


def parse_seq(text: str) -> int | None:
    """The counter value of a wire sequence number, or None if it is not one of ours."""
    if not text.isdigit() or not text.isascii():
        return None
    n = int(text) - SEQ_BASE
    return n if n >= 0 else None
