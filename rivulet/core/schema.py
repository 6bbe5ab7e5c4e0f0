"""Table and index schemas as validated, immutable domain objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

KeyType = Literal["S", "N", "B"]
ProjectionType = Literal["ALL", "KEYS_ONLY", "INCLUDE"]


@dataclass(frozen=True, slots=True)
class KeySchema:
    """Partition key name/type and optional sort key name/type."""

    hash_name: str
    hash_type: KeyType
    range_name: str | None = None
    range_type: KeyType | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.hash_name,) if self.range_name is None else (self.hash_name, self.range_name)


@dataclass(frozen=True, slots=True)
class Projection:
    type: ProjectionType = "ALL"
    non_key_attributes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class IndexSchema:
    name: str
    key: KeySchema
    projection: Projection
    is_global: bool
    # Provisioned throughput of a GSI (None for LSIs and on-demand tables).
    read_capacity: int | None = None
    write_capacity: int | None = None


@dataclass(frozen=True, slots=True)
class StreamSpec:
    enabled: bool
    view_type: str | None = None  # NEW_IMAGE | OLD_IMAGE | NEW_AND_OLD_IMAGES | KEYS_ONLY


@dataclass(frozen=True, slots=True)
class TableDefinition:
    """Everything CreateTable accepted, validated. The engine turns it into a stored table."""

    name: str
    key: KeySchema
    attribute_definitions: tuple[tuple[str, KeyType], ...]
    local_indexes: tuple[IndexSchema, ...] = ()
    global_indexes: tuple[IndexSchema, ...] = ()
    billing_mode: Literal["PROVISIONED", "PAY_PER_REQUEST"] = "PROVISIONED"
    read_capacity: int | None = None
    write_capacity: int | None = None
    stream: StreamSpec | None = None
    sse_enabled: bool | None = None
    sse_type: str | None = None
    kms_master_key_id: str | None = None
    table_class: str | None = None
    deletion_protection: bool = False
    tags: tuple[tuple[str, str], ...] = field(default=())
