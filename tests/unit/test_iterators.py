"""Shard iterators: signed tokens, their wire form, tamper rejection and the 15-minute expiry.

HTTP tests cannot wait 15 minutes, so the expiry boundary is proven here (stream-model.md 1.6).
"""

from __future__ import annotations

import base64
import re
import string

import pytest

from rivulet.core import iterators
from rivulet.core.iterators import (
    ITERATOR_LIFETIME_MS,
    IteratorToken,
    decode_iterator,
    encode_iterator,
    is_expired,
)
from rivulet.core.stream_ids import parse_stream_arn, stream_arn

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
ARN = stream_arn("us-east-1", "000000000000", "Orders", "2025-11-26T11:58:02.123")
ISSUED_MS = 1_764_158_282_123
TOKEN = IteratorToken(ARN, 7, 12, 1001, ISSUED_MS)
U64 = 2**64 - 1
BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")


def long_arn(length: int) -> str:
    """A well-formed stream ARN of exactly `length` characters (the region takes the slack)."""
    short = stream_arn("r", "000000000000", "T" * 255, "2025-11-26T11:58:02.123")
    arn = stream_arn(
        "r" + "x" * (length - len(short)), "000000000000", "T" * 255, "2025-11-26T11:58:02.123"
    )
    assert len(arn) == length and parse_stream_arn(arn) is not None
    return arn


# Round trip and wire form ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        TOKEN,
        IteratorToken(ARN, 0, 0, 0, 0),
        IteratorToken(ARN, 1, 1, 1, 1),
        IteratorToken(ARN, U64, U64, U64, U64),
        IteratorToken(long_arn(1024), 3, 4, 10**19, ISSUED_MS),
    ],
)
def test_round_trip(token: IteratorToken) -> None:
    assert decode_iterator(KEY, encode_iterator(KEY, token)) == token


def test_wire_form_is_the_arn_then_1_then_base64() -> None:
    text = encode_iterator(KEY, TOKEN)
    arn, version, blob = text.split("|")
    assert (arn, version) == (ARN, "1")
    assert BASE64.match(blob), blob
    # version, stream id, shard key, position, issue time (1 + 4 * 8 bytes) and a 16-byte MAC
    assert len(base64.b64decode(blob)) == 33 + 16


def test_encoding_is_deterministic_and_depends_on_every_field() -> None:
    text = encode_iterator(KEY, TOKEN)
    assert encode_iterator(KEY, TOKEN) == text
    variants = [
        IteratorToken(ARN.replace("Orders", "Orderz"), 7, 12, 1001, ISSUED_MS),
        IteratorToken(ARN, 8, 12, 1001, ISSUED_MS),
        IteratorToken(ARN, 7, 13, 1001, ISSUED_MS),
        IteratorToken(ARN, 7, 12, 1002, ISSUED_MS),
        IteratorToken(ARN, 7, 12, 1001, ISSUED_MS + 1),
    ]
    blobs = {encode_iterator(KEY, v).rpartition("|")[2] for v in variants}
    assert len(blobs | {text.rpartition("|")[2]}) == len(variants) + 1


def test_iterator_of_a_1024_character_arn_fits_in_2048_characters() -> None:
    token = IteratorToken(long_arn(1024), U64, U64, U64, U64)
    text = encode_iterator(KEY, token)
    assert len(text) <= 2048
    assert text.startswith(token.arn + "|1|")


# Rejection ------------------------------------------------------------------------------------


def test_wrong_key_is_rejected() -> None:
    assert decode_iterator(OTHER_KEY, encode_iterator(KEY, TOKEN)) is None
    assert decode_iterator(b"", encode_iterator(KEY, TOKEN)) is None


def test_changing_any_bit_of_the_token_bytes_is_rejected() -> None:
    text = encode_iterator(KEY, TOKEN)
    prefix, _, blob = text.rpartition("|1|")
    raw = base64.b64decode(blob)
    for i in range(len(raw)):
        for bit in range(8):
            forged = raw[:i] + bytes([raw[i] ^ (1 << bit)]) + raw[i + 1 :]
            wire = f"{prefix}|1|{base64.b64encode(forged).decode()}"
            assert decode_iterator(KEY, wire) is None, (i, bit)


