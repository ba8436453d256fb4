"""The ledger: the only writer of a turn's progress.

Every change to a stored turn goes through one named transition here, so this module is the
whole state machine (``git grep -n "async def" bot/turn/ledger.py`` lists it):

    received ─► queued ─► running ─► working message posted ─► run requested ─► run started
        │                    │            ─► cursor … ─► answer part posted … ─► answered
        └─► refused          └─► failed (a FailureCode) │ stopped

``received`` and ``refused`` are how a turn is first stored (``received_turn``,
``refused_turn``; intake stores them with the message in one transaction); a retry is a new
attempt of the same message (``retry_attempt``). A finished turn (answered, failed, stopped,
refused) is never written again except to note that its code was shown (``code_posted``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

from bot.types import FailureCode, IncomingMessage, TurnCost, Usage
from storage import Store
from storage.records import (
    CANCELLED,
    DONE,
    FAILED,
    QUEUED,
    RECEIVED,
    REFUSED,
    RUNNING,
    TurnRecord,
)

__all__ = ["TurnLedger", "received_turn", "refused_turn", "retry_attempt"]


class TurnLedger:
    """Named transitions of one stored turn. Methods raise StorageError (and KeyError when
    the turn does not exist)."""

    def __init__(self, *, store: Store, turn_id: str, thread_key: str) -> None:
        self._store = store
        self.turn_id = turn_id
        self.thread_key = thread_key

    @classmethod
    def of(cls, store: Store, turn: TurnRecord) -> TurnLedger:
        return cls(store=store, turn_id=turn.id, thread_key=turn.thread_key)

    @classmethod
    async def create(cls, store: Store, turn: TurnRecord) -> TurnLedger:
        """Store a new turn on its own (a retry attempt, a terminal question) and return its
        ledger. (Intake stores questions from Slack with their message in one transaction.)"""
        await store.create_turn(turn)
        return cls.of(store, turn)

    # ------------------------------------------------------------ on the way

    async def queued(self) -> None:
        """It waits for its thread or for a free engine slot."""
        await self._store.update_turn(self.turn_id, status=QUEUED)

    async def running(self) -> None:
        """Its steps have started (files, then the engine)."""
        await self._store.update_turn(self.turn_id, status=RUNNING)

    async def working_message_posted(self, ts: str) -> None:
        """The small "working" message with the Stop button is up (deleted at the end)."""
        await self._store.update_turn(self.turn_id, status_ts=ts)

    async def answer_message_posted(self, ts: str) -> None:
        """The message the answer goes into exists (or moved, when a stream fell back)."""
        await self._store.update_turn(self.turn_id, answer_ts=ts)

    async def run_requested(self, *, answer_ts: str | None) -> None:
        """The engine is about to be asked for a run: from now on one may exist even while
        no response id is stored, so a restart must not start another (one write with the
        answer message, so a stored answer message always comes with this mark)."""
        await self._store.update_turn(self.turn_id, answer_ts=answer_ts, run_requested=True)

    async def run_started(self, *, response_id: str, sequence: int | None) -> None:
        """The engine created the run: a restart follows it from ``sequence``."""
        await self._store.update_turn(self.turn_id, response_id=response_id, last_sequence=sequence)

    async def cursor(self, *, sequence: int | None = None, answer_ts: str | None = None) -> None:
        """How far the run's events were handled, and where the answer is shown now."""
        changes: dict[str, object] = {}
        if sequence is not None:
            changes["last_sequence"] = sequence
        if answer_ts is not None:
            changes["answer_ts"] = answer_ts
        if changes:
            await self._store.update_turn(self.turn_id, **changes)

    async def answer_part_posted(self, part: int) -> None:
        """Continuation message ``part`` (1, 2, …) of a long answer is posted: never again."""
        await self._store.add_answer_part(self.turn_id, part)

    async def artifacts_posted(self, file_ids: Sequence[str]) -> None:
        """These generated files are in the thread: never posted again."""
        for file_id in file_ids:
            await self._store.add_posted_artifact(self.turn_id, file_id)

    # ------------------------------------------------------------ the end

    async def answered(
        self,
        *,
        answer_ts: str | None,
        text: str,
        code: Sequence[str],
        usage: Usage,
        cost: TurnCost | None = None,
    ) -> None:
        """The answer and its files are posted; its usage in full and what it cost (an
        unknown price stays unknown; without ``cost`` nothing was priced)."""
        cost = cost or TurnCost(token_usd=None)
        await self._store.update_turn(
            self.turn_id,
            status=DONE,
            answer_ts=answer_ts,
            answer_text=text,
            code=tuple(code),
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cached_input_tokens=usage.cached_input_tokens,
            reasoning_tokens=usage.reasoning_tokens,
            model=cost.model,
            cost_usd=cost.token_usd,
            container_id=cost.container_id,
            container_minutes=cost.container_minutes,
            container_usd=cost.container_usd,
            finished_at=time.time(),
        )
        await self._store.mark_thread_answered(self.thread_key)

    async def failed(self, code: FailureCode, *, thread_answered: bool = True) -> None:
        """It ended without an answer, for ``code``. ``thread_answered``: the thread was told,
        so later replies there count as meant for the bot."""
        await self._store.update_turn(
            self.turn_id, status=FAILED, error=code.value, finished_at=time.time()
        )
        if thread_answered:
            await self._store.mark_thread_answered(self.thread_key)

    async def stopped(self) -> None:
        """Someone pressed Stop."""
        await self._store.update_turn(
            self.turn_id,
            status=CANCELLED,
            error=FailureCode.STOPPED.value,
            finished_at=time.time(),
        )
        await self._store.mark_thread_answered(self.thread_key)

    async def refused(self, code: FailureCode) -> None:
        """Admission refused a stored attempt (a retry): it never runs, and shows in reports."""
        await self._store.update_turn(
            self.turn_id, status=REFUSED, error=code.value, finished_at=time.time()
        )

    async def code_posted(self, ts: str) -> None:
        """Its code is shown in the thread (message ``ts``); later clicks point there."""
        await self._store.update_turn(self.turn_id, code_posted_ts=ts)


