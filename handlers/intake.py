"""The global middleware that stores a user's message before Bolt acknowledges its event.

Bolt acknowledges an event before the listener runs, and Slack never redelivers an acknowledged
event; a global middleware runs before that, so whatever we accept here is already stored.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext

from bot.forget import accept_forget
from bot.intake import Intake
from bot.lifecycle import is_forget_request
from bot.logs import log_context
from bot.schedules import is_schedules_request
from bot.schedules_channel import accept_schedules_request
from handlers.parse import (
    channel_file_share_for,
    conversation_kind_for,
    enterprise_of,
    incoming_message_for,
    thread_file_share_for,
    unmentioned_reply_thread_for,
)

log = logging.getLogger(__name__)

_MESSAGE_EVENTS = frozenset({"app_mention", "message"})


def intake_middleware(intake: Intake) -> Callable[..., Awaitable[Any]]:
    async def take_in(
        body: dict[str, Any], context: AsyncBoltContext, next_: Callable[[], Awaitable[Any]]
    ) -> Any:
        event = body.get("event") if body.get("type") == "event_callback" else None
        if not (isinstance(event, dict) and event.get("type") in _MESSAGE_EVENTS):
            return await next_()
        with intake.acks.taking_in(), log_context(event_id=body.get("event_id")):
            await _take(intake=intake, body=body, context=context)
        return await next_()

    return take_in


async def _take(*, intake: Intake, body: dict[str, Any], context: AsyncBoltContext) -> None:
    services = intake.services
    bot_user_id = context.bot_user_id or ""
    answered = None
    reply_thread = unmentioned_reply_thread_for(body=body, bot_user_id=bot_user_id)
    if reply_thread is not None:
        # A reply without a mention counts only in a thread the bot has answered.
        thread = await services.store.get_thread(reply_thread.as_str())
        answered = thread is not None and thread.bot_answered
    message = incoming_message_for(
        body=body,
        bot_user_id=bot_user_id,
        answered_thread=answered,
        max_chars=services.settings.max_question_chars,
    )
    if message is None:
        top_level = channel_file_share_for(body=body, bot_user_id=bot_user_id)
        share = top_level or thread_file_share_for(body=body, bot_user_id=bot_user_id)
        if share is not None:
            thread_key, user, files = share
            await intake.remember_shared_files(
                thread=thread_key,
                user=user,
                ts=_event_ts(body) or thread_key.thread_ts,
                files=files,
                top_level_channel=top_level is not None,
                channel_type=conversation_kind_for(body),
                enterprise=enterprise_of(body),
            )
        return
    if (message.is_mention or message.is_dm) and is_forget_request(message.text):
        await accept_forget(intake, message)
        return
    if (message.is_mention or message.is_dm) and is_schedules_request(message.text):
        await accept_schedules_request(intake, message)
        return
    if intake.runner.closing:
        log.info("shutting down: message stored for the next start")
    await intake.accept_message(message)


def _event_ts(body: dict[str, Any]) -> str | None:
    event = body.get("event")
    ts = event.get("ts") if isinstance(event, dict) else None
    return ts if isinstance(ts, str) else None
