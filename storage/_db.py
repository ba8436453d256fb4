"""The one thread that owns the SQLite connection, and the error it raises.

SQLite calls block, so async code never makes them itself: every call is a job sent to a
single worker thread that opened the connection and is the only thread to use it. Jobs run one
after another, which also makes each job atomic with respect to every other caller in the
process.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from sqlite_utils import Database

from bot.errors import InsightbotError
from storage.migrations import migrations

T = TypeVar("T")


class StorageError(InsightbotError):
    """The database could not be opened, read or written; ``detail`` has SQLite's reason."""

    default_message = "I could not reach my own database. Please try again in a moment."
    retryable = True


class DbWorker:
    """A single-thread executor that owns one sqlite-utils ``Database``."""

    def __init__(self, executor: ThreadPoolExecutor, db: Database) -> None:
        self._executor = executor
        self._db: Database | None = db

    @classmethod
    async def open(cls, path: Path) -> DbWorker:
        """Start the worker thread, open ``path`` there, switch on WAL and apply migrations.

        Creates the parent directory. Raises StorageError when SQLite refuses (unwritable
        directory, corrupt file, a migration failing).
        """
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="insightbot-db")
        loop = asyncio.get_running_loop()
        try:
            db = await loop.run_in_executor(executor, _open_database, path)
        except (sqlite3.Error, OSError) as exc:
            executor.shutdown(wait=False)
            raise StorageError(detail=f"cannot open database {path}: {exc}") from exc
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(executor, db)

    async def run(self, job: Callable[[Database], T]) -> T:
        """Run ``job(db)`` on the worker thread and return its result.

        Raises StorageError for SQLite errors and when the store is closed; other exceptions
        from ``job`` (KeyError, TypeError, ...) pass through unchanged. Cancelling the caller
        does not undo a job that already started: each job is one transaction, so the database
        is left either before or after it.
        """
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, self._call, job)
        except sqlite3.Error as exc:
            raise StorageError(detail=f"{type(exc).__name__}: {exc}") from exc
        except RuntimeError as exc:
            # ThreadPoolExecutor refuses new work after shutdown.
            if self._db is None:
                raise StorageError(detail="the store is closed") from exc
            raise

    def _call(self, job: Callable[[Database], T]) -> T:
        if self._db is None:
            raise StorageError(detail="the store is closed")
        return job(self._db)

    async def close(self) -> None:
        """Close the connection on its own thread and stop the thread. Safe to call twice."""
        if self._db is None:
            return
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._close_in_thread)
        await asyncio.to_thread(self._executor.shutdown, wait=True)

    def _close_in_thread(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


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
        migrations.apply(db)
    except BaseException:
        db.close()
        raise
    return db
