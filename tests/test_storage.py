"""The SQLite store: round trips, restarts, dedupe under concurrency, merges and ordering."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest

from storage import StorageError, Store, open_store
from storage.records import (
    CANCELLED,
    DONE,
    FAILED,
    QUEUED,
    RECEIVED,
    RUNNING,
    ChannelFileRecord,
    FileRecord,
    ThreadRecord,
    TurnRecord,
)

THREAD_KEY = "T1:C1:1712345678.000100"


def a_thread(**overrides: object) -> ThreadRecord:
    values: dict[str, object] = {
        "key": THREAD_KEY,
        "team": "T1",
        "channel": "C1",
        "thread_ts": "1712345678.000100",
        "conversation_id": "conv_1",
        "container_id": "cntr_1",
        "memory_limit": "4g",
        "file_paths": {"file-1": "/mnt/data/매출_2024.csv", "file-2": "/mnt/data/b.xlsx"},
    }
    values.update(overrides)
    return ThreadRecord(**values)  # type: ignore[arg-type]


def a_file(**overrides: object) -> FileRecord:
    values: dict[str, object] = {
        "thread_key": THREAD_KEY,
        "slack_file_id": "F1",
        "name": "매출_2024.csv",
        "size": 2048,
        "mimetype": "text/csv",
        "filetype": "csv",
        "url_private_download": "https://files.slack.com/files-pri/T1-F1/download/a.csv",
        "shared_by": "U1",
        "shared_ts": "1712345678.000100",
    }
    values.update(overrides)
    return FileRecord(**values)  # type: ignore[arg-type]


ENGINE_FIELDS: dict[str, object] = {
    "sha256": "ab" * 32,
    "kind": "csv",
    "mime_type": "text/csv",
    "encoding": "cp949",
    "delimiter": ",",
    "note": "converted from CP949",
    "engine_file_id": "cfile_1",
    "container_path": "/mnt/data/매출_2024.csv",
    "upload_name": "매출_2024.csv",
}


def a_channel_file(**overrides: object) -> ChannelFileRecord:
    values: dict[str, object] = {
        "team": "T1",
        "channel": "C1",
        "slack_file_id": "F1",
        "name": "data.csv",
        "size": 10,
        "mimetype": "text/csv",
        "filetype": "csv",
        "url_private_download": "https://files.slack.com/x",
        "shared_by": "U1",
        "shared_ts": "1000.000100",
        "expires_at": 5000.0,
    }
    values.update(overrides)
    return ChannelFileRecord(**values)  # type: ignore[arg-type]


def a_turn(turn_id: str = "turn-1", **overrides: object) -> TurnRecord:
    values: dict[str, object] = {
        "id": turn_id,
        "thread_key": THREAD_KEY,
        "message_ts": "1712345678.000200",
        "user": "U1",
        "question": "지역별 매출 합계를 그려줘",
    }
    values.update(overrides)
    return TurnRecord(**values)  # type: ignore[arg-type]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "nested" / "dir" / "insightbot.db"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(db_path)
    yield opened
    await opened.close()


def raw_rows(db_path: Path, sql: str) -> list[tuple[object, ...]]:
    """Read the database file behind the store's back, as another process would."""
    if not db_path.exists():
        raise AssertionError(f"{db_path} was not created")
    with closing(sqlite3.connect(db_path)) as conn:
        return conn.execute(sql).fetchall()


# -- opening, WAL, migrations, restarts -----------------------------------------------------


async def test_open_creates_parent_directory_and_uses_wal(store: Store, db_path: Path) -> None:
    assert raw_rows(db_path, "PRAGMA journal_mode") == [("wal",)]


async def test_opening_twice_applies_migrations_once_and_keeps_data(db_path: Path) -> None:
    first = await open_store(db_path)
    await first.create_turn(a_turn())
    await first.close()

    second = await open_store(db_path)
    try:
        assert await second.count_turns() == 1
    finally:
        await second.close()
    names = raw_rows(db_path, "SELECT name FROM _sqlite_migrations")
    assert len(names) == len(set(names)) >= 1


