"""Purging one thread: claim it, delete its engine objects, erase its content, let go.

Every purge (the retention sweep, "forget this thread", `insightbot cleanup`, `insightbot
ask` without --thread) goes through ``purge_thread``. The claim is taken in SQLite only when
none of the thread's turns is waiting or running, and a message taken in meanwhile waits for
it (storage/lifecycle.py), so a purge never pulls the ground from under a turn.

Only objects in the inventory are deleted. A deletion the engine refuses now (5xx, 429, a
timeout) stays pending, is retried with back-off (``retry_due_deletions``) and is never
counted as deleted; the thread's local content is erased all the same, and its next
question starts a fresh conversation.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.engines.base import Engine
from bot.engines.objects import Deletion, EngineObject
from bot.lifecycle.decisions import (
    MAX_RETRY_BACKOFF_S,
    PURGE_LEASE_S,
    RETRY_BACKOFF_S,
    counts_by_kind,
)
from storage import Store
from storage.records import REQUEST, Erased

log = logging.getLogger(__name__)

Clock = Callable[[], float]


def new_holder(who: str) -> str:
    """A name for one purging process's claims (``who`` says which command)."""
    return f"{who}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass(frozen=True)
class PurgeReport:
    """What one purge did. ``deleted`` counts objects that are gone now, per kind; ``pending``
    those the engine would not delete yet (retried later, never counted as deleted)."""

    thread_key: str
    deleted: dict[str, int] = field(default_factory=dict)
    pending: dict[str, int] = field(default_factory=dict)
    erased: Erased = field(default_factory=Erased)

    @property
    def anything(self) -> bool:
        e = self.erased
        return bool(sum(self.deleted.values()) + sum(self.pending.values()) + e.turns + e.files)


async def purge_thread(
    *,
    store: Store,
    engine: Engine,
    thread_key: str,
    reason: str,
    holder: str,
    clock: Clock = time.time,
) -> PurgeReport | None:
    """Purge one thread; None (nothing done) when it is busy: a turn is waiting or running
    there, or another purge holds it. Raises StorageError; engine failures only leave
    deletions pending."""
    now = clock()
    claimed = await store.claim_purge(
        thread_key, reason=reason, holder=holder, lease_s=PURGE_LEASE_S, now=now
    )
    if not claimed:
        log.info("thread %s is busy; its purge waits", thread_key)
        return None
    try:
        objects = await store.doom_thread_objects(thread_key, now=now)
        deletions = await delete_objects(store=store, engine=engine, objects=objects, clock=clock)
        erased = await store.erase_thread(
            thread_key, holder=holder, now=clock(), tell=bool(objects)
        )
    except BaseException:
        await store.release_purge(thread_key, holder=holder)
        raise
    report = PurgeReport(
        thread_key=thread_key,
        deleted=counts_by_kind(deletions, done=True),
        pending=counts_by_kind(deletions, done=False),
        erased=erased,
    )
    log.info(
        "purged thread %s (%s): deleted %s, pending %s, erased %d turns and %d files",
        thread_key,
        reason,
        _brief(report.deleted),
        _brief(report.pending),
        erased.turns,
        erased.files,
    )
    return report


async def delete_objects(
    *, store: Store, engine: Engine, objects: Sequence[EngineObject], clock: Clock = time.time
) -> list[Deletion]:
    """Ask the engine to delete ``objects`` and record each outcome: done ones (deleted, or
    already gone) as deleted, the others pending with their next try."""
    if not objects:
        return []
    deletions = await engine.forget(objects)
    done = [d.obj for d in deletions if d.done]
    pending = [(d.obj, d.detail, d.retry_after_s) for d in deletions if not d.done]
    await store.settle_objects(
        deleted=done,
        pending=pending,
        now=clock(),
        backoff_s=RETRY_BACKOFF_S,
        max_backoff_s=MAX_RETRY_BACKOFF_S,
    )
    for deletion in deletions:
        if not deletion.done:
            log.warning(
                "%s %s not deleted yet (%s); it is tried again later",
                deletion.obj.kind,
                deletion.obj.object_id,
                deletion.detail or "no reason given",
            )
    return deletions


async def retry_due_deletions(
    *, store: Store, engine: Engine, clock: Clock = time.time
) -> list[Deletion]:
    """Try again every pending deletion whose time has come."""
    due = await store.due_deletions(now=clock())
    return await delete_objects(store=store, engine=engine, objects=due, clock=clock)


async def discard_thread(
    *, store: Store, engine: Engine, thread_key: str, holder: str, clock: Clock = time.time
) -> PurgeReport:
    """Purge a thread this process alone uses (`insightbot ask` without --thread). Should
    its turn have been left unfinished (a crash), the engine objects still go; the stored
    turn stays for `insightbot cleanup`."""
    report = await purge_thread(
        store=store,
        engine=engine,
        thread_key=thread_key,
        reason=REQUEST,
        holder=holder,
        clock=clock,
    )
    if report is not None:
        return report
    objects = await store.doom_thread_objects(thread_key, now=clock())
    deletions = await delete_objects(store=store, engine=engine, objects=objects, clock=clock)
    return PurgeReport(
        thread_key=thread_key,
        deleted=counts_by_kind(deletions, done=True),
        pending=counts_by_kind(deletions, done=False),
    )


def _brief(counts: dict[str, int]) -> str:
    shown = [f"{n} {kind}s" for kind, n in counts.items() if n]
    return ", ".join(shown) or "nothing"
