"""One turn: a user's question in a Slack thread, answered by the engine, posted back there.

    1. thread → conversation (bot/turn_session.py)   4. follow the engine run (bot/turn_events.py)
    2. collect files (bot/turn_files.py)             5. answer → Slack (bot/answer.py)
    3. download from Slack → upload to engine        6. charts/files → the thread, per batch
                                                     7. record the turn (storage)

The order of writes makes a restart safe: the "working" message (Stop button) and the answer
message are created and their ts stored before the engine run starts; the run's id and cursor
are stored as it goes; the answer then only updates that message (see bot/answer.py). A turn
whose run may have been created but whose id was never stored is not run again: the user gets
an apology with a Retry button instead (``RUN_REQUESTED``).

Whatever happens, the status line, the working message and the 👀 reaction are cleared at the
end and the user sees the answer or what went wrong. A turn cancelled by shutdown leaves them
in place: it resumes on the next start.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from bot import messages
from bot.answer import end_working_message, post_working_message
from bot.errors import EngineAuthError, EngineQuotaExhausted, InsightbotError
from bot.files import supported_types_text
from bot.services import Services
from bot.slack.gateway import AnswerStream
from bot.slack.progress import StatusKeeper
from bot.turn_end import TurnState, fail_turn, finish_turn, record_failure, report_stopped, say
from bot.turn_events import TurnControl, follow_run
from bot.turn_files import collect_turn_files, upload_turn_files
from bot.turn_session import prepared_session, session_of, thread_history
from bot.types import Failed, IncomingMessage
from storage.records import FAILED, RUNNING, TurnRecord

__all__ = ["RUN_REQUESTED", "TurnControl", "resume_turn", "run_turn"]

log = logging.getLogger(__name__)

# Stored as ``last_sequence`` just before the engine is asked to create the run: from then on
# a run may exist even while no response id is stored.
RUN_REQUESTED = -1


async def run_turn(
    *, services: Services, turn: TurnRecord, message: IncomingMessage, control: TurnControl
) -> None:
    """Answer ``message`` in its thread; never raises (failures are told in the thread)."""
    await _guarded(services=services, turn=turn, message=message, control=control, work=_answer)


async def resume_turn(
    *, services: Services, turn: TurnRecord, message: IncomingMessage, control: TurnControl
) -> None:
    """Follow the run a previous process started and post its answer exactly once.

    The answer goes into the answer message created before the restart when there is one.
    A run the engine no longer has, or one whose id was never stored, ends with an apology
    and a Retry button. Never raises.
    """
    await _guarded(services=services, turn=turn, message=message, control=control, work=_resume)


async def _guarded(
    *,
    services: Services,
    turn: TurnRecord,
    message: IncomingMessage,
    control: TurnControl,
    work: Callable[[TurnState], Awaitable[None]],
) -> None:
    state = TurnState(
        services=services,
        turn=turn,
        message=message,
        control=control,
        lang=messages.language_of(message.text),
        status_ts=turn.status_ts,
    )
    thread = message.thread
    keeper = StatusKeeper(
        gateway=services.slack,
        channel=thread.channel,
        thread_ts=thread.thread_ts,
        status=messages.status_text(state.lang),
        loading_messages=messages.loading_messages(state.lang),
        refresh_s=services.settings.status_refresh_s,
    )
    try:
        async with keeper:
            await work(state)
    except asyncio.CancelledError:
        log.info("turn %s interrupted by shutdown; it resumes on the next start", turn.id)
        raise
    except (EngineQuotaExhausted, EngineAuthError) as error:
        log.error("the engine refused to work: %s; the operator must act", error.detail)
        await record_failure(state, error)
    except InsightbotError as error:
        log.warning("turn failed: %s", error.detail or error.user_message)
        await record_failure(state, error)
    except Exception as error:
        log.exception("turn crashed")
        await record_failure(state, error)
    # Independent Slack calls: clear the indicators together.
    endings = [services.slack.remove_reaction(channel=thread.channel, ts=message.ts, name="eyes")]
    if state.status_ts:
        endings.append(end_working_message(services=services, thread=thread, ts=state.status_ts))
    await asyncio.gather(*endings)


# ---------------------------------------------------------------- a new turn


async def _answer(state: TurnState) -> None:
    services, turn, message, lang = state.services, state.turn, state.message, state.lang
    store = services.store
    thread = message.thread
    await store.update_turn(turn.id, status=RUNNING)
    # The Stop control goes up while the files are gathered (neither waits for the other).
    # Both always finish before going on, so a failure never leaves a Stop button behind.
    shown, collected = await asyncio.gather(
        _show_working(state),
        collect_turn_files(
            services=services, message=message, named=message.named_files, lang=lang
        ),
        return_exceptions=True,
    )
    for result in (shown, collected):
        if isinstance(result, BaseException):
            raise result
    assert not isinstance(collected, BaseException)
    if state.control.stop.is_set():
        await report_stopped(state)
        return
    if not collected.records:
        await say(state, messages.no_files(lang, supported_types_text()))
        await store.update_turn(turn.id, status=FAILED, error="no_files", finished_at=time.time())
        return
    uploaded, problems = await upload_turn_files(
        services=services, records=collected.records, lang=lang
    )
    notices = list(collected.notices)
    if problems:
        notices.append(messages.file_problems(lang, problems))
    if not uploaded:
        await say(state, "\n\n".join(notices))
        await store.update_turn(
            turn.id, status=FAILED, error="no_usable_files", finished_at=time.time()
        )
        return
    if state.control.stop.is_set():
        await report_stopped(state)
        return
    session = await prepared_session(services=services, message=message, files=uploaded)
    if session.left_out:
        limit = services.settings.max_files_per_thread
        notices.append(messages.left_out_files(lang, session.left_out, limit))
    if notices:
        await say(state, "\n\n".join(notices))
    question = message.text.strip() or messages.empty_question(lang)
    history = await thread_history(services=services, thread_key=thread.as_str(), before=turn.id)
    stream = await _open_answer(state)
    # One write: a stored answer message always comes with the mark that a run may exist.
    await store.update_turn(turn.id, answer_ts=stream.ts, last_sequence=RUN_REQUESTED)
    events = services.engine.run(
        session=session, question=question, files=uploaded, history=history, turn_id=turn.id
    )
    outcome = await follow_run(
        services=services,
        turn_id=turn.id,
        thread_key=thread.as_str(),
        session=session,
        stream=stream,
        events=events,
        control=state.control,
        lang=lang,
    )
    await finish_turn(state, outcome)


async def _show_working(state: TurnState) -> None:
    """Post the working message with the Stop button (once per turn) and store its ts."""
    if state.status_ts:
        return
    thread = state.message.thread
    state.status_ts = await post_working_message(
        services=state.services, turn_id=state.turn.id, thread=thread, lang=state.lang
    )
    if state.status_ts:
        await state.services.store.update_turn(state.turn.id, status_ts=state.status_ts)


async def _open_answer(state: TurnState) -> AnswerStream:
    """Create the answer message now (before the run); the caller stores its ts."""
    services, lang, thread = state.services, state.lang, state.message.thread
    stream = await services.slack.start_answer(
        channel=thread.channel,
        thread_ts=thread.thread_ts,
        recipient_user_id=state.message.user,
        recipient_team_id=thread.team,
        is_dm=state.message.is_dm,
    )
    state.stream = stream
    await stream.task(id="files", title=messages.task_title("files", lang), status="complete")
    await stream.task(id="start", title=messages.task_title("start", lang), status="in_progress")
    return stream


# ---------------------------------------------------------------- a resumed turn


async def _resume(state: TurnState) -> None:
    services, turn, lang = state.services, state.turn, state.lang
    thread = state.message.thread
    if turn.answer_ts:
        state.stream = await services.slack.resume_answer(
            channel=thread.channel, thread_ts=thread.thread_ts, ts=turn.answer_ts
        )
    if not turn.response_id:
        log.warning("turn %s may have started a run whose id was never stored", turn.id)
        await fail_turn(
            state, message_text=messages.outcome_unknown_after_restart(lang), code="outcome_unknown"
        )
        return
    session = session_of(await services.store.get_thread(thread.as_str()))
    if session is None:
        await fail_turn(state, message_text=messages.interrupted(lang), code="not_resumable")
        return
    await _show_working(state)
    stream = state.stream
    if stream is None:
        stream = await _open_answer(state)
        if stream.ts:
            await services.store.update_turn(turn.id, answer_ts=stream.ts)
    cursor = (
        turn.last_sequence if turn.last_sequence is not None and turn.last_sequence >= 0 else None
    )
    log.info("resuming turn %s: response %s after %s", turn.id, turn.response_id, cursor)
    events = services.engine.resume(
        session=session, response_id=turn.response_id, after_sequence=cursor
    )
    outcome = await follow_run(
        services=services,
        turn_id=turn.id,
        thread_key=thread.as_str(),
        session=session,
        stream=stream,
        events=events,
        control=state.control,
        lang=lang,
        response_id=turn.response_id,
        sequence=cursor,
    )
    if outcome.failed is not None and outcome.failed.code == "not_resumable":
        outcome.failed = Failed(
            message=messages.interrupted(lang), code="not_resumable", retryable=True
        )
    await finish_turn(state, outcome)
