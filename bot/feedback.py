"""What the 👍/👎 buttons under an answer do: store the click with the turn and the person
(a second click by the same person replaces the first) and thank them privately."""

from __future__ import annotations

import logging

from bot import messages
from bot.actions import Click, clicked_in_thread
from bot.errors import InsightbotError
from bot.services import Services
from bot.slack.blocks import NEGATIVE, POSITIVE
from bot.types import ThreadKey

__all__ = ["feedback_of", "record_feedback"]

log = logging.getLogger(__name__)


def feedback_of(value: str) -> tuple[str, str] | None:
    """(``up`` or ``down``, turn id) from a feedback button's value, or None."""
    kind, _, turn_id = value.partition(":")
    if kind not in (POSITIVE, NEGATIVE) or not turn_id:
        return None
    return kind, turn_id


async def record_feedback(*, services: Services, click: Click) -> bool:
    """Store one feedback click and thank the person; False (nothing stored) when the value
    is not ours, the turn is unknown, or the click came from outside the turn's thread.

    ``click.turn_id`` carries the button's whole value. Never raises for Slack refusing the
    thank-you note.
    """
    parsed = feedback_of(click.turn_id)
    if parsed is None:
        return False
    kind, turn_id = parsed
    turn = await services.store.get_turn(turn_id)
    if turn is None or not clicked_in_thread(click, ThreadKey.parse(turn.thread_key)):
        log.warning("feedback from %s for turn %s ignored", click.user, turn_id)
        return False
    await services.store.record_feedback(turn_id=turn_id, user=click.user, value=kind)
    log.info("feedback %s on turn %s from %s", kind, turn_id, click.user)
    lang = messages.language_of(turn.question)
    try:
        await services.slack.post_ephemeral(
            channel=click.channel,
            user=click.user,
            thread_ts=click.thread_ts,
            text=messages.feedback_thanks(lang, positive=kind == POSITIVE),
        )
    except InsightbotError as error:
        log.warning("could not thank for feedback: %s", error.detail)
    return True
