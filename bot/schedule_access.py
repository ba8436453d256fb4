"""A recurring analysis's access, checked at every run, and the pauses that follow from it.

Before a run posts anything the scheduler asks ``admit_scheduled_run``: the owner is still an
active person of this organisation (users.info), the channel is still there (conversations.
info), the owner is still in it (conversations.members), and the governance access rules
still let the owner ask there (the same pure ``access_refusal`` and per-channel switch that
admission uses). At every tick ``count_finished_runs`` counts the runs whose turn ended, and
three failures in a row pause the schedule. A pause is told once, by whoever paused it: in
the channel (unless it is archived or gone), to the owner by DM while their account is
active, and to each admin by DM; always with names, never mentions, and in the owner's
language. The channel's notice is a top-level message even after failed runs: each failing
run already said why in its own thread, and the pause concerns everyone who reads the channel.
The decisions are pure (bot/schedules/access_rules.py); this module does the I/O.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass

from bot import messages
from bot.errors import InsightbotError, SlackProblem
from bot.governance import AccessPolicy, Refusal, access_refusal
from bot.home import lang_of_locale
from bot.schedules.access_rules import (
    PauseReason,
    channel_pause,
    channel_type_of,
    governance_pause,
    is_paused_for_failures,
    membership_pause,
    owner_pause,
    run_result,
    shown_question,
    tells_channel,
)
from bot.services import Services
from bot.types import SlackPerson
from storage.records import POSTED, RUN_ANSWERED, RUN_REFUSED, SKIPPED, ScheduleRecord

__all__ = [
    "AccessCheck",
    "admit_scheduled_run",
    "count_finished_runs",
    "count_run",
    "pause_and_tell",
    "person_or_none",
    "schedule_refusal",
]

log = logging.getLogger(__name__)

# Runs not yet counted are the newest ones: a schedule's older occurrences need not be read.
_RECENT_OCCURRENCES = 20


@dataclass(frozen=True)
class AccessCheck:
    owner: SlackPerson
    pause: PauseReason | None  # None: the run may go on


async def check_schedule_access(
    services: Services, schedule: ScheduleRecord, *, home_teams: Collection[str]
) -> AccessCheck:
    """Whether the schedule's owner may still run it in its channel, asking Slack one fact at a
    time and stopping at the first that fails. Raises SlackProblem when Slack could not say,
    StorageError when the channel's settings cannot be read."""
    slack = services.slack
    owner = await slack.person(schedule.user)
    if (reason := owner_pause(owner)) is not None:
        return AccessCheck(owner, reason)
    if (reason := channel_pause(await slack.channel_state(schedule.channel))) is not None:
        return AccessCheck(owner, reason)
    member = await slack.is_channel_member(channel=schedule.channel, user=schedule.user)
    if (reason := membership_pause(member)) is not None:
        return AccessCheck(owner, reason)
    refusal = await schedule_refusal(
        services, person=owner, home_teams=home_teams, channel=schedule.channel
    )
    return AccessCheck(owner, governance_pause(refusal))


async def schedule_refusal(
    services: Services, *, person: SlackPerson, home_teams: Collection[str], channel: str
) -> Refusal | None:
    """Why the access settings would not let ``person`` ask in ``channel`` (the rules and the
    channel's own switch, as admission applies them), or None. Raises StorageError."""
    setting = await services.governance.channels.get(channel)
    return access_refusal(
        policy=AccessPolicy.of(services.settings),
        user=person.id,
        user_team=person.team,
        home_teams=home_teams,
        channel=channel,
        channel_type=channel_type_of(channel),
        channel_enabled=setting.enabled if setting is not None else None,
    )


async def admit_scheduled_run(
    services: Services,
    schedule: ScheduleRecord,
    *,
    occurrence_at: float,
    home_teams: Collection[str],
    now: float,
) -> SlackPerson | None:
    """The owner (as users.info just described them) when the claimed occurrence may run;
    None otherwise: it is settled as skipped and, when the owner lost access, the schedule is
    paused and that is told (``pause_and_tell``).

    When Slack cannot answer (after the client's own retries) the run is skipped, not paused:
    a rate limit or an outage says nothing about the owner, and running unchecked would let a
    person who left keep reading the channel's files. The next occurrence asks again.
    Raises StorageError."""
    try:
        check = await check_schedule_access(services, schedule, home_teams=home_teams)
    except SlackProblem as problem:
        log.warning(
            "schedule %s: the run of %s is skipped: Slack could not say whether its owner %s "
            "may still run it (%s)",
            schedule.id,
            occurrence_at,
            schedule.user,
            problem.detail,
        )
        await _settle_skipped(services, schedule, occurrence_at=occurrence_at)
        return None
    if check.pause is None:
        return check.owner
    log.info("schedule %s: the run of %s is skipped (%s)", schedule.id, occurrence_at, check.pause)
    await _settle_skipped(services, schedule, occurrence_at=occurrence_at)
    await pause_and_tell(services, schedule, reason=check.pause, now=now, owner=check.owner)
    return None


