"""Follow one response's event stream to its end, continuing it when it is cut.

A background response lives on the server whatever happens to our connection, so a cut
stream is reopened from the last ``sequence_number`` seen (a few tries with backoff); when
that fails, the response is read once and, if it has ended, what remains is emitted. The
text of a finished answer comes from the final snapshot, so nothing is lost or repeated.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import openai
from openai import AsyncStream
from openai.types.responses import ResponseStreamEvent

from bot.concurrency import RateSignals
from bot.config import Settings
from bot.engines.failures import failure_from_error, run_failure
from bot.engines.openai.artifacts import fetch_artifacts
from bot.engines.openai.errors import (
    engine_error_from,
    error_message_of,
    failed_response_event,
)
from bot.engines.openai.stream import (
    TERMINAL_STATUSES,
    StreamTranslator,
    answer_text,
    code_of,
    usage_of,
)
from bot.engines.output_budget import OutputBudget
from bot.engines.sandbox_links import rewrite_sandbox_links
from bot.errors import EngineError
from bot.types import Artifact, EngineEvent, Failed, FailureCode, Finished, Session, TextDelta

INCLUDE: list[Any] = ["code_interpreter_call.outputs"]
Stream = AsyncStream[ResponseStreamEvent]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Timing:
    """Retry and reconnect budgets (tests shrink the waits)."""

    create_attempts: int = 3  # tries of a refused create (429/5xx)
    backoff_s: float = 1.0  # first wait; doubles per try
    max_wait_s: float = 20.0  # longest wait we accept; a longer Retry-After fails the turn
    reconnect_attempts: int = 3  # tries to reopen a cut stream
    max_stream_cuts: int = 5  # cuts tolerated in one response


@dataclass(frozen=True)
class EngineContext:
    client: openai.AsyncOpenAI
    settings: Settings
    timing: Timing
    rate: RateSignals | None = None  # told of rate limits and accepted runs (bot/concurrency)


class NoResponse(Exception):
    """No response id was seen. ``sent`` is False only when the request never reached the
    server (the connection could not be opened), so nothing can have been created."""

    def __init__(self, *, sent: bool = True) -> None:
        super().__init__("no response id was seen")
        self.sent = sent


class _NotResumable(Exception):
    pass


def stream_lost(partial_text: str, sequence: int | None) -> Failed:
    return run_failure(
        FailureCode.STREAM_LOST, retryable=True, partial_text=partial_text, sequence=sequence
    )


def not_resumable(sequence: int | None) -> Failed:
    return run_failure(FailureCode.NOT_RESUMABLE, retryable=True, sequence=sequence)


# ------------------------------------------------------------------ following a stream


async def follow_response(
    ctx: EngineContext,
    *,
    stream: Stream,
    translator: StreamTranslator,
    container_id: str | None,
    resumable: bool,
    out_dir: Path,
) -> AsyncIterator[EngineEvent]:
    """Yield the events of ``stream`` and of its continuations until Finished or Failed.

    Files the code produced are saved in ``out_dir`` (see ``fetch_artifacts``).

    Raises NoResponse when the stream ended before a response id was seen, and SDK/Engine
    errors for failures outside the stream itself.
    """
    cuts = 0
    current: Stream | None = stream
    while current is not None:
        progressed = cut = False
        try:
            async for sdk_event in current:
                for event in translator.feed(sdk_event):
                    progressed = True
                    yield event
                if translator.done:
                    break
        except openai.APIConnectionError as err:
            cut = True
            log.warning("stream of %s cut: %s", translator.response_id, err)
        except openai.APIStatusError:
            raise
        except openai.APIError as err:  # an "error" event the SDK raised instead of yielding
            translator.failure = failed_response_event(
                code=err.code, message=error_message_of(err), partial_text=translator.streamed_text
            )
        finally:
            await current.close()
        current = None
        if translator.done:
            break
        if translator.response_id is None:
            raise NoResponse
        if not resumable:
            yield stream_lost(translator.streamed_text, translator.sequence)
            return
        cuts += 1
        if cuts <= ctx.timing.max_stream_cuts and (progressed or cut):
            try:
                current = await _reconnect(ctx, translator)
            except _NotResumable:
                yield not_resumable(translator.sequence)
                return
        if current is None and not await _settle_from_snapshot(ctx, translator):
            yield stream_lost(translator.streamed_text, translator.sequence)
            return
    async for event in _finish(
        ctx, translator=translator, container_id=container_id, out_dir=out_dir
    ):
        yield event


async def _reconnect(ctx: EngineContext, translator: StreamTranslator) -> Stream | None:
    """Reopen the response's stream after the last sequence seen; None when it stays shut."""
    assert translator.response_id is not None
    for attempt in range(ctx.timing.reconnect_attempts):
        await asyncio.sleep(ctx.timing.backoff_s * (2**attempt) / 2)
        try:
            return await open_stream(ctx, translator.response_id, after=translator.sequence)
        except (openai.NotFoundError, openai.BadRequestError) as err:
            raise _NotResumable from err
        except (openai.APIConnectionError, openai.InternalServerError) as err:
            log.warning("reconnecting to %s failed: %s", translator.response_id, err)
    return None


