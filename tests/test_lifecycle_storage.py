"""The lifecycle's storage: the purge claim against turns, erasing content while keeping the
usage numbers, erased on disk, the inventory's states, and what retention selects."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest

from bot.engines.objects import EngineObject, ObjectKind
from storage import Store, open_store
from storage.records import DONE, RECEIVED, RUNNING, FileRecord, Taken, ThreadRecord, TurnRecord

KEY = "T1:C1:100.1"
SECRET_QUESTION = "what is the salary of 김민수 in payroll_2024.csv"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(tmp_path / "life.db")
    yield opened
    await opened.close()


def a_turn(turn_id: str, *, status: str = DONE, created_at: float = 1000.0) -> TurnRecord:
    return TurnRecord(
        id=turn_id,
        thread_key=KEY,
        message_ts=f"{created_at}",
        user="U1",
        question=SECRET_QUESTION,
        status=status,
        message_json=json.dumps({"text": SECRET_QUESTION}, ensure_ascii=False),
        response_id="resp_1",
        answer_text="The salary is 123",
        code=("df = pd.read_csv('payroll_2024.csv')",),
        input_tokens=120,
        output_tokens=45,
        created_at=created_at,
        updated_at=created_at,
        finished_at=created_at + 5 if status == DONE else None,
    )


async def claim(store: Store, *, holder: str = "h1", now: float = 2000.0) -> bool:
    return await store.claim_purge(KEY, reason="request", holder=holder, lease_s=300, now=now)


async def test_a_purge_claims_a_thread_only_when_no_turn_waits_or_runs(store: Store) -> None:
    await store.create_turn(a_turn("t1", status=RUNNING))
    assert not await claim(store)
    await store.update_turn("t1", status=DONE)
    assert await claim(store)
    # Another purger cannot take it while the lease runs; the same one may; after it, anyone.
    assert not await claim(store, holder="h2", now=2100.0)
    assert await claim(store, holder="h2", now=2000.0 + 301)


async def test_a_message_taken_during_a_purge_is_stored_and_told_to_wait(store: Store) -> None:
    assert await claim(store, now=time.time())
    turn = replace(a_turn("t2", status=RECEIVED), created_at=0.0, updated_at=0.0)
    taken = await store.take_message(key="msg:T1:C1:200.2", ttl_s=60, files=[], turn=turn)
    assert taken is Taken.WAITS_FOR_PURGE
    assert await store.purge_blocks(KEY)
    # The waiting turn in turn keeps a second purge from starting once this one is over.
    await store.erase_thread(KEY, holder="h1", now=3000.0, tell=False)
    assert not await store.purge_blocks(KEY)
    assert not await claim(store, holder="h2", now=4000.0)
    erased_nothing_of_it = await store.get_turn("t2")
    assert erased_nothing_of_it is not None and erased_nothing_of_it.question == SECRET_QUESTION


async def test_erasing_keeps_usage_numbers_and_clears_content_files_and_session(
    store: Store,
) -> None:
    await store.create_turn(a_turn("t1"))
    await store.save_file(
        FileRecord(thread_key=KEY, slack_file_id="F1", name="payroll_2024.csv", sha256="ab" * 32)
    )
    await store.save_thread(
        ThreadRecord(
            key=KEY,
            team="T1",
            channel="C1",
            thread_ts="100.1",
            conversation_id="conv_1",
            container_id="cntr_1",
            file_paths={"file-1": "/mnt/data/payroll_2024.csv"},
            bot_answered=True,
        )
    )
    await store.save_local_turn("conv_1", "t1", [{"role": "user", "content": SECRET_QUESTION}])
    assert await claim(store, now=time.time())
    erased = await store.erase_thread(KEY, holder="h1", now=3000.0, tell=False)
    assert (erased.turns, erased.files, erased.history) == (1, 1, 1)

    turn = await store.get_turn("t1")
    assert turn is not None
    assert (turn.question, turn.answer_text, turn.code, turn.message_json) == ("", "", (), "{}")
    assert (turn.id, turn.user, turn.input_tokens, turn.output_tokens) == ("t1", "U1", 120, 45)
    assert (turn.created_at, turn.finished_at, turn.response_id) == (1000.0, 1005.0, "resp_1")
    assert await store.thread_files(KEY) == []
    thread = await store.get_thread(KEY)
    assert thread is not None and thread.conversation_id is None and thread.file_paths == {}
    assert thread.bot_answered  # follow-ups in the thread still reach the bot
    assert await store.local_history("conv_1") == []
    notice = await store.take_purge_notice(KEY)
    assert notice is not None and notice.reason == "request"
    assert await store.take_purge_notice(KEY) is None  # told once


async def test_erased_content_is_gone_from_the_database_files_on_disk(
    store: Store, tmp_path: Path
) -> None:
    await store.create_turn(a_turn("t1"))
    for n in range(3):
        await store.save_file(
            FileRecord(thread_key=KEY, slack_file_id=f"F{n}", name=f"김민수_급여_{n}.csv")
        )
    assert await claim(store, now=time.time())
    await store.erase_thread(KEY, holder="h1", now=3000.0, tell=False)
    # While the bot still runs (the write-ahead log is not folded in by a close).
    needle = "김민수".encode()
    contents = {path.name: path.read_bytes() for path in sorted(tmp_path.iterdir())}  # noqa: ASYNC240
    assert "life.db" in contents
    for name, content in contents.items():
        assert needle not in content, f"{name} still holds erased text"
    with closing(sqlite3.connect(tmp_path / "life.db")) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_deleting_a_shared_local_file_waits_for_the_last_thread_using_it(
    store: Store,
) -> None:
    shared = EngineObject(ObjectKind.FILE, "local-abc", thread_key=KEY, created_at=1.0)
    await store.record_engine_object(shared)
    await store.record_engine_object(replace(shared, thread_key="T1:C1:other"))
    await store.record_engine_object(EngineObject(ObjectKind.CONVERSATION, "conv_1", KEY, None, 1))
    doomed = await store.doom_thread_objects(KEY, now=10.0)
    assert [o.object_id for o in doomed] == ["conv_1"]
    counts = await store.object_counts(["T1:C1:other"], states=["live"])
    assert counts["file"] == 1


async def test_pending_deletions_back_off_and_are_never_counted_as_deleted(store: Store) -> None:
    obj = EngineObject(ObjectKind.CONVERSATION, "conv_1", KEY, None, 1.0)
    await store.record_engine_object(obj)
    [doomed] = await store.doom_thread_objects(KEY, now=10.0)
    for attempt, expected_wait in enumerate((300, 600, 1200)):
        now = 100.0 * (attempt + 1)
        await store.settle_objects(
            deleted=[], pending=[(doomed, "500", None)], now=now, backoff_s=300, max_backoff_s=900
        )
        assert await store.next_due_deletion() == now + min(expected_wait, 900)
        assert (await store.pending_deletions())["conversation"] == 1
    await store.settle_objects(
        deleted=[], pending=[(doomed, "429", 7.0)], now=1000.0, backoff_s=300, max_backoff_s=900
    )
    assert await store.next_due_deletion() == 1007.0  # the engine's Retry-After wins
    assert await store.due_deletions(now=1006.0) == []
    await store.settle_objects(
        deleted=[doomed], pending=[], now=1007.0, backoff_s=300, max_backoff_s=900
    )
    assert (await store.pending_deletions())["conversation"] == 0


async def test_retention_selects_threads_by_their_last_activity(store: Store) -> None:
    await store.create_turn(a_turn("old", created_at=1000.0))
    recent_key = "T1:C1:900.9"
    await store.create_turn(replace(a_turn("new", created_at=1000.0), thread_key=recent_key))
    # A file shared lately is activity too.
    await store.save_file(
        FileRecord(thread_key=recent_key, slack_file_id="F9", name="b.csv", created_at=9000.0)
    )
    idle = await store.idle_threads(before=5000.0)
    assert [t.thread_key for t in idle] == [KEY]
    assert idle[0].last_activity == 1005.0  # finished after it was created
    # A feedback click on an old answer is activity too.
    await store.record_feedback(turn_id="old", user="U2", value="up")
    assert await store.idle_threads(before=5000.0) == []
    named = await store.threads_named(channel="C1", thread_ts="900.9")
    assert [t.thread_key for t in named] == [recent_key]
    # Once erased, nothing is left to purge there.
    assert await claim(store, now=time.time())
    await store.erase_thread(KEY, holder="h1", now=3000.0, tell=False)
    assert [t.thread_key for t in await store.idle_threads(before=time.time() + 60)] == [recent_key]


def test_the_store_connection_zeroes_what_it_deletes(tmp_path: Path) -> None:
    # Builds of SQLite differ in their default; the store switches it on for itself.
    from storage._db import _open_database

    db = _open_database(tmp_path / "secure.db")
    try:
        assert db.execute("PRAGMA secure_delete").fetchone() == (1,)
    finally:
        db.close()