async def count_finished_runs(services: Services, schedule: ScheduleRecord, *, now: float) -> bool:
    """Count the schedule's posted runs whose turn has ended since the last tick, oldest first
    (each counted once: its occurrence is settled as answered, failed or refused); pause the
    schedule at the third failure in a row. True when it is paused now. Raises StorageError."""
    store = services.store
    recent = await store.occurrences(schedule.id, limit=_RECENT_OCCURRENCES)
    for occurrence in reversed(recent):
        result = run_result(occurrence.turn_status) if occurrence.outcome == POSTED else None
        if result is None:
            continue
        # Settled before it is counted: a crash in between loses one count, never adds one.
        await store.settle_occurrence(
            schedule_id=schedule.id, occurrence_at=occurrence.occurrence_at, outcome=result
        )
        if result == RUN_REFUSED:
            continue
        if await count_run(services, schedule, failed=result != RUN_ANSWERED, now=now):
            return True
    return False


async def count_run(
    services: Services, schedule: ScheduleRecord, *, failed: bool, now: float
) -> bool:
    """Count one run's end toward the failures in a row; pause the schedule (and tell) at the
    third. True when it is paused now. Raises StorageError."""
    failures = await services.store.count_schedule_result(schedule.id, failed=failed)
    if not is_paused_for_failures(failures):
        return False
    log.warning("schedule %s: %s failed runs in a row", schedule.id, failures)
    await pause_and_tell(services, schedule, reason=PauseReason.FAILURES, now=now)
    return True


async def pause_and_tell(
    services: Services,
    schedule: ScheduleRecord,
    *,
    reason: PauseReason,
    now: float,
    owner: SlackPerson | None = None,
) -> bool:
    """Pause the schedule and, only when this call paused it, tell the channel, the owner and
    the admins why. Returns whether this call paused it. A notice that cannot be posted is
    logged. Raises StorageError."""
    if not await services.store.pause_schedule(schedule.id, reason=reason.value, now=now):
        return False
    log.warning("schedule %s paused: %s", schedule.id, reason)
    if owner is None:
        owner = await person_or_none(services, schedule.user)
    lang = lang_of_locale(owner.locale if owner else None) or messages.language_of(
        schedule.question
    )
    question = shown_question(schedule.question)
    if tells_channel(reason):
        text = messages.schedule_paused_in_channel(lang, question, reason.value)
        await _tell(services, to=schedule.channel, text=text)
    # Someone Slack could not look up is still tried: a refused DM is only logged.
    if owner is None or owner.active:
        text = messages.schedule_paused_for_owner(lang, question, schedule.channel, reason.value)
        await _tell(services, to=schedule.user, text=text)
    name = (owner.name if owner else None) or schedule.user
    for admin in sorted(services.settings.admins - {schedule.user}):
        text = messages.schedule_paused_for_admin(
            lang, question, schedule.channel, name, reason.value
        )
        await _tell(services, to=admin, text=text)
    return True


async def _settle_skipped(
    services: Services, schedule: ScheduleRecord, *, occurrence_at: float
) -> None:
    await services.store.settle_occurrence(
        schedule_id=schedule.id, occurrence_at=occurrence_at, outcome=SKIPPED
    )


async def person_or_none(services: Services, user: str) -> SlackPerson | None:
    """Who ``user`` is, or None (logged) when Slack could not say."""
    try:
        return await services.slack.person(user)
    except SlackProblem as problem:
        log.warning("could not look up %s: %s", user, problem.detail)
        return None


async def _tell(services: Services, *, to: str, text: str) -> None:
    """Post a top-level notice in a channel, or a DM when ``to`` is a person's id."""
    try:
        await services.slack.post_message(channel=to, thread_ts=None, text=text)
    except InsightbotError as error:
        log.warning("could not tell %s that a schedule was paused: %s", to, error.detail)
