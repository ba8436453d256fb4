"""Store methods for recurring analyses: schedules, and the claim on each occurrence.

A mixin of ``Store`` like ``storage.governance``. Claiming an occurrence inserts its row (the
primary key is the schedule and the occurrence time) and moves the schedule's
``last_occurrence_at`` in one transaction, so two processes, or one restarted, never both get it.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from sqlite_utils import Database

from storage.records import (
    CLAIMED,
    SCHEDULE_ACTIVE,
    SCHEDULE_PAUSED,
    OccurrenceRecord,
    ScheduleRecord,
)

_FIELDS = tuple(f.name for f in dataclasses.fields(ScheduleRecord))
# What an edit may change; the channel, owner and data source are fixed when a schedule is made.
EDITABLE = ("question", "every", "at", "tz", "skip_unchanged", "post_skipped")


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
        it, and only while the schedule exists and is active (a delete or pause that came
        first wins). ``outcome`` is what it is claimed as (claimed to run, or missed)."""
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
        message_ts: str | None = None,
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
            message_ts=message_ts,
        )
        await self._run(job)

    async def edit_schedule(self, schedule_id: int, *, now: float, **changes: Any) -> bool:
        """Change the editable fields (``EDITABLE``) of a schedule; False when it is gone.
        Occurrences are counted from the edit on, so a new time does not run a past one."""
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise ValueError(f"not editable: {sorted(unknown)}")
        job = partial(_edit_schedule, schedule_id=schedule_id, changes=changes, now=now)
        edited: bool = await self._run(job)
        return edited

    async def pause_schedule(self, schedule_id: int, *, reason: str, now: float) -> bool:
        """Pause a schedule with a reason (a ``PauseReason`` value); True only for the call
        that paused it (False when it was already paused or is gone), so one notice is sent."""
        job = partial(_pause_schedule, schedule_id=schedule_id, reason=reason, now=now)
        paused: bool = await self._run(job)
        return paused

    async def resume_schedule(self, schedule_id: int, *, now: float) -> bool:
        """Resume a paused schedule: failures start again from zero and only occurrences after
        ``now`` run (what fell while it was paused is not made up). False when not paused."""
        resumed: bool = await self._run(partial(_resume_schedule, schedule_id=schedule_id, now=now))
        return resumed

    async def count_schedule_result(self, schedule_id: int, *, failed: bool) -> int:
        """Count a run's end: a failure adds one to the failures in a row, a success sets them
        back to zero. Returns the failures in a row now."""
        job = partial(_count_schedule_result, schedule_id=schedule_id, failed=failed)
        failures: int = await self._run(job)
        return failures

    async def occurrences(
        self, schedule_id: int, *, limit: int | None = None
    ) -> list[OccurrenceRecord]:
        """A schedule's claimed occurrences, newest first, with the status of each one's turn."""
        job = partial(_occurrences, schedule_id=schedule_id, limit=limit)
        result: list[OccurrenceRecord] = await self._run(job)
        return result

    async def interrupted_occurrences(self) -> list[OccurrenceRecord]:
        """Occurrences claimed to run that never got their turn (a crash came after the claim:
        ``message_ts`` is set when the run's message was posted), oldest first."""
        result: list[OccurrenceRecord] = await self._run(_interrupted_occurrences)
        return result

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
    values["file_ids"] = tuple(json.loads(values["file_ids"] or "[]"))
    values["post_skipped"] = bool(values["post_skipped"])
    return ScheduleRecord(**values)


