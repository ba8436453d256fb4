"""Taking a user message in: dedupe, admission, remember its files, store the turn, hand it to
the runner.

This runs before the event is acknowledged (the handlers call it from a global middleware), so
a message that was acknowledged is always stored and can be picked up after a restart. A retry
(the Retry button) comes in here too, so that it passes the same admission.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections import OrderedDict

from bot.ack_priority import AckPriority
from bot.admission import Admission, NoteGate, Verdict, admit, tell_admission
from bot.files import channel_file_record_for, file_record_for
from bot.governance import AccessPolicy, access_refusal
from bot.message_json import message_to_json, new_turn_id
from bot.runner import TurnRunner
from bot.services import Services
from bot.turn import TurnLedger, received_turn, refused_turn
from bot.types import FailureCode, IncomingMessage, SlackFile, ThreadKey
from storage.records import FileRecord, Taken, TurnRecord

__all__ = ["DEDUPE_TTL_S", "Intake"]

log = logging.getLogger(__name__)

DEDUPE_TTL_S = 24 * 3600.0  # Slack retries within minutes; a day is ample
RECENT_KEYS = 10_000  # message keys remembered in memory for deduplication


class Intake:
    """The way in for every question: keeps what intake must remember between events (recent
    message keys, per-key locks, admission notes lately sent) and hands admitted turns to the
    runner."""

    def __init__(self, *, services: Services, runner: TurnRunner, acks: AckPriority) -> None:
        self.services = services
        self.runner = runner
        self.acks = acks
        self._notes = NoteGate()
        self._taken: OrderedDict[str, None] = OrderedDict()
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def lock_for(self, key: str) -> asyncio.Lock:
        """A process-wide lock for ``key`` (kept only while someone holds a reference)."""
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    async def accept_message(
        self, message: IncomingMessage, *, scheduled: bool = False
    ) -> TurnRecord | None:
        """Store ``message`` as a new turn and queue it; None when it was already taken.

        Deduplicates on (team, channel, ts) — one message can arrive as app_mention and as
        message, and Slack retries deliveries — so each user message gets exactly one answer.
        A claim whose turn was never stored (storing failed, so the event was not acknowledged,
        or the process died in between) does not block the redelivery. A message that
        admission refuses is stored as a refused turn (never run; the person is told
        privately, at most once a minute); its files are still remembered for the thread.
        Raises StorageError when the message cannot be stored: the event must then not be
        acknowledged. A ``scheduled`` run (a recurring analysis) waits instead of being
        refused by its owner's fair-use limits.
        """
        message_key = f"msg:{message.thread.team}:{message.thread.channel}:{message.ts}"
        if message_key in self._taken:  # the twin or retry of a message stored here
            log.info("duplicate delivery of %s ignored", message_key)
            return None
        # Concurrent deliveries of one message meet here; the lock makes "claimed but no turn"
        # mean that an earlier delivery failed, never that it is still being stored. One
        # transaction keeps the ack fast and leaves no half-stored message.
        async with self.lock_for(message_key):
            if message_key in self._taken:
                log.info("duplicate delivery of %s ignored", message_key)
                return None
            admission, turn = await self._admitted_turn(message, scheduled=scheduled)
            try:
                taken = await self.services.store.take_message(
                    key=message_key,
                    ttl_s=DEDUPE_TTL_S,
                    # Nothing of a message from outside the access lists is kept.
                    files=[] if admission.refused_by_access else _file_records(turn, message),
                    turn=turn,
                )
            except BaseException:
                self._give_back(admission, message)
                raise
            if taken:
                self._remember_taken(message_key)
            else:
                self._give_back(admission, message)
        if not taken:
            log.info("duplicate delivery of %s ignored", message_key)
            return None
        self._hand_over(
            admission, turn, message, react=True, after_purge=taken is Taken.WAITS_FOR_PURGE
        )
        return turn

    async def accept_retry(self, attempt: TurnRecord, message: IncomingMessage) -> bool:
        """Queue a new attempt (already stored) of a failed turn, through admission like any
        question; False when admission refused it (the person is told privately)."""
        admission = await admit(
            settings=self.services.settings,
            loads=self.runner.loads,
            message=message,
            governance=self.services.governance,
        )
        if admission.verdict is Verdict.REFUSE:
            await TurnLedger.of(self.services.store, attempt).refused(
                FailureCode(admission.reason or FailureCode.NOT_ALLOWED)
            )
        self._hand_over(admission, attempt, message, react=False)
        return admission.verdict is not Verdict.REFUSE

    async def remember_shared_files(
        self,
        *,
        thread: ThreadKey,
        user: str,
        ts: str,
        files: tuple[SlackFile, ...],
        top_level_channel: bool,
        channel_type: str = "channel",
        enterprise: str | None = None,
    ) -> None:
        """Remember files shared without a question: in their thread, and for top-level
        channel shares also as the channel's recent files (never for DMs or thread replies).

        Files shared where the person may not ask (access lists, a channel switched off,
        external people while they are denied) are not remembered.
        """
        store, settings = self.services.store, self.services.settings
        setting = await self.services.governance.channels.get(thread.channel)
        refusal = access_refusal(
            policy=AccessPolicy.of(settings),
            user=user,
            user_team=next((f.user_team for f in files if f.user_team), None),
            home_teams=frozenset(t for t in (thread.team, enterprise) if t),
            channel=thread.channel,
            channel_type=channel_type,
            channel_enabled=setting.enabled if setting is not None else None,
        )
        if refusal is not None:
            log.info("files shared by %s in %s not remembered: %s", user, thread.channel, refusal)
            return
        for file in files:
            await store.save_file(
                file_record_for(thread_key=thread.as_str(), file=file, shared_by=user, shared_ts=ts)
            )
            if top_level_channel:
                await store.remember_channel_file(
                    channel_file_record_for(
                        thread=thread,
                        file=file,
                        shared_by=user,
                        expires_at=time.time() + settings.channel_file_ttl_s,
                    )
                )

    # ------------------------------------------------------------ internals

    async def _admitted_turn(
        self, message: IncomingMessage, *, scheduled: bool = False
    ) -> tuple[Admission, TurnRecord]:
        admission = await admit(
            settings=self.services.settings,
            loads=self.runner.loads,
            message=message,
            governance=self.services.governance,
            scheduled=scheduled,
        )
        now, turn_id, stored = time.time(), new_turn_id(), message_to_json(message)
        if admission.verdict is Verdict.REFUSE:
            code = FailureCode(admission.reason or FailureCode.QUESTION_TOO_LONG)
            turn = refused_turn(message, turn_id=turn_id, message_json=stored, now=now, code=code)
        else:
            turn = received_turn(message, turn_id=turn_id, message_json=stored, now=now)
        return admission, turn

    def _give_back(self, admission: Admission, message: IncomingMessage) -> None:
        if admission.verdict is not Verdict.REFUSE:
            self.runner.loads.drop_waiting(message.user)

    def _hand_over(
        self,
        admission: Admission,
        turn: TurnRecord,
        message: IncomingMessage,
        *,
        react: bool,
        after_purge: bool = False,
    ) -> None:
        services, runner = self.services, self.runner
        runner.spawn(
            tell_admission(
                services=services, gate=self._notes, message=message, admission=admission
            )
        )
        if admission.verdict is Verdict.REFUSE:
            log.info("turn %s refused: %s", turn.id, admission.reason)
            return
        if react:
            runner.spawn(
                services.slack.add_reaction(
                    channel=message.thread.channel, ts=message.ts, name="eyes"
                )
            )
        runner.submit(turn, message, counted=True, after_purge=after_purge)

    def _remember_taken(self, key: str) -> None:
        self._taken[key] = None
        while len(self._taken) > RECENT_KEYS:
            self._taken.popitem(last=False)


def _file_records(turn: TurnRecord, message: IncomingMessage) -> list[FileRecord]:
    return [
        file_record_for(
            thread_key=turn.thread_key, file=file, shared_by=message.user, shared_ts=message.ts
        )
        for file in message.files
    ]
