"""Assertion helpers shared by the API conformance tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError


def error_of(call: Callable[[], Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call()
    error = info.value.response["Error"]
    return error["Code"], error["Message"]


def validation(message: str) -> tuple[str, str]:
    return ("ValidationException", message)


def body(response: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def scan_pages(ddb: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every page of a scan, following LastEvaluatedKey."""
    while True:
        page = ddb.scan(**kwargs)
        yield page
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
