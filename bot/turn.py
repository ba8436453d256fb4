"""One turn: a user's question in a Slack thread, answered by the engine, posted back there.

    1. thread → conversation (storage)          4. stream engine events → Slack progress
    2. collect files (bot/turn_files.py)         5. answer → Slack (rendered, split under limits)
    3. download from Slack → upload to engine    6. charts/files → one upload message in the thread
                                                 7. record the turn (storage)

Whatever happens, the status indicator and the Stop control are cleared at the end, and the
user sees either the answer or a message saying what went wrong and what to do.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace

from bot import messages
from bot.answer import (
    AnswerOutcome,
    post_artifacts,
    post_failure,
    post_final_answer,
)
from bot.errors import InsightbotError
from bot.files import supported_types_text
from bot.services import Services
from bot.slack.gateway import AnswerStream
from bot.slack.progress import StatusKeeper
from bot.turn_files import collect_turn_files, upload_turn_files
from bot.types import (
    Artifact,
    CodeDone,
    CodeOutput,
    CodeRunning,
    CodeStarted,
    ConversationReplaced,
    EngineEvent,
    Failed,
    Finished,
    IncomingMessage,
    PastTurn,
    RunStarted,
    Session,
    TextDelta,
    UploadedFile,
)
from storage.records import CANCELLED, DONE, FAILED, RUNNING, ThreadRecord, TurnRecord

log = logging.getLogger(__name__)

CURSOR_SAVE_INTERVAL_S = 0.5


@dataclass
class TurnControl:
    """Shared between a running turn and the Stop button."""

    stop: asyncio.Event = field(default_factory=asyncio.Event)
    stopped_by: str | None = None


async def run_turn(
    *, services: Services, turn: TurnRecord, message: IncomingMessage, control: TurnControl
) -> None:
    """Answer ``message`` in its thread; never raises (failures are told in the thread)."""
    lang = messages.language_of(message.text)
    thread = message.thread
    keeper = StatusKeeper(
        gateway=services.slack,
        channel=thread.channel,
        thread_ts=thread.thread_ts,
        status=messages.status_text(lang),
        loading_messages=messages.loading_messages(lang),
        refresh_s=services.settings.status_refresh_s,
    )
    try:
        async with keeper:
            await _answer(services=services, turn=turn, message=message, control=control, lang=lang)
    except InsightbotError as error:
        log.warning("turn failed: %s", error.detail or error.user_message)
        await _record_failure(services=services, turn=turn, message=message, lang=lang, error=error)
    except Exception as error:
        log.exception("turn crashed")
        await _record_failure(services=services, turn=turn, message=message, lang=lang, error=error)
    finally:
        await services.slack.remove_reaction(channel=thread.channel, ts=message.ts, name="eyes")


async def _answer(
    *,
    services: Services,
    turn: TurnRecord,
    message: IncomingMessage,
    control: TurnControl,
    lang: str,
) -> None:
    store = services.store
    thread = message.thread
    await store.update_turn(turn.id, status=RUNNING)
    collected = await collect_turn_files(
        services=services, message=message, named=message.named_files, lang=lang
    )
    if not collected.records:
        await services.slack.post_message(
            channel=thread.channel,
            thread_ts=thread.thread_ts,
            text=messages.no_files(lang, _supported()),
        )
        await store.update_turn(turn.id, status=FAILED, error="no_files", finished_at=time.time())
        return
    uploaded, problems = await upload_turn_files(services=services, records=collected.records)
    notices = list(collected.notices)
    if problems:
        notices.append(messages.file_problems(lang, problems))
    if not uploaded:
        await services.slack.post_message(
            channel=thread.channel, thread_ts=thread.thread_ts, text="\n\n".join(notices)
        )
        await store.update_turn(
            turn.id, status=FAILED, error="no_usable_files", finished_at=time.time()
        )
        return
    session = await _prepared_session(services=services, message=message, files=uploaded)
    if session.left_out:
        notices.append(
            messages.left_out_files(lang, session.left_out, services.settings.max_files_per_thread)
        )
    if notices:
        await services.slack.post_message(
            channel=thread.channel, thread_ts=thread.thread_ts, text="\n\n".join(notices)
        )
    question = message.text.strip() or messages.empty_question(lang)
    history = await _history(services=services, thread_key=thread.as_str(), before=turn.id)
    stream = await services.slack.start_answer(
        channel=thread.channel,
        thread_ts=thread.thread_ts,
        recipient_user_id=message.user,
        recipient_team_id=thread.team,
        is_dm=message.is_dm,
    )
    await stream.task(id="files", title=messages.task_title("files", lang), status="complete")
    if stream.ts:
        await store.update_turn(turn.id, answer_ts=stream.ts)
    events = services.engine.run(
        session=session, question=question, files=uploaded, history=history, turn_id=turn.id
    )
    outcome = await _follow_events(
        services=services, turn=turn, stream=stream, events=events, control=control, lang=lang
    )
    await _finish(services=services, turn=turn, message=message, stream=stream, outcome=outcome)


async def _prepared_session(
    *, services: Services, message: IncomingMessage, files: Sequence[UploadedFile]
) -> Session:
    store = services.store
    key = message.thread.as_str()
    record = await store.get_thread(key)
    session = None
    if record is not None and record.conversation_id:
        session = Session(
            conversation_id=record.conversation_id,
            container_id=record.container_id,
            memory_limit=record.memory_limit,
            file_paths=dict(record.file_paths),
        )
    session = await services.engine.prepare_session(session=session, files=files, label=key)
    now = time.time()
    base = record or ThreadRecord(
        key=key,
        team=message.thread.team,
        channel=message.thread.channel,
        thread_ts=message.thread.thread_ts,
        created_at=now,
    )
    await store.save_thread(
        ThreadRecord(
            key=key,
            team=base.team,
            channel=base.channel,
            thread_ts=base.thread_ts,
            conversation_id=session.conversation_id,
            container_id=session.container_id,
            memory_limit=session.memory_limit,
            file_paths=dict(session.file_paths),
            bot_answered=base.bot_answered,
            created_at=base.created_at,
            updated_at=now,
        )
    )
    return session


async def _history(*, services: Services, thread_key: str, before: str) -> list[PastTurn]:
    past = []
    for earlier in await services.store.thread_turns(thread_key):
        if earlier.id == before:
            break
        if earlier.status == DONE and earlier.answer_text:
            past.append(PastTurn(question=earlier.question, answer=earlier.answer_text))
    return past


async def _follow_events(
    *,
    services: Services,
    turn: TurnRecord,
    stream: AnswerStream,
    events: AsyncIterator[EngineEvent],
    control: TurnControl,
    lang: str,
) -> AnswerOutcome:
    """Consume engine events: progress to Slack, cursor to storage; stop when asked."""
    store = services.store
    outcome = AnswerOutcome()
    last_saved = 0.0
    python_started = False
    async for event in _until_stopped(events, control.stop):
        if event.sequence is not None:
            outcome.sequence = event.sequence
            if time.monotonic() - last_saved > CURSOR_SAVE_INTERVAL_S:
                last_saved = time.monotonic()
                await store.update_turn(turn.id, last_sequence=event.sequence)
        match event:
            case RunStarted(response_id=response_id):
                outcome.response_id = response_id
                await store.update_turn(turn.id, response_id=response_id)
            case ConversationReplaced(conversation_id=conversation_id):
                await _store_conversation(services, turn.thread_key, conversation_id)
            case CodeStarted() | CodeRunning() if not python_started:
                python_started = True
                await stream.task(
                    id="python", title=messages.task_title("python", lang), status="in_progress"
                )
            case CodeDone(code=code):
                outcome.code.append(code)
            case CodeOutput():
                pass
            case TextDelta(delta=delta):
                if python_started and not outcome.text_started:
                    await stream.task(
                        id="python", title=messages.task_title("python", lang), status="complete"
                    )
                outcome.text_started = True
                await stream.append_text(delta)
            case Artifact():
                outcome.artifacts.append(event)
            case Finished():
                outcome.finished = event
            case Failed():
                outcome.failed = event
    if control.stop.is_set() and outcome.finished is None:
        outcome.stopped_by = control.stopped_by or "someone"
        if outcome.response_id:
            await services.engine.cancel(outcome.response_id)
    return outcome


async def _until_stopped(
    iterator: AsyncIterator[EngineEvent], stop: asyncio.Event
) -> AsyncIterator[EngineEvent]:
    """Yield events until the stream ends or ``stop`` is set (whichever comes first)."""
    stop_wait = asyncio.ensure_future(stop.wait())
    try:
        while True:
            next_event = asyncio.ensure_future(anext(iterator))
            done, _ = await asyncio.wait(
                {next_event, stop_wait}, return_when=asyncio.FIRST_COMPLETED
            )
            if next_event not in done:
                next_event.cancel()
                break
            try:
                yield next_event.result()
            except StopAsyncIteration:
                break
    finally:
        stop_wait.cancel()
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            try:
                await aclose()
            except Exception:  # the iterator may already be finished or broken
                log.debug("closing engine events failed", exc_info=True)


async def _store_conversation(services: Services, thread_key: str, conversation_id: str) -> None:
    record = await services.store.get_thread(thread_key)
    if record is not None:
        await services.store.save_thread(
            replace(record, conversation_id=conversation_id, updated_at=time.time())
        )


async def _finish(
    *,
    services: Services,
    turn: TurnRecord,
    message: IncomingMessage,
    stream: AnswerStream,
    outcome: AnswerOutcome,
) -> None:
    store = services.store
    lang = messages.language_of(message.text)
    thread = message.thread
    if outcome.finished is not None:
        answer_ts = await post_final_answer(
            services=services, turn=turn, stream=stream, outcome=outcome, lang=lang
        )
        await post_artifacts(services=services, turn=turn, thread=thread, outcome=outcome)
        await store.update_turn(
            turn.id,
            status=DONE,
            answer_ts=answer_ts,
            answer_text=outcome.finished.text,
            code=tuple(outcome.code or outcome.finished.code),
            input_tokens=outcome.finished.usage.input_tokens,
            output_tokens=outcome.finished.usage.output_tokens,
            finished_at=time.time(),
        )
        await store.mark_thread_answered(thread.as_str())
        return
    if outcome.stopped_by is not None:
        await stream.fail(text=messages.stopped(lang, outcome.stopped_by))
        await store.update_turn(turn.id, status=CANCELLED, error="stopped", finished_at=time.time())
        await store.mark_thread_answered(thread.as_str())
        return
    failed = outcome.failed or Failed(message=messages.unexpected(lang), code="no_outcome")
    await post_failure(
        services=services,
        turn=turn,
        stream=stream,
        message_text=failed.message,
        retryable=failed.retryable,
        lang=lang,
    )
    await store.update_turn(
        turn.id, status=FAILED, error=failed.code or "failed", finished_at=time.time()
    )
    await store.mark_thread_answered(thread.as_str())


async def _record_failure(
    *,
    services: Services,
    turn: TurnRecord,
    message: IncomingMessage,
    lang: str,
    error: Exception,
) -> None:
    text = error.user_message if isinstance(error, InsightbotError) else messages.unexpected(lang)
    retryable = bool(getattr(error, "retryable", True))
    try:
        await post_failure(
            services=services,
            turn=turn,
            stream=None,
            message_text=text,
            retryable=retryable,
            lang=lang,
            thread=message.thread,
        )
    except Exception:
        log.exception("could not post the failure message")
    await services.store.update_turn(
        turn.id, status=FAILED, error=type(error).__name__, finished_at=time.time()
    )


def _supported() -> str:
    return supported_types_text()


async def resume_turn(*, services: Services, turn: TurnRecord, message: IncomingMessage) -> None:
    """Follow a response a previous process started, and post its answer exactly once.

    The answer goes into the answer message created before the crash when there is one (so a
    restart never adds a second answer), otherwise into a new one.
    """
    lang = messages.language_of(message.text)
    thread = message.thread
    control = TurnControl()
    try:
        record = await services.store.get_thread(thread.as_str())
        if record is None or not record.conversation_id or not turn.response_id:
            raise InsightbotError(messages.interrupted(lang))
        session = Session(
            conversation_id=record.conversation_id,
            container_id=record.container_id,
            memory_limit=record.memory_limit,
            file_paths=dict(record.file_paths),
        )
        if turn.answer_ts:
            stream = await services.slack.resume_answer(
                channel=thread.channel, thread_ts=thread.thread_ts, ts=turn.answer_ts
            )
        else:
            stream = await services.slack.start_answer(
                channel=thread.channel,
                thread_ts=thread.thread_ts,
                recipient_user_id=message.user,
                recipient_team_id=thread.team,
                is_dm=message.is_dm,
            )
        events = services.engine.resume(
            session=session, response_id=turn.response_id, after_sequence=turn.last_sequence
        )
        outcome = await _follow_events(
            services=services, turn=turn, stream=stream, events=events, control=control, lang=lang
        )
        if outcome.failed is not None and outcome.failed.code == "not_resumable":
            outcome.failed = Failed(message=messages.interrupted(lang), retryable=True)
        await _finish(services=services, turn=turn, message=message, stream=stream, outcome=outcome)
    except InsightbotError as error:
        await _record_failure(services=services, turn=turn, message=message, lang=lang, error=error)
    except Exception as error:
        log.exception("resuming turn %s crashed", turn.id)
        await _record_failure(services=services, turn=turn, message=message, lang=lang, error=error)
