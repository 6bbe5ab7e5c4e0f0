"""Order-preserving key encoding, partition hashing and parallel-scan segments."""

from __future__ import annotations

import base64

import pytest

from rivulet.core.keys import (
    HASH_SPACE,
    decode_key_value,
    encode_key_value,
    partition_hash,
    segment_range,
)

# Numbers in DynamoDB order, including the range limits and digit-prefix neighbours.
ORDERED_NUMBERS = [
    "-9.9999999999999999999999999999999999999E+125",
    "-1E+125",
    "-100",
    "-10.5",
    "-10.05",
    "-10",
    "-9.99",
    "-1.05",
    "-1",
    "-0.5",
    "-1E-130",
    "0",
    "1E-130",
    "0.00001",
    "0.5",
    "1",
    "1.05",
    "1.5",
    "9.99",
    "10",
    "10.05",
    "10.5",
    "100",
    "12345678901234567890123456789012345678",
    "1E+125",
    "9.9999999999999999999999999999999999999E+125",
]


def test_encode_key_value_orders_numbers_numerically() -> None:
    # Query ranges and sort order compare N key values as numbers.
    encoded = [encode_key_value({"N": text}) for text in ORDERED_NUMBERS]
    assert encoded == sorted(encoded)
    assert len(set(encoded)) == len(encoded)


def test_encode_key_value_is_value_based_for_numbers() -> None:
    assert encode_key_value({"N": "1.50"}) == encode_key_value({"N": "15E-1"})
    assert encode_key_value({"N": "-0"}) == encode_key_value({"N": "0"}) == b"\x01"


def test_encode_key_value_orders_strings_by_utf8_bytes() -> None:
    # DynamoDB compares S by UTF-8 bytes: "Z" < "a" < "é" < "😀"; U+FFFF < U+10000 in UTF-8
    # even though UTF-16 would order them the other way round.
    ordered = ["", "Z", "a", "ab", "b", "é", "\uffff", "😀"]
    encoded = [encode_key_value({"S": text}) for text in ordered]
    assert encoded == sorted(encoded)
    assert encode_key_value({"S": "é"}) == "é".encode()


def test_encode_key_value_orders_binaries_as_unsigned_bytes() -> None:
    ordered = [b"", b"\x00", b"\x00\x00", b"\x01", b"\x7f", b"\x80", b"\xff"]
    encoded = [encode_key_value({"B": base64.b64encode(raw).decode()}) for raw in ordered]
    assert encoded == ordered


@pytest.mark.parametrize("text", ORDERED_NUMBERS)
def test_decode_key_value_inverts_encoding_of_numbers(text: str) -> None:
    from rivulet.core.numbers import canonical_number

    assert decode_key_value(encode_key_value({"N": text}), "N") == {"N": canonical_number(text)}


def test_decode_key_value_inverts_encoding_of_strings_and_binaries() -> None:
    assert decode_key_value(encode_key_value({"S": "héllo"}), "S") == {"S": "héllo"}
    assert decode_key_value(encode_key_value({"B": "AP8="}), "B") == {"B": "AP8="}
    assert decode_key_value(b"", "B") == {"B": ""}


def test_encode_key_value_rejects_non_key_types() -> None:
    with pytest.raises(ValueError, match="not a key value"):
        encode_key_value({"BOOL": True})
    with pytest.raises(ValueError, match="not a key type"):
        decode_key_value(b"", "SS")


def test_partition_hash_is_stable_32_bit() -> None:
    value = partition_hash(b"user#1")
    assert value == partition_hash(b"user#1")
    assert 0 <= value < HASH_SPACE
    assert partition_hash(b"") == int.from_bytes(
        __import__("hashlib").blake2b(b"", digest_size=4).digest(), "big"
    )
    assert len({partition_hash(str(i).encode()) for i in range(1000)}) > 990


def test_segment_range_tiles_the_hash_space() -> None:
    assert segment_range(0, 1) == (0, HASH_SPACE)
    assert segment_range(0, 2) == (0, HASH_SPACE // 2)
    assert segment_range(1, 2) == (HASH_SPACE // 2, HASH_SPACE)
    ranges = [segment_range(segment, 7) for segment in range(7)]
    assert ranges[0][0] == 0 and ranges[-1][1] == HASH_SPACE
    assert all(ranges[i][1] == ranges[i + 1][0] for i in range(6))


def test_segment_range_rejects_out_of_range_segments() -> None:
    with pytest.raises(ValueError):
        segment_range(2, 2)
    with pytest.raises(ValueError):
        segment_range(-1, 2)
