"""The duration options of `rivulet serve`: units, and zero only where it means "off"."""

from __future__ import annotations

import click
import pytest

from rivulet.cli import Duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90.0), ("250ms", 0.25), ("2s", 2.0), ("1.5m", 90.0), ("4h", 14400.0), ("1d", 86400.0)],
)
def test_duration_units(text: str, seconds: float) -> None:
    assert Duration().convert(text, None, None) == seconds


@pytest.mark.parametrize("text", ["0", "0ms", "-1s", "2w", "ms", "soon", ""])
def test_duration_rejects(text: str) -> None:
    with pytest.raises(click.BadParameter) as err:
        Duration().convert(text, None, None)
    assert err.value.message == f"{text!r} is not a duration such as 90, 2s, 15m, 4h or 1d"


def test_duration_zero_where_allowed() -> None:
    # --get-records-wait 0: answer an empty page at once.
    assert Duration(allow_zero=True).convert("0", None, None) == 0.0
    assert Duration(allow_zero=True).convert("0ms", None, None) == 0.0
    with pytest.raises(click.BadParameter):
        Duration(allow_zero=True).convert("-5ms", None, None)
