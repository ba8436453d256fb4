""" "@bot schedules" (or "예약 목록"): the channel's recurring analyses, told in the thread.

Only the schedules of the channel the mention came from are listed; owners are named, never
mentioned, so listing pings nobody. No analysis turn starts.
"""

from __future__ import annotations

import logging
import time

from bot import messages
from bot.errors import InsightbotError
from bot.intake import DEDUPE_TTL_S, Intake
from bot.schedules_home import next_run_at, shortened
from bot.services import Services
from bot.types import IncomingMessage
from storage.records import SCHEDULE_PAUSED, ScheduleRecord

__all__ = ["SHOWN_IN_CHANNEL", "accept_schedules_request", "channel_schedules_text"]

log = logging.getLogger(__name__)

SHOWN_IN_CHANNEL = 20  # one message; operators have `insightbot schedules` for the rest


async def accept_schedules_request(intake: Intake, message: IncomingMessage) -> bool:
    """Take a "schedules" message in (once, however often Slack delivers it) and answer it in
    the background; False for a repeated delivery."""
    key = f"msg:{message.thread.team}:{message.thread.channel}:{message.ts}"
    async with intake.lock_for(key):
        if not await intake.services.store.claim(key, ttl_s=DEDUPE_TTL_S):
            log.info("duplicate delivery of %s ignored", key)
            return False
    intake.runner.spawn(tell_channel_schedules(services=intake.services, message=message))
    return True


async def tell_channel_schedules(
    *, services: Services, message: IncomingMessage, now: float | None = None
) -> None:
    """Post the channel's schedules in the message's thread. Never raises: failures are
    logged."""
    thread = message.thread
    lang = messages.language_of(message.text)
    try:
        found = await services.store.schedules(channel=thread.channel)
        text = await channel_schedules_text(
            services, found, lang=lang, now=time.time() if now is None else now
        )
        await services.slack.post_message(
            channel=thread.channel, thread_ts=thread.thread_ts, text=text
        )
    except InsightbotError as error:
        log.warning("could not list the schedules of %s: %s", thread.channel, error.detail)


async def channel_schedules_text(
    services: Services, found: list[ScheduleRecord], *, lang: str, now: float
) -> str:
    """The list as one message: each schedule's question, owner's name, timing and status."""
    if not found:
        return messages.channel_schedules_none(lang)
    lines = [messages.channel_schedules_title(lang, len(found))]
    names: dict[str, str] = {}
    for schedule in found[:SHOWN_IN_CHANNEL]:
        if schedule.user not in names:
            names[schedule.user] = await services.slack.user_name(schedule.user) or schedule.user
        timing = messages.schedule_when(lang, schedule.every, schedule.at, schedule.tz)
        upcoming = next_run_at(schedule, now=now)
        if upcoming is not None:
            timing = f"{timing} · {messages.schedule_next_run(lang, upcoming)}"
        status = messages.schedule_status(
            lang, paused=schedule.state == SCHEDULE_PAUSED, reason=schedule.paused_reason
        )
        lines.append(
            messages.channel_schedule_line(
                lang,
                owner=names[schedule.user],
                question=shortened(schedule.question),
                timing=timing,
                status=status,
            )
        )
    if len(found) > SHOWN_IN_CHANNEL:
        lines.append(messages.channel_schedules_more(lang, len(found) - SHOWN_IN_CHANNEL))
    return "\n".join(lines)
