"""Jobs for operators and health checks: a cheap liveness query and an online backup."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database

BACKUP_PAGES_PER_STEP = 1024  # copied in steps, so writers in other processes are not held up


def ping(db: Database) -> bool:
    """True when the database answers a query."""
    return bool(db.execute("select 1").fetchone() == (1,))


def backup_to(db: Database, *, dest: Path) -> int:
    """Copy the live database into ``dest`` with SQLite's online backup; returns its size.

    Safe while the bot runs: the copy is one consistent snapshot. Written to a temporary
    name first, so a failed backup never leaves a half-written file under ``dest``.
    """
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    target = sqlite3.connect(partial)
    try:
        db.conn.backup(target, pages=BACKUP_PAGES_PER_STEP)
        target.execute("pragma journal_mode=delete")  # one self-contained file
    finally:
        target.close()
    partial.replace(dest)
    return dest.stat().st_size
