"""What every API operation gets: the database and the server settings."""

from __future__ import annotations

from dataclasses import dataclass

from rivulet.config import Settings
from rivulet.engine.database import Database


@dataclass(slots=True)
class ApiContext:
    db: Database
    settings: Settings
