"""Schedules in the database: each occurrence is claimed exactly once, across restarts."""

from __future__ import annotations

import asyncio
from pathlib import Path

from storage import open_store
from storage.records import CLAIMED, MISSED, POSTED, ScheduleRecord

RULE = ScheduleRecord(
    channel="C0SALES",
    user="U0ANNA",
    question="What were last week's sales?",
    every="weekly:mon",
    at="09:00",
    tz="Asia/Seoul",
    files="newest:sales_*.csv",
    skip_unchanged=True,
    created_at=1_000.0,
)


async def test_a_schedule_is_stored_listed_and_deleted(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "db.sqlite")
    try:
        first = await store.add_schedule(RULE)
        second = await store.add_schedule(RULE.__class__(**{**RULE.__dict__, "channel": "C0OPS"}))
        assert first.id and second.id != first.id
        # Due occurrences count from the creation time until one is claimed.
        assert first.last_occurrence_at == 1_000.0
        assert first.skip_unchanged and first.files == "newest:sales_*.csv"
        assert [s.id for s in await store.schedules()] == [first.id, second.id]
        assert [s.id for s in await store.schedules(channel="C0OPS")] == [second.id]
        assert await store.delete_schedule(first.id)
        assert not await store.delete_schedule(first.id)
        assert await store.get_schedule(first.id) is None
        assert [s.id for s in await store.schedules()] == [second.id]
    finally:
        await store.close()


async def test_an_occurrence_is_claimed_once_even_by_racing_callers(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "db.sqlite")
    try:
        schedule = await store.add_schedule(RULE)
        claims = await asyncio.gather(
            *(
                store.claim_occurrence(
                    schedule_id=schedule.id, occurrence_at=5_000.0, outcome=CLAIMED, now=5_001.0
                )
                for _ in range(5)
            )
        )
        assert claims.count(True) == 1
        stored = await store.get_schedule(schedule.id)
        assert stored is not None and stored.last_occurrence_at == 5_000.0
    finally:
        await store.close()


async def test_a_claim_survives_a_restart_and_records_the_file_used(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    store = await open_store(path)
    schedule = await store.add_schedule(RULE)
    assert await store.claim_occurrence(
        schedule_id=schedule.id, occurrence_at=5_000.0, outcome=CLAIMED, now=5_001.0
    )
    await store.close()
    store = await open_store(path)  # the bot restarted before it posted anything
    try:
        assert not await store.claim_occurrence(
            schedule_id=schedule.id, occurrence_at=5_000.0, outcome=CLAIMED, now=5_030.0
        )
        await store.settle_occurrence(
            schedule_id=schedule.id,
            occurrence_at=5_000.0,
            outcome=POSTED,
            turn_id="T1",
            file_id="F1",
            file_at=4_900.0,
        )
        assert await store.claim_occurrence(
            schedule_id=schedule.id, occurrence_at=9_000.0, outcome=MISSED, now=99_000.0
        )
        assert await store.occurrence_outcomes(schedule.id) == [
            (5_000.0, POSTED),
            (9_000.0, MISSED),
        ]
        stored = await store.get_schedule(schedule.id)
        assert stored is not None
        assert (stored.last_file_id, stored.last_file_at) == ("F1", 4_900.0)
        assert stored.last_occurrence_at == 9_000.0
    finally:
        await store.close()


async def test_pause_resume_edit_and_failures_in_a_row(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "db.sqlite")
    try:
        schedule = await store.add_schedule(RULE)
        # Only the first of two pauses pauses it, so one notice is sent.
        assert await store.pause_schedule(schedule.id, reason="not_member", now=2_000.0)
        assert not await store.pause_schedule(schedule.id, reason="archived", now=2_001.0)
        paused = await store.get_schedule(schedule.id)
        assert paused is not None and paused.state == "paused"
        assert paused.paused_reason == "not_member"
        assert await store.count_schedule_result(schedule.id, failed=True) == 1
        assert await store.count_schedule_result(schedule.id, failed=True) == 2
        # Resuming starts the failures again and does not make up what fell while paused.
        assert await store.resume_schedule(schedule.id, now=9_000.0)
        assert not await store.resume_schedule(schedule.id, now=9_001.0)
        resumed = await store.get_schedule(schedule.id)
        assert resumed is not None and resumed.state == "active" and resumed.failures == 0
        assert resumed.last_occurrence_at == 9_000.0 and resumed.paused_reason is None
        assert await store.count_schedule_result(schedule.id, failed=True) == 1
        assert await store.count_schedule_result(schedule.id, failed=False) == 0
        assert await store.edit_schedule(schedule.id, now=9_500.0, at="10:30", post_skipped=True)
        edited = await store.get_schedule(schedule.id)
        assert edited is not None and edited.at == "10:30" and edited.post_skipped
        assert edited.channel == RULE.channel and edited.files == RULE.files
        assert not await store.edit_schedule(999, now=9_500.0, at="10:30")
    finally:
        await store.close()


async def test_same_file_ids_survive_a_reopen_and_interrupted_runs_are_found(
    tmp_path: Path,
) -> None:
    store = await open_store(tmp_path / "db.sqlite")
    schedule = await store.add_schedule(
        ScheduleRecord(**{**RULE.__dict__, "files": "same", "file_ids": ("F1", "F2")})
    )
    for at in (5_000.0, 6_000.0):
        assert await store.claim_occurrence(
            schedule_id=schedule.id, occurrence_at=at, outcome=CLAIMED, now=at
        )
    await store.settle_occurrence(
        schedule_id=schedule.id, occurrence_at=5_000.0, outcome=CLAIMED, message_ts="111.1"
    )
    await store.settle_occurrence(
        schedule_id=schedule.id, occurrence_at=6_000.0, outcome=POSTED, message_ts="222.2"
    )
    await store.close()
    store = await open_store(tmp_path / "db.sqlite")
    try:
        again = await store.get_schedule(schedule.id)
        assert again is not None and again.file_ids == ("F1", "F2")
        interrupted = await store.interrupted_occurrences()
        assert [(o.occurrence_at, o.message_ts) for o in interrupted] == [(5_000.0, "111.1")]
        latest = await store.occurrences(schedule.id, limit=1)
        assert [(o.occurrence_at, o.outcome, o.message_ts) for o in latest] == [
            (6_000.0, POSTED, "222.2")
        ]
    finally:
        await store.close()


async def test_a_delete_or_pause_before_the_claim_wins(tmp_path: Path) -> None:
    """The loop reads the active schedules, then claims; a person's delete or pause in between
    must stop the run (the claim reads the schedule's state in its own transaction)."""
    store = await open_store(tmp_path / "db.sqlite")
    try:
        paused = await store.add_schedule(RULE)
        deleted = await store.add_schedule(RULE)
        listed = await store.schedules(active_only=True)  # what the loop saw
        assert {s.id for s in listed} == {paused.id, deleted.id}
        assert await store.pause_schedule(paused.id, reason="by_person", now=4_000.0)
        assert await store.delete_schedule(deleted.id)
        for schedule in listed:
            assert not await store.claim_occurrence(
                schedule_id=schedule.id, occurrence_at=5_000.0, outcome=CLAIMED, now=5_001.0
            )
        assert await store.occurrence_outcomes(deleted.id) == []
        assert await store.occurrence_outcomes(paused.id) == []
        # Resumed, its next occurrence is claimed again.
        assert await store.resume_schedule(paused.id, now=5_500.0)
        assert await store.claim_occurrence(
            schedule_id=paused.id, occurrence_at=6_000.0, outcome=CLAIMED, now=6_001.0
        )
    finally:
        await store.close()
