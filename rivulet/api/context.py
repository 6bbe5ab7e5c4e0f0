"""What every API operation gets: the database and the server settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rivulet.config import Settings
from rivulet.engine.database import Database

if TYPE_CHECKING:
    from rivulet.triggers.admin import TriggerAdmin


@dataclass(slots=True)
class ApiContext:
    db: Database
    settings: Settings
    triggers: TriggerAdmin | None = None  # set once the trigger runtime has started
