"""Making a recurring analysis from an answer ("Repeat…") and editing one (App Home "Edit"):
open the schedule modal, check and store what was submitted, confirm in the thread.

The modal opens on the click's trigger, which Slack honours for 3 s, so opening looks up
only the turn (storage) and the clicker (users.info). A submission trusts nothing in the
view: the turn or schedule its metadata names is read again, the clicker must still be an
active member of the channel who may ask there (the same access rules as admission), and
only then is the schedule stored. The channel, the owner and the data source come from the
turn and are fixed; an edit changes only the store's EDITABLE fields, for the owner or an
admin. The view itself and the form check are pure (bot/schedules/modal_view.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot import messages as words
from bot.actions import Click, clicked_in_thread
from bot.errors import InsightbotError
from bot.home import lang_of_locale
from bot.message_json import message_from_json
from bot.schedule_access import person_or_none, schedule_refusal
from bot.schedules import next_occurrence, recurrence
from bot.schedules.access_rules import is_schedule_channel
from bot.schedules.choice import newest_pattern
from bot.schedules.modal_view import (
    EVERY,
    NEWEST,
    QUESTION,
    SAME,
    SCHEDULE_EDIT_ACTION,
    SCHEDULE_MODAL_CALLBACK,
    ModalPrefill,
    ModalTarget,
    ScheduleForm,
    ValidSchedule,
    check_form,
    schedule_modal,
    target_of,
)
from bot.schedules.pattern import file_pattern
from bot.schedules.timing import WEEKDAYS
from bot.services import Services
from bot.types import SlackPerson, ThreadKey
from storage.records import FileRecord, ScheduleRecord, TurnRecord, is_erased

__all__ = [
    "SCHEDULE_EDIT_ACTION",
    "SCHEDULE_MODAL_CALLBACK",
    "Confirmation",
    "ScheduleSubmission",
    "Submitted",
    "open_edit_modal",
    "open_repeat_modal",
    "post_confirmation",
    "submit_schedule_modal",
]

log = logging.getLogger(__name__)

MEMBER_CHECK_S = 2.0  # of Slack's 3 s for the acknowledgement


@dataclass(frozen=True)
class ScheduleSubmission:
    """A submitted schedule modal: who, what its metadata names, and the form as typed."""

    user: str
    metadata: str
    form: ScheduleForm


@dataclass(frozen=True)
class Confirmation:
    """What to post in a thread once the submission was acknowledged."""

    channel: str
    thread_ts: str
    text: str


@dataclass(frozen=True)
class Submitted:
    """The answer to a submission: ``errors`` by block id for the modal (empty: saved), and
    the confirmation to post after the acknowledgement."""

    errors: dict[str, str]
    confirmation: Confirmation | None = None


# ---------------------------------------------------------------- opening


async def open_repeat_modal(*, services: Services, click: Click, trigger_id: str) -> None:
    """Open the modal for the clicked answer's turn, prefilled from it. A click outside the
    turn's own thread, or on a turn outside a channel or with its question erased, opens
    nothing. Never raises: a failure is logged."""
    try:
        turn = await services.store.get_turn(click.turn_id)
        if turn is None or is_erased(turn):
            return
        thread = ThreadKey.parse(turn.thread_key)
        if not clicked_in_thread(click, thread) or not is_schedule_channel(thread.channel):
            log.warning("%s clicked Repeat for turn %s outside its thread", click.user, turn.id)
            return
        person = await person_or_none(services, click.user)
        lang = _lang_for(person, turn.question)
        files = await _turn_files(services, turn)
        tz = (person.tz if person else None) or services.settings.timezone
        prefill = ModalPrefill(
            question=turn.question,
            tz=tz,
            weekday=_today(tz),
            day=min(datetime.now(_zone(tz)).day, 28),
            source=NEWEST if files else SAME,
            pattern=file_pattern(files[-1].name) if files else "",
            skip_unchanged=bool(files),
        )
        view = schedule_modal(
            lang,
            prefill,
            target=ModalTarget(turn_id=turn.id),
            max_question_chars=services.settings.max_question_chars,
        )
        await services.slack.open_view(trigger_id=trigger_id, view=view)
    except InsightbotError as error:
        log.warning("could not open the schedule modal for %s: %s", click.turn_id, error.detail)


async def open_edit_modal(
    *, services: Services, user: str, trigger_id: str, schedule_id: str
) -> None:
    """Open the modal prefilled from a schedule, for its owner or an admin (others get
    nothing). Never raises: a failure is logged."""
    try:
        schedule = (
            await services.store.get_schedule(int(schedule_id)) if schedule_id.isdigit() else None
        )
        if schedule is None or not _may_edit(services, schedule, user):
            log.warning("%s may not edit schedule %r", user, schedule_id)
            return
        person = await person_or_none(services, user)
        lang = _lang_for(person, schedule.question)
        kind, _, day = schedule.every.partition(":")
        prefill = ModalPrefill(
            question=schedule.question,
            tz=schedule.tz,
            frequency=kind,
            weekday=day if kind == "weekly" else "mon",
            day=int(day) if kind == "monthly" and day.isdigit() else 1,
            at=schedule.at,
            skip_unchanged=schedule.skip_unchanged,
            post_skipped=schedule.post_skipped,
            fixed_source=_source_words(lang, schedule.files),
        )
        view = schedule_modal(
            lang,
            prefill,
            target=ModalTarget(schedule_id=schedule.id),
            max_question_chars=services.settings.max_question_chars,
        )
        await services.slack.open_view(trigger_id=trigger_id, view=view)
    except InsightbotError as error:
        log.warning("could not open the edit modal of schedule %s: %s", schedule_id, error.detail)


# ---------------------------------------------------------------- submitting


async def submit_schedule_modal(
    *, services: Services, submission: ScheduleSubmission, now: float
) -> Submitted:
    """Check a submission again from scratch and store it: a new schedule for a turn, or an
    edit of one. Raises StorageError."""
    target = target_of(submission.metadata)
    if target is not None and target.schedule_id is not None:
        return await _save_edit(services, submission, schedule_id=target.schedule_id, now=now)
    turn = await services.store.get_turn(target.turn_id) if target and target.turn_id else None
    if turn is None or is_erased(turn):
        return await _gone(services, submission.user)
    return await _save_new(services, submission, turn=turn, now=now)


async def _save_new(
    services: Services, submission: ScheduleSubmission, *, turn: TurnRecord, now: float
) -> Submitted:
    user, thread = submission.user, ThreadKey.parse(turn.thread_key)
    try:
        person = await services.slack.person(user)
    except InsightbotError:
        return Submitted(
            errors={QUESTION: words.schedule_error_unchecked(_lang_for(None, turn.question))}
        )
    lang = _lang_for(person, turn.question)
    check = check_form(
        submission.form,
        lang=lang,
        max_question_chars=services.settings.max_question_chars,
        editing=False,
    )
    if check.schedule is None:
        return Submitted(errors=check.errors)
    refused = await _refusal(services, person=person, turn=turn, thread=thread, lang=lang)
    if refused is not None:
        return Submitted(errors={QUESTION: refused})
    valid = check.schedule
    files = await _turn_files(services, turn)
    stored = await services.store.add_schedule(
        ScheduleRecord(
            channel=thread.channel,
            user=user,
            question=valid.question,
            every=valid.every,
            at=valid.at,
            tz=valid.tz,
            files=valid.files or SAME,
            skip_unchanged=valid.skip_unchanged,
            team=thread.team,
            source_thread_ts=thread.thread_ts,
            created_by=user,
            created_at=now,
            file_ids=tuple(f.slack_file_id for f in files) if valid.files == SAME else (),
            post_skipped=valid.post_skipped,
        )
    )
    log.info("schedule %s made by %s from turn %s", stored.id, user, turn.id)
    text = words.schedule_saved(
        lang,
        words.schedule_rule_words(lang, stored.every, stored.at, stored.tz),
        _source_words(lang, stored.files),
        *_next_run(valid, now=now),
    )
    return Submitted(errors={}, confirmation=Confirmation(thread.channel, thread.thread_ts, text))


async def _save_edit(
    services: Services, submission: ScheduleSubmission, *, schedule_id: int, now: float
) -> Submitted:
    schedule = await services.store.get_schedule(schedule_id)
    if schedule is None:
        return await _gone(services, submission.user)
    person = await person_or_none(services, submission.user)
    lang = _lang_for(person, schedule.question)
    if not _may_edit(services, schedule, submission.user):
        return Submitted(errors={QUESTION: words.schedule_error_not_owner(lang)})
    check = check_form(
        submission.form,
        lang=lang,
        max_question_chars=services.settings.max_question_chars,
        editing=True,
    )
    if check.schedule is None:
        return Submitted(errors=check.errors)
    # The schedule runs as its owner: they must still be in the channel.
    member = await _is_member(services, channel=schedule.channel, user=schedule.user)
    if member is None:
        return Submitted(errors={EVERY: words.schedule_error_unchecked(lang)})
    if not member:
        return Submitted(errors={QUESTION: words.schedule_error_not_member(lang)})
    valid = check.schedule
    edited = await services.store.edit_schedule(
        schedule_id,
        now=now,
        question=valid.question,
        every=valid.every,
        at=valid.at,
        tz=valid.tz,
        skip_unchanged=valid.skip_unchanged,
        post_skipped=valid.post_skipped,
    )
    if not edited:
        return Submitted(errors={QUESTION: words.schedule_error_gone(lang)})
    log.info("schedule %s edited by %s", schedule_id, submission.user)
    if not schedule.source_thread_ts:
        return Submitted(errors={})
    text = words.schedule_changed(
        lang,
        words.schedule_rule_words(lang, valid.every, valid.at, valid.tz),
        *_next_run(valid, now=now),
    )
    return Submitted(
        errors={}, confirmation=Confirmation(schedule.channel, schedule.source_thread_ts, text)
    )


async def post_confirmation(*, services: Services, confirmation: Confirmation) -> None:
    """Post the confirmation in its thread. Never raises: a failure is logged."""
    try:
        await services.slack.post_message(
            channel=confirmation.channel,
            thread_ts=confirmation.thread_ts,
            text=confirmation.text,
        )
    except InsightbotError as error:
        log.warning("could not confirm a schedule in its thread: %s", error.detail)


# ---------------------------------------------------------------- helpers


async def _refusal(
    services: Services, *, person: SlackPerson, turn: TurnRecord, thread: ThreadKey, lang: str
) -> str | None:
    """Why ``person`` may not schedule in the turn's channel (in words), or None."""
    if not person.active or not is_schedule_channel(thread.channel):
        return words.schedule_error_not_allowed(lang)
    try:
        home_teams = message_from_json(turn.message_json).home_teams
    except (ValueError, TypeError, KeyError):
        home_teams = frozenset({thread.team})
    refusal = await schedule_refusal(
        services, person=person, home_teams=home_teams, channel=thread.channel
    )
    if refusal is not None:
        log.info("%s may not schedule in %s: %s", person.id, thread.channel, refusal)
        return words.schedule_error_not_allowed(lang)
    member = await _is_member(services, channel=thread.channel, user=person.id)
    if member is None:
        return words.schedule_error_unchecked(lang)
    return None if member else words.schedule_error_not_member(lang)


