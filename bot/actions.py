"""What the buttons do: Show code, Stop and Retry."""

from __future__ import annotations

import dataclasses
import logging
import time

from bot import messages
from bot.errors import InsightbotError
from bot.intake import message_from_json, new_turn_id
from bot.runner import TurnRunner
from bot.services import Services
from bot.slack.render import code_messages_for
from bot.types import ThreadKey
from storage.records import CANCELLED, FAILED, RECEIVED, TurnRecord

log = logging.getLogger(__name__)


async def show_code(*, services: Services, turn_id: str, user: str) -> None:
    """Post the code that ran for a turn as a reply in its thread."""
    turn = await services.store.get_turn(turn_id)
    if turn is None:
        return
    thread = ThreadKey.parse(turn.thread_key)
    if not turn.code:
        await services.slack.post_ephemeral(
            channel=thread.channel,
            user=user,
            thread_ts=thread.thread_ts,
            text=messages.no_code(messages.language_of(turn.question)),
        )
        return
    code = "\n\n# ---\n\n".join(turn.code)
    # Several messages when the code is long; each stays under Slack's limits.
    for part in code_messages_for(code):
        await services.slack.post_message(
            channel=thread.channel, thread_ts=thread.thread_ts, text=part.text, blocks=part.blocks
        )


async def stop_turn(*, services: Services, runner: TurnRunner, turn_id: str, user: str) -> None:
    """Stop a running turn if ``user`` asked it or is an admin; otherwise explain privately.

    The turn itself says in its thread who stopped it.
    """
    turn = await services.store.get_turn(turn_id)
    if turn is None:
        return
    thread = ThreadKey.parse(turn.thread_key)
    lang = messages.language_of(turn.question)
    if user != turn.user and user not in services.settings.admins:
        log.info("%s may not stop turn %s of %s", user, turn_id, turn.user)
        await services.slack.post_ephemeral(
            channel=thread.channel,
            user=user,
            thread_ts=thread.thread_ts,
            text=messages.not_allowed_to_stop(lang, turn.user),
        )
        return
    if runner.request_stop(turn_id=turn_id, user=user):
        log.info("turn %s stop requested by %s", turn_id, user)
        return
    await services.slack.post_ephemeral(
        channel=thread.channel,
        user=user,
        thread_ts=thread.thread_ts,
        text=messages.already_finished(lang),
    )


async def retry_turn(
    *,
    services: Services,
    runner: TurnRunner,
    turn_id: str,
    user: str,
    clicked_channel: str | None = None,
    clicked_ts: str | None = None,
) -> TurnRecord | None:
    """Run a failed turn again as a new attempt of the same message.

    The files stored for the thread are reused; only those never uploaded are downloaded.
    One attempt per failure: a click on an older attempt's button, or a second click, does
    nothing. The clicked message loses its button and says who asked for the retry.
    """
    store = services.store
    async with runner.lock_for(f"retry:{turn_id}"):
        turn = await store.get_turn(turn_id)
        if turn is None or turn.status not in (FAILED, CANCELLED):
            return None
        latest = await store.latest_turn_for_message(turn.thread_key, turn.message_ts)
        if latest is not None and latest.id != turn.id:
            return None
        message = message_from_json(turn.message_json)
        now = time.time()
        attempt = dataclasses.replace(
            turn,
            id=new_turn_id(),
            attempt=turn.attempt + 1,
            status=RECEIVED,
            response_id=None,
            last_sequence=None,
            answer_ts=None,
            status_ts=None,
            posted_artifacts=(),
            code=(),
            answer_text="",
            input_tokens=0,
            output_tokens=0,
            error=None,
            created_at=now,
            updated_at=now,
            finished_at=None,
        )
        await store.create_turn(attempt)
    log.info("retry of turn %s requested by %s as %s", turn_id, user, attempt.id)
    if clicked_channel and clicked_ts:
        lang = messages.language_of(turn.question)
        try:
            await services.slack.update_message(
                channel=clicked_channel, ts=clicked_ts, text=messages.retrying(lang, user)
            )
        except InsightbotError as error:
            log.warning("could not update the clicked Retry message: %s", error.detail)
    runner.submit(attempt, message)
    return attempt
