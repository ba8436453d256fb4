"""`insightbot cleanup`: purge (or list, with --dry-run) the threads the options select.

Safe beside a running bot: claims live in the shared SQLite file, so a thread with a turn
waiting or running is skipped (counted as busy), and a question arriving during a purge
waits for it. Idempotent: what is gone stays counted as done, and a second run finds
nothing left.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.engines.base import Engine
from bot.engines.objects import ObjectKind
from bot.lifecycle.decisions import DAY_S, counts_by_kind
from bot.lifecycle.purge import new_holder, purge_thread, retry_due_deletions
from storage import Store
from storage.records import REQUEST

_OBJECT_STATES = ("live", "doomed")


def _zeros() -> dict[str, int]:
    return {kind.value: 0 for kind in ObjectKind}


@dataclass
class CleanupSummary:
    """What a cleanup did (or, with ``dry_run``, would do)."""

    dry_run: bool
    threads: int = 0  # threads purged (or that would be)
    busy: int = 0  # threads skipped: a turn was waiting or running there
    deleted: dict[str, int] = field(default_factory=_zeros)  # gone now, per kind
    pending: dict[str, int] = field(default_factory=_zeros)  # not deleted yet, per kind
    would_delete: dict[str, int] = field(default_factory=_zeros)  # --dry-run only
    erased_turns: int = 0
    erased_files: int = 0
    thread_keys: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "dry_run": self.dry_run,
            "threads": self.threads,
            "busy": self.busy,
            "deleted": self.deleted,
            "pending": self.pending,
            "erased": {"turns": self.erased_turns, "files": self.erased_files},
        }
        if self.dry_run:
            body["would_delete"] = self.would_delete
            body["thread_keys"] = self.thread_keys
        return body

    def as_text(self) -> str:
        if self.dry_run:
            lines = [f"would purge {self.threads} thread(s): {_listed(self.would_delete)}"]
            lines += [f"  {key}" for key in self.thread_keys]
            return "\n".join(lines)
        text = (
            f"purged {self.threads} thread(s): deleted {_listed(self.deleted)}; erased "
            f"{self.erased_turns} turn(s) and {self.erased_files} file record(s)"
        )
        if self.busy:
            text += f"\nskipped {self.busy} busy thread(s) (a question is being answered there)"
        if sum(self.pending.values()):
            text += (
                f"\nnot deleted yet: {_listed(self.pending)} (the engine refused for now; the "
                "bot's hourly sweep or the next cleanup tries again)"
            )
        return text


def _listed(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind}(s)" for kind, n in counts.items()) or "nothing"


async def run_cleanup(
    *,
    store: Store,
    engine: Engine,
    older_than_days: float | None,
    thread: tuple[str, str] | None,
    dry_run: bool,
    clock: Callable[[], float] = time.time,
) -> CleanupSummary:
    """Purge the threads idle for more than ``older_than_days`` (0: every idle thread), and/or
    the one ``thread`` (channel id, thread ts), with their engine objects; without ``thread``
    also the inventory's objects of no thread as old, and every deletion still pending.
    Raises ValueError when neither option is given."""
    now = clock()
    summary = CleanupSummary(dry_run=dry_run)
    cutoff = None if older_than_days is None else now - older_than_days * DAY_S
    if thread is not None:
        channel, thread_ts = thread
        targets = await store.threads_named(channel=channel, thread_ts=thread_ts)
        if cutoff is not None:
            targets = [t for t in targets if t.last_activity < cutoff]
    elif cutoff is not None:
        targets = await store.idle_threads(before=cutoff)
    else:
        raise ValueError("cleanup needs older_than_days or thread")
    keys = [t.thread_key for t in targets]
    if dry_run:
        summary.threads = len(keys)
        summary.thread_keys = keys
        summary.would_delete = await store.object_counts(keys, states=_OBJECT_STATES)
        return summary
    holder = new_holder("cleanup")
    for key in keys:
        report = await purge_thread(
            store=store, engine=engine, thread_key=key, reason=REQUEST, holder=holder, clock=clock
        )
        if report is None:
            summary.busy += 1
            continue
        summary.threads += 1
        summary.erased_turns += report.erased.turns
        summary.erased_files += report.erased.files
        _add(summary.deleted, report.deleted)
        _add(summary.pending, report.pending)
    if thread is None and cutoff is not None:
        await store.doom_unowned_objects(before=cutoff, now=now)
        retried = await retry_due_deletions(store=store, engine=engine, clock=clock)
        _add(summary.deleted, counts_by_kind(retried, done=True))
        summary.pending = await store.pending_deletions()
    return summary


def _add(total: dict[str, int], more: dict[str, int]) -> None:
    for kind, n in more.items():
        total[kind] = total.get(kind, 0) + n
