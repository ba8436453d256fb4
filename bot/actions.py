"""What the buttons do: Show code, Stop and Retry.

Every click is checked against where its turn lives: the clicked message must be in the turn's
own channel and thread, or nothing happens (the payload names the message, and the Retry click
edits it). Stop and Retry are for the person who asked and for admins; everyone else is told
privately why nothing happened.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from bot import messages
from bot.errors import InsightbotError
from bot.intake import Intake
from bot.message_json import message_from_json, new_turn_id
from bot.services import Services
from bot.slack.render import code_messages_for
from bot.turn import TurnLedger, retry_attempt
from bot.types import ThreadKey
from storage.records import CANCELLED, FAILED, TurnRecord, is_erased

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Click:
    """A button click: the turn its value names, who clicked, and the message clicked on."""

    turn_id: str
    user: str
    channel: str
    message_ts: str
    thread_ts: str  # the clicked message's thread (its own ts when it is not in one)


def clicked_in_thread(click: Click, thread: ThreadKey) -> bool:
    """Whether the clicked message belongs to the turn's own channel and thread."""
    return click.channel == thread.channel and click.thread_ts == thread.thread_ts


async def _turn_for(services: Services, click: Click) -> tuple[TurnRecord, ThreadKey] | None:
    """The clicked turn and its thread; None (after a private note) when the click came from
    somewhere else, or when the turn is unknown."""
    turn = await services.store.get_turn(click.turn_id)
    if turn is None:
        return None
    thread = ThreadKey.parse(turn.thread_key)
    if clicked_in_thread(click, thread):
        return turn, thread
    log.warning(
        "%s clicked a button for turn %s from %s/%s, outside its thread",
        click.user,
        turn.id,
        click.channel,
        click.message_ts,
    )
    await _tell(
        services,
        channel=click.channel,
        thread_ts=click.thread_ts,
        user=click.user,
        text=messages.button_not_in_thread(messages.language_of(turn.question)),
    )
    return None


async def _tell(services: Services, *, channel: str, thread_ts: str, user: str, text: str) -> None:
    try:
        await services.slack.post_ephemeral(
            channel=channel, user=user, thread_ts=thread_ts, text=text
        )
    except InsightbotError as error:
        log.warning("could not post a private note: %s", error.detail)


async def _tell_cleared(services: Services, click: Click, thread: ThreadKey) -> None:
    # The question's words are gone, so is its language: English, the catalogue's default.
    await _tell(
        services,
        channel=thread.channel,
        thread_ts=thread.thread_ts,
        user=click.user,
        text=messages.turn_was_cleared("en"),
    )


def _may_control(services: Services, turn: TurnRecord, user: str) -> bool:
    return user == turn.user or user in services.settings.admins


async def show_code(*, intake: Intake, click: Click) -> None:
    """Post the code that ran for a turn as a reply in its thread, once; a later click gets a
    private pointer to it."""
    services = intake.services
    async with intake.lock_for(f"code:{click.turn_id}"):  # a double click posts once
        found = await _turn_for(services, click)
        if found is None:
            return
        turn, thread = found
        lang = messages.language_of(turn.question)
        if is_erased(turn):
            await _tell_cleared(services, click, thread)
            return
        if not turn.code or turn.code_posted_ts:
            link = None
            if turn.code_posted_ts:
                link = await services.slack.permalink(
                    channel=thread.channel, ts=turn.code_posted_ts
                )
            text = messages.code_already_posted(lang, link) if turn.code else messages.no_code(lang)
            await _tell(
                services,
                channel=thread.channel,
                thread_ts=thread.thread_ts,
                user=click.user,
                text=text,
            )
            return
        code = "\n\n# ---\n\n".join(turn.code)
        # Several messages when the code is long; each stays under Slack's limits.
        first: str | None = None
        for part in code_messages_for(code):
            ts = await services.slack.post_message(
                channel=thread.channel,
                thread_ts=thread.thread_ts,
                text=part.text,
                blocks=part.blocks,
            )
            if first is None:
                first = ts
                await TurnLedger.of(services.store, turn).code_posted(ts)


async def stop_turn(*, intake: Intake, click: Click) -> None:
    """Stop a running turn if ``user`` asked it or is an admin; otherwise explain privately.

    The turn itself says in its thread who stopped it.
    """
    services, runner = intake.services, intake.runner
    found = await _turn_for(services, click)
    if found is None:
        return
    turn, thread = found
    turn_id, user = turn.id, click.user
    lang = messages.language_of(turn.question)
    if not _may_control(services, turn, user):
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


async def retry_turn(*, intake: Intake, click: Click) -> TurnRecord | None:
    """Run a failed turn again as a new attempt of the same message, when the person who asked
    (or an admin) clicked in the turn's own thread; others are told privately.

    The files stored for the thread are reused; only those never uploaded are downloaded.
    One attempt per failure: a click on an older attempt's button, or a second click, does
    nothing. The clicked message loses its button and says who asked for the retry.
    """
    services, user, turn_id = intake.services, click.user, click.turn_id
    store = services.store
    async with intake.lock_for(f"retry:{turn_id}"):
        found = await _turn_for(services, click)
        if found is None:
            return None
        turn, thread = found
        if not _may_control(services, turn, user):
            log.info("%s may not retry turn %s of %s", user, turn_id, turn.user)
            await _tell(
                services,
                channel=thread.channel,
                thread_ts=thread.thread_ts,
                user=user,
                text=messages.not_allowed_to_retry(messages.language_of(turn.question), turn.user),
            )
            return None
        if turn.status not in (FAILED, CANCELLED):
            return None
        if is_erased(turn):  # its question is gone: nothing to run again
            await _tell_cleared(services, click, thread)
            return None
        latest = await store.latest_turn_for_message(turn.thread_key, turn.message_ts)
        if latest is not None and latest.id != turn.id:
            return None
        message = message_from_json(turn.message_json)
        attempt = retry_attempt(turn, turn_id=new_turn_id(), now=time.time())
        await TurnLedger.create(store, attempt)
    log.info("retry of turn %s requested by %s as %s", turn_id, user, attempt.id)
    lang = messages.language_of(turn.question)
    try:
        # The clicked message is in the turn's own thread (checked above).
        await services.slack.update_message(
            channel=thread.channel, ts=click.message_ts, text=messages.retrying(lang, user)
        )
    except InsightbotError as error:
        log.warning("could not update the clicked Retry message: %s", error.detail)
    await intake.accept_retry(attempt, message)
    return attempt