async def _is_member(services: Services, *, channel: str, user: str) -> bool | None:
    """Membership for a submission, or None when Slack could not say in time: the check
    runs before the acknowledgement, which Slack wants within 3 seconds (a channel of many
    thousands takes many pages)."""
    try:
        return await asyncio.wait_for(
            services.slack.is_channel_member(channel=channel, user=user), MEMBER_CHECK_S
        )
    except (InsightbotError, TimeoutError) as error:
        log.warning("membership of %s in %s not checked: %r", user, channel, error)
        return None


async def _gone(services: Services, user: str) -> Submitted:
    """The turn or schedule a form was for no longer exists (said in the person's language:
    the question's words may be gone with it)."""
    person = await person_or_none(services, user)
    return Submitted(errors={QUESTION: words.schedule_error_gone(_lang_for(person, ""))})


def _lang_for(person: SlackPerson | None, question: str) -> str:
    return lang_of_locale(person.locale if person else None) or words.language_of(question)


def _may_edit(services: Services, schedule: ScheduleRecord, user: str) -> bool:
    return user == schedule.user or user in services.settings.admins


async def _turn_files(services: Services, turn: TurnRecord) -> Sequence[FileRecord]:
    """The files the turn used: its thread's, shared up to its message, oldest first."""
    records = await services.store.thread_files(turn.thread_key)
    return [r for r in records if float(r.shared_ts or 0) <= float(turn.message_ts)]


def _source_words(lang: str, files: str) -> str:
    pattern = newest_pattern(files)
    return (
        words.schedule_files_same(lang)
        if pattern is None
        else words.schedule_files_newest(lang, pattern)
    )


def _next_run(valid: ValidSchedule, *, now: float) -> tuple[float, str]:
    """The next run after ``now``: its instant, and its time in the schedule's zone in words."""
    rule = recurrence(every=valid.every, at=valid.at, tz=valid.tz)
    upcoming = next_occurrence(rule, after=datetime.fromtimestamp(now, UTC))
    local = upcoming.astimezone(ZoneInfo(valid.tz)).strftime("%Y-%m-%d %H:%M")
    return upcoming.timestamp(), f"{local} {valid.tz}"


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


def _today(tz: str) -> str:
    return WEEKDAYS[datetime.now(_zone(tz)).weekday()]
