"""The retention sweep: at start and then hourly, purge every thread idle for longer than
INSIGHTBOT_RETENTION_DAYS, finish purges a restart interrupted, retry deletions the engine
refused (also every few minutes between sweeps, as their back-off comes due), and sweep up
containers named as ours that never reached the inventory.

Time comes from a ``Clock`` so that tests can move it (``SystemClock`` in the bot). With
retention off (0) idle threads stay, but pending deletions (from "forget") are still retried.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Protocol

from bot.config import Settings
from bot.engines.base import Engine
from bot.engines.objects import ObjectKind
from bot.errors import InsightbotError
from bot.lifecycle.decisions import SWEEP_INTERVAL_S, counts_by_kind, retention_cutoff
from bot.lifecycle.purge import delete_objects, new_holder, purge_thread, retry_due_deletions
from storage import Store
from storage.records import RETENTION

log = logging.getLogger(__name__)

FIRST_SWEEP_MARK = "first_retention_sweep"
RETRY_CHECK_S = 300.0  # how often pending deletions are looked at between sweeps
STRAY_MIN_AGE_S = 3600.0  # younger unrecorded containers may be being recorded right now
_OBJECT_STATES = ("live", "doomed")


class Clock(Protocol):
    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@dataclass
class SweepReport:
    threads: int = 0  # threads purged
    busy: int = 0  # threads skipped because a turn was waiting or running there
    deleted: dict[str, int] = field(default_factory=lambda: {k.value: 0 for k in ObjectKind})
    pending: dict[str, int] = field(default_factory=lambda: {k.value: 0 for k in ObjectKind})

    def add(self, deleted: dict[str, int], pending: dict[str, int]) -> None:
        for kind, n in deleted.items():
            self.deleted[kind] += n
        for kind, n in pending.items():
            self.pending[kind] += n


class RetentionSweeper:
    """Runs the sweep in a loop (``run``) or once (``sweep``)."""

    def __init__(
        self, *, store: Store, engine: Engine, settings: Settings, clock: Clock | None = None
    ) -> None:
        self._store = store
        self._engine = engine
        self._settings = settings
        self.clock: Clock = clock or SystemClock()
        self._holder = new_holder("sweep")
        self.sweeps = 0  # finished sweeps (tests wait on it)

    async def run(self) -> None:
        """Sweep now and then every hour; between sweeps, every few minutes, retry the
        deletions that have come due. Never returns until cancelled; a failed round is
        logged and tried again at the next."""
        next_sweep = self.clock.now()
        while True:
            now = self.clock.now()
            try:
                if now >= next_sweep:
                    next_sweep = now + SWEEP_INTERVAL_S
                    await self.sweep(strays=self.sweeps > 0)
                    self.sweeps += 1
                else:
                    await retry_due_deletions(
                        store=self._store, engine=self._engine, clock=self.clock.now
                    )
            except (InsightbotError, OSError) as error:
                log.warning("the retention sweep failed: %s; it runs again later", error)
            except Exception:
                log.exception("the retention sweep crashed; it runs again later")
            await self.clock.sleep(max(1.0, min(RETRY_CHECK_S, next_sweep - self.clock.now())))

    async def sweep(self, *, strays: bool = True) -> SweepReport:
        """One sweep. ``strays``: also list the engine's containers for unrecorded ones of
        ours (not at start, when the bot's own turns are being picked up again)."""
        store, now = self._store, self.clock.now()
        report = SweepReport()
        cutoff = retention_cutoff(now, self._settings.retention_days)
        keys = await store.stale_purge_claims(now=now)
        if cutoff is not None:
            keys += [t.thread_key for t in await store.idle_threads(before=cutoff)]
            await self._announce_first(sorted(set(keys)))
            await store.doom_unowned_objects(before=cutoff, now=now)
        for key in dict.fromkeys(keys):
            purged = await purge_thread(
                store=store,
                engine=self._engine,
                thread_key=key,
                reason=RETENTION,
                holder=self._holder,
                clock=self.clock.now,
            )
            if purged is None:
                report.busy += 1
                continue
            report.threads += 1
            report.add(purged.deleted, purged.pending)
        retried = await retry_due_deletions(store=store, engine=self._engine, clock=self.clock.now)
        report.add(counts_by_kind(retried, done=True), {})
        if strays:
            report.add(await self._sweep_strays(now), {})
        return report

    async def _announce_first(self, keys: list[str]) -> None:
        """The first sweep after the upgrade that brought retention says what it deletes."""
        store = self._store
        if await store.lifecycle_mark(FIRST_SWEEP_MARK) is not None:
            return
        if keys:
            counts = await store.object_counts(keys, states=_OBJECT_STATES)
            objects = ", ".join(f"{n} {kind}s" for kind, n in counts.items() if n) or "no objects"
            log.warning(
                "first retention sweep (INSIGHTBOT_RETENTION_DAYS=%d): about to delete the data "
                "of %d threads idle for longer than that (%s at the engine; their questions, "
                "answers, code and file names here)",
                self._settings.retention_days,
                len(keys),
                objects,
            )
        else:
            log.info(
                "first retention sweep (INSIGHTBOT_RETENTION_DAYS=%d): nothing is that old",
                self._settings.retention_days,
            )
        await store.set_lifecycle_mark(FIRST_SWEEP_MARK, at=self.clock.now())

    async def _sweep_strays(self, now: float) -> dict[str, int]:
        """Delete containers named as ours that the inventory never heard of (a crash between
        creating one and recording it)."""
        known = await self._store.known_object_ids(ObjectKind.CONTAINER)
        strays = [
            c
            for c in await self._engine.own_containers()
            if c.object_id not in known and c.created_at < now - STRAY_MIN_AGE_S
        ]
        for container in strays:
            await self._store.record_stray_object(container)
        if strays:
            log.info("deleting %d containers of ours missing from the inventory", len(strays))
        deletions = await delete_objects(
            store=self._store, engine=self._engine, objects=strays, clock=self.clock.now
        )
        return counts_by_kind(deletions, done=True)
