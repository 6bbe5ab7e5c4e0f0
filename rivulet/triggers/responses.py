"""What a function's answer means for its batch (triggers.md 9 and 11, Q-T5)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rivulet.triggers.invocation import Invocation

# The on-failure record's responseContext.functionError.
UNHANDLED = "Unhandled"


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    # On failure: the index of the first record to retry (0 = the whole batch); records before
    # it are done. With ReportBatchItemFailures that is the lowest reported sequence number.
    retry_from: int = 0
    function_error: str | None = UNHANDLED
    state: dict[str, Any] | None = None  # tumbling windows: the state to carry on
    partial: bool = False  # the function named the failed records (valid batchItemFailures)


def judge(
    invocation: Invocation,
    sequence_numbers: Sequence[str],
    report_item_failures: bool,
    windowed: bool,
) -> Verdict:
    if not invocation.ok:
        return Verdict(False)
    response = invocation.response
    state = None
    if windowed:
        # A windowed function must answer with its state; anything else is a failed invocation.
        if not isinstance(response, dict) or not isinstance(response.get("state"), dict):
            return Verdict(False, function_error=None)
        state = response["state"]
    # Without ReportBatchItemFailures any normal return is success, whatever the body.
    if not report_item_failures:
        return Verdict(True, state=state)
    if response is None:
        return Verdict(True, state=state)
    if not isinstance(response, dict):
        return Verdict(False, function_error=None)
    failures = response.get("batchItemFailures")
    if not failures:  # missing, null or []: full success (observed on AWS)
        return Verdict(True, state=state)
    if not isinstance(failures, list):
        return Verdict(False, function_error=None)
    position = {seq: i for i, seq in enumerate(sequence_numbers)}
    lowest = len(sequence_numbers)
    for failure in failures:
        ident = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        # "" / null / a missing key / an id not in the batch: the whole batch failed (Q-T5).
        if not isinstance(ident, str) or ident not in position:
            return Verdict(False, function_error=None)
        lowest = min(lowest, position[ident])
    return Verdict(False, retry_from=lowest, function_error=None, state=state, partial=True)
