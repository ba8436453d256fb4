"""Step 4 of a turn: following one engine run, with its progress shown in Slack, its cursor
stored, and three watchdogs.

- Stop: the Stop button sets ``TurnControl.stop``; the run is cancelled on the engine. When
  the run has no id yet (its create is still on the way), we wait up to STOP_GRACE_S for it,
  so that no run is left going unseen.
- Deadline: a run queued or in progress longer than ``settings.run_timeout_s`` is cancelled
  (``outcome.timed_out``).
- Silence: when no event arrives for ``silence_limit_s`` the stream is reopened from the
  cursor (``Engine.resume``). That also reads the response's state: a run that ended while
  the stream hung gives its outcome at once, one still going continues where it was.

The cursor (last sequence number) and the answer message's ts are stored as the run goes, so
a restart can continue the same run into the same message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bot import messages
from bot.errors import EngineError
from bot.services import Services
from bot.slack.gateway import AnswerStream
from bot.turn.decisions import silence_limit_s
from bot.turn.ledger import TurnLedger
from bot.turn.session import store_conversation
from bot.turn.state import AnswerOutcome, TurnControl
from bot.types import (
    Artifact,
    ArtifactWithheld,
    CodeDone,
    CodeRunning,
    CodeStarted,
    ConversationReplaced,
    EngineEvent,
    Failed,
    Finished,
    RunStarted,
    Session,
    TextDelta,
)

log = logging.getLogger(__name__)

CURSOR_SAVE_INTERVAL_S = 0.5
STOP_GRACE_S = 15.0


async def follow_run(
    *,
    services: Services,
    ledger: TurnLedger,
    session: Session,
    stream: AnswerStream,
    events: AsyncIterator[EngineEvent],
    control: TurnControl,
    lang: str,
    out_dir: Path,
    response_id: str | None = None,
    sequence: int | None = None,
) -> AnswerOutcome:
    """Consume a run's events (and its continuations) until it ends, stops or times out.

    ``response_id``/``sequence`` describe a run resumed after a restart; ``out_dir`` is the
    turn's folder for produced files (a reopened stream saves them there too). Never cancels
    the caller; a cancellation of the caller stores the cursor and propagates.
    """
    follower = _Follower(
        services=services,
        ledger=ledger,
        session=session,
        stream=stream,
        control=control,
        lang=lang,
        out_dir=out_dir,
    )
    follower.outcome.response_id = response_id
    follower.outcome.sequence = sequence
    follower.saved_sequence = sequence
    return await follower.follow(events)


class _Follower:
    def __init__(
        self,
        *,
        services: Services,
        ledger: TurnLedger,
        session: Session,
        stream: AnswerStream,
        control: TurnControl,
        lang: str,
        out_dir: Path,
    ) -> None:
        self.services = services
        self.out_dir = out_dir
        self.ledger = ledger
        self.turn_id = ledger.turn_id
        self.thread_key = ledger.thread_key
        self.session = session
        self.stream = stream
        self.control = control
        self.lang = lang
        self.outcome = AnswerOutcome()
        self.saved_sequence: int | None = None
        self.saved_answer_ts = stream.ts
        self.last_saved = 0.0
        self.python_started = False
        timeout = services.settings.run_timeout_s
        self.silence_s = silence_limit_s(timeout)
        loop = asyncio.get_running_loop()
        self.deadline = loop.time() + timeout
        self.stop_deadline: float | None = None

    async def follow(self, events: AsyncIterator[EngineEvent]) -> AnswerOutcome:
        current: AsyncIterator[EngineEvent] | None = events
        try:
            while current is not None:
                current = await self._consume(current)
        finally:
            # Also on cancellation (shutdown): the next start resumes from here.
            await self._save(force=True)
        return self.outcome

    # ------------------------------------------------------------ the loop

    async def _consume(
        self, events: AsyncIterator[EngineEvent]
    ) -> AsyncIterator[EngineEvent] | None:
        """Read ``events`` until they end (None) or must be replaced (the replacement)."""
        loop = asyncio.get_running_loop()
        stop_wait = asyncio.ensure_future(self.control.stop.wait())
        pending: asyncio.Future[EngineEvent] | None = None
        try:
            while True:
                if pending is None:
                    pending = asyncio.ensure_future(anext(events))
                waiters: set[asyncio.Future[Any]] = {pending}
                if self.stop_deadline is None:
                    waiters.add(stop_wait)
                limit = min(self.deadline, self.stop_deadline or self.deadline) - loop.time()
                done, _ = await asyncio.wait(
                    waiters,
                    timeout=max(0.0, min(self.silence_s, limit)),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if pending in done:
                    try:
                        event = pending.result()
                    except StopAsyncIteration:
                        return None
                    pending = None
                    await self._handle(event)
                    if self._ended:
                        return None
                    if self.stop_deadline is not None and self.outcome.response_id:
                        await self._stop()
                        return None
                    continue
                if stop_wait in done and self.stop_deadline is None:
                    self.stop_deadline = loop.time() + STOP_GRACE_S
                    if self.outcome.response_id:
                        await self._stop()
                        return None
                    continue  # the run is being created: wait for its id, then cancel it
                now = loop.time()
                if now >= self.deadline:
                    await self._time_out()
                    return None
                if self.stop_deadline is not None and now >= self.stop_deadline:
                    await self._stop()
                    return None
                if self.outcome.response_id is None:
                    continue  # still creating the run: keep waiting for the same call
                return self._reopened()
        finally:
            stop_wait.cancel()
            if pending is not None and not pending.done():
                pending.cancel()
                await asyncio.wait({pending})
            await _close(events)

    @property
    def _ended(self) -> bool:
        return self.outcome.finished is not None or self.outcome.failed is not None

    def _reopened(self) -> AsyncIterator[EngineEvent]:
        assert self.outcome.response_id is not None
        log.warning(
            "no event from response %s for %.1fs; reopening its stream after %s",
            self.outcome.response_id,
            self.silence_s,
            self.outcome.sequence,
        )
        return self.services.engine.resume(
            session=self.session,
            response_id=self.outcome.response_id,
            after_sequence=self.outcome.sequence,
            out_dir=self.out_dir,
        )

    async def _stop(self) -> None:
        self.outcome.stopped_by = self.control.stopped_by or "someone"
        await self._cancel_run("stopped")

    async def _time_out(self) -> None:
        self.outcome.timed_out = True
        log.warning(
            "turn %s ran past %.0fs; cancelling it",
            self.turn_id,
            self.services.settings.run_timeout_s,
        )
        await self._cancel_run("timed out")

    async def _cancel_run(self, why: str) -> None:
        response_id = self.outcome.response_id
        if response_id is None:
            return
        try:
            await self.services.engine.cancel(response_id)
            log.info("response %s cancelled (%s)", response_id, why)
        except EngineError as error:
            log.warning("could not cancel response %s: %s", response_id, error.detail)

    # ------------------------------------------------------------ one event

    async def _handle(self, event: EngineEvent) -> None:
        outcome, stream = self.outcome, self.stream
        if event.sequence is not None:
            outcome.sequence = event.sequence
        match event:
            case RunStarted(response_id=response_id):
                outcome.response_id = response_id
                await self.ledger.run_started(response_id=response_id, sequence=event.sequence)
                self.saved_sequence = event.sequence
                await stream.task(
                    id="start", title=messages.task_title(self.lang, "start"), status="complete"
                )
            case ConversationReplaced(conversation_id=conversation_id):
                await store_conversation(self.services, self.thread_key, conversation_id)
            case CodeStarted() | CodeRunning() if not self.python_started:
                self.python_started = True
                await stream.task(
                    id="python",
                    title=messages.task_title(self.lang, "python"),
                    status="in_progress",
                )
            case CodeDone(code=code):
                outcome.code.append(code)
            case TextDelta(delta=delta):
                if self.python_started and not outcome.text_started:
                    await stream.task(
                        id="python",
                        title=messages.task_title(self.lang, "python"),
                        status="complete",
                    )
                outcome.text_started = True
                await stream.append_text(delta)
            case Artifact():
                outcome.artifacts.append(event)
            case ArtifactWithheld():
                outcome.withheld.append(event)
            case Finished():
                outcome.finished = event
            case Failed():
                outcome.failed = event
            case _:
                pass
        await self._save(force=False)

    async def _save(self, *, force: bool) -> None:
        """Record the cursor (at most every CURSOR_SAVE_INTERVAL_S) and a new answer ts."""
        moved = (
            self.stream.ts if self.stream.ts and self.stream.ts != self.saved_answer_ts else None
        )
        sequence = self.outcome.sequence
        due = force or time.monotonic() - self.last_saved >= CURSOR_SAVE_INTERVAL_S
        advanced = sequence if sequence is not None and sequence != self.saved_sequence else None
        if advanced is not None and not due:
            advanced = None
        if moved is None and advanced is None:
            return
        await self.ledger.cursor(sequence=advanced, answer_ts=moved)
        self.last_saved = time.monotonic()
        self.saved_answer_ts = self.stream.ts
        if advanced is not None:
            self.saved_sequence = advanced


async def _close(events: AsyncIterator[EngineEvent]) -> None:
    aclose = getattr(events, "aclose", None)
    if aclose is None:
        return
    try:
        await aclose()
    except Exception:  # the iterator may already be finished or broken
        log.debug("closing engine events failed", exc_info=True)