async def test_every_record_survives_a_restart(db_path: Path) -> None:
    thread = a_thread(bot_answered=True, created_at=10.0)
    file = a_file(**ENGINE_FIELDS, created_at=11.0)
    channel_file = a_channel_file()
    turn = a_turn(posted_artifacts=("cfile_9",), code=("import pandas as pd", "df.head()"))

    first = await open_store(db_path)
    await first.save_thread(thread)
    await first.save_file(file)
    await first.remember_channel_file(channel_file)
    await first.create_turn(turn)
    await first.close()

    second = await open_store(db_path)
    try:
        stored_thread = await second.get_thread(thread.key)
        assert stored_thread == replace(thread, updated_at=stored_thread.updated_at)  # type: ignore[union-attr]
        assert await second.thread_files(THREAD_KEY) == [file]
        assert await second.recent_channel_files(team="T1", channel="C1", now=0.0) == [channel_file]
        stored_turn = await second.get_turn(turn.id)
        assert stored_turn is not None
        assert stored_turn == replace(
            turn, created_at=stored_turn.created_at, updated_at=stored_turn.updated_at
        )
        assert stored_turn.created_at > 0
    finally:
        await second.close()


async def test_open_store_on_a_directory_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError):
        await open_store(tmp_path)


async def test_a_closed_store_refuses_calls(db_path: Path) -> None:
    closed = await open_store(db_path)
    await closed.close()
    await closed.close()  # twice is harmless
    with pytest.raises(StorageError):
        await closed.count_turns()


# -- dedupe ---------------------------------------------------------------------------------


async def test_claim_is_true_once_until_the_claim_expires(store: Store) -> None:
    assert await store.claim("C1:1.0", ttl_s=60, now=1000.0) is True
    assert await store.claim("C1:1.0", ttl_s=60, now=1059.0) is False
    assert await store.claim("C1:2.0", ttl_s=60, now=1059.0) is True
    assert await store.claim("C1:1.0", ttl_s=60, now=1060.0) is True
    assert await store.claim("C1:1.0", ttl_s=60, now=1061.0) is False


async def test_200_concurrent_claims_of_one_key_give_exactly_one_winner(store: Store) -> None:
    results = await asyncio.gather(*(store.claim("Ev1", ttl_s=600) for _ in range(200)))
    assert results.count(True) == 1


async def test_claim_purges_expired_keys_and_channel_files(store: Store, db_path: Path) -> None:
    await store.remember_channel_file(a_channel_file(expires_at=50.0))
    await store.claim("old", ttl_s=10, now=0.0)
    await store.claim("new", ttl_s=10_000, now=10_000.0)  # the first purge ran at 0
    assert raw_rows(db_path, "SELECT key FROM events") == [("new",)]
    assert raw_rows(db_path, "SELECT count(*) FROM channel_files") == [(0,)]


# -- threads --------------------------------------------------------------------------------


async def test_save_thread_upserts_and_never_unmarks_answered(store: Store) -> None:
    assert await store.get_thread(THREAD_KEY) is None
    await store.save_thread(a_thread(created_at=5.0))
    await store.mark_thread_answered(THREAD_KEY)

    stale = a_thread(container_id="cntr_2", file_paths={}, bot_answered=False)
    await store.save_thread(stale)

    stored = await store.get_thread(THREAD_KEY)
    assert stored is not None
    assert stored.container_id == "cntr_2"
    assert stored.file_paths == {}
    assert stored.bot_answered is True
    assert stored.created_at == 5.0
    assert stored.updated_at >= time.time() - 60


async def test_mark_thread_answered_for_unknown_thread_raises_key_error(store: Store) -> None:
    with pytest.raises(KeyError):
        await store.mark_thread_answered("T1:C9:1.0")


# -- files ----------------------------------------------------------------------------------


async def test_save_file_merge_keeps_engine_fields(store: Store) -> None:
    await store.save_file(a_file(**ENGINE_FIELDS, created_at=7.0))
    # The same file seen again in a later Slack event: no engine details, a new url.
    await store.save_file(a_file(url_private_download="https://files.slack.com/new", mimetype=""))

    [stored] = await store.thread_files(THREAD_KEY)
    assert stored == a_file(
        **ENGINE_FIELDS, created_at=7.0, url_private_download="https://files.slack.com/new"
    )

    await store.save_file(a_file(engine_file_id="cfile_2", container_path="/mnt/data/x.csv"))
    [replaced] = await store.thread_files(THREAD_KEY)
    assert (replaced.engine_file_id, replaced.container_path) == ("cfile_2", "/mnt/data/x.csv")
    assert replaced.encoding == "cp949"


