"""Order-preserving byte encoding of key values (memcmp order = DynamoDB order) and partition hashing."""

from __future__ import annotations

import base64
import hashlib

from rivulet.core.numbers import join_number, split_number
from rivulet.core.types import AttributeValue

HASH_SPACE = 1 << 32

# Number layout: sign byte, exponent byte, base-100 digit pairs.
_NEGATIVE = 0x00
_ZERO = 0x01
_POSITIVE = 0x02
# Ends a negative number: larger than any complemented pair (0..99), so -1 (a prefix of -1.05
# in digits) sorts after it.
_NEGATIVE_END = 0xFF
_EXPONENT_BIAS = 130  # scientific exponents -130..125 map onto 0..255


def _encode_number(text: str) -> bytes:
    negative, significant, exponent = split_number(text)
    if not significant:
        return bytes((_ZERO,))
    biased = exponent + len(significant) - 1 + _EXPONENT_BIAS
    if len(significant) % 2:
        significant += "0"  # pad to whole pairs; canonical digits never end in 0, so no clash
    pairs = [int(significant[i : i + 2]) for i in range(0, len(significant), 2)]
    # Positive: larger exponent, then lexicographically larger digits = larger number (a digit
    # string that is a prefix of another is smaller because it has no trailing zeros).
    # Negative: the same with every byte complemented, plus a terminator so prefixes sort last.
    if negative:
        return bytes((_NEGATIVE, 255 - biased, *(99 - pair for pair in pairs), _NEGATIVE_END))
    return bytes((_POSITIVE, biased, *pairs))


def _decode_number(data: bytes) -> str:
    sign = data[0]
    if sign == _ZERO:
        return "0"
    negative = sign == _NEGATIVE
    if negative:
        biased = 255 - data[1]
        pairs = [99 - byte for byte in data[2:-1]]
    else:
        biased = data[1]
        pairs = list(data[2:])
    digits = "".join(f"{pair:02d}" for pair in pairs).rstrip("0")
    scientific = biased - _EXPONENT_BIAS
    return join_number(negative, digits, scientific - len(digits) + 1)


def encode_key_value(value: AttributeValue) -> bytes:
    """Bytes whose memcmp order is DynamoDB's order for S (UTF-8), B (unsigned) and N (numeric).

    Injective per type; values of different types are not comparable (a key has one type).
    """
    for kind, payload in value.items():
        if kind == "S":
            encoded: bytes = payload.encode("utf-8", "surrogatepass")
            return encoded
        if kind == "N":
            return _encode_number(payload)
        if kind == "B":
            return base64.b64decode(payload)
        break
    raise ValueError(f"not a key value: {value!r}")


def decode_key_value(data: bytes, key_type: str) -> AttributeValue:
    """Inverse of encode_key_value for a value of type `key_type` ("S", "N" or "B")."""
    if key_type == "S":
        return {"S": data.decode("utf-8", "surrogatepass")}
    if key_type == "N":
        return {"N": _decode_number(data)}
    if key_type == "B":
        return {"B": base64.b64encode(data).decode("ascii")}
    raise ValueError(f"not a key type: {key_type!r}")


def partition_hash(encoded_partition_key: bytes) -> int:
    """Stable, well-mixed unsigned 32-bit hash of an encoded partition key (Scan order, segments)."""
    digest = hashlib.blake2b(encoded_partition_key, digest_size=4).digest()
    return int.from_bytes(digest, "big")


def segment_range(segment: int, total_segments: int) -> tuple[int, int]:
    """Half-open hash range [lo, hi) of a parallel-scan segment; segments tile [0, 2**32)."""
    if not 0 <= segment < total_segments:
        raise ValueError(f"segment {segment} out of range for {total_segments} segments")
    return (
        segment * HASH_SPACE // total_segments,
        (segment + 1) * HASH_SPACE // total_segments,
    )
