"""Trigger state in the database: one write job per change, run on the storage writer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from rivulet.storage.base import CheckpointRow, LeaseRow, Storage, TriggerRow, WriteTxn

T = TypeVar("T")
RunJob = Callable[[Callable[[WriteTxn], T]], Awaitable[T]]


class LeaseLost(Exception):
    """Another runtime took over the shard: this one must stop processing it."""


class TriggerStore:
    def __init__(self, storage: Storage, run: RunJob[Any]) -> None:
        self.storage = storage
        self.run = run

    # Reads (committed state) -------------------------------------------------------------------
    def triggers(self) -> list[TriggerRow]:
        return self.storage.reader().triggers()

    def checkpoints(self, uuid: str) -> dict[int, CheckpointRow]:
        return {cp.shard_key: cp for cp in self.storage.reader().checkpoints(uuid)}

    def leases(self, uuid: str) -> list[LeaseRow]:
        return self.storage.reader().leases(uuid)

    def holds_lease(self, uuid: str, shard_key: int, owner: str, now: float) -> bool:
        return any(
            lease.shard_key == shard_key and lease.owner == owner and lease.expires > now
            for lease in self.leases(uuid)
        )

    # Writes ------------------------------------------------------------------------------------
    async def commit(
        self,
        uuid: str,
        shard_key: int,
        owner: str,
        now: float,
        checkpoint: tuple[int, bool, bytes | None] | None,
        counts: dict[str, int],
        latest: dict[str, Any],
    ) -> None:
        """Move the checkpoint and add the figures in one job, only while holding the lease."""

        def job(txn: WriteTxn) -> None:
            if not txn.holds_lease(uuid, shard_key, owner, now):
                raise LeaseLost(f"lease on shard {shard_key} of trigger {uuid} lost")
            if checkpoint is not None:
                seq, done, window = checkpoint
                txn.set_checkpoint(uuid, shard_key, seq, done, window)
            txn.add_trigger_figures(uuid, counts, latest)

        await self.run(job)

    async def take_leases(
        self, uuid: str, shard_keys: list[int], owner: str, now: float, ttl: float
    ) -> list[int]:
        """Take (or renew) what can be taken; returns the shard keys now held."""

        def job(txn: WriteTxn) -> list[int]:
            return [k for k in shard_keys if txn.take_lease(uuid, k, owner, now, ttl)]

        result: list[int] = await self.run(job)
        return result

    async def steal_lease(
        self, uuid: str, shard_key: int, victim: str, owner: str, now: float, ttl: float
    ) -> bool:
        """Take a shard `victim` holds, if it still does (balancing runtimes, as the KCL's lease
        taker does). The victim finds out when it next checks or renews the lease."""

        def job(txn: WriteTxn) -> bool:
            if not txn.holds_lease(uuid, shard_key, victim, now):
                return False
            txn.release_lease(uuid, shard_key, victim)
            return txn.take_lease(uuid, shard_key, owner, now, ttl)

        result: bool = await self.run(job)
        return result

    async def release_leases(self, held: list[tuple[str, int]], owner: str) -> None:
        def job(txn: WriteTxn) -> None:
            for uuid, shard_key in held:
                txn.release_lease(uuid, shard_key, owner)

        await self.run(job)

    async def put(
        self, row: TriggerRow, checkpoints: dict[int, tuple[int, bool]] | None = None
    ) -> None:
        """Save a trigger; `checkpoints` (shard_key -> (seq, done)) pins LATEST at binding."""

        def job(txn: WriteTxn) -> None:
            txn.put_trigger(row)
            for shard_key, (seq, done) in (checkpoints or {}).items():
                txn.set_checkpoint(row.uuid, shard_key, seq, done, None)

        await self.run(job)

    async def delete(self, uuid: str) -> None:
        await self.run(lambda txn: txn.delete_trigger(uuid))

    async def delete_checkpoints(self, uuid: str, shard_keys: list[int]) -> None:
        def job(txn: WriteTxn) -> None:
            for key in shard_keys:
                txn.delete_checkpoint(uuid, key)

        await self.run(job)

    async def figures(self, uuid: str, counts: dict[str, int], latest: dict[str, Any]) -> None:
        await self.run(lambda txn: txn.add_trigger_figures(uuid, counts, latest))
