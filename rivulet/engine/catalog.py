"""Tables as the engine keeps them: definition, storage ids and mutable state, persisted as JSON."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from rivulet.core.keys import encode_key_value, partition_hash
from rivulet.core.schema import IndexSchema, KeySchema, Projection, StreamSpec, TableDefinition
from rivulet.core.types import AttributeValue, Item

# Beyond any real epoch second (year ~292 billion); keeps expiry in SQLite's INTEGER range.
_MAX_EXPIRY = 2**62


@dataclass(slots=True)
class IndexRuntime:
    """A secondary index with its storage id."""

    schema: IndexSchema
    index_id: int
    status: str = "ACTIVE"

    @property
    def name(self) -> str:
        return self.schema.name

    def entry_key(self, item: Item) -> tuple[int, bytes, bytes] | None:
        """The (hash, pk, sk) this item is indexed under, or None when it lacks the index keys.

        DynamoDB leaves an item out of an index (sparse index) when an index key attribute is
        missing or has another type than the index's attribute definition.
        """
        key = self.schema.key
        hv = item.get(key.hash_name)
        if hv is None or key.hash_type not in hv:
            return None
        pk = encode_key_value(hv)
        sk = b""
        if key.range_name is not None:
            rv = item.get(key.range_name)
            if rv is None or key.range_type not in rv:
                return None
            sk = encode_key_value(rv)
        return partition_hash(pk), pk, sk


@dataclass(slots=True)
class TableRuntime:
    """One live table incarnation."""

    table_id: int
    definition: TableDefinition
    created_at: float
    table_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    indexes: list[IndexRuntime] = field(default_factory=list)
    ttl_attribute: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    billing_switched_at: float | None = None
    throughput_increased_at: float | None = None
    throughput_decreased_at: float | None = None
    decreases_today: int = 0
    extra: dict[str, Any] = field(default_factory=dict)  # state owned by later layers (streams)
    dropped: bool = False  # set by DeleteTable's job; later jobs on this incarnation fail

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def key(self) -> KeySchema:
        return self.definition.key

    def index(self, name: str) -> IndexRuntime | None:
        for idx in self.indexes:
            if idx.name == name:
                return idx
        return None

    def storage_key(self, key: Item) -> tuple[int, bytes, bytes]:
        """(hash, pk, sk) of a validated primary key."""
        ks = self.definition.key
        pk = encode_key_value(key[ks.hash_name])
        sk = b"" if ks.range_name is None else encode_key_value(key[ks.range_name])
        return partition_hash(pk), pk, sk

    def expiry_of(self, item: Item) -> int | None:
        """Epoch seconds after which TTL deletes the item, when TTL is enabled and the value is a number."""
        if self.ttl_attribute is None:
            return None
        value: AttributeValue | None = item.get(self.ttl_attribute)
        if value is None or "N" not in value:
            return None
        try:
            expires = int(float(value["N"]))
        except (ValueError, OverflowError):
            return None
        # Far-future (or far-past) values never expire; they must also fit a 64-bit column.
        return expires if -_MAX_EXPIRY <= expires <= _MAX_EXPIRY else None


# Persistence ----------------------------------------------------------------------------------


def _key_to_json(k: KeySchema) -> dict[str, Any]:
    return {
        "h": [k.hash_name, k.hash_type],
        "r": None if k.range_name is None else [k.range_name, k.range_type],
    }


def _key_from_json(d: dict[str, Any]) -> KeySchema:
    r = d["r"]
    return KeySchema(d["h"][0], d["h"][1], None if r is None else r[0], None if r is None else r[1])


def _index_to_json(idx: IndexRuntime) -> dict[str, Any]:
    s = idx.schema
    return {
        "name": s.name,
        "id": idx.index_id,
        "status": idx.status,
        "key": _key_to_json(s.key),
        "proj": [s.projection.type, list(s.projection.non_key_attributes)],
        "global": s.is_global,
        "rcu": s.read_capacity,
        "wcu": s.write_capacity,
    }


def _index_from_json(d: dict[str, Any]) -> IndexRuntime:
    schema = IndexSchema(
        name=d["name"],
        key=_key_from_json(d["key"]),
        projection=Projection(d["proj"][0], tuple(d["proj"][1])),
        is_global=d["global"],
        read_capacity=d["rcu"],
        write_capacity=d["wcu"],
    )
    return IndexRuntime(schema, d["id"], d["status"])


def dump_table(t: TableRuntime) -> bytes:
    d = t.definition
    return orjson.dumps(
        {
            "name": d.name,
            "key": _key_to_json(d.key),
            "attrs": [list(a) for a in d.attribute_definitions],
            "billing": d.billing_mode,
            "rcu": d.read_capacity,
            "wcu": d.write_capacity,
            "stream": None if d.stream is None else [d.stream.enabled, d.stream.view_type],
            "sse": [d.sse_enabled, d.sse_type, d.kms_master_key_id],
            "class": d.table_class,
            "protect": d.deletion_protection,
            "uuid": t.table_uuid,
            "indexes": [_index_to_json(i) for i in t.indexes],
            "ttl": t.ttl_attribute,
            "tags": t.tags,
            "billing_at": t.billing_switched_at,
            "inc_at": t.throughput_increased_at,
            "dec_at": t.throughput_decreased_at,
            "dec_n": t.decreases_today,
            "extra": t.extra,
        }
    )


def load_table(table_id: int, created_at: float, raw: bytes) -> TableRuntime:
    d = orjson.loads(raw)
    indexes = [_index_from_json(i) for i in d["indexes"]]
    definition = TableDefinition(
        name=d["name"],
        key=_key_from_json(d["key"]),
        attribute_definitions=tuple((a[0], a[1]) for a in d["attrs"]),
        local_indexes=tuple(i.schema for i in indexes if not i.schema.is_global),
        global_indexes=tuple(i.schema for i in indexes if i.schema.is_global),
        billing_mode=d["billing"],
        read_capacity=d["rcu"],
        write_capacity=d["wcu"],
        stream=None if d["stream"] is None else StreamSpec(d["stream"][0], d["stream"][1]),
        sse_enabled=d["sse"][0],
        sse_type=d["sse"][1],
        kms_master_key_id=d["sse"][2],
        table_class=d["class"],
        deletion_protection=d["protect"],
    )
    return TableRuntime(
        table_id=table_id,
        definition=definition,
        created_at=created_at,
        table_uuid=d["uuid"],
        indexes=indexes,
        ttl_attribute=d["ttl"],
        tags=d["tags"],
        billing_switched_at=d["billing_at"],
        throughput_increased_at=d["inc_at"],
        throughput_decreased_at=d["dec_at"],
        decreases_today=d["dec_n"],
        extra=d["extra"],
    )


def sync_definition_indexes(t: TableRuntime) -> None:
    """Keep the definition's index tuples equal to the runtime index list after index changes."""
    t.definition = replace(
        t.definition,
        local_indexes=tuple(i.schema for i in t.indexes if not i.schema.is_global),
        global_indexes=tuple(i.schema for i in t.indexes if i.schema.is_global),
    )
