"""DynamoDB numbers: 38 significant digits, magnitude 1E-130 .. 9.99...E+125, canonical text form."""

from __future__ import annotations

import decimal
import re
from decimal import Decimal

from rivulet.errors import ValidationException

MAX_DIGITS = 38
# Scientific exponent bounds (d.ddd x 10^e): the smallest non-zero magnitude is 1E-130, the
# largest 9.9999999999999999999999999999999999999E+125.
MIN_EXPONENT = -130
MAX_EXPONENT = 125

NOT_NUMERIC = "The parameter cannot be converted to a numeric value"
TOO_MANY_DIGITS = "Attempting to store more than 38 significant digits in a Number"
OVERFLOW = (
    "Number overflow. Attempting to store a number with magnitude larger than supported range"
)
UNDERFLOW = (
    "Number underflow. Attempting to store a number with magnitude smaller than supported range"
)

# Arithmetic context for other layers (`SET a = a + :v`, `ADD`): stored numbers span digit positions
# 10^125 .. 10^-167, so with this precision sums and differences are exact and the >38-digit check
# in format_number sees the true result, as DynamoDB does, instead of a silently rounded one.
NUMBER_CONTEXT = decimal.Context(
    prec=300,
    Emax=999_999,
    Emin=-999_999,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)

# DynamoDB accepts the same grammar as Java's BigDecimal minus the leading '+': no spaces, no
# Infinity/NaN, no hex, no '_' (all of which Python's Decimal would take). ASCII digits only.
_NUMBER_RE = re.compile(r"(-?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?")


def split_number(text: str) -> tuple[bool, str, int]:
    """Validate `text` and return (negative, significant digits, exponent of the last digit).

    Zero is returned as (False, "", 0). Raises ValidationException with DynamoDB's texts.
    """
    if not text:
        raise ValidationException(NOT_NUMERIC)
    match = _NUMBER_RE.fullmatch(text)
    if match is None:
        raise ValidationException(f"{NOT_NUMERIC}: {text}")
    sign, whole, fraction, exponent_text = match.groups()
    fraction = fraction or ""
    if not whole and not fraction:  # "-", ".", "e5", "-.e1"
        raise ValidationException(f"{NOT_NUMERIC}: {text}")
    digits = (whole + fraction).lstrip("0")
    if not digits:
        return False, "", 0
    significant = digits.rstrip("0")
    if exponent_text is None:
        exponent = 0
    elif len(exponent_text) > 12:
        # Far outside the supported range either way; avoids int() on huge digit strings.
        raise ValidationException(UNDERFLOW if exponent_text[0] == "-" else OVERFLOW)
    else:
        exponent = int(exponent_text)
    exponent += len(digits) - len(significant) - len(fraction)
    _check(significant, exponent)
    return sign == "-", significant, exponent


def _check(significant: str, exponent: int) -> None:
    """Range and precision checks on a non-zero number, in DynamoDB's order."""
    scientific = exponent + len(significant) - 1
    if scientific > MAX_EXPONENT:
        raise ValidationException(OVERFLOW)
    if scientific < MIN_EXPONENT:
        raise ValidationException(UNDERFLOW)
    if len(significant) > MAX_DIGITS:
        raise ValidationException(TOO_MANY_DIGITS)


def join_number(negative: bool, significant: str, exponent: int) -> str:
    """Plain notation of significant x 10^exponent (no exponent, no padding zeros)."""
    if not significant:
        return "0"
    if exponent >= 0:
        text = significant + "0" * exponent
    else:
        point = len(significant) + exponent
        if point > 0:
            text = significant[:point] + "." + significant[point:]
        else:
            text = "0." + "0" * -point + significant
    return "-" + text if negative else text


def parse_number(text: str) -> Decimal:
    """Validate a wire `N` string and return its exact value."""
    negative, significant, exponent = split_number(text)
    if not significant:
        return Decimal(0)
    return Decimal(f"{'-' if negative else ''}{significant}E{exponent}")


def format_number(value: Decimal) -> str:
    """DynamoDB's canonical text of a number; validates range and precision (arithmetic results)."""
    if not value.is_finite():
        if value.is_nan():
            raise ValidationException(f"{NOT_NUMERIC}: NaN")
        raise ValidationException(OVERFLOW)
    if not value:
        return "0"  # also -0 and 0E-500
    sign, digit_tuple, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    significant = digits.rstrip("0")
    exponent += len(digits) - len(significant)
    _check(significant, exponent)
    return join_number(sign == 1, significant, exponent)


def canonical_number(text: str) -> str:
    """format_number(parse_number(text)) without building a Decimal."""
    # Hot path: plain integers of up to 38 characters are always in range.
    if text and len(text) <= MAX_DIGITS and text.isascii():
        if text.isdigit():
            return text if text[0] != "0" else str(int(text))
        if text[0] == "-" and text[1:].isdigit():
            return text if text[1] != "0" else join_number(True, text[1:].lstrip("0"), 0)
    return join_number(*split_number(text))


def number_size(text: str) -> int:
    """Bytes DynamoDB counts for a number (its internal base-100 encoding).

    One exponent byte, then one byte per pair of digits aligned on even powers of ten (so
    ceil(digits / 2), plus one when the alignment splits the digits unevenly), plus a terminator
    byte for negative numbers shorter than 20 digit bytes; zero is one byte. This is dynalite's
    `valSize`, except that like its `numToBuffer` (the encoding DynamoDB uses) a negative number
    with 20 digit bytes gets no terminator.
    """
    if len(text) <= MAX_DIGITS and text.isascii() and text.isdigit() and text[0] != "0":
        # Hot path: canonical positive integer.
        count = len(text.rstrip("0"))
        scientific = len(text) - 1
        negative = False
    else:
        negative, significant, exponent = split_number(text)
        count = len(significant)
        if not count:
            return 1
        scientific = exponent + count - 1
    # Pairs are aligned on even powers of ten: an even scientific exponent puts the first digit
    # alone in its pair (leading pad zero).
    pairs = (count + (scientific % 2 == 0) + 1) // 2
    return 1 + pairs + (negative and pairs < 20)


def add_numbers(left: str, right: str) -> str:
    """Exact sum of two number texts in canonical form; raises DynamoDB's range/precision errors."""
    return format_number(NUMBER_CONTEXT.add(parse_number(left), parse_number(right)))


def subtract_numbers(left: str, right: str) -> str:
    """Exact difference of two number texts in canonical form."""
    return format_number(NUMBER_CONTEXT.subtract(parse_number(left), parse_number(right)))
