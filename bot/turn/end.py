"""How a turn ends: the answer posted and recorded, or the thread told that it was stopped,
timed out or failed (with a Retry button when trying again can help). Which of these applies
is decided in bot/turn/decisions.py (``ending_for``); this module does the posting and asks
the ledger to record it."""

from __future__ import annotations

import logging

from bot import messages
from bot.errors import InsightbotError
from bot.turn.answer import post_artifacts, post_failure, post_final_answer
from bot.turn.decisions import EndingKind, ending_for, failure_code_of, offers_repeat
from bot.turn.native import native_charts
from bot.turn.state import AnswerOutcome, TurnState
from bot.types import FailureCode

__all__ = ["fail_turn", "finish_turn", "record_failure", "report_stopped", "say"]

log = logging.getLogger(__name__)


async def finish_turn(state: TurnState, outcome: AnswerOutcome, *, resumed: bool = False) -> None:
    """Post what ``outcome`` calls for in the thread and record the turn's end.

    A finished run's answer, continuations and charts are posted in that order, each write
    repeatable after a restart (bot/turn/answer.py); the turn is recorded as answered only
    after all of them. Raises SlackProblem when Slack refused the answer and StorageError.
    """
    ending = ending_for(
        outcome,
        lang=state.lang,
        run_timeout_s=state.services.settings.run_timeout_s,
        resumed=resumed,
    )
    if ending.kind is EndingKind.ANSWERED:
        await _post_answer(state, outcome)
    elif ending.kind is EndingKind.STOPPED:
        await report_stopped(state)
    else:
        assert ending.code is not None
        if ending.operator_must_act:
            log.error(
                "the engine refused to run (%s): the operator must check the OpenAI key, "
                "plan and billing",
                ending.code,
            )
        await fail_turn(
            state, message_text=ending.message, code=ending.code, retryable=ending.retryable
        )


async def _post_answer(state: TurnState, outcome: AnswerOutcome) -> None:
    services, turn, lang = state.services, state.turn, state.lang
    thread = state.message.thread
    finished = outcome.finished
    assert state.stream is not None and finished is not None
    charts = await native_charts(outcome.artifacts)
    placed = await post_final_answer(
        services=services,
        ledger=state.ledger,
        thread=thread,
        stream=state.stream,
        outcome=outcome,
        lang=lang,
        charts=charts.blocks,
        repeatable=offers_repeat(state.message),
    )
    answer_ts = placed.ts
    refused = await post_artifacts(
        services=services,
        ledger=state.ledger,
        thread=thread,
        question=turn.question,
        artifacts=charts.files_to_post(outcome.artifacts, shown=placed.charts_shown),
        lang=lang,
    )
    if refused:
        await say(state, messages.artifacts_not_posted(lang, refused), quiet=True)
    if outcome.withheld:
        withheld = [(w.name, w.reason, w.size, w.limit) for w in outcome.withheld]
        await say(state, messages.generated_files_withheld(lang, withheld), quiet=True)
    cost = await services.governance.turn_cost(
        turn=turn, usage=finished.usage, model=finished.model
    )
    await state.ledger.answered(
        answer_ts=answer_ts,
        text=finished.text,
        code=finished.code or outcome.code,
        usage=finished.usage,
        cost=cost,
    )


async def report_stopped(state: TurnState) -> None:
    """Say in the thread who stopped the turn (ending its answer message) and record it."""
    text = messages.stopped(state.lang, state.control.stopped_by)
    if state.stream is not None:
        await state.stream.fail(text=text)
    else:
        await say(state, text)
    await state.ledger.stopped()


async def fail_turn(
    state: TurnState, *, message_text: str, code: FailureCode, retryable: bool = True
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
    await state.ledger.failed(code)


async def record_failure(state: TurnState, error: Exception) -> None:
    """Report an error raised inside a turn, as well as Slack and storage still allow.

    Never raises: a failure here is logged.
    """
    lang = state.lang
    text = error.text_for(lang) if isinstance(error, InsightbotError) else messages.unexpected(lang)
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
        await state.ledger.failed(failure_code_of(error), thread_answered=False)
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
