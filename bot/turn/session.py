"""Step 1 of a turn: the thread's engine session (conversation + sandbox), read from and saved
to storage, and the thread's earlier answers (to seed a replacement conversation)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

from bot.engines.base import Engine
from bot.engines.objects import Owner
from bot.services import Services
from bot.types import IncomingMessage, PastTurn, Session, UploadedFile
from storage import Store
from storage.records import DONE, ThreadRecord


def session_of(record: ThreadRecord | None) -> Session | None:
    """The stored engine session of a thread, or None when it has no conversation yet."""
    if record is None or not record.conversation_id:
        return None
    return Session(
        conversation_id=record.conversation_id,
        container_id=record.container_id,
        memory_limit=record.memory_limit,
        file_paths=dict(record.file_paths),
    )


async def prepared_session(
    *,
    services: Services,
    message: IncomingMessage,
    files: Sequence[UploadedFile],
    owner: Owner | None = None,
) -> Session:
    """Ask the engine for a live session holding ``files`` and store it for the thread; what
    the engine creates for it is recorded under ``owner``.

    Raises EngineError subclasses (from the engine) and StorageError.
    """
    thread = message.thread
    blank = ThreadRecord(
        key=thread.as_str(),
        team=thread.team,
        channel=thread.channel,
        thread_ts=thread.thread_ts,
        created_at=time.time(),
    )
    return await prepare_thread_session(
        store=services.store, engine=services.engine, blank=blank, files=files, owner=owner
    )


async def prepare_thread_session(
    *,
    store: Store,
    engine: Engine,
    blank: ThreadRecord,
    files: Sequence[UploadedFile],
    owner: Owner | None = None,
) -> Session:
    """The session of the thread ``blank.key`` (``blank`` is its record when it has none yet),
    made live by the engine with ``files`` (what it creates is recorded under ``owner``,
    by default the thread), and stored. Raises EngineError and StorageError."""
    record = await store.get_thread(blank.key)
    session = await engine.prepare_session(
        session=session_of(record),
        files=files,
        label=blank.key,
        owner=owner or Owner(thread_key=blank.key),
    )
    await store.save_thread(
        replace(
            record or blank,
            conversation_id=session.conversation_id,
            container_id=session.container_id,
            memory_limit=session.memory_limit,
            file_paths=dict(session.file_paths),
            updated_at=time.time(),
        )
    )
    return session


async def thread_history(*, store: Store, thread_key: str, before: str | None) -> list[PastTurn]:
    """The answered questions of a thread (before turn ``before``), oldest first."""
    past = []
    for earlier in await store.thread_turns(thread_key):
        if earlier.id == before:
            break
        if earlier.status == DONE and earlier.answer_text:
            past.append(PastTurn(question=earlier.question, answer=earlier.answer_text))
    return past


async def store_conversation(services: Services, thread_key: str, conversation_id: str) -> None:
    """Record that the engine replaced the thread's conversation."""
    record = await services.store.get_thread(thread_key)
    if record is not None:
        await services.store.save_thread(
            replace(record, conversation_id=conversation_id, updated_at=time.time())
        )
