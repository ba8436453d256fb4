"""Store methods for recurring analyses: schedules, and the claim on each occurrence.

A mixin of ``Store`` like ``storage.governance``. Claiming an occurrence inserts its row (the
primary key is the schedule and the occurrence time) and moves the schedule's
``last_occurrence_at`` in one transaction, so two processes, or one restarted, never both get it.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from sqlite_utils import Database

from storage.records import SCHEDULE_ACTIVE, ScheduleRecord

_FIELDS = tuple(f.name for f in dataclasses.fields(ScheduleRecord))


class ScheduleQueries:
    """The schedules half of ``Store``. Methods raise StorageError like the rest."""

    _run: Callable[..., Any]

    async def add_schedule(self, record: ScheduleRecord) -> ScheduleRecord:
        """Store a new schedule (its id is given here; ``created_at`` 0 becomes now, and
        due occurrences are counted from it). Returns it as stored."""
        created = record.created_at or time.time()
        job = partial(_add_schedule, record=dataclasses.replace(record, created_at=created))
        result: ScheduleRecord = await self._run(job)
        return result

    async def schedules(
        self, *, channel: str | None = None, active_only: bool = False
    ) -> list[ScheduleRecord]:
        """Every schedule (or one channel's; or only active ones), oldest first."""
        job = partial(_schedules, channel=channel, active_only=active_only)
        result: list[ScheduleRecord] = await self._run(job)
        return result

    async def get_schedule(self, schedule_id: int) -> ScheduleRecord | None:
        found = await self._run(partial(_get_schedule, schedule_id=schedule_id))
        return found if isinstance(found, ScheduleRecord) else None

    async def delete_schedule(self, schedule_id: int) -> bool:
        """Delete a schedule and its occurrences; False when there was none."""
        deleted: bool = await self._run(partial(_delete_schedule, schedule_id=schedule_id))
        return deleted

    async def claim_occurrence(
        self, *, schedule_id: int, occurrence_at: float, outcome: str, now: float
    ) -> bool:
        """Claim one occurrence of a schedule, exactly once: True for the one caller that got
        it. ``outcome`` is what it is claimed as (claimed to run, or missed)."""
        job = partial(
            _claim_occurrence,
            schedule_id=schedule_id,
            occurrence_at=occurrence_at,
            outcome=outcome,
            now=now,
        )
        claimed: bool = await self._run(job)
        return claimed

    async def settle_occurrence(
        self,
        *,
        schedule_id: int,
        occurrence_at: float,
        outcome: str,
        turn_id: str | None = None,
        file_id: str | None = None,
        file_at: float | None = None,
    ) -> None:
        """Record what became of a claimed occurrence (and the file it used, which the next
        run's skip-unchanged compares against)."""
        job = partial(
            _settle_occurrence,
            schedule_id=schedule_id,
            occurrence_at=occurrence_at,
            outcome=outcome,
            turn_id=turn_id,
            file_id=file_id,
            file_at=file_at,
        )
        await self._run(job)

    async def occurrence_outcomes(self, schedule_id: int) -> list[tuple[float, str]]:
        """A schedule's claimed occurrences, oldest first: (time, outcome)."""
        job = partial(_occurrence_outcomes, schedule_id=schedule_id)
        result: list[tuple[float, str]] = await self._run(job)
        return result


def _record(row: dict[str, Any]) -> ScheduleRecord:
    values = {name: row[name] for name in _FIELDS}
    values["skip_unchanged"] = bool(values["skip_unchanged"])
    values["team"] = values["team"] or ""
    values["failures"] = values["failures"] or 0
    values["last_occurrence_at"] = values["last_occurrence_at"] or 0.0
    return ScheduleRecord(**values)


def _add_schedule(db: Database, *, record: ScheduleRecord) -> ScheduleRecord:
    row = dataclasses.asdict(record)
    row.pop("id")
    row["skip_unchanged"] = int(record.skip_unchanged)
    row["last_occurrence_at"] = record.last_occurrence_at or record.created_at
    with db.atomic():
        cursor = db.execute(
            f"INSERT INTO schedules ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
            list(row.values()),
        )
    stored = _get_schedule(db, schedule_id=int(cursor.lastrowid or 0))
    assert stored is not None
    return stored


def _schedules(db: Database, *, channel: str | None, active_only: bool) -> list[ScheduleRecord]:
    where, params = [], []
    if channel is not None:
        where.append("channel = ?")
        params.append(channel)
    if active_only:
        where.append("state = ?")
        params.append(SCHEDULE_ACTIVE)
    sql = "SELECT * FROM schedules" + (f" WHERE {' AND '.join(where)}" if where else "")
    return [_record(row) for row in db.query(sql + " ORDER BY id", params)]


def _get_schedule(db: Database, *, schedule_id: int) -> ScheduleRecord | None:
    rows = list(db.query("SELECT * FROM schedules WHERE id = ?", [schedule_id]))
    return _record(rows[0]) if rows else None


def _delete_schedule(db: Database, *, schedule_id: int) -> bool:
    with db.atomic():
        db.execute("DELETE FROM occurrences WHERE schedule_id = ?", [schedule_id])
        cursor = db.execute("DELETE FROM schedules WHERE id = ?", [schedule_id])
    return cursor.rowcount > 0


def _claim_occurrence(
    db: Database, *, schedule_id: int, occurrence_at: float, outcome: str, now: float
) -> bool:
    with db.atomic():
        cursor = db.execute(
            "INSERT OR IGNORE INTO occurrences (schedule_id, occurrence_at, outcome, claimed_at) "
            "VALUES (?, ?, ?, ?)",
            [schedule_id, occurrence_at, outcome, now],
        )
        if cursor.rowcount != 1:
            return False
        db.execute(
            "UPDATE schedules SET last_occurrence_at = max(COALESCE(last_occurrence_at, 0), ?) "
            "WHERE id = ?",
            [occurrence_at, schedule_id],
        )
    return True


def _settle_occurrence(
    db: Database,
    *,
    schedule_id: int,
    occurrence_at: float,
    outcome: str,
    turn_id: str | None,
    file_id: str | None,
    file_at: float | None,
) -> None:
    with db.atomic():
        db.execute(
            "UPDATE occurrences SET outcome = ?, turn_id = COALESCE(?, turn_id), "
            "file_id = COALESCE(?, file_id) WHERE schedule_id = ? AND occurrence_at = ?",
            [outcome, turn_id, file_id, schedule_id, occurrence_at],
        )
        if file_id is not None:
            db.execute(
                "UPDATE schedules SET last_file_id = ?, last_file_at = ? WHERE id = ?",
                [file_id, file_at, schedule_id],
            )


def _occurrence_outcomes(db: Database, *, schedule_id: int) -> list[tuple[float, str]]:
    rows = db.execute(
        "SELECT occurrence_at, outcome FROM occurrences WHERE schedule_id = ? "
        "ORDER BY occurrence_at",
        [schedule_id],
    )
    return [(float(at), str(outcome)) for at, outcome in rows.fetchall()]
