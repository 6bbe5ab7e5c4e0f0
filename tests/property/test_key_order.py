"""Property: key encoding preserves DynamoDB order and equality, and decoding inverts it."""

from __future__ import annotations

import base64
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from rivulet.core.keys import (
    HASH_SPACE,
    decode_key_value,
    encode_key_value,
    partition_hash,
    segment_range,
)
from rivulet.core.numbers import format_number, parse_number

# Decimals inside DynamoDB's range: up to 38 significant digits, scientific exponent -130..125.
numbers = st.builds(
    lambda negative, digits, exponent: Decimal(
        f"{'-' if negative else ''}{digits}E{exponent - len(str(digits)) + 1}"
    ),
    st.booleans(),
    st.one_of(st.integers(0, 10**38 - 1), st.integers(10**37, 10**38 - 1), st.integers(0, 1000)),
    st.one_of(st.integers(-130, 125), st.sampled_from([-130, -129, 0, 124, 125])),
)
# Bytes are "surrogatepass"-encoded, so any code point round-trips, surrogates included.
strings = st.text()
binaries = st.binary()


def _n(value: Decimal) -> dict[str, str]:
    return {"N": format_number(value)}


@given(numbers, numbers)
def test_number_encoding_preserves_order_and_equality(a: Decimal, b: Decimal) -> None:
    ea, eb = encode_key_value(_n(a)), encode_key_value(_n(b))
    assert (ea < eb) == (a < b)
    assert (ea == eb) == (a == b)


@given(numbers)
def test_number_decoding_inverts_encoding(value: Decimal) -> None:
    decoded = decode_key_value(encode_key_value(_n(value)), "N")
    assert decoded == _n(value)
    assert parse_number(decoded["N"]) == value


@given(strings, strings)
def test_string_encoding_preserves_utf8_order(a: str, b: str) -> None:
    ea, eb = encode_key_value({"S": a}), encode_key_value({"S": b})
    ua, ub = a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass")
    assert (ea < eb) == (ua < ub)
    assert (ea == eb) == (a == b)
    assert decode_key_value(ea, "S") == {"S": a}


@given(binaries, binaries)
def test_binary_encoding_preserves_unsigned_byte_order(a: bytes, b: bytes) -> None:
    ea = encode_key_value({"B": base64.b64encode(a).decode()})
    eb = encode_key_value({"B": base64.b64encode(b).decode()})
    assert (ea < eb) == (a < b)
    assert (ea == eb) == (a == b)
    assert decode_key_value(ea, "B") == {"B": base64.b64encode(a).decode()}


@given(st.integers(1, 1_000_000), st.data())
def test_segment_ranges_tile_the_hash_space(total: int, data: st.DataObject) -> None:
    segment = data.draw(st.integers(0, total - 1))
    lo, hi = segment_range(segment, total)
    assert 0 <= lo <= hi <= HASH_SPACE
    if segment == 0:
        assert lo == 0
    if segment == total - 1:
        assert hi == HASH_SPACE
    else:
        assert segment_range(segment + 1, total)[0] == hi
    if segment > 0:
        assert segment_range(segment - 1, total)[1] == lo


@given(st.binary(), st.integers(1, 64))
def test_every_hash_falls_in_exactly_one_segment(key: bytes, total: int) -> None:
    value = partition_hash(key)
    owners = [
        s for s in range(total) if segment_range(s, total)[0] <= value < segment_range(s, total)[1]
    ]
    assert len(owners) == 1
