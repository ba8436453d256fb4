"""TurnRunner: one turn at a time per Slack thread, a global limit on engine runs, every task
tracked and drained on shutdown.

A message arriving while its thread is busy waits in that thread's queue (with a short notice);
turns beyond the global limit wait in arrival order, and their threads show their position.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from bot import messages
from bot.logs import set_log_context
from bot.services import Services
from bot.turn import TurnControl, run_turn
from bot.types import IncomingMessage
from storage.records import QUEUED, TurnRecord

log = logging.getLogger(__name__)

MAX_QUEUE_NOTICE_UPDATES = 20  # positions beyond this are not re-announced on every move


@dataclass
class _Waiting:
    turn: TurnRecord
    message: IncomingMessage
    notice_ts: str | None = None


class TurnRunner:
    def __init__(self, *, services: Services, max_concurrent: int) -> None:
        self._services = services
        self._slots = asyncio.Semaphore(max_concurrent)
        self._queues: dict[str, deque[tuple[TurnRecord, IncomingMessage]]] = {}
        self._busy_threads: set[str] = set()
        self._controls: dict[str, tuple[TurnControl, str]] = {}  # turn id -> (control, asker)
        self._waiting: list[_Waiting] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False

    # ------------------------------------------------------------ public

    @property
    def closing(self) -> bool:
        return self._closing

    def submit(self, turn: TurnRecord, message: IncomingMessage) -> None:
        """Queue ``turn`` on its thread; starts a worker for the thread if none runs."""
        if self._closing:
            log.info("not starting a turn while shutting down; it resumes on the next start")
            return
        key = message.thread.as_str()
        queue = self._queues.setdefault(key, deque())
        queue.append((turn, message))
        if key in self._busy_threads:
            self.spawn(self._announce_thread_queue(message))
            self.spawn(self._services.store.update_turn(turn.id, status=QUEUED))
            return
        self._busy_threads.add(key)
        self.spawn(self._thread_worker(key))

    def request_stop(self, *, turn_id: str, user: str) -> bool:
        """Ask a running turn to stop; False when it is not running here."""
        entry = self._controls.get(turn_id)
        if entry is None:
            return False
        control, _asker = entry
        control.stopped_by = user
        control.stop.set()
        return True

    def asker_of(self, turn_id: str) -> str | None:
        entry = self._controls.get(turn_id)
        return entry[1] if entry else None

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Start a tracked task; its exceptions are logged, never lost."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._forget)
        return task

    async def drain(self, timeout_s: float) -> None:
        """Stop taking turns; wait up to ``timeout_s`` for running ones, then cancel the rest.

        Cancelled turns keep their stored state (status, response id, cursor) and are resumed
        on the next start.
        """
        self._closing = True
        pending = {t for t in self._tasks if not t.done()}
        if pending:
            _done, still = await asyncio.wait(pending, timeout=timeout_s)
            for task in still:
                task.cancel()
            if still:
                await asyncio.wait(still, timeout=5)

    async def wait_idle(self) -> None:
        """Wait until every tracked task is finished (tests and benchmarks use this)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # ------------------------------------------------------------ internals

    def _forget(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task failed", exc_info=task.exception())

    async def _thread_worker(self, key: str) -> None:
        queue = self._queues[key]
        try:
            while queue and not self._closing:
                turn, message = queue.popleft()
                await self._run_with_slot(turn, message)
        finally:
            self._busy_threads.discard(key)
            if not queue:
                self._queues.pop(key, None)

    async def _run_with_slot(self, turn: TurnRecord, message: IncomingMessage) -> None:
        set_log_context(thread=message.thread.as_str(), turn_id=turn.id, event_id=message.event_id)
        waiting = _Waiting(turn=turn, message=message)
        if self._slots.locked():
            self._waiting.append(waiting)
            await self._services.store.update_turn(turn.id, status=QUEUED)
            await self._announce_global_position(waiting)
        async with self._slots:
            if waiting in self._waiting:
                self._waiting.remove(waiting)
                if waiting.notice_ts:
                    self.spawn(self._delete_notice(message, waiting.notice_ts))
                self.spawn(self._refresh_positions())
            control = TurnControl()
            self._controls[turn.id] = (control, message.user)
            try:
                await run_turn(services=self._services, turn=turn, message=message, control=control)
            finally:
                self._controls.pop(turn.id, None)

    async def _announce_thread_queue(self, message: IncomingMessage) -> None:
        lang = messages.language_of(message.text)
        await self._services.slack.post_message(
            channel=message.thread.channel,
            thread_ts=message.thread.thread_ts,
            text=messages.queued_in_thread(lang),
        )

    async def _announce_global_position(self, waiting: _Waiting) -> None:
        position = self._waiting.index(waiting) + 1
        lang = messages.language_of(waiting.message.text)
        waiting.notice_ts = await self._services.slack.post_message(
            channel=waiting.message.thread.channel,
            thread_ts=waiting.message.thread.thread_ts,
            text=messages.queued_globally(lang, position),
        )

    async def _refresh_positions(self) -> None:
        for position, waiting in enumerate(self._waiting[:MAX_QUEUE_NOTICE_UPDATES], start=1):
            if waiting.notice_ts is None:
                continue
            lang = messages.language_of(waiting.message.text)
            await self._services.slack.update_message(
                channel=waiting.message.thread.channel,
                ts=waiting.notice_ts,
                text=messages.queued_globally(lang, position),
            )

    async def _delete_notice(self, message: IncomingMessage, ts: str) -> None:
        await self._services.slack.delete_message(channel=message.thread.channel, ts=ts)