async def test_thread_files_are_oldest_shared_first_and_per_thread(store: Store) -> None:
    await store.save_file(a_file(slack_file_id="F3", shared_ts="1712345690.000001"))
    await store.save_file(a_file(slack_file_id="F1", shared_ts="1712345600.000001"))
    await store.save_file(a_file(slack_file_id="F2", shared_ts="1712345680.000001"))
    await store.save_file(a_file(thread_key="T1:C1:other", slack_file_id="F9"))

    files = await store.thread_files(THREAD_KEY)
    assert [f.slack_file_id for f in files] == ["F1", "F2", "F3"]


# -- channel files --------------------------------------------------------------------------


async def test_recent_channel_files_skip_expired_and_come_newest_first(store: Store) -> None:
    await store.remember_channel_file(a_channel_file(slack_file_id="F1", shared_ts="100.1"))
    await store.remember_channel_file(a_channel_file(slack_file_id="F2", shared_ts="300.1"))
    await store.remember_channel_file(
        a_channel_file(slack_file_id="F3", shared_ts="200.1", expires_at=900.0)
    )
    await store.remember_channel_file(a_channel_file(channel="C2", slack_file_id="F4"))

    def ids(files: list[ChannelFileRecord]) -> list[str]:
        return [f.slack_file_id for f in files]

    assert ids(await store.recent_channel_files(team="T1", channel="C1", now=800.0)) == [
        "F2",
        "F3",
        "F1",
    ]
    assert ids(await store.recent_channel_files(team="T1", channel="C1", now=900.0)) == [
        "F2",
        "F1",
    ]
    assert ids(await store.recent_channel_files(team="T1", channel="C1", now=0, limit=1)) == ["F2"]
    assert await store.recent_channel_files(team="T1", channel="C1", now=5000.0) == []


# -- turns ----------------------------------------------------------------------------------


async def test_update_turn_changes_fields_and_stamps_times(store: Store) -> None:
    await store.create_turn(a_turn(created_at=1.0, updated_at=1.0))

    running = await store.update_turn("turn-1", status=RUNNING, response_id="resp_1")
    assert (running.status, running.response_id, running.finished_at) == (RUNNING, "resp_1", None)
    assert running.updated_at > 1.0

    done = await store.update_turn("turn-1", status=DONE, code=["print(1)"], input_tokens=12)
    assert done.finished_at == done.updated_at
    assert done.code == ("print(1)",)
    assert await store.get_turn("turn-1") == done


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"colour": "red"}, TypeError),
        ({"id": "turn-2"}, TypeError),
        ({"code": "print(1)"}, TypeError),
        ({"posted_artifacts": [1, 2]}, TypeError),
        ({"status": "finished"}, ValueError),
    ],
)
async def test_update_turn_rejects_bad_changes(
    store: Store, changes: dict[str, object], error: type[Exception]
) -> None:
    await store.create_turn(a_turn())
    with pytest.raises(error):
        await store.update_turn("turn-1", **changes)
    assert await store.get_turn("turn-1") is not None


async def test_update_of_a_missing_turn_raises_key_error(store: Store) -> None:
    with pytest.raises(KeyError):
        await store.update_turn("nope", status=RUNNING)
    with pytest.raises(KeyError):
        await store.add_posted_artifact("nope", "cfile_1")


async def test_creating_a_turn_twice_is_a_storage_error(store: Store) -> None:
    await store.create_turn(a_turn())
    with pytest.raises(StorageError):
        await store.create_turn(a_turn())


async def test_500_concurrent_turn_writes_all_land(store: Store) -> None:
    await asyncio.gather(*(store.create_turn(a_turn(f"t{i}")) for i in range(500)))
    await asyncio.gather(*(store.update_turn(f"t{i}", last_sequence=i) for i in range(500)))
    await asyncio.gather(*(store.add_posted_artifact("t0", f"cfile_{i}") for i in range(500)))

    assert await store.count_turns() == 500
    turns = await store.thread_turns(THREAD_KEY)
    assert sorted(t.last_sequence or 0 for t in turns) == list(range(500))
    t0 = await store.get_turn("t0")
    assert t0 is not None
    assert sorted(t0.posted_artifacts) == sorted(f"cfile_{i}" for i in range(500))