def _add_schedule(db: Database, *, record: ScheduleRecord) -> ScheduleRecord:
    row = dataclasses.asdict(record)
    row.pop("id")
    row["skip_unchanged"] = int(record.skip_unchanged)
    row["post_skipped"] = int(record.post_skipped)
    row["file_ids"] = json.dumps(list(record.file_ids))
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
        # Only while the schedule still exists and is active, read in the same transaction:
        # a delete or pause between the loop's read and its claim wins, and nothing runs.
        cursor = db.execute(
            "INSERT OR IGNORE INTO occurrences (schedule_id, occurrence_at, outcome, claimed_at) "
            "SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM schedules WHERE id = ? AND state = ?)",
            [schedule_id, occurrence_at, outcome, now, schedule_id, SCHEDULE_ACTIVE],
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
    message_ts: str | None,
) -> None:
    with db.atomic():
        db.execute(
            "UPDATE occurrences SET outcome = ?, turn_id = COALESCE(?, turn_id), "
            "file_id = COALESCE(?, file_id), message_ts = COALESCE(?, message_ts) "
            "WHERE schedule_id = ? AND occurrence_at = ?",
            [outcome, turn_id, file_id, message_ts, schedule_id, occurrence_at],
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


def _edit_schedule(db: Database, *, schedule_id: int, changes: dict[str, Any], now: float) -> bool:
    values = {k: int(v) if isinstance(v, bool) else v for k, v in changes.items()}
    values["updated_at"] = now
    sets = ", ".join(f"{name} = ?" for name in values)
    with db.atomic():
        cursor = db.execute(
            f"UPDATE schedules SET {sets}, "
            "last_occurrence_at = max(COALESCE(last_occurrence_at, 0), ?) WHERE id = ?",
            [*values.values(), now, schedule_id],
        )
    return cursor.rowcount > 0


def _pause_schedule(db: Database, *, schedule_id: int, reason: str, now: float) -> bool:
    with db.atomic():
        cursor = db.execute(
            "UPDATE schedules SET state = ?, paused_reason = ?, updated_at = ? "
            "WHERE id = ? AND state = ?",
            [SCHEDULE_PAUSED, reason, now, schedule_id, SCHEDULE_ACTIVE],
        )
    return cursor.rowcount > 0


def _resume_schedule(db: Database, *, schedule_id: int, now: float) -> bool:
    with db.atomic():
        cursor = db.execute(
            "UPDATE schedules SET state = ?, paused_reason = NULL, failures = 0, updated_at = ?, "
            "last_occurrence_at = max(COALESCE(last_occurrence_at, 0), ?) "
            "WHERE id = ? AND state = ?",
            [SCHEDULE_ACTIVE, now, now, schedule_id, SCHEDULE_PAUSED],
        )
    return cursor.rowcount > 0


def _count_schedule_result(db: Database, *, schedule_id: int, failed: bool) -> int:
    with db.atomic():
        db.execute(
            "UPDATE schedules SET failures = "
            + ("COALESCE(failures, 0) + 1" if failed else "0")
            + " WHERE id = ?",
            [schedule_id],
        )
        rows = list(db.query("SELECT failures FROM schedules WHERE id = ?", [schedule_id]))
    return int(rows[0]["failures"] or 0) if rows else 0


_OCCURRENCES = (
    "SELECT o.schedule_id, o.occurrence_at, o.outcome, o.claimed_at, o.turn_id, o.file_id, "
    "o.message_ts, t.status AS turn_status FROM occurrences o "
    "LEFT JOIN turns t ON t.id = o.turn_id "
)


def _occurrence(row: dict[str, Any]) -> OccurrenceRecord:
    return OccurrenceRecord(**row)


def _occurrences(db: Database, *, schedule_id: int, limit: int | None) -> list[OccurrenceRecord]:
    sql = _OCCURRENCES + "WHERE o.schedule_id = ? ORDER BY o.occurrence_at DESC"
    params: list[Any] = [schedule_id]
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [_occurrence(row) for row in db.query(sql, params)]


def _interrupted_occurrences(db: Database) -> list[OccurrenceRecord]:
    sql = _OCCURRENCES + "WHERE o.outcome = ? ORDER BY o.occurrence_at"
    return [_occurrence(row) for row in db.query(sql, [CLAIMED])]
