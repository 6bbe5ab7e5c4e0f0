"""AWS JSON 1.0 framing: request ids, response bodies, CRC32, credential scope."""

from __future__ import annotations

import base64
import itertools
import os
import re
import zlib

import orjson

from rivulet.errors import DynamoError

CONTENT_TYPE = b"application/x-amz-json-1.0"


# Request ids only need to be unique: a random per-process prefix plus a counter is enough and
# costs far less than reading the OS random source on every request.
_ID_PREFIX = base64.b32encode(os.urandom(15))[:24]
_ID_COUNTER = itertools.count(1)


def request_id() -> bytes:
    """52 characters of [A-Z0-9], like DynamoDB's 52-character request ids."""
    return _ID_PREFIX + b"%028d" % next(_ID_COUNTER)


def crc32(body: bytes) -> int:
    # botocore checks x-amz-crc32 for the dynamodb service when present; it must be exact.
    return zlib.crc32(body) & 0xFFFFFFFF


def crc32_header(body: bytes) -> bytes:
    return b"%d" % crc32(body)


def encode(result: object) -> bytes:
    return orjson.dumps(result)


def encode_error(err: DynamoError) -> bytes:
    return orjson.dumps(err.body())


_REGION = re.compile(r"[a-z0-9-]+")


def region_from_authorization(header: str) -> str | None:
    """The region of a SigV4 credential scope: `Credential=<key>/<date>/<region>/<service>/aws4_request`.

    None unless it is a region name an ARN can carry (`[a-z0-9-]+`): SDKs sign with anything
    (boto3 accepts `Local`), and an ARN built from such a name would be refused by the Streams
    operations themselves and by the Kinesis adapter. The server's `--region` serves instead.
    """
    start = header.find("Credential=")
    if start < 0:
        return None
    parts = header[start + 11 :].split(",", 1)[0].strip().split("/")
    if len(parts) < 5 or _REGION.fullmatch(parts[2]) is None:
        return None
    return parts[2]
