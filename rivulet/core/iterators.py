"""Shard iterators: stateless, signed position tokens (spec/stream-model.md section 1.6).

Wire form `<StreamArn>|1|<base64 token>`: SDK endpoint rules parse the iterator as an ARN, so it
keeps the stream ARN in front. The token holds the stream, the shard, the position (the first
sequence counter to read) and the issue time, with an HMAC over the ARN and all of these, so a
forged or corrupted iterator is rejected and nothing is kept per iterator in the server.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from dataclasses import dataclass

# AWS: an iterator expires 15 minutes after it is returned.
ITERATOR_LIFETIME_MS = 15 * 60 * 1000

_VERSION = 1
_LAYOUT = struct.Struct(">BQQQQ")  # version, stream_id, shard_key, position, issued_ms
_MAC_LEN = 16


@dataclass(frozen=True, slots=True)
class IteratorToken:
    arn: str
    stream_id: int
    shard_key: int
    position: int  # read records with sequence counter >= position
    issued_ms: int


def _mac(key: bytes, arn: str, body: bytes) -> bytes:
    return hmac.new(key, arn.encode() + b"|" + body, hashlib.sha256).digest()[:_MAC_LEN]


def encode_iterator(key: bytes, token: IteratorToken) -> str:
    body = _LAYOUT.pack(_VERSION, token.stream_id, token.shard_key, token.position, token.issued_ms)
    blob = base64.b64encode(body + _mac(key, token.arn, body)).decode()
    return f"{token.arn}|1|{blob}"


def decode_iterator(key: bytes, text: str) -> IteratorToken | None:
    """The token, or None if the text is not an iterator this server signed."""
    arn, sep, blob = text.rpartition("|1|")
    if not sep:
        return None
    try:
        raw = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        return None
    # Only the canonical encoding: base64 ignores the spare bits of the last character, and an
    # altered iterator must not be accepted even when it decodes to the same token.
    if len(raw) != _LAYOUT.size + _MAC_LEN or base64.b64encode(raw).decode() != blob:
        return None
    body, mac = raw[: _LAYOUT.size], raw[_LAYOUT.size :]
    if not hmac.compare_digest(mac, _mac(key, arn, body)):
        return None
    version, stream_id, shard_key, position, issued_ms = _LAYOUT.unpack(body)
    if version != _VERSION:
        return None
    return IteratorToken(arn, stream_id, shard_key, position, issued_ms)


def is_expired(token: IteratorToken, now_ms: int) -> bool:
    return now_ms - token.issued_ms > ITERATOR_LIFETIME_MS
