"""DynamoDB numbers: grammar, range, precision, canonical form and size."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rivulet.core.numbers import (
    NUMBER_CONTEXT,
    add_numbers,
    canonical_number,
    format_number,
    number_size,
    parse_number,
    subtract_numbers,
)
from rivulet.errors import ValidationException

NOT_NUMERIC = "The parameter cannot be converted to a numeric value"
TOO_MANY_DIGITS = "Attempting to store more than 38 significant digits in a Number"
OVERFLOW = (
    "Number overflow. Attempting to store a number with magnitude larger than supported range"
)
UNDERFLOW = (
    "Number underflow. Attempting to store a number with magnitude smaller than supported range"
)
SMALLEST = "0." + "0" * 129 + "1"
LARGEST = "9" * 38 + "0" * 88


def _error(text: str) -> str:
    with pytest.raises(ValidationException) as raised:
        parse_number(text)
    assert raised.value.message is not None
    return raised.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.50", "1.5"),
        ("1E2", "100"),
        ("1e+2", "100"),
        ("-0.0", "0"),
        ("-0", "0"),
        ("0", "0"),
        ("000", "0"),
        ("0e-500", "0"),
        ("0.001", "0.001"),
        ("00012.3400", "12.34"),
        ("1.", "1"),
        (".5", "0.5"),
        ("-.5", "-0.5"),
        ("-1.230E-2", "-0.0123"),
        ("42", "42"),
        ("-42", "-42"),
        ("007", "7"),
        ("-007", "-7"),
        ("1000", "1000"),
        ("1E-130", SMALLEST),
        ("9.9999999999999999999999999999999999999E+125", LARGEST),
        ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
        # Trailing zeros of an integer are not significant digits.
        (
            "123456789012345678901234567890123456780000",
            "123456789012345678901234567890123456780000",
        ),
    ],
)
def test_canonical_number_strips_exponent_and_padding(text: str, expected: str) -> None:
    # DynamoDB stores numbers normalised: no exponent, no leading or trailing zeros, no -0.
    assert canonical_number(text) == expected
    assert format_number(parse_number(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "+1",
        " 1",
        "1 ",
        "Infinity",
        "-Infinity",
        "NaN",
        "0x10",
        "1_0",
        "abc",
        "1e",
        "-",
        ".",
        "e5",
        "1.2.3",
        "\u0661",  # ARABIC-INDIC DIGIT ONE: Python would read it as 1
    ],
)
def test_parse_number_rejects_non_numeric_text(text: str) -> None:
    # DynamoDB's grammar: optional '-', digits with an optional fraction, optional exponent.
    assert _error(text) == f"{NOT_NUMERIC}: {text}"


def test_parse_number_rejects_empty_text_without_suffix() -> None:
    assert _error("") == NOT_NUMERIC


@pytest.mark.parametrize(
    "text",
    [
        "1E126",
        "-1E126",
        "10E125",
        "99999999999999999999999999999999999999E89",
        "1e99999999999999999999",
    ],
)
def test_parse_number_reports_overflow(text: str) -> None:
    assert _error(text) == OVERFLOW


@pytest.mark.parametrize("text", ["1E-131", "-1E-131", "0.1E-130", "1e-99999999999999999999"])
def test_parse_number_reports_underflow(text: str) -> None:
    assert _error(text) == UNDERFLOW


def test_parse_number_reports_more_than_38_significant_digits() -> None:
    assert _error("1" * 39) == TOO_MANY_DIGITS
    assert _error("1." + "1" * 38) == TOO_MANY_DIGITS
    # Range is checked before precision.
    assert _error("1" * 39 + "E200") == OVERFLOW


def test_parse_number_accepts_range_limits() -> None:
    assert parse_number("1E-130") == Decimal("1E-130")
    assert parse_number("-9.9999999999999999999999999999999999999E+125") == Decimal(
        "-9.9999999999999999999999999999999999999E+125"
    )
    assert parse_number("0.00000000000000000000000000000000000001") == Decimal("1E-38")


def test_format_number_validates_arithmetic_results() -> None:
    with pytest.raises(ValidationException) as raised:
        format_number(NUMBER_CONTEXT.add(Decimal("1E38"), Decimal(1)))
    assert raised.value.message == TOO_MANY_DIGITS
    with pytest.raises(ValidationException) as raised:
        format_number(Decimal("1E126"))
    assert raised.value.message == OVERFLOW
    with pytest.raises(ValidationException) as raised:
        format_number(Decimal("1E-131"))
    assert raised.value.message == UNDERFLOW
    with pytest.raises(ValidationException) as raised:
        format_number(Decimal("Infinity"))
    assert raised.value.message == OVERFLOW


def test_format_number_of_negative_zero_is_zero() -> None:
    assert format_number(Decimal("-0")) == "0"
    assert format_number(Decimal("-0E-7")) == "0"


def test_add_numbers_is_exact_across_the_range() -> None:
    assert add_numbers("1.5", "-0.5") == "1"
    assert add_numbers("1E+37", "1") == "1" + "0" * 36 + "1"
    assert add_numbers("1E-130", "-1E-130") == "0"
    assert add_numbers("0.1", "0.2") == "0.3"
    assert subtract_numbers("5", "7.25") == "-2.25"


def test_add_numbers_reports_precision_loss_instead_of_rounding() -> None:
    # DynamoDB rejects `SET a = a + :v` whose exact result needs more than 38 digits.
    with pytest.raises(ValidationException) as raised:
        add_numbers("1E+37", "0.1")
    assert raised.value.message == TOO_MANY_DIGITS
    with pytest.raises(ValidationException) as raised:
        add_numbers("9.9999999999999999999999999999999999999E+125", "1E+88")
    assert raised.value.message == OVERFLOW


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("0", 1),
        ("-0.0", 1),
        ("1", 2),
        ("10", 2),
        ("100", 2),
        ("101", 3),
        ("12", 2),
        ("123", 3),
        ("1234", 3),
        ("0.1", 2),
        ("0.012", 3),
        ("1.5", 3),
        ("-1", 3),
        ("-12", 3),
        ("-1.5", 4),
        ("1E-130", 2),
        ("9" * 38, 20),
        ("9.9999999999999999999999999999999999999E+125", 20),
        ("-" + "9" * 38, 21),
        # 38 digits that need a pad digit fill all 20 pair bytes: no terminator byte.
        ("-9999999999999999999999999999999999999.9", 21),
    ],
)
def test_number_size_follows_base100_encoding(text: str, size: int) -> None:
    # DynamoDB counts a number as one exponent byte plus base-100 digit pairs (about
    # ceil(digits / 2) + 1), plus a terminator for negatives; values as in dynalite's valSize.
    assert number_size(text) == size


def test_number_size_rejects_invalid_numbers() -> None:
    with pytest.raises(ValidationException):
        number_size("abc")
