"""The App Home's section for recurring analyses, and what its buttons do.

A person sees their own schedules; admins (``settings.admins``) see everyone's. Each shows
its question (shortened), channel, timing, data, status, next run, and its last run with the
result and a link to that run's message, never the answer's text. The Pause/Resume and Delete
buttons are handled here (``apply_schedule_click``); the Edit button's modal lives elsewhere.
Only a schedule's owner or an admin may change it; anyone else's click changes nothing, and
their Home is published again as it is (a view has no channel to post an ephemeral note in).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot import messages as words
from bot.errors import InsightbotError
from bot.schedules import ScheduleRuleError, next_occurrence, recurrence
from bot.schedules.modal_view import SCHEDULE_EDIT_ACTION
from bot.services import Services
from bot.slack.blocks import section_block
from storage.records import (
    CANCELLED,
    CLAIMED,
    DONE,
    FAILED,
    INTERRUPTED,
    MISSED,
    POSTED,
    REFUSED,
    RUN_ANSWERED,
    RUN_FAILED,
    RUN_REFUSED,
    SCHEDULE_PAUSED,
    SKIPPED,
    OccurrenceRecord,
    ScheduleRecord,
)

if TYPE_CHECKING:  # bot.home imports this module for its section
    from bot.home import HomeContext

__all__ = [
    "BY_PERSON",
    "SCHEDULE_ACTIONS",
    "SCHEDULE_DELETE_ACTION",
    "SCHEDULE_EDIT_ACTION",
    "SCHEDULE_PAUSE_ACTION",
    "SCHEDULE_RESUME_ACTION",
    "SHOWN_SCHEDULES",
    "ScheduleClick",
    "apply_schedule_click",
    "last_result",
    "next_run_at",
    "schedules_section",
    "shortened",
]

log = logging.getLogger(__name__)

SCHEDULE_PAUSE_ACTION = "schedule_pause"
SCHEDULE_RESUME_ACTION = "schedule_resume"
SCHEDULE_DELETE_ACTION = "schedule_delete"
# The buttons handled here; each button's value is the schedule id.
SCHEDULE_ACTIONS = (SCHEDULE_PAUSE_ACTION, SCHEDULE_RESUME_ACTION, SCHEDULE_DELETE_ACTION)
BY_PERSON = "by_person"  # the pause reason of a Pause click
# Three blocks each: ten schedules stay well inside the Home's 100 blocks beside the other
# sections (an admin's tables take about 50).
SHOWN_SCHEDULES = 10
QUESTION_CHARS = 150


# ---------------------------------------------------------------- pure pieces


def shortened(text: str, limit: int = QUESTION_CHARS) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def next_run_at(schedule: ScheduleRecord, *, now: float) -> float | None:
    """When an active schedule runs next (epoch seconds); None when paused or unreadable."""
    if schedule.state == SCHEDULE_PAUSED:
        return None
    try:
        rule = recurrence(every=schedule.every, at=schedule.at, tz=schedule.tz)
    except ScheduleRuleError:
        return None
    after = datetime.fromtimestamp(max(now, schedule.last_occurrence_at), UTC)
    return next_occurrence(rule, after=after).timestamp()


# Outcomes of an occurrence whose turn was handed over (counted ones included).
_STARTED = frozenset({POSTED, RUN_ANSWERED, RUN_FAILED, RUN_REFUSED})


def last_result(occurrence: OccurrenceRecord) -> str:
    """What became of an occurrence, as ``schedule_last_run`` words it."""
    if occurrence.outcome in (SKIPPED, MISSED, INTERRUPTED):
        return occurrence.outcome
    if occurrence.outcome == CLAIMED:
        return "running"  # claimed, its turn not yet handed over
    if occurrence.outcome not in _STARTED or occurrence.turn_status is None:
        return "interrupted"  # posted, but no turn was stored for it
    return {DONE: "answered", FAILED: "failed", REFUSED: "failed", CANCELLED: "stopped"}.get(
        occurrence.turn_status, "running"
    )


def _lang_for(ctx_lang: str | None, schedule: ScheduleRecord) -> str:
    return ctx_lang or words.language_of(schedule.question)


# ---------------------------------------------------------------- the section


async def schedules_section(ctx: HomeContext) -> list[dict[str, Any]]:
    """The reader's schedules (an admin's: everyone's), the first ``SHOWN_SCHEDULES``."""
    store = ctx.services.store
    found = [s for s in await store.schedules() if ctx.is_admin or s.user == ctx.user]
    blocks: list[dict[str, Any]] = [
        {"type": "divider"},
        section_block(words.home_schedules_title(ctx.lang, everyone=ctx.is_admin)),
    ]
    if not found:
        return [*blocks, section_block(words.home_no_schedules(ctx.lang))]
    shown = found[:SHOWN_SCHEDULES]
    lasts = await asyncio.gather(*(_last_run(ctx.services, s) for s in shown))
    for schedule, (last, link) in zip(shown, lasts, strict=True):
        blocks.extend(_schedule_blocks(ctx, schedule, last=last, link=link))
    if len(found) > len(shown):
        blocks.append(section_block(words.home_more_schedules(ctx.lang, len(found) - len(shown))))
    return blocks


