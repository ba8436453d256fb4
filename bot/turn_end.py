"""How a turn ends: the answer posted and recorded, or the thread told that it was stopped,
timed out or failed (with a Retry button when trying again can help)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from bot import messages
from bot.answer import AnswerOutcome, post_artifacts, post_failure, post_final_answer
from bot.errors import InsightbotError
from bot.services import Services
from bot.slack.gateway import AnswerStream
from bot.turn_events import TurnControl
from bot.types import Failed, IncomingMessage
from storage.records import CANCELLED, DONE, FAILED, TurnRecord

log = logging.getLogger(__name__)

# Failures the person running the bot must act on (quota, key): logged as errors.
OPERATOR_FAILURES = frozenset({"insufficient_quota", "auth"})


@dataclass
class TurnState:
    """One turn on its way, shared by the steps that answer it."""

    services: Services
    turn: TurnRecord
    message: IncomingMessage
    control: TurnControl
    lang: str
    status_ts: str | None = None
    stream: AnswerStream | None = None


async def finish_turn(state: TurnState, outcome: AnswerOutcome) -> None:
    """Post what ``outcome`` calls for in the thread and record the turn's final status.

    A finished run's answer, continuations and charts are posted in that order, each write
    repeatable after a restart (bot/answer.py); the turn is marked done only after all of
    them. Raises SlackProblem when Slack refused the answer and StorageError.
    """
    services, turn, lang = state.services, state.turn, state.lang
    store = services.store
    thread = state.message.thread
    assert state.stream is not None
    if outcome.finished is not None:
        answer_ts = await post_final_answer(
            services=services,
            turn_id=turn.id,
            thread=thread,
            stream=state.stream,
            outcome=outcome,
            lang=lang,
        )
        refused = await post_artifacts(
            services=services,
            turn_id=turn.id,
            thread=thread,
            question=turn.question,
            artifacts=outcome.artifacts,
        )
        if refused:
            await say(state, messages.artifacts_not_posted(lang, refused), quiet=True)
        if outcome.withheld:
            withheld = [(w.name, w.reason, w.size, w.limit) for w in outcome.withheld]
            await say(state, messages.generated_files_withheld(lang, withheld), quiet=True)
        await store.update_turn(
            turn.id,
            status=DONE,
            answer_ts=answer_ts,
            answer_text=outcome.finished.text,
            code=tuple(outcome.finished.code or outcome.code),
            input_tokens=outcome.finished.usage.input_tokens,
            output_tokens=outcome.finished.usage.output_tokens,
            finished_at=time.time(),
        )
        await store.mark_thread_answered(thread.as_str())
    elif outcome.stopped_by is not None:
        await report_stopped(state)
    elif outcome.timed_out:
        limit = services.settings.run_timeout_s
        await fail_turn(state, message_text=messages.timed_out(lang, limit), code="timeout")
    else:
        failed = outcome.failed or Failed(message=messages.unexpected(lang), code="no_outcome")
        if failed.code in OPERATOR_FAILURES:
            log.error(
                "the engine refused to run (%s): the operator must check the OpenAI key, "
                "plan and billing",
                failed.code,
            )
        await fail_turn(
            state,
            message_text=failed.message,
            code=failed.code or "failed",
            retryable=failed.retryable,
        )


async def report_stopped(state: TurnState) -> None:
    """Say in the thread who stopped the turn (ending its answer message) and record it."""
    who = state.control.stopped_by or "someone"
    text = messages.stopped(state.lang, who)
    if state.stream is not None:
        await state.stream.fail(text=text)
    else:
        await say(state, text)
    await state.services.store.update_turn(
        state.turn.id, status=CANCELLED, error="stopped", finished_at=time.time()
    )
    await state.services.store.mark_thread_answered(state.message.thread.as_str())


async def fail_turn(
    state: TurnState, *, message_text: str, code: str, retryable: bool = True
) -> None:
    """Tell the thread the turn failed (Retry button when ``retryable``) and record ``code``.

    Raises SlackProblem when nothing could be posted, and StorageError.
    """
    await post_failure(
        services=state.services,
        turn_id=state.turn.id,
        thread=state.message.thread,
        stream=state.stream,
        message_text=message_text,
        retryable=retryable,
        lang=state.lang,
    )
    await state.services.store.update_turn(
        state.turn.id, status=FAILED, error=code, finished_at=time.time()
    )
    await state.services.store.mark_thread_answered(state.message.thread.as_str())


async def record_failure(state: TurnState, error: Exception) -> None:
    """Report an error raised inside a turn, as well as Slack and storage still allow.

    Never raises: a failure here is logged.
    """
    lang = state.lang
    text = error.user_message if isinstance(error, InsightbotError) else messages.unexpected(lang)
    retryable = bool(getattr(error, "retryable", True))
    try:
        await post_failure(
            services=state.services,
            turn_id=state.turn.id,
            thread=state.message.thread,
            stream=state.stream,
            message_text=text,
            retryable=retryable,
            lang=lang,
        )
    except Exception:
        log.exception("could not post the failure message")
    try:
        await state.services.store.update_turn(
            state.turn.id, status=FAILED, error=type(error).__name__, finished_at=time.time()
        )
    except Exception:
        log.exception("could not record the failure of turn %s", state.turn.id)


async def say(state: TurnState, text: str, *, quiet: bool = False) -> None:
    """Post ``text`` in the turn's thread; with ``quiet`` a Slack refusal is only logged."""
    thread = state.message.thread
    try:
        await state.services.slack.post_message(
            channel=thread.channel, thread_ts=thread.thread_ts, text=text
        )
    except InsightbotError:
        if not quiet:
            raise
        log.warning("could not post a notice in %s", thread.as_str())
