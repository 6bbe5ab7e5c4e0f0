"""Property: canonical number text round-trips exactly and is stable."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from rivulet.core.numbers import (
    NUMBER_CONTEXT,
    canonical_number,
    format_number,
    number_size,
    parse_number,
)
from rivulet.errors import ValidationException

# Decimals inside DynamoDB's range, biased towards the extremes and 38-digit values.
numbers = st.builds(
    lambda negative, digits, exponent: Decimal(
        f"{'-' if negative else ''}{digits}E{exponent - len(str(digits)) + 1}"
    ),
    st.booleans(),
    st.one_of(st.integers(0, 10**38 - 1), st.integers(10**37, 10**38 - 1), st.integers(0, 1000)),
    st.one_of(st.integers(-130, 125), st.sampled_from([-130, -129, 0, 124, 125])),
)


@given(numbers)
def test_format_number_round_trips(value: Decimal) -> None:
    text = format_number(value)
    assert canonical_number(text) == text
    assert Decimal(text) == value
    assert parse_number(text) == value


@given(numbers)
def test_canonical_form_has_no_exponent_or_padding(value: Decimal) -> None:
    text = format_number(value)
    assert "e" not in text.lower()
    assert text != "-0"
    unsigned = text.removeprefix("-")
    assert unsigned == "0" or not unsigned.startswith("0") or unsigned.startswith("0.")
    if "." in unsigned:
        assert not unsigned.endswith(("0", "."))


@given(numbers, st.integers(0, 5), st.integers(-3, 3))
def test_canonical_number_ignores_notation(value: Decimal, pad: int, shift: int) -> None:
    # Any spelling of the same value (padding zeros, exponent form) has one canonical text.
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    mantissa = "0" * pad + "".join(map(str, digits)) + "0" * pad
    spelled = f"{'-' if sign else ''}{mantissa}E{exponent - pad}"
    assert canonical_number(spelled) == format_number(value)
    # Moving the exponent gives the same result as scaling the value, range errors included.
    shifted = f"{'-' if sign else ''}{''.join(map(str, digits))}E{exponent + shift}"
    assert _outcome(lambda: canonical_number(shifted)) == _outcome(
        lambda: format_number(value.scaleb(shift, NUMBER_CONTEXT))
    )


def _outcome(compute: Callable[[], str]) -> str | None:
    try:
        return compute()
    except ValidationException as error:
        return error.message


@given(numbers)
def test_number_size_is_about_half_the_digits(value: Decimal) -> None:
    text = format_number(value)
    digits = len(text.replace("-", "").replace(".", "").strip("0"))
    size = number_size(text)
    if not value:
        assert size == 1
    else:
        assert (digits + 1) // 2 + 1 <= size <= (digits + 1) // 2 + 3
