"""The async store: threads, their files, channel files, turns and event dedupe keys.

Every method sends one job to the database worker thread (see ``storage._db``) and awaits it,
so the event loop never waits on SQLite and concurrent callers never interleave inside a job.
Methods raise ``StorageError`` when SQLite fails or the store is closed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from sqlite_utils import Database

from bot.engines.objects import EngineObject, ObjectKind
from storage import _jobs, _maintenance, lifecycle, local_history
from storage._db import NORMAL, URGENT, DbWorker, StorageError
from storage._rows import TURN_COLUMNS, TURN_LIST_COLUMNS
from storage.governance import GovernanceQueries
from storage.records import (
    CANCELLED,
    DONE,
    FAILED,
    QUEUED,
    RECEIVED,
    REFUSED,
    RUNNING,
    ChannelFileRecord,
    Erased,
    FileRecord,
    IdleThread,
    PurgeNotice,
    Taken,
    ThreadRecord,
    TurnRecord,
)
from storage.schedules import ScheduleQueries

T = TypeVar("T")

# Expired dedupe keys and channel files are deleted at most this often.
PURGE_INTERVAL_S = 600.0

_UPDATABLE_TURN_FIELDS = frozenset(TURN_COLUMNS) - {"id", "answer_parts"}  # add_answer_part
_TURN_STATUSES = frozenset({RECEIVED, QUEUED, RUNNING, DONE, FAILED, CANCELLED, REFUSED})


async def open_store(path: Path | str) -> Store:
    """Open (creating it and its parent directory if needed) the database at ``path``.

    Switches on WAL mode and applies pending migrations. Raises StorageError when the file
    cannot be opened or migrated.
    """
    worker = await DbWorker.open(Path(path))
    return Store(worker)


class Store(GovernanceQueries, ScheduleQueries):
    """Async access to the database; build it with ``open_store`` and ``close()`` it."""

    def __init__(self, worker: DbWorker) -> None:
        self._worker = worker
        self._next_purge = 0.0  # read and written only on the worker thread

    async def _run(self, job: Callable[[Database], T], *, urgent: bool = False) -> T:
        # Urgent: what acknowledging a Slack event waits for (it overtakes turn bookkeeping).
        return await self._worker.run(job, priority=URGENT if urgent else NORMAL)

    async def close(self) -> None:
        """Close the connection and stop the worker thread. Later calls raise StorageError."""
        await self._worker.close()

    async def ping(self) -> bool:
        """Whether the database answers (for health checks); False instead of raising."""
        try:
            return await self._run(_maintenance.ping, urgent=True)
        except StorageError:
            return False

    async def backup(self, dest: Path) -> int:
        """Write a consistent copy of the database to ``dest`` while it stays in use; returns
        the copy's size in bytes. Raises StorageError when the copy cannot be written."""
        return await self._run(partial(_maintenance.backup_to, dest=dest))

    # -- dedupe ---------------------------------------------------------------------------

    async def claim(self, key: str, *, ttl_s: float, now: float | None = None) -> bool:
        """Claim a dedupe key for ``ttl_s`` seconds; True when this call got it.

        True the first time a key is seen, and again once the earlier claim has expired.
        Every ``PURGE_INTERVAL_S`` it also deletes expired keys and channel files.
        """
        at = time.time() if now is None else now
        return await self._run(
            partial(self._claim, key=key, expires_at=at + ttl_s, now=at), urgent=True
        )

    def _claim(self, db: Database, *, key: str, expires_at: float, now: float) -> bool:
        if now >= self._next_purge:
            _jobs.purge_expired(db, now=now)
            self._next_purge = now + PURGE_INTERVAL_S
        return _jobs.claim(db, key=key, expires_at=expires_at, now=now)

    async def take_message(
        self,
        *,
        key: str,
        ttl_s: float,
        files: Sequence[FileRecord],
        turn: TurnRecord,
    ) -> Taken:
        """Store a new user message in one transaction: claim ``key``, remember ``files``
        (merged like ``save_file``), create ``turn``. DUPLICATE (false), with nothing written,
        when the key is claimed and the message already has a turn (a duplicate delivery); a
        claim whose turn was never stored is taken over. WAITS_FOR_PURGE when a purge holds
        the thread (read in the same transaction): the turn must wait for it.
        """
        at = time.time()
        job = partial(
            _jobs.take_message,
            key=key,
            expires_at=at + ttl_s,
            now=at,
            files=list(files),
            turn=turn,
        )
        return await self._run(job, urgent=True)

    # -- threads --------------------------------------------------------------------------

    async def get_thread(self, key: str) -> ThreadRecord | None:
        """The stored record for thread ``key``, or None."""
        return await self._run(partial(_jobs.get_thread, key=key), urgent=True)

    async def save_thread(self, record: ThreadRecord) -> None:
        """Insert or replace the thread record; ``updated_at`` becomes now.

        ``created_at`` keeps its first stored value (now, when the record has 0), and
        ``bot_answered`` never goes back from True to False.
        """
        await self._run(partial(_jobs.save_thread, record=record, now=time.time()))

    async def mark_thread_answered(self, key: str) -> None:
        """Record that the bot has answered in thread ``key``. Raises KeyError if unknown."""
        await self._run(partial(_jobs.mark_thread_answered, key=key, now=time.time()))

    # -- files ----------------------------------------------------------------------------

    async def thread_files(self, thread_key: str) -> list[FileRecord]:
        """The files remembered for a thread, oldest shared first."""
        return await self._run(partial(_jobs.thread_files, thread_key=thread_key))

    async def save_file(self, record: FileRecord) -> None:
        """Insert or merge a thread's file, keyed by (thread_key, slack_file_id).

        Fields given as None (or "" for mimetype/filetype) keep the stored value, so saving
        a record from a later Slack event never erases the engine upload details.
        ``created_at`` keeps its first stored value (now, when the record has 0).
        """
        await self._run(partial(_jobs.save_file, record=record, now=time.time()))

    async def remember_channel_file(self, record: ChannelFileRecord) -> None:
        """Insert or replace a top-level channel file, keyed by (team, channel, file id)."""
        await self._run(partial(_jobs.remember_channel_file, record=record), urgent=True)

    async def recent_channel_files(
        self, *, team: str, channel: str, now: float, limit: int = 10
    ) -> list[ChannelFileRecord]:
        """Up to ``limit`` unexpired files of a channel, newest ``shared_ts`` first."""
        job = partial(_jobs.recent_channel_files, team=team, channel=channel, now=now, limit=limit)
        return await self._run(job)

    # -- turns ----------------------------------------------------------------------------

    async def create_turn(self, record: TurnRecord) -> None:
        """Insert a new turn; zero timestamps become now.

        Raises StorageError when a turn with the same id exists.
        """
        await self._run(partial(_jobs.create_turn, record=record, now=time.time()))

    async def update_turn(self, turn_id: str, **changes: object) -> TurnRecord:
        """Change fields of a turn in one transaction and return the stored result.

        ``updated_at`` becomes now unless given. When the status moves to a finished one and
        ``finished_at`` is neither stored nor given, it is set to ``updated_at``.
        Raises KeyError when no such turn exists, TypeError for an unknown field, for ``id``,
        or for ``posted_artifacts``/``code`` that are not sequences of strings, and ValueError
        for a status that is not one of ``storage.records``.
        """
        checked = _checked_turn_changes(changes)
        job = partial(_jobs.update_turn, turn_id=turn_id, changes=checked, now=time.time())
        return await self._run(job)

    async def get_turn(self, turn_id: str) -> TurnRecord | None:
        """The turn with this id, or None."""
        return await self._run(partial(_jobs.get_turn, turn_id=turn_id))

    async def latest_turn_for_message(self, thread_key: str, message_ts: str) -> TurnRecord | None:
        """The turn with the highest attempt for one Slack message, or None."""
        job = partial(_jobs.latest_turn_for_message, thread_key=thread_key, message_ts=message_ts)
        return await self._run(job)

    async def thread_turns(self, thread_key: str) -> list[TurnRecord]:
        """All turns of a thread, oldest first."""
        return await self._run(partial(_jobs.thread_turns, thread_key=thread_key))

    async def unfinished_turns(self) -> list[TurnRecord]:
        """Every turn whose status is not finished, oldest first (for restart recovery)."""
        return await self._run(_jobs.unfinished_turns)

    async def add_posted_artifact(self, turn_id: str, file_id: str) -> None:
        """Append an engine file id to a turn's posted artifacts (once); sets ``updated_at``.

        Raises KeyError when no such turn exists.
        """
        job = partial(_jobs.add_posted_artifact, turn_id=turn_id, file_id=file_id, now=time.time())
        await self._run(job)

    async def add_answer_part(self, turn_id: str, part: int) -> None:
        """Record that continuation message ``part`` of a turn's answer was posted (once).

        Raises KeyError when no such turn exists.
        """
        job = partial(_jobs.add_answer_part, turn_id=turn_id, part=part, now=time.time())
        await self._run(job)

    async def count_turns(self) -> int:
        """How many turns are stored."""
        return await self._run(_jobs.count_turns)

    # -- the local engine's conversations ------------------------------------------------

    async def local_history(self, conversation_id: str) -> list[list[dict[str, Any]]]:
        """The local engine's stored turns of a conversation (messages each), oldest first."""
        return await self._run(partial(local_history.load, conversation_id=conversation_id))

    async def save_local_turn(
        self, conversation_id: str, turn_id: str, messages: Sequence[dict[str, Any]]
    ) -> None:
        """Store one turn's messages of a local engine conversation."""
        job = partial(
            local_history.save,
            conversation_id=conversation_id,
            turn_id=turn_id,
            messages=list(messages),
            now=time.time(),
        )
        await self._run(job)

    async def forget_local_history(self, conversation_id: str) -> int:
        """Delete a local engine conversation's history; returns how many turns went."""
        return await self._run(partial(local_history.forget, conversation_id=conversation_id))

    # -- the data lifecycle (storage/lifecycle.py) -----------------------------------------

    async def record_engine_object(self, obj: EngineObject) -> None:
        """Add an object the engine just created to the inventory (once)."""
        await self._run(partial(lifecycle.record_object, obj=obj))

    async def record_stray_object(self, obj: EngineObject) -> None:
        """Add an object of ours that escaped the inventory, already marked for deletion."""
        await self._run(partial(lifecycle.record_object, obj=obj, doomed=True))

    async def known_object_ids(self, kind: ObjectKind) -> set[str]:
        """Ids of every inventoried object of ``kind``, whatever its state."""
        return await self._run(partial(lifecycle.known_object_ids, kind=kind))

    async def claim_purge(
        self, thread_key: str, *, reason: str, holder: str, lease_s: float, now: float
    ) -> bool:
        """Claim a thread for a purge (one transaction); False while any of its turns is
        received, queued or running, or another holder's claim is current."""
        job = partial(
            lifecycle.claim_purge,
            thread_key=thread_key,
            reason=reason,
            holder=holder,
            now=now,
            lease_s=lease_s,
        )
        return await self._run(job, urgent=True)

    async def purge_blocks(self, thread_key: str, *, now: float | None = None) -> bool:
        """Whether a purge holds the thread now."""
        at = time.time() if now is None else now
        job = partial(lifecycle.purge_blocks, thread_key=thread_key, now=at)
        return await self._run(job, urgent=True)

    async def release_purge(self, thread_key: str, *, holder: str) -> None:
        """Give up a claim without finishing it."""
        await self._run(partial(lifecycle.release_purge, thread_key=thread_key, holder=holder))

    async def stale_purge_claims(self, *, now: float) -> list[str]:
        """Threads whose claimed purge never finished and whose lease ran out."""
        return await self._run(partial(lifecycle.stale_claims, now=now))

    async def doom_thread_objects(self, thread_key: str, *, now: float) -> list[EngineObject]:
        """Mark the thread's live objects for deletion; returns all it has awaiting deletion."""
        job = partial(lifecycle.doom_thread_objects, thread_key=thread_key, now=now)
        return await self._run(job)

    async def doom_unowned_objects(self, *, before: float, now: float) -> int:
        """Mark for deletion the objects that name no thread, created before ``before``."""
        return await self._run(partial(lifecycle.doom_unowned, before=before, now=now))

    async def due_deletions(self, *, now: float, limit: int = 500) -> list[EngineObject]:
        """Objects awaiting deletion whose next try is due."""
        return await self._run(partial(lifecycle.due_deletions, now=now, limit=limit))

    async def settle_objects(
        self,
        *,
        deleted: Sequence[EngineObject],
        pending: Sequence[tuple[EngineObject, str, float | None]],
        now: float,
        backoff_s: float,
        max_backoff_s: float,
    ) -> None:
        """Record deleted objects as done, and pending ones (object, why, the wait the engine
        asked for) with their next try: that wait, else ``backoff_s`` doubled per attempt,
        at most ``max_backoff_s``."""
        job = partial(
            lifecycle.settle_objects,
            deleted=list(deleted),
            pending=list(pending),
            now=now,
            backoff_s=backoff_s,
            max_backoff_s=max_backoff_s,
        )
        await self._run(job)

    async def next_due_deletion(self) -> float | None:
        """When the next pending deletion is due (None: none awaits)."""
        return await self._run(lifecycle.next_due)

    async def object_counts(
        self, thread_keys: Sequence[str], *, states: Sequence[str]
    ) -> dict[str, int]:
        """Objects of these threads in these states (``storage.lifecycle``), per kind."""
        job = partial(lifecycle.object_counts, thread_keys=list(thread_keys), states=list(states))
        return await self._run(job)

    async def pending_deletions(self) -> dict[str, int]:
        """Objects still awaiting deletion, per kind."""
        return await self._run(lifecycle.pending_counts)

    async def erase_thread(self, thread_key: str, *, holder: str, now: float, tell: bool) -> Erased:
        """Erase a thread's content and finish its purge in one transaction, then fold the
        write-ahead log into the database so nothing erased lingers there."""
        job = partial(
            lifecycle.erase_thread, thread_key=thread_key, holder=holder, now=now, tell=tell
        )
        erased = await self._run(job)
        await self._run(lifecycle.checkpoint)
        return erased

    async def take_purge_notice(self, thread_key: str) -> PurgeNotice | None:
        """The finished purge the thread was not told of yet (now marked told), or None."""
        return await self._run(partial(lifecycle.take_purge_notice, thread_key=thread_key))

    async def idle_threads(self, *, before: float) -> list[IdleThread]:
        """Threads with content or engine objects whose last activity is before ``before``."""
        return await self._run(partial(lifecycle.idle_threads, before=before))

    async def threads_named(self, *, channel: str, thread_ts: str) -> list[IdleThread]:
        """Threads of this channel and ts (any workspace) with something left to purge."""
        job = partial(lifecycle.threads_named, channel=channel, thread_ts=thread_ts)
        return await self._run(job)

    async def lifecycle_mark(self, name: str) -> float | None:
        """When the named lifecycle event (e.g. the first retention sweep) happened."""
        return await self._run(partial(lifecycle.get_mark, name=name))

    async def set_lifecycle_mark(self, name: str, *, at: float) -> None:
        await self._run(partial(lifecycle.set_mark, name=name, at=at))


def _checked_turn_changes(changes: dict[str, object]) -> dict[str, object]:
    unknown = sorted(set(changes) - _UPDATABLE_TURN_FIELDS)
    if unknown:
        raise TypeError(f"update_turn() cannot change: {', '.join(unknown)}")
    if "status" in changes and changes["status"] not in _TURN_STATUSES:
        raise ValueError(f"update_turn(): unknown status {changes['status']!r}")
    checked = dict(changes)
    for name in TURN_LIST_COLUMNS & set(changes):
        value = changes[name]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise TypeError(f"update_turn(): {name} must be a sequence of str")
        checked[name] = tuple(value)
    return checked


__all__ = ["Store", "open_store"]
