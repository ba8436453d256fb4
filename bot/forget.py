""" "Forget this thread": by a mention ("forget", "잊어줘", …) or the message shortcut.

Someone who asked in the thread, or an admin, may ask; anyone else is told privately why
nothing happened. A running analysis in the thread is stopped first, then the thread is
purged like the retention sweep does (bot/lifecycle/purge.py) and the thread is told what
was deleted, in the asker's language.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from bot import messages
from bot.errors import InsightbotError
from bot.intake import DEDUPE_TTL_S, Intake
from bot.lifecycle import PurgeReport, new_holder, purge_thread
from bot.schedule_runs import schedules_made_in
from bot.types import IncomingMessage, ThreadKey
from storage.records import REQUEST, TurnRecord

log = logging.getLogger(__name__)

BUSY_POLL_S = 0.25
# A stopped run ends within seconds; a question queued behind it may take longer, and then
# the person is asked to try again rather than kept waiting.
FORGET_WAIT_S = 120.0


@dataclass(frozen=True)
class ForgetRequest:
    thread: ThreadKey
    user: str
    lang: str


def may_forget(user: str, turns: Sequence[TurnRecord], admins: frozenset[str]) -> bool:
    """Someone who asked in the thread, or an admin of the bot."""
    return user in admins or any(turn.user == user for turn in turns)


async def accept_forget(intake: Intake, message: IncomingMessage) -> bool:
    """Take a "forget" message in (once, however often Slack delivers it) and start
    forgetting its thread in the background; False for a repeated delivery."""
    key = f"msg:{message.thread.team}:{message.thread.channel}:{message.ts}"
    async with intake.lock_for(key):
        if not await intake.services.store.claim(key, ttl_s=DEDUPE_TTL_S):
            log.info("duplicate delivery of %s ignored", key)
            return False
    request = ForgetRequest(
        thread=message.thread, user=message.user, lang=messages.language_of(message.text)
    )
    intake.runner.spawn(forget_thread(intake=intake, request=request))
    return True


async def forget_thread(
    *, intake: Intake, request: ForgetRequest, wait_s: float = FORGET_WAIT_S
) -> PurgeReport | None:
    """Forget one thread for ``request`` and say so there; None when refused or busy.
    Never raises (failures are logged and told)."""
    try:
        return await _forget(intake=intake, request=request, wait_s=wait_s)
    except InsightbotError as error:
        log.warning("forgetting a thread failed: %s", error.detail or error.user_message)
        await _say(intake, request, messages.forget_busy(request.lang))
        return None


async def _forget(*, intake: Intake, request: ForgetRequest, wait_s: float) -> PurgeReport | None:
    services, runner = intake.services, intake.runner
    thread, key = request.thread, request.thread.as_str()
    turns = await services.store.thread_turns(key)
    if not may_forget(request.user, turns, services.settings.admins):
        log.info("%s may not make the bot forget thread %s", request.user, key)
        await services.slack.post_ephemeral(
            channel=thread.channel,
            user=request.user,
            thread_ts=thread.thread_ts,
            text=messages.forget_not_allowed(request.lang),
        )
        return None
    stopped = runner.stop_thread(thread_key=key, user=request.user)
    if stopped:
        log.info("stopping %d running turn(s) of %s before forgetting it", stopped, key)
    holder = new_holder("forget")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while True:
        report = await purge_thread(
            store=services.store,
            engine=services.engine,
            thread_key=key,
            reason=REQUEST,
            holder=holder,
        )
        if report is not None:
            break
        if loop.time() >= deadline:
            await _say(intake, request, messages.forget_busy(request.lang))
            return None
        await asyncio.sleep(BUSY_POLL_S)
    log.info("thread %s forgotten at the request of %s", key, request.user)
    if report.anything:
        text = messages.forget_done(
            request.lang,
            deleted=report.deleted,
            pending=report.pending,
            turns=report.erased.turns,
            files=report.erased.files,
        )
    else:
        text = messages.forget_nothing(request.lang)
    kept = await schedules_made_in(services=services, thread=thread)
    if kept:  # forgetting a thread never deletes what was scheduled from it
        text += "\n" + messages.forget_keeps_schedules(request.lang, kept)
    await _say(intake, request, text)
    return report


async def _say(intake: Intake, request: ForgetRequest, text: str) -> None:
    thread = request.thread
    try:
        await intake.services.slack.post_message(
            channel=thread.channel, thread_ts=thread.thread_ts, text=text
        )
    except InsightbotError as error:
        log.warning("could not post in thread %s: %s", thread.as_str(), error.detail)
