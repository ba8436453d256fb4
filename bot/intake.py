"""Taking a user message in: dedupe, admission, remember its files, store the turn, hand it to
the runner.

This runs before the event is acknowledged (the handlers call it from a global middleware), so
a message that was acknowledged is always stored and can be picked up after a restart.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import asdict

from bot.admission import NoteGate, Verdict, admit, tell_admission
from bot.file_records import channel_file_record_for, file_record_for
from bot.runner import TurnRunner
from bot.services import Services
from bot.types import IncomingMessage, SlackFile, ThreadKey
from storage.records import RECEIVED, REFUSED, FileRecord, TurnRecord

log = logging.getLogger(__name__)

DEDUPE_TTL_S = 24 * 3600.0  # Slack retries within minutes; a day is ample


def message_to_json(message: IncomingMessage) -> str:
    return json.dumps(asdict(message), ensure_ascii=False)


def message_from_json(text: str) -> IncomingMessage:
    raw = json.loads(text)
    thread = ThreadKey(**raw.pop("thread"))
    files = tuple(SlackFile(**f) for f in raw.pop("files", ()))
    named = tuple(raw.pop("named_files", ()))
    return IncomingMessage(thread=thread, files=files, named_files=named, **raw)


def new_turn_id() -> str:
    return uuid.uuid4().hex[:16]


async def accept_message(
    *, services: Services, runner: TurnRunner, notes: NoteGate, message: IncomingMessage
) -> TurnRecord | None:
    """Store ``message`` as a new turn and queue it; None when it was already taken.

    Deduplicates on (team, channel, ts) — one message can arrive as app_mention and as
    message, and Slack retries deliveries — so each user message gets exactly one answer.
    A claim whose turn was never stored (storing failed, so the event was not acknowledged,
    or the process died in between) does not block the redelivery. A message that admission
    refuses is stored as a refused turn (never run; the person is told privately, at most
    once a minute); its files are still remembered for the thread. Raises StorageError when the message
    cannot be stored: the event must then not be acknowledged.
    """
    message_key = f"msg:{message.thread.team}:{message.thread.channel}:{message.ts}"
    if runner.taken_recently(message_key):  # the twin or retry of a message stored here
        log.info("duplicate delivery of %s ignored", message_key)
        return None
    # Concurrent deliveries of one message meet here; the lock makes "claimed but no turn"
    # mean that an earlier delivery failed, never that it is still being stored. One
    # transaction keeps the ack fast and leaves no half-stored message.
    async with runner.lock_for(message_key):
        if runner.taken_recently(message_key):
            log.info("duplicate delivery of %s ignored", message_key)
            return None
        admission = await admit(settings=services.settings, loads=runner.loads, message=message)
        admitted = admission.verdict is not Verdict.REFUSE
        turn = _new_turn(message, refused_for=None if admitted else admission.reason)
        try:
            taken = await services.store.take_message(
                key=message_key,
                ttl_s=DEDUPE_TTL_S,
                files=_file_records(turn, message),
                turn=turn,
            )
        except BaseException:
            if admitted:
                runner.loads.drop_waiting(message.user)
            raise
        if taken:
            runner.remember_taken(message_key)
        elif admitted:
            runner.loads.drop_waiting(message.user)
    if not taken:
        log.info("duplicate delivery of %s ignored", message_key)
        return None
    runner.spawn(
        tell_admission(services=services, gate=notes, message=message, admission=admission)
    )
    if not admitted:
        log.info("turn %s refused: %s", turn.id, admission.reason)
        return turn
    runner.spawn(
        services.slack.add_reaction(channel=message.thread.channel, ts=message.ts, name="eyes")
    )
    runner.submit(turn, message, counted=True)
    return turn


def _new_turn(message: IncomingMessage, *, refused_for: str | None) -> TurnRecord:
    now = time.time()
    return TurnRecord(
        id=new_turn_id(),
        thread_key=message.thread.as_str(),
        message_ts=message.ts,
        user=message.user,
        question=message.text,
        status=RECEIVED if refused_for is None else REFUSED,
        message_json=message_to_json(message),
        error=refused_for,
        created_at=now,
        updated_at=now,
        finished_at=None if refused_for is None else now,
    )


def _file_records(turn: TurnRecord, message: IncomingMessage) -> list[FileRecord]:
    return [
        file_record_for(
            thread_key=turn.thread_key, file=file, shared_by=message.user, shared_ts=message.ts
        )
        for file in message.files
    ]


async def remember_shared_files(
    *,
    services: Services,
    thread: ThreadKey,
    user: str,
    ts: str,
    files: tuple[SlackFile, ...],
    top_level_channel: bool,
) -> None:
    """Remember files shared without a question: in their thread, and for top-level channel
    shares also as the channel's recent files (never for DMs or thread replies)."""
    for file in files:
        await services.store.save_file(
            file_record_for(thread_key=thread.as_str(), file=file, shared_by=user, shared_ts=ts)
        )
        if top_level_channel:
            await services.store.remember_channel_file(
                channel_file_record_for(
                    thread=thread,
                    file=file,
                    shared_by=user,
                    expires_at=time.time() + services.settings.channel_file_ttl_s,
                )
            )
