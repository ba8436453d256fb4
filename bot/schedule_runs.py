"""What a scheduled run does besides starting its turn: the line a skipped run may post, the
files of a "same files" schedule, and the report of runs a crash interrupted.

The schedule loop (bot/scheduler.py) calls these at a few points; each one posts at most one
message and never raises for Slack's sake (a message that cannot be posted is logged), so a
schedule's claim and settlement stay the loop's business.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot import messages
from bot.errors import InsightbotError
from bot.schedules.choice import newest_pattern
from bot.services import Services
from bot.types import SlackFile, ThreadKey
from storage.records import CLAIMED, INTERRUPTED, POSTED, OccurrenceRecord, ScheduleRecord

__all__ = [
    "SameFiles",
    "post_skipped",
    "report_interrupted",
    "same_files",
    "schedules_made_in",
    "tell_files_gone",
]

log = logging.getLogger(__name__)


async def post_skipped(
    *, services: Services, schedule: ScheduleRecord, reason: str | None, newest: SlackFile | None
) -> None:
    """Post the one top-level line of a skipped run when the schedule asks for it
    (``post_skipped``); nothing otherwise. ``newest`` is the matching file the run found."""
    pattern = newest_pattern(schedule.files)
    if not schedule.post_skipped or pattern is None:
        return
    lang = messages.language_of(schedule.question)
    last = newest.name if reason == "unchanged" and newest is not None else None
    text = messages.schedule_skipped(lang, reason or "no_file", pattern, last)
    await _post(services, channel=schedule.channel, thread_ts=None, text=text)


@dataclass(frozen=True)
class SameFiles:
    """The files of a "same files" schedule as Slack describes them now, and the ids of those
    it no longer has (deleted, or no longer visible to the bot)."""

    found: tuple[SlackFile, ...]
    gone: tuple[str, ...]


async def same_files(*, services: Services, schedule: ScheduleRecord) -> SameFiles | None:
    """Ask Slack (files.info) for each file of a "same files" schedule; None for a schedule
    of another kind. The files then go through the turn's own checks like any shared file:
    remote files refused, downloads only from Slack's file hosts, external people's files
    only when governance allows. Raises SlackProblem when Slack cannot be asked."""
    if newest_pattern(schedule.files) is not None or not schedule.file_ids:
        return None
    found: list[SlackFile] = []
    gone: list[str] = []
    for file_id in schedule.file_ids:
        info = await services.slack.file_info(file_id)
        if info is None:
            gone.append(file_id)
        else:
            found.append(info)
    return SameFiles(found=tuple(found), gone=tuple(gone))


async def tell_files_gone(
    *, services: Services, schedule: ScheduleRecord, thread: ThreadKey, gone: Sequence[str]
) -> None:
    """Say in the run's thread which files are gone and what to do (make the schedule again
    with the newest-file option), in the language of the schedule's question."""
    names = await _names_of(services, schedule=schedule, team=thread.team, file_ids=gone)
    lang = messages.language_of(schedule.question)
    text = messages.schedule_files_gone(lang, names)
    await _post(services, channel=thread.channel, thread_ts=thread.thread_ts, text=text)


async def _names_of(
    services: Services, *, schedule: ScheduleRecord, team: str, file_ids: Sequence[str]
) -> list[str]:
    # Slack says nothing about a deleted file, so its name comes from where it was seen: the
    # thread the schedule was made from (until retention or "forget" erases it). Else its id.
    known: dict[str, str] = {}
    if schedule.source_thread_ts:
        key = ThreadKey(team=team, channel=schedule.channel, thread_ts=schedule.source_thread_ts)
        for record in await services.store.thread_files(key.as_str()):
            if record.name:
                known[record.slack_file_id] = record.name
    return [known.get(file_id, file_id) for file_id in file_ids]


async def report_interrupted(
    *, services: Services, before: float, team: Callable[[], Awaitable[str]]
) -> int:
    """Report the runs that a crash interrupted after their claim, once each: those claimed
    before ``before`` (the start of this process: never one it is running itself) and still
    only claimed. Returns how many were reported.

    - The run's message was posted but its turn never stored: the thread says so.
    - Nothing was posted yet: a top-level "Scheduled by ..." line says so.
    - The turn was stored: the restart's recovery resumes or reports it (bot/recovery.py),
      so nothing is said here and the occurrence is settled as posted.
    Each is settled only after its message is posted, so one Slack refuses now is reported
    at the next start. Raises StorageError.
    """
    reported = 0
    for occurrence in await services.store.interrupted_occurrences():
        if occurrence.outcome != CLAIMED or occurrence.claimed_at >= before:
            continue
        schedule = await services.store.get_schedule(occurrence.schedule_id)
        if schedule is None:
            continue
        try:
            reported += await _report_one(
                services, schedule=schedule, occurrence=occurrence, team=team
            )
        except InsightbotError as error:
            log.warning(
                "schedule %s: the interrupted run of %s was not reported: %s",
                schedule.id,
                occurrence.occurrence_at,
                error.detail,
            )
    return reported


async def _report_one(
    services: Services,
    *,
    schedule: ScheduleRecord,
    occurrence: OccurrenceRecord,
    team: Callable[[], Awaitable[str]],
) -> int:
    store = services.store
    lang = messages.language_of(schedule.question)
    at = occurrence.occurrence_at
    if occurrence.message_ts:
        thread = ThreadKey(
            team=schedule.team or await team(),
            channel=schedule.channel,
            thread_ts=occurrence.message_ts,
        )
        turns = await store.thread_turns(thread.as_str())
        if turns:
            log.info("schedule %s: the run of %s was recovered with its turn", schedule.id, at)
            await store.settle_occurrence(
                schedule_id=schedule.id, occurrence_at=at, outcome=POSTED, turn_id=turns[0].id
            )
            return 0
        await services.slack.post_message(
            channel=schedule.channel,
            thread_ts=occurrence.message_ts,
            text=messages.schedule_run_interrupted(lang),
        )
        ts = occurrence.message_ts
    else:
        name = await services.slack.user_name(schedule.user) or schedule.user
        lines = [
            messages.scheduled_by(lang, name, schedule.question),
            messages.schedule_run_interrupted_before_start(lang),
        ]
        ts = await services.slack.post_message(
            channel=schedule.channel, thread_ts=None, text="\n".join(lines)
        )
    log.info("schedule %s: the interrupted run of %s was reported", schedule.id, at)
    await store.settle_occurrence(
        schedule_id=schedule.id, occurrence_at=at, outcome=INTERRUPTED, message_ts=ts
    )
    return 1


async def schedules_made_in(*, services: Services, thread: ThreadKey) -> list[int]:
    """The ids of the schedules made from ``thread`` (active or paused): "forget this thread"
    says that they still exist. Raises StorageError."""
    found = await services.store.schedules(channel=thread.channel)
    return [s.id for s in found if s.source_thread_ts == thread.thread_ts]


async def _post(services: Services, *, channel: str, thread_ts: str | None, text: str) -> None:
    try:
        await services.slack.post_message(channel=channel, thread_ts=thread_ts, text=text)
    except InsightbotError as error:
        log.warning("could not post a schedule's note in %s: %s", channel, error.detail)
