"""What invoking a function produced: a response, a function error, or no invocation at all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import orjson

# An event is handed over as its JSON when the runtime built it by splicing stored records (no
# decoding on the hot path), or as an object (redrive, tests).
Event = dict[str, Any] | bytes


def event_json(event: Event) -> bytes:
    return event if isinstance(event, bytes) else orjson.dumps(event)


def event_fragment(event: Event) -> Any:
    """The event as a member of a larger orjson document, without re-encoding bytes."""
    return orjson.Fragment(event) if isinstance(event, bytes) else event


@dataclass(frozen=True, slots=True)
class FunctionError:
    """A failed invocation, in the official runtime's error-object terms (triggers.md 13.1)."""

    error_type: str  # e.g. "ValueError", "Runtime.ImportModuleError", "Sandbox.Timedout"
    message: str
    stack_trace: tuple[str, ...] = ()

    def as_json(self, request_id: str) -> dict[str, Any]:
        return {
            "errorMessage": self.message,
            "errorType": self.error_type,
            "requestId": request_id,
            "stackTrace": list(self.stack_trace),
        }


@dataclass(frozen=True, slots=True)
class Invocation:
    """The outcome of one invoke.

    - success: `error` and `not_invoked` are None; `response` is the function's JSON-compatible
      return value (None when it returned nothing or an empty body).
    - function error (counts against MaximumRetryAttempts): `error` is set.
    - not invoked (the function could not be reached: unknown command, connection refused; does
      not count against retries, triggers.md 7 and Q-T16): `not_invoked` holds the reason.
    """

    request_id: str
    response: Any = None
    error: FunctionError | None = None
    not_invoked: str | None = None
    duration: float = 0.0  # seconds

    @property
    def ok(self) -> bool:
        return self.error is None and self.not_invoked is None


class Invoker(Protocol):
    """Runs one function. One instance per mapping; `invoke` may be called concurrently
    (ParallelizationFactor > 1 runs several lanes of a shard at once)."""

    async def invoke(self, event: Event, request_id: str, timeout: float) -> Invocation:
        """Never raises for anything the function does; `timeout` is in seconds. The function
        gets its own copy of the event."""
        ...

    async def close(self) -> None:
        """Release processes, connections and threads."""
        ...