async def open_stream(ctx: EngineContext, response_id: str, *, after: int | None) -> Stream:
    """``GET /responses/{id}?stream=true&starting_after=N``. Raises SDK errors."""
    if after is None:
        return await ctx.client.responses.retrieve(response_id, stream=True, include=INCLUDE)
    return await ctx.client.responses.retrieve(
        response_id, stream=True, starting_after=after, include=INCLUDE
    )


async def _settle_from_snapshot(ctx: EngineContext, translator: StreamTranslator) -> bool:
    """Read the response once; when it has ended, record its outcome. True if it had."""
    assert translator.response_id is not None
    try:
        snapshot = await ctx.client.responses.retrieve(translator.response_id, include=INCLUDE)
    except openai.OpenAIError as err:
        log.warning("could not read response %s: %s", translator.response_id, err)
        return False
    if snapshot.status not in TERMINAL_STATUSES:
        return False
    translator.settle(snapshot, sequence=None)
    return True


async def _finish(
    ctx: EngineContext, *, translator: StreamTranslator, container_id: str | None, out_dir: Path
) -> AsyncIterator[EngineEvent]:
    if translator.failure is not None:
        yield translator.failure
        return
    final = translator.final
    assert final is not None
    cursor = translator.resume_point
    streamed = translator.streamed_text
    raw = answer_text(final) or streamed
    if translator.saw_all_text and raw.startswith(streamed) and len(raw) > len(streamed):
        yield TextDelta(raw[len(streamed) :], cursor)  # what the cut stream did not show
    budget = OutputBudget(
        file_limit=ctx.settings.max_output_file_bytes,
        turn_limit=ctx.settings.max_output_turn_bytes,
    )
    artifacts = await fetch_artifacts(
        ctx.client,
        response=final,
        streamed_citations=translator.citations,
        container_id=container_id,
        out_dir=out_dir,
        budget=budget,
    )
    for artifact in artifacts:
        yield replace(artifact, sequence=cursor)
    delivered = {a.name: a.name for a in artifacts if isinstance(a, Artifact)}
    text = rewrite_sandbox_links(raw, delivered)
    yield Finished(text, usage_of(final), code_of(final), translator.sequence, model=final.model)


async def resume_events(
    ctx: EngineContext,
    *,
    session: Session,
    response_id: str,
    after_sequence: int | None,
    out_dir: Path,
) -> AsyncIterator[EngineEvent]:
    """Events of an earlier response after ``after_sequence``; errors end as Failed."""
    midway = after_sequence is not None
    translator = StreamTranslator(
        response_id=response_id, sequence=after_sequence, started=midway, saw_all_text=not midway
    )
    try:
        try:
            stream = await open_stream(ctx, response_id, after=after_sequence)
        except (openai.NotFoundError, openai.BadRequestError):
            yield not_resumable(after_sequence)
            return
        translator.request_id = stream.response.headers.get("x-request-id")
        async for event in follow_response(
            ctx,
            stream=stream,
            translator=translator,
            container_id=session.container_id,
            resumable=True,
            out_dir=out_dir,
        ):
            yield event
    except EngineError as err:
        yield failure_from_error(
            err, partial_text=translator.streamed_text, sequence=translator.sequence
        )
    except openai.OpenAIError as err:
        yield failure_from_error(
            engine_error_from(err),
            partial_text=translator.streamed_text,
            sequence=translator.sequence,
        )
