"""The one thread that owns the SQLite connection, and the error it raises.

SQLite calls block, so async code never makes them itself: every call is a job sent to a
single worker thread that opened the connection and is the only thread to use it. Jobs run one
after another, which also makes each job atomic with respect to every other caller in the
process.
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from sqlite_utils import Database

from bot import messages
from bot.errors import InsightbotError
from bot.types import FailureCode
from storage.migrations import migrations

T = TypeVar("T")


class StorageError(InsightbotError):
    """The database could not be opened, read or written; ``detail`` has SQLite's reason."""

    failure_code = FailureCode.STORAGE
    retryable = True

    def _default_words(self, lang: str) -> str:
        return messages.database_unreachable(lang)


URGENT, NORMAL = 0, 1  # job priorities: what an event's acknowledgement waits for goes first


@dataclass(order=True)
class _Job:
    priority: int
    order: int
    call: Callable[[], None] = field(compare=False)


class DbWorker:
    """One thread that owns one sqlite-utils ``Database`` and runs jobs by priority.

    Jobs an event's acknowledgement waits for (``URGENT``) overtake the queue of turn
    bookkeeping (``NORMAL``), so a busy bot still acknowledges Slack quickly.
    """

    def __init__(
        self, db: Database | None, jobs: queue.PriorityQueue[_Job], thread: threading.Thread
    ) -> None:
        self._db: Database | None = db
        self._jobs = jobs
        self._thread = thread
        self._order = itertools.count()
        self._closed = False

    @classmethod
    async def open(cls, path: Path) -> DbWorker:
        """Start the worker thread, open ``path`` there, switch on WAL and apply migrations.

        Creates the parent directory. Raises StorageError when SQLite refuses (unwritable
        directory, corrupt file, a migration failing).
        """
        jobs: queue.PriorityQueue[_Job] = queue.PriorityQueue()
        thread = threading.Thread(target=_serve, args=(jobs,), name="insightbot-db", daemon=True)
        thread.start()
        worker = cls(None, jobs, thread)
        try:
            worker._db = await worker._submit(lambda: _open_database(path), priority=URGENT)
        except BaseException as exc:
            jobs.put(_Job(-1, -1, _stop))
            if isinstance(exc, sqlite3.Error | OSError):
                # Seen by the operator at start (never in a Slack thread): name the file and why.
                raise StorageError(
                    f"I could not open the database {path}: {exc}. Check that its "
                    "folder exists and is writable by this user, or point INSIGHTBOT_DB elsewhere.",
                    detail=f"cannot open database {path}: {exc}",
                ) from exc
            raise
        return worker

    async def run(self, job: Callable[[Database], T], *, priority: int = NORMAL) -> T:
        """Run ``job(db)`` on the worker thread and return its result.

        Raises StorageError for SQLite errors and when the store is closed; other exceptions
        from ``job`` (KeyError, TypeError, ...) pass through unchanged. Cancelling the caller
        does not undo a job that already started: each job is one transaction, so the database
        is left either before or after it.
        """
        if self._closed:
            raise StorageError(detail="the store is closed")
        try:
            return await self._submit(lambda: self._call(job), priority=priority)
        except sqlite3.Error as exc:
            raise StorageError(detail=f"{type(exc).__name__}: {exc}") from exc

    async def _submit(self, work: Callable[[], T], *, priority: int) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()

        def call() -> None:
            try:
                result = work()
            except BaseException as exc:  # handed to the waiting coroutine
                loop.call_soon_threadsafe(_settle, future, None, exc)
            else:
                loop.call_soon_threadsafe(_settle, future, result, None)

        self._jobs.put(_Job(priority, next(self._order), call))
        return await future

    def _call(self, job: Callable[[Database], T]) -> T:
        if self._db is None:
            raise StorageError(detail="the store is closed")
        return job(self._db)

    async def close(self) -> None:
        """Close the connection on its own thread and stop the thread. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        # After every job already queued, whatever its priority.
        await self._submit(self._close_in_thread, priority=NORMAL + 1)
        self._jobs.put(_Job(NORMAL + 2, next(self._order), _stop))
        await asyncio.to_thread(self._thread.join)

    def _close_in_thread(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


class _Stop(Exception):
    pass


def _stop() -> None:
    raise _Stop


def _serve(jobs: queue.PriorityQueue[_Job]) -> None:
    while True:
        job = jobs.get()
        try:
            job.call()
        except _Stop:
            return


def _settle(future: asyncio.Future[T], result: T | None, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]


def _open_database(path: Path) -> Database:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Plugins could change the connection behind our back; this store wants plain SQLite.
    db = Database(path, execute_plugins=False)
    try:
        db.enable_wal()
        # NORMAL is durable in WAL mode except for the last commits on power loss, and much
        # faster than FULL for the many small writes a turn makes.
        db.execute("PRAGMA synchronous=NORMAL;")
        db.execute("PRAGMA busy_timeout=5000;")
        # Deleted content is overwritten with zeros, not just unlinked from the b-tree: a
        # purge must erase on disk.
        db.execute("PRAGMA secure_delete=ON;")
        migrations.apply(db)
    except BaseException:
        db.close()
        raise
    return db