def test_changing_any_character_of_the_iterator_is_rejected() -> None:
    # Every position: the ARN prefix, the "|1|" separator and each base64 character, replaced
    # by every other base64 character (and a few that are not base64).
    text = encode_iterator(KEY, TOKEN)
    alphabet = string.ascii_letters + string.digits + "+/=|:-. "
    accepted = []
    for i, original in enumerate(text):
        for c in alphabet:
            if c != original and decode_iterator(KEY, text[:i] + c + text[i + 1 :]) is not None:
                accepted.append((i, original, c))
    assert accepted == []


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t[:-1],  # truncated
        lambda t: t[:-4],
        lambda t: t + "A",
        lambda t: t + "AAAA",
        lambda t: t + "\n",
        lambda t: t.replace("|1|", "|2|"),
        lambda t: t.replace("|1|", "|"),
        lambda t: t.replace("|1|", "|1||"),
        lambda t: t.rpartition("|1|")[2],  # the token without its ARN
        lambda t: "x" + t,
        lambda t: t.replace(ARN, ARN + "0"),
        lambda t: t.replace(ARN, ARN.upper()),
        lambda t: t.replace(ARN, ""),
        lambda t: t.replace(
            ARN,
            "arn:aws:dynamodb:us-east-1:000000000000:table/Other/stream/2025-11-26T11:58:02.123",
        ),
        lambda t: t[: len(ARN) + 3] + " " + t[len(ARN) + 3 :],
        lambda t: t[: len(ARN) + 10] + "\n" + t[len(ARN) + 10 :],
        lambda t: "",
        lambda t: "|1|",
        lambda t: ARN,
    ],
)
def test_malformed_iterators_are_rejected(change: object) -> None:
    assert callable(change)
    text = encode_iterator(KEY, TOKEN)
    changed = change(text)
    assert changed != text
    assert decode_iterator(KEY, changed) is None


def test_a_correctly_signed_token_of_another_version_is_rejected() -> None:
    # Signed with the right key but a layout version this server does not know.
    body = iterators._LAYOUT.pack(2, 7, 12, 1001, ISSUED_MS)
    blob = base64.b64encode(body + iterators._mac(KEY, ARN, body)).decode()
    assert decode_iterator(KEY, f"{ARN}|1|{blob}") is None
    # The same construction with version 1 is accepted: the rejection above is the version's.
    body = iterators._LAYOUT.pack(1, 7, 12, 1001, ISSUED_MS)
    blob = base64.b64encode(body + iterators._mac(KEY, ARN, body)).decode()
    assert decode_iterator(KEY, f"{ARN}|1|{blob}") == TOKEN


def test_token_moved_to_another_arn_is_rejected() -> None:
    other = stream_arn("us-east-1", "000000000000", "Orders", "2025-11-26T11:58:02.124")
    blob = encode_iterator(KEY, TOKEN).rpartition("|1|")[2]
    assert decode_iterator(KEY, f"{other}|1|{blob}") is None


# Expiry ---------------------------------------------------------------------------------------


def test_lifetime_is_15_minutes() -> None:
    assert ITERATOR_LIFETIME_MS == 15 * 60 * 1000 == 900_000


@pytest.mark.parametrize(
    ("age_ms", "expired"),
    [
        (0, False),
        (1, False),
        (60_000, False),
        (15 * 60 * 1000 - 1, False),
        (15 * 60 * 1000, False),  # exactly 15 minutes old: still valid
        (15 * 60 * 1000 + 1, True),  # one millisecond more: expired
        (16 * 60 * 1000, True),
        (24 * 3600 * 1000, True),
    ],
)
def test_expiry_boundary(age_ms: int, expired: bool) -> None:
    assert is_expired(TOKEN, ISSUED_MS + age_ms) is expired


def test_expiry_survives_the_wire() -> None:
    decoded = decode_iterator(KEY, encode_iterator(KEY, TOKEN))
    assert decoded is not None
    assert is_expired(decoded, ISSUED_MS + 900_000) is False
    assert is_expired(decoded, ISSUED_MS + 900_001) is True