async def test_add_posted_artifact_keeps_order_and_ignores_repeats(store: Store) -> None:
    await store.create_turn(a_turn())
    for file_id in ("cfile_b", "cfile_a", "cfile_b"):
        await store.add_posted_artifact("turn-1", file_id)
    turn = await store.get_turn("turn-1")
    assert turn is not None
    assert turn.posted_artifacts == ("cfile_b", "cfile_a")


async def test_writes_do_not_block_the_event_loop(store: Store) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    try:
        await asyncio.gather(*(store.create_turn(a_turn(f"t{i}")) for i in range(300)))
    finally:
        task.cancel()
    # Blocking SQLite calls on the loop would finish the whole batch without one tick.
    assert ticks >= 50


async def test_latest_turn_for_message_is_the_highest_attempt(store: Store) -> None:
    for attempt in (2, 3, 1):
        await store.create_turn(a_turn(f"turn-{attempt}", attempt=attempt))
    await store.create_turn(a_turn("other", message_ts="1712345999.000001", attempt=9))

    latest = await store.latest_turn_for_message(THREAD_KEY, "1712345678.000200")
    assert latest is not None and latest.id == "turn-3"
    assert await store.latest_turn_for_message(THREAD_KEY, "1.0") is None


async def test_thread_and_unfinished_turns_come_oldest_first(store: Store) -> None:
    statuses = {"a": RUNNING, "b": DONE, "c": QUEUED, "d": FAILED, "e": RECEIVED, "f": CANCELLED}
    created = {"a": 30.0, "b": 10.0, "c": 20.0, "d": 5.0, "e": 1.0, "f": 2.0}
    for turn_id, status in statuses.items():
        await store.create_turn(a_turn(turn_id, status=status, created_at=created[turn_id]))
    await store.create_turn(a_turn("z", thread_key="T1:C1:other", created_at=0.5))

    assert [t.id for t in await store.unfinished_turns()] == ["z", "e", "c", "a"]
    assert [t.id for t in await store.thread_turns(THREAD_KEY)] == ["e", "f", "d", "b", "c", "a"]


async def test_take_message_stores_once_and_refuses_the_duplicate(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "take.db")
    try:
        turn = TurnRecord(id="t1", thread_key="T:C:1.0", message_ts="1.0", user="U1", question="q")
        files = [FileRecord(thread_key="T:C:1.0", slack_file_id="F1", name="a.csv")]
        assert await store.take_message(key="msg:T:C:1.0", ttl_s=60, files=files, turn=turn)
        again = TurnRecord(id="t2", thread_key="T:C:1.0", message_ts="1.0", user="U1", question="q")
        assert not await store.take_message(key="msg:T:C:1.0", ttl_s=60, files=files, turn=again)
        assert [t.id for t in await store.thread_turns("T:C:1.0")] == ["t1"]
        assert [f.name for f in await store.thread_files("T:C:1.0")] == ["a.csv"]
        # A claim whose turn never got stored is taken over by the redelivery.
        assert await store.claim("msg:T:C:2.0", ttl_s=60)
        lost = TurnRecord(id="t3", thread_key="T:C:2.0", message_ts="2.0", user="U1", question="q")
        assert await store.take_message(key="msg:T:C:2.0", ttl_s=60, files=[], turn=lost)
        # A failure inside leaves nothing half-written: the claim is rolled back too.
        clash = TurnRecord(id="t1", thread_key="T:C:3.0", message_ts="3.0", user="U1", question="q")
        with pytest.raises(StorageError):
            await store.take_message(key="msg:T:C:3.0", ttl_s=60, files=[], turn=clash)
        assert await store.claim("msg:T:C:3.0", ttl_s=60)
    finally:
        await store.close()


async def test_urgent_work_overtakes_queued_bookkeeping(tmp_path: Path) -> None:
    """What an event's acknowledgement waits for does not queue behind turn writes."""
    store = await open_store(tmp_path / "prio.db")
    try:
        turn = TurnRecord(id="t0", thread_key="T:C:0", message_ts="0", user="U", question="q")
        await store.create_turn(turn)
        finished: list[str] = []

        async def write(n: int) -> None:
            await store.update_turn("t0", question=f"q{n}")
            finished.append("write")

        async def claim() -> None:
            await store.claim("msg:urgent", ttl_s=60)
            finished.append("claim")

        writes = [asyncio.ensure_future(write(n)) for n in range(300)]
        await asyncio.sleep(0)  # the writes are queued first
        await asyncio.gather(claim(), *writes)
        assert finished.index("claim") < 100
    finally:
        await store.close()