async def _last_run(
    services: Services, schedule: ScheduleRecord
) -> tuple[OccurrenceRecord | None, str | None]:
    """The newest occurrence and a link to its message (None when it posted none)."""
    newest = await services.store.occurrences(schedule.id, limit=1)
    if not newest:
        return None, None
    last = newest[0]
    link = None
    if last.message_ts:
        link = await services.slack.permalink(channel=schedule.channel, ts=last.message_ts)
    return last, link


def _schedule_blocks(
    ctx: HomeContext,
    schedule: ScheduleRecord,
    *,
    last: OccurrenceRecord | None,
    link: str | None,
) -> list[dict[str, Any]]:
    lang = _lang_for(ctx.lang, schedule)
    lines = [
        f"*{shortened(schedule.question)}*",
        words.schedule_when(lang, schedule.every, schedule.at, schedule.tz),
        words.schedule_source(lang, schedule.files),
        words.schedule_status(
            lang, paused=schedule.state == SCHEDULE_PAUSED, reason=schedule.paused_reason
        ),
    ]
    upcoming = next_run_at(schedule, now=ctx.now)
    if upcoming is not None:
        lines.append(words.schedule_next_run(lang, upcoming))
    if last is None:
        lines.append(words.schedule_never_ran(lang))
    else:
        lines.append(words.schedule_last_run(lang, at=last.occurrence_at, result=last_result(last)))
    return [
        section_block("\n".join(lines)),
        _where(schedule, lang=lang, link=link, with_owner=ctx.is_admin),
        _buttons(schedule, ctx.lang),
    ]


def _where(
    schedule: ScheduleRecord, *, lang: str, link: str | None, with_owner: bool
) -> dict[str, Any]:
    """The channel (and, for admins, the owner) as Slack's own elements, and the link to the
    last run: ids and a URL from Slack, nothing typed by a person is made into markup."""
    elements: list[dict[str, Any]] = [{"type": "channel", "channel_id": schedule.channel}]
    if with_owner:
        elements += [{"type": "text", "text": " · "}, {"type": "user", "user_id": schedule.user}]
    if link:
        elements += [
            {"type": "text", "text": " · "},
            {"type": "link", "url": link, "text": words.schedule_last_run_link(lang)},
        ]
    return {
        "type": "rich_text",
        "elements": [{"type": "rich_text_section", "elements": elements}],
    }


def _buttons(schedule: ScheduleRecord, lang: str | None) -> dict[str, Any]:
    value = str(schedule.id)
    if schedule.state == SCHEDULE_PAUSED:
        toggle = _button(SCHEDULE_RESUME_ACTION, words.schedule_resume_label(lang), value)
    else:
        toggle = _button(SCHEDULE_PAUSE_ACTION, words.schedule_pause_label(lang), value)
    delete = _button(SCHEDULE_DELETE_ACTION, words.schedule_delete_label(lang), value)
    delete["style"] = "danger"
    delete["confirm"] = {
        "title": {"type": "plain_text", "text": words.schedule_delete_confirm_title(lang)},
        "text": {"type": "plain_text", "text": words.schedule_delete_confirm_text(lang)},
        "confirm": {"type": "plain_text", "text": words.schedule_delete_label(lang)},
        "deny": {"type": "plain_text", "text": words.schedule_delete_confirm_deny(lang)},
        "style": "danger",
    }
    edit = _button(SCHEDULE_EDIT_ACTION, words.edit_label(lang), value)
    return {
        "type": "actions",
        "block_id": f"schedule:{value}",
        "elements": [toggle, edit, delete],
    }


def _button(action_id: str, label: str, value: str) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label, "emoji": True},
        "value": value,
    }


# ---------------------------------------------------------------- the buttons


@dataclass(frozen=True)
class ScheduleClick:
    """A Pause, Resume or Delete click in the Home: ``value`` is the schedule id as sent."""

    action_id: str
    value: str
    user: str


async def apply_schedule_click(
    *, services: Services, click: ScheduleClick, now: float
) -> str | None:
    """Pause (reason ``by_person``), resume or delete the clicked schedule when ``click.user``
    owns it or is an admin; returns the owner when something changed (None otherwise). Never
    raises: failures are logged. The caller publishes the clicker's Home again either way,
    and the owner's when an admin changed someone else's schedule."""
    try:
        schedule_id = int(click.value)
    except ValueError:
        log.warning("schedule button with a value that is not an id: %r", click.value[:40])
        return None
    try:
        schedule = await services.store.get_schedule(schedule_id)
        if schedule is None:
            log.info("schedule %s is gone: nothing to do for %s", schedule_id, click.user)
            return None
        if click.user != schedule.user and click.user not in services.settings.admins:
            log.warning(
                "%s may not change schedule %s of %s", click.user, schedule_id, schedule.user
            )
            return None
        changed = await _apply(services, click.action_id, schedule_id, now=now)
    except InsightbotError as error:
        log.warning("schedule %s: %s failed: %s", schedule_id, click.action_id, error.detail)
        return None
    log.info("schedule %s: %s by %s (%s)", schedule_id, click.action_id, click.user, changed)
    return schedule.user if changed else None


async def _apply(services: Services, action_id: str, schedule_id: int, *, now: float) -> bool:
    store = services.store
    if action_id == SCHEDULE_PAUSE_ACTION:
        return await store.pause_schedule(schedule_id, reason=BY_PERSON, now=now)
    if action_id == SCHEDULE_RESUME_ACTION:
        return await store.resume_schedule(schedule_id, now=now)
    if action_id == SCHEDULE_DELETE_ACTION:
        return await store.delete_schedule(schedule_id)
    return False
