"""TurnRunner: running turns — one at a time per Slack thread, a global limit on engine runs,
every task tracked and drained on shutdown.

A message arriving while its thread is busy waits in that thread's queue (with a short notice,
bot/queue_notices.py); turns beyond the global limit wait in arrival order, and their threads
show their position, updated as the line moves. Each person has at most ``user_max_running`` turns holding a slot: a
turn of a person at that limit waits without blocking other people's turns behind it (their
private note comes from admission, bot/admission.py). Turns resumed after a restart take a slot
without waiting: their engine runs are already going.

The per-person counts that admission reads (``UserLoads``) are written here only.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from bot.ack_priority import AckPriority
from bot.admission import UserLoads
from bot.concurrency import AdaptiveLimit
from bot.logs import set_log_context
from bot.queue_notices import QueueNotices
from bot.services import Services
from bot.turn import TurnControl, TurnLedger, resume_turn, run_turn
from bot.types import IncomingMessage
from storage.records import TurnRecord

log = logging.getLogger(__name__)

MAX_QUEUE_NOTICE_UPDATES = 20  # positions beyond this are not re-announced on every move
PURGE_POLL_S = 0.2  # how often a turn waiting for a purge (maybe in another process) looks


@dataclass(eq=False)
class _Job:
    turn: TurnRecord
    message: IncomingMessage
    resume: bool = False
    notice_ts: str | None = None  # the "waiting for this thread" notice
    after_purge: bool = False  # a purge may hold its thread: wait until it is done


@dataclass(eq=False)
class _Waiting:
    """A turn waiting for a global slot; ``granted`` resolves when it may run."""

    job: _Job
    granted: asyncio.Future[None]
    notice_ts: str | None = None
    shown_position: int | None = None


@dataclass
class _Slots:
    """A FIFO slot pool under an adaptive limit (bot/concurrency.py): ``in_use`` exceeds the
    limit only for resumed turns, or for a while after the limit came down."""

    limit: AdaptiveLimit
    in_use: int = 0
    waiting: list[_Waiting] = field(default_factory=list)


class TurnRunner:
    def __init__(
        self,
        *,
        services: Services,
        max_concurrent: int,
        limit: AdaptiveLimit | None = None,
        acks: AckPriority | None = None,
        notices: QueueNotices | None = None,
    ) -> None:
        self._services = services
        self._acks = acks or AckPriority()
        self._notices = notices or QueueNotices(services.slack)
        self._slots = _Slots(limit=limit or AdaptiveLimit(ceiling=max_concurrent))
        self._slots.limit.on_raise(self._grant_free_slots)
        self._loads = UserLoads()
        self._user_limit = services.settings.user_max_running  # 0: no per-person limit
        self._queues: dict[str, deque[_Job]] = {}
        # turn id -> (control, asker, thread key)
        self._controls: dict[str, tuple[TurnControl, str, str]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._refresh_lock = asyncio.Lock()
        self._closing = False

    # ------------------------------------------------------------ public

    @property
    def closing(self) -> bool:
        return self._closing

    @property
    def run_limit(self) -> int:
        """How many engine runs may go at once right now (adapts to rate limits)."""
        return self._slots.limit.limit

    @property
    def loads(self) -> UserLoads:
        """Each person's running and waiting turns here (read by admission)."""
        return self._loads

    def submit(
        self,
        turn: TurnRecord,
        message: IncomingMessage,
        *,
        resume: bool = False,
        counted: bool = False,
        after_purge: bool = False,
    ) -> None:
        """Queue ``turn`` on its thread; starts a worker for the thread if none runs.

        ``resume`` follows the engine run a previous process started instead of starting one.
        ``counted``: admission already counted the turn as waiting for its person.
        ``after_purge``: a purge may hold the thread; the turn starts once it is done.
        While shutting down nothing is queued: the stored turn is picked up on the next start.
        """
        if self._closing:
            log.info(
                "not starting turn %s while shutting down; it resumes on the next start", turn.id
            )
            if counted:
                self._loads.drop_waiting(message.user)
            return
        if not counted:
            self._loads.add_waiting(message.user)
        key = message.thread.as_str()
        job = _Job(turn=turn, message=message, resume=resume, after_purge=after_purge)
        queue = self._queues.get(key)
        if queue is not None:
            queue.append(job)
            self.spawn(self._announce_thread_queue(job))
            return
        self._queues[key] = deque([job])
        self.spawn(self._thread_worker(key))

    def request_stop(self, *, turn_id: str, user: str) -> bool:
        """Ask a running turn to stop; False when it is not running here."""
        entry = self._controls.get(turn_id)
        if entry is None:
            return False
        control, _asker, _thread = entry
        if control.stopped_by is None:
            control.stopped_by = user
        control.stop.set()
        return True

    def stop_thread(self, *, thread_key: str, user: str) -> int:
        """Ask every running turn of a thread to stop; returns how many were asked."""
        running = [t for t, (_c, _a, key) in self._controls.items() if key == thread_key]
        for turn_id in running:
            self.request_stop(turn_id=turn_id, user=user)
        return len(running)

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
        """Stop taking turns; give running ones up to ``timeout_s``, then cancel them.

        Turns still waiting for their thread or for a slot never start; they stay stored as
        received/queued. Cancelled turns keep their stored state (status, response id,
        cursor, answer message) and are resumed on the next start.
        """
        self._closing = True
        for waiting in list(self._slots.waiting):
            waiting.granted.cancel()
        pending = {t for t in self._tasks if not t.done()}
        if pending:
            _done, still = await asyncio.wait(pending, timeout=timeout_s)
            for task in still:
                task.cancel()
            if still:
                log.info(
                    "%d tasks cancelled at shutdown; their turns resume on the next start",
                    len(still),
                )
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
                job = queue.popleft()
                if job.notice_ts:
                    self.spawn(self._notices.remove(job.message, job.notice_ts))
                if job.after_purge and not job.resume:
                    await self._wait_for_purge(key)
                await self._run_with_slot(job)
        finally:
            self._queues.pop(key, None)
            for left in queue:  # shutting down: these never start here
                self._loads.drop_waiting(left.message.user)

    async def _wait_for_purge(self, key: str) -> None:
        """Wait while a purge holds the thread (it may run in another process, so the claim
        in the database is what counts); the turn then starts on a fresh thread."""
        store = self._services.store
        waited = False
        while not self._closing and await store.purge_blocks(key):
            if not waited:
                log.info("a purge holds thread %s; its next turn waits for it", key)
                waited = True
            await asyncio.sleep(PURGE_POLL_S)

    async def _run_with_slot(self, job: _Job) -> None:
        turn, message = job.turn, job.message
        set_log_context(thread=message.thread.as_str(), turn_id=turn.id, event_id=message.event_id)
        if not await self._acquire(job):
            return
        await self._acks.let_acks_go_first()
        try:
            control = TurnControl()
            self._controls[turn.id] = (control, message.user, message.thread.as_str())
            try:
                if job.resume:
                    await resume_turn(
                        services=self._services, turn=turn, message=message, control=control
                    )
                else:
                    await run_turn(
                        services=self._services, turn=turn, message=message, control=control
                    )
            finally:
                self._controls.pop(turn.id, None)
        finally:
            self._release(message.user)

    async def _acquire(self, job: _Job) -> bool:
        """Take a global slot, waiting in line (with a position notice) when all are busy or
        the person is at their own limit. True: the turn counts as running for its person.

        False when shutdown began first: the turn stays stored and runs on the next start.
        """
        slots, user = self._slots, job.message.user
        # Whenever a slot is free, every turn still waiting is one whose person is at their
        # limit (``_release`` keeps it so), so a free slot needs no look at the line.
        if job.resume or (slots.in_use < slots.limit.limit and not self._at_own_limit(user)):
            self._take_slot(user)
            return True
        waiting = _Waiting(job=job, granted=asyncio.get_running_loop().create_future())
        slots.waiting.append(waiting)
        try:
            await self._ledger(job).queued()
            if not self._at_own_limit(user):  # that wait was told privately at admission
                await self._announce_position(waiting)
            await waiting.granted
        except BaseException:  # cancelled (shutdown), or the store failed
            if waiting in slots.waiting:
                slots.waiting.remove(waiting)
                self._loads.drop_waiting(user)
            elif waiting.granted.done() and not waiting.granted.cancelled():
                self._release(user)  # granted just as we were cancelled: give it back
            if waiting.notice_ts:
                await self._notices.remove(job.message, waiting.notice_ts)
            raise
        if waiting.notice_ts:
            self.spawn(self._notices.remove(job.message, waiting.notice_ts))
        if self._closing:
            self._release(user)
            return False
        return True

    def _at_own_limit(self, user: str) -> bool:
        return bool(self._user_limit) and self._loads.running(user) >= self._user_limit

    def _take_slot(self, user: str) -> None:
        self._slots.in_use += 1
        self._loads.start(user)

    def _release(self, user: str) -> None:
        """Give a slot back and grant free slots in arrival order, skipping the turns of
        people at their own limit (they must not hold up everyone behind them)."""
        self._slots.in_use -= 1
        self._loads.finish(user)
        self._grant_free_slots()

    def _grant_free_slots(self) -> None:
        slots = self._slots
        moved = False
        for waiting in list(slots.waiting):
            if slots.in_use >= slots.limit.limit or self._closing:
                break
            if waiting.granted.done():
                slots.waiting.remove(waiting)
                continue
            if self._at_own_limit(waiting.job.message.user):
                continue
            slots.waiting.remove(waiting)
            self._take_slot(waiting.job.message.user)
            waiting.granted.set_result(None)
            moved = True
        if moved and slots.waiting:
            self.spawn(self._refresh_positions())

    async def _announce_thread_queue(self, job: _Job) -> None:
        # The check and the write are one step (no await between), so a turn that already
        # started is never marked queued; a resumed turn stays "running" (its run exists).
        if not job.resume and self._waits_for_thread(job):
            await self._ledger(job).queued()
        ts = await self._notices.show_thread_wait(job.message)
        if ts is None:
            return
        if self._waits_for_thread(job):
            job.notice_ts = ts
        else:  # the turn already started while the notice was on its way
            await self._notices.remove(job.message, ts)

    def _waits_for_thread(self, job: _Job) -> bool:
        return any(j is job for j in self._queues.get(job.message.thread.as_str(), ()))

    async def _announce_position(self, waiting: _Waiting) -> None:
        if waiting not in self._slots.waiting:
            return
        position = self._position(waiting)
        waiting.notice_ts = await self._notices.show_position(waiting.job.message, position)
        waiting.shown_position = position
        if waiting.notice_ts and waiting not in self._slots.waiting:
            return  # granted meanwhile; the caller deletes the notice
        if self._slots.waiting and self._position(waiting) != position:
            self.spawn(self._refresh_positions())

    def _position(self, waiting: _Waiting) -> int:
        """Place in line, not counting turns ahead that wait for their own person's runs."""
        ahead = self._slots.waiting[: self._slots.waiting.index(waiting)]
        return 1 + sum(not self._at_own_limit(w.job.message.user) for w in ahead)

    async def _refresh_positions(self) -> None:
        """Update every shown position that changed (serialised, so the last word is right)."""
        async with self._refresh_lock:
            for waiting in list(self._slots.waiting[:MAX_QUEUE_NOTICE_UPDATES]):
                if waiting not in self._slots.waiting or waiting.notice_ts is None:
                    continue
                position = self._position(waiting)
                if position == waiting.shown_position:
                    continue
                message, ts = waiting.job.message, waiting.notice_ts
                if await self._notices.update_position(message, ts, position):
                    waiting.shown_position = position

    def _ledger(self, job: _Job) -> TurnLedger:
        return TurnLedger.of(self._services.store, job.turn)
