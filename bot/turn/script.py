"""The script of one turn: a user's question in a Slack thread, answered by the engine, posted
back there. The steps, in order, each in its own module of this package:

    1. collect files (files.py)                     5. follow the engine run (follow.py)
    2. download from Slack → upload to the engine   6. answer → Slack (answer.py, end.py)
    3. thread → conversation and sandbox (session.py) 7. charts/files → the thread, per batch
    4. open the answer message, mark the run requested (ledger.py records every step)

The order of writes makes a restart safe: the "working" message (Stop button) and the answer
message are created and their ts recorded before the engine run starts; the run's id and
cursor are recorded as it goes; the answer then only updates that message (see answer.py). A
turn whose run may have been created but whose id was never recorded is not run again: the
user gets an apology with a Retry button instead (``TurnLedger.run_requested``).

Whatever happens, the status line, the working message and the 👀 reaction are cleared at the
end and the user sees the answer or what went wrong. A turn cancelled by shutdown leaves them
in place: it resumes on the next start.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

from bot import messages
from bot.engines.objects import Owner
from bot.errors import EngineAuthError, EngineQuotaExhausted, InsightbotError
from bot.services import Services
from bot.slack.gateway import AnswerStream
from bot.slack.progress import StatusKeeper
from bot.turn.answer import end_working_message, post_working_message
from bot.turn.decisions import files_for_turn, resume_cursor
from bot.turn.end import fail_turn, finish_turn, record_failure, report_stopped, say
from bot.turn.files import collect_turn_files, upload_turn_files
from bot.turn.follow import follow_run
from bot.turn.ledger import TurnLedger
from bot.turn.session import prepared_session, session_of, thread_history
from bot.turn.state import TurnControl, TurnState
from bot.types import EngineEvent, FailureCode, IncomingMessage, Session
from storage.records import TurnRecord

__all__ = ["resume_turn", "run_turn"]

log = logging.getLogger(__name__)


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
        ledger=TurnLedger.of(services.store, turn),
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
    ledger = state.ledger
    thread = message.thread
    await ledger.running()
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
        await say(state, messages.no_files(lang))
        await ledger.failed(FailureCode.NO_FILES)
        return
    limit = services.settings.max_files_per_thread
    # Chosen before any download: files beyond the limit are never fetched.
    chosen, left_out = files_for_turn(collected.records, message=message, limit=limit)
    owner = Owner(thread_key=thread.as_str(), turn_id=turn.id)
    uploaded, problems = await upload_turn_files(
        services=services, records=chosen, lang=lang, owner=owner
    )
    notices = list(collected.notices)
    if problems:
        notices.append(messages.file_problems(lang, problems))
    if not uploaded:
        await say(state, "\n\n".join(notices))
        await ledger.failed(FailureCode.NO_USABLE_FILES)
        return
    if state.control.stop.is_set():
        await report_stopped(state)
        return
    session = await prepared_session(
        services=services, message=message, files=uploaded, owner=owner
    )
    # The engine's own cut stays as a backstop; the model hears of every file left out.
    left_out += [name for name in session.left_out if name not in left_out]
    session = replace(session, left_out=tuple(left_out))
    if left_out:
        notices.append(messages.left_out_files(lang, left_out, limit))
    cleared = await services.store.take_purge_notice(thread.as_str())
    if cleared is not None:  # once, on the first question after a purge
        days = services.settings.retention_days
        notices.insert(0, messages.analysis_cleared(lang, reason=cleared.reason, days=days))
    if notices:
        await say(state, "\n\n".join(notices))
    question = message.text.strip() or messages.empty_question(lang)
    history = await thread_history(store=services.store, thread_key=thread.as_str(), before=turn.id)
    options = await services.governance.run_options(message)  # the channel's model, if any
    stream = await _open_answer(state)
    await ledger.run_requested(answer_ts=stream.ts)
    await _follow_and_finish(
        state,
        session=session,
        stream=stream,
        start=lambda out_dir: services.engine.run(
            session=session,
            question=question,
            files=uploaded,
            history=history,
            turn_id=turn.id,
            out_dir=out_dir,
            options=options,
            owner=owner,
        ),
    )


async def _follow_and_finish(
    state: TurnState,
    *,
    session: Session,
    stream: AnswerStream,
    start: Callable[[Path], AsyncIterator[EngineEvent]],
    response_id: str | None = None,
    sequence: int | None = None,
) -> None:
    """Follow the run that ``start`` opens (given the folder for the files it produces) and
    end the turn; ``response_id``/``sequence``: a run resumed after a restart."""
    async with _scratch_dir(state.services.workdir) as out_dir:
        outcome = await follow_run(
            services=state.services,
            ledger=state.ledger,
            session=session,
            stream=stream,
            events=start(out_dir),
            control=state.control,
            lang=state.lang,
            out_dir=out_dir,
            response_id=response_id,
            sequence=sequence,
        )
        await finish_turn(state, outcome, resumed=response_id is not None)


@asynccontextmanager
async def _scratch_dir(workdir: Path) -> AsyncIterator[Path]:
    """A folder for the files the run produces; it goes away, files and all, when the turn
    has posted them or failed."""
    path = Path(await asyncio.to_thread(tempfile.mkdtemp, dir=workdir, prefix="turn-"))
    try:
        yield path
    except BaseException:
        # Synchronous on purpose: on cancellation another await could be interrupted.
        shutil.rmtree(path, ignore_errors=True)
        raise
    await asyncio.to_thread(shutil.rmtree, path, ignore_errors=True)


async def _show_working(state: TurnState) -> None:
    """Post the working message with the Stop button (once per turn) and store its ts."""
    if state.status_ts:
        return
    thread = state.message.thread
    state.status_ts = await post_working_message(
        services=state.services, turn_id=state.turn.id, thread=thread, lang=state.lang
    )
    if state.status_ts:
        await state.ledger.working_message_posted(state.status_ts)


async def _open_answer(state: TurnState) -> AnswerStream:
    """Create the answer message now (before the run); the caller records its ts."""
    services, lang, thread = state.services, state.lang, state.message.thread
    stream = await services.slack.start_answer(
        channel=thread.channel,
        thread_ts=thread.thread_ts,
        recipient_user_id=state.message.user,
        recipient_team_id=thread.team,
        is_dm=state.message.is_dm,
    )
    state.stream = stream
    await stream.task(id="files", title=messages.task_title(lang, "files"), status="complete")
    await stream.task(id="start", title=messages.task_title(lang, "start"), status="in_progress")
    return stream


# ---------------------------------------------------------------- a resumed turn


async def _resume(state: TurnState) -> None:
    services, turn, lang, ledger = state.services, state.turn, state.lang, state.ledger
    thread = state.message.thread
    if turn.answer_ts:
        state.stream = await services.slack.resume_answer(
            channel=thread.channel, thread_ts=thread.thread_ts, ts=turn.answer_ts
        )
    if not turn.response_id:
        log.warning("turn %s may have started a run whose id was never stored", turn.id)
        await fail_turn(
            state,
            message_text=messages.outcome_unknown_after_restart(lang),
            code=FailureCode.OUTCOME_UNKNOWN,
        )
        return
    session = session_of(await services.store.get_thread(thread.as_str()))
    if session is None:
        await fail_turn(
            state, message_text=messages.interrupted(lang), code=FailureCode.NOT_RESUMABLE
        )
        return
    await _show_working(state)
    stream = state.stream
    if stream is None:
        stream = await _open_answer(state)
        if stream.ts:
            await ledger.answer_message_posted(stream.ts)
    cursor = resume_cursor(turn)
    log.info("resuming turn %s: response %s after %s", turn.id, turn.response_id, cursor)
    response_id = turn.response_id
    await _follow_and_finish(
        state,
        session=session,
        stream=stream,
        start=lambda out_dir: services.engine.resume(
            session=session, response_id=response_id, after_sequence=cursor, out_dir=out_dir
        ),
        response_id=response_id,
        sequence=cursor,
    )
