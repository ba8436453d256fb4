"""The notices of waiting turns: "waiting for the previous question in this thread" and
"number N in line", posted in the turn's thread, updated as the line moves, and deleted when
the turn starts. They are cosmetic: a notice Slack refuses is logged, never raised."""

from __future__ import annotations

import logging

from bot import messages
from bot.errors import InsightbotError
from bot.slack.gateway import SlackGateway
from bot.types import IncomingMessage

__all__ = ["QueueNotices"]

log = logging.getLogger(__name__)


class QueueNotices:
    def __init__(self, slack: SlackGateway) -> None:
        self._slack = slack

    async def show_thread_wait(self, message: IncomingMessage) -> str | None:
        """Say the question waits for the one before it in its thread; the notice's ts."""
        text = messages.queued_in_thread(messages.language_of(message.text))
        return await self._post(message, text)

    async def show_position(self, message: IncomingMessage, position: int) -> str | None:
        """Say the question is number ``position`` in the global line; the notice's ts."""
        text = messages.queued_globally(messages.language_of(message.text), position)
        return await self._post(message, text)

    async def update_position(self, message: IncomingMessage, ts: str, position: int) -> bool:
        """Change a shown position; False when Slack refused."""
        text = messages.queued_globally(messages.language_of(message.text), position)
        try:
            await self._slack.update_message(channel=message.thread.channel, ts=ts, text=text)
        except InsightbotError as error:
            log.warning("could not update a queue notice: %s", error.detail)
            return False
        return True

    async def remove(self, message: IncomingMessage, ts: str) -> None:
        try:
            await self._slack.delete_message(channel=message.thread.channel, ts=ts)
        except InsightbotError as error:
            log.warning("could not delete a queue notice: %s", error.detail)

    async def _post(self, message: IncomingMessage, text: str) -> str | None:
        thread = message.thread
        try:
            return await self._slack.post_message(
                channel=thread.channel, thread_ts=thread.thread_ts, text=text
            )
        except InsightbotError as error:
            log.warning("could not post a queue notice: %s", error.detail)
            return None
