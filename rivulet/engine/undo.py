"""Restore points for in-memory state a write job changes beside storage (WriteTxn.on_rollback)."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any


def restore_point(obj: Any, *names: str) -> Callable[[], None]:
    """A function that sets `obj`'s named attributes (all its dataclass fields when none are
    named) back to their present values. Lists and dicts are copied, so changing them in place
    afterwards is undone too."""
    fields = names or tuple(f.name for f in dataclasses.fields(obj))
    saved = [(name, _copied(getattr(obj, name))) for name in fields]

    def restore() -> None:
        for name, value in saved:
            setattr(obj, name, value)

    return restore


def _copied(value: Any) -> Any:
    return copy.copy(value) if isinstance(value, (list, dict, set)) else value
