"""What the buttons do: Show code, Stop and Retry."""

from __future__ import annotations

import dataclasses
import logging
import time

from bot.intake import message_from_json, new_turn_id
from bot.runner import TurnRunner
from bot.services import Services
from bot.slack.render import code_messages_for
from bot.types import ThreadKey
from storage.records import TurnRecord

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
            text="No code ran for this answer.",
        )
        return
    code = "\n\n# ---\n\n".join(turn.code)
    # Several messages when the code is long; each stays under Slack's limits.
    for part in code_messages_for(code):
        await services.slack.post_message(
            channel=thread.channel, thread_ts=thread.thread_ts, text=part.text, blocks=part.blocks
        )


async def stop_turn(*, services: Services, runner: TurnRunner, turn_id: str, user: str) -> None:
    """Stop a running turn if ``user`` asked it or is an admin; otherwise explain privately."""
    turn = await services.store.get_turn(turn_id)
    if turn is None:
        return
    thread = ThreadKey.parse(turn.thread_key)
    if user != turn.user and user not in services.settings.admins:
        await services.slack.post_ephemeral(
            channel=thread.channel,
            user=user,
            thread_ts=thread.thread_ts,
            text=f"Only <@{turn.user}> (who asked) or an admin can stop this analysis.",
        )
        return
    if not runner.request_stop(turn_id=turn_id, user=user):
        await services.slack.post_ephemeral(
            channel=thread.channel,
            user=user,
            thread_ts=thread.thread_ts,
            text="That analysis has already finished.",
        )


async def retry_turn(
    *, services: Services, runner: TurnRunner, turn_id: str, user: str
) -> TurnRecord | None:
    """Run a failed turn again as a new attempt of the same message (stored files reused)."""
    store = services.store
    turn = await store.get_turn(turn_id)
    if turn is None:
        return None
    latest = await store.latest_turn_for_message(turn.thread_key, turn.message_ts)
    if latest is not None and latest.id != turn.id:
        return None  # a newer attempt exists already: one retry per click
    message = message_from_json(turn.message_json)
    now = time.time()
    attempt = dataclasses.replace(
        turn,
        id=new_turn_id(),
        attempt=turn.attempt + 1,
        status="received",
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
    runner.submit(attempt, message)
    return attempt