# ---------------------------------------------------------------- how turns are first stored


def received_turn(
    message: IncomingMessage, *, turn_id: str, message_json: str, now: float
) -> TurnRecord:
    """A new turn for ``message``, stored as received (nothing has run yet)."""
    return TurnRecord(
        id=turn_id,
        thread_key=message.thread.as_str(),
        message_ts=message.ts,
        user=message.user,
        question=message.text,
        status=RECEIVED,
        message_json=message_json,
        created_at=now,
        updated_at=now,
        channel=message.thread.channel,
    )


def refused_turn(
    message: IncomingMessage,
    *,
    turn_id: str,
    message_json: str,
    now: float,
    code: FailureCode,
) -> TurnRecord:
    """A turn that admission refused: stored finished, never run, so it shows in reports."""
    received = received_turn(message, turn_id=turn_id, message_json=message_json, now=now)
    return dataclasses.replace(received, status=REFUSED, error=code.value, finished_at=now)


def retry_attempt(turn: TurnRecord, *, turn_id: str, now: float) -> TurnRecord:
    """The next attempt of a failed or stopped turn: the same message, a fresh progress."""
    return dataclasses.replace(
        turn,
        id=turn_id,
        attempt=turn.attempt + 1,
        status=RECEIVED,
        response_id=None,
        last_sequence=None,
        run_requested=False,
        answer_ts=None,
        status_ts=None,
        posted_artifacts=(),
        answer_parts=(),
        code=(),
        code_posted_ts=None,
        answer_text="",
        input_tokens=0,
        output_tokens=0,
        cached_input_tokens=0,
        reasoning_tokens=0,
        model=None,
        cost_usd=0.0,
        container_id=None,
        container_minutes=None,
        container_usd=None,
        error=None,
        created_at=now,
        updated_at=now,
        finished_at=None,
    )
