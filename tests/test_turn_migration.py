"""Upgrading a database written before the turn's hidden encodings became fields
(``last_sequence = -1`` for "a run may exist", ``answer-part:<n>`` markers among the posted
files): every turn keeps its meaning, and a bot started on it resumes or fails each turn
exactly as before, with no second answer and none lost."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from storage import open_store
from storage.migrations import migrations
from storage.records import DONE, FAILED, QUEUED, RUNNING
from tests.harness import bot_over
from tests.reliability_harness import (
    ANSWER,
    answers,
    ask,
    bot_messages,
    creates,
    fakes,
    stored_turns,
    thread_text,
    wait_until,
    with_button,
)

CRASH = {"INSIGHTBOT_DRAIN_S": "0.05"}
BEFORE = "m004_turn_progress"


def old_database(path: Path) -> Database:
    """A database with the schema as it was before the turn's progress got its own fields."""
    db = Database(path)
    migrations.apply(db, stop_before=BEFORE)
    return db


def write_as_before(new_db: Path, old_db: Path) -> None:
    """Copy a database the current code wrote into the earlier schema and encodings."""
    old = old_database(old_db)
    with sqlite3.connect(new_db) as source:
        source.row_factory = sqlite3.Row
        for table in ("threads", "files", "channel_files", "events", "turns"):
            columns = set(old[table].columns_dict)
            for row in source.execute(f"SELECT * FROM {table}"):
                values = dict(row)
                if table == "turns":
                    values = _encoded_as_before(values)
                old[table].insert({k: v for k, v in values.items() if k in columns})
    old.close()


def _encoded_as_before(row: dict[str, Any]) -> dict[str, Any]:
    if row["run_requested"] and row["response_id"] is None:
        row["last_sequence"] = -1
    parts = [f"answer-part:{n}" for n in json.loads(row["answer_parts"])]
    row["posted_artifacts"] = json.dumps([*json.loads(row["posted_artifacts"]), *parts])
    return row


async def test_each_hidden_encoding_becomes_its_field(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = old_database(path)
    base = {
        "thread_key": "T:C:1",
        "message_ts": "1",
        "user": "U1",
        "question": "q",
        "attempt": 1,
        "message_json": "{}",
        "input_tokens": 0,
        "output_tokens": 0,
        "created_at": 1.0,
        "updated_at": 1.0,
    }
    rows = [
        {"id": "requested", "status": RUNNING, "last_sequence": -1},
        {"id": "started", "status": RUNNING, "response_id": "resp_1", "last_sequence": 7},
        {
            "id": "posted",
            "status": RUNNING,
            "response_id": "resp_2",
            "last_sequence": 40,
            "posted_artifacts": json.dumps(["cfile_a", "answer-part:2", "answer-part:1"]),
        },
        {"id": "queued", "status": QUEUED},
        {"id": "done", "status": DONE, "posted_artifacts": json.dumps(["answer-part:1"])},
        {"id": "failed", "status": FAILED, "error": "timeout"},
    ]
    for row in rows:
        old["turns"].insert({**base, **row})
    old.close()

    store = await open_store(path)
    try:
        turns = {t.id: t for t in [await store.get_turn(row["id"]) for row in rows] if t}
    finally:
        await store.close()

    assert turns["requested"].run_requested and turns["requested"].last_sequence is None
    assert not turns["started"].run_requested and turns["started"].last_sequence == 7
    assert turns["posted"].posted_artifacts == ("cfile_a",)
    assert turns["posted"].answer_parts == (1, 2)
    assert turns["done"].posted_artifacts == () and turns["done"].answer_parts == (1,)
    assert (turns["queued"].status, turns["failed"].error) == (QUEUED, "timeout")


async def test_a_run_in_flight_at_the_upgrade_is_resumed_into_its_message(tmp_path: Path) -> None:
    new_db, old_db = tmp_path / "new.db", tmp_path / "old.db"
    async with fakes() as (slack, openai):
        openai.run_delay_s = 0.6
        async with bot_over(slack, openai, new_db, **CRASH) as h:
            event = await ask(h)
            await wait_until(lambda: any(t.response_id for t in stored_turns(new_db)))
        (before,) = stored_turns(new_db)
        write_as_before(new_db, old_db)

        async with bot_over(slack, openai, old_db) as h:
            await h.settle()
        (after,) = stored_turns(old_db)
        assert after.status == DONE
        (answer,) = [m for m in bot_messages(slack, "C1", event["ts"]) if ANSWER in m.text]
        assert answer.ts == before.answer_ts
        assert len(creates(openai)) == 1


async def test_a_run_requested_before_the_upgrade_is_not_started_again(tmp_path: Path) -> None:
    new_db, old_db = tmp_path / "new.db", tmp_path / "old.db"
    async with fakes() as (slack, openai):
        openai.run_delay_s = 0.3
        async with bot_over(slack, openai, new_db, **CRASH) as h:
            event = await ask(h)
            await wait_until(lambda: any(t.response_id for t in stored_turns(new_db)))
        with sqlite3.connect(new_db) as conn:  # as if it died before storing the run's id
            conn.execute("UPDATE turns SET response_id = NULL, last_sequence = NULL")
        write_as_before(new_db, old_db)

        async with bot_over(slack, openai, old_db) as h:
            await h.settle()
        text = thread_text(slack, "C1", event["ts"])
        assert "cannot tell whether it ran" in text and ANSWER not in text
        assert with_button(slack, "C1", event["ts"], "retry_turn")
        assert len(creates(openai)) == 1
        assert [t.status for t in stored_turns(old_db)] == [FAILED]


async def test_continuations_posted_before_the_upgrade_are_not_posted_again(
    tmp_path: Path,
) -> None:
    new_db, old_db = tmp_path / "new.db", tmp_path / "old.db"
    async with fakes() as (slack, openai):
        async with bot_over(slack, openai, new_db) as h:
            event = await ask(h, text="<@UBOT> long answer with a chart please")
            await h.settle()
        before = [(m.ts, m.text, len(m.files)) for m in bot_messages(slack, "C1", event["ts"])]
        assert len(before) > 2, "the answer needs continuation messages for this test"
        with sqlite3.connect(new_db) as conn:  # everything posted, "done" not yet stored
            conn.execute("UPDATE turns SET status = 'running'")
        write_as_before(new_db, old_db)

        async with bot_over(slack, openai, old_db) as h:
            await h.settle()
        after = [(m.ts, m.text, len(m.files)) for m in bot_messages(slack, "C1", event["ts"])]
        assert after == before
        assert [t.status for t in stored_turns(old_db)] == [DONE]
        assert len(creates(openai)) == 1


async def test_turns_waiting_at_the_upgrade_are_answered_once(tmp_path: Path) -> None:
    new_db, old_db = tmp_path / "new.db", tmp_path / "old.db"
    one_slot = {"INSIGHTBOT_MAX_CONCURRENT_RUNS": "1"}
    async with fakes() as (slack, openai):
        openai.run_delay_s = 0.5
        async with bot_over(slack, openai, new_db, **CRASH, **one_slot) as h:
            first = await ask(h, channel="C1")
            await wait_until(lambda: any(t.response_id for t in stored_turns(new_db)))
            other = await ask(h, channel="C2", user="U2")
            await wait_until(lambda: [t.status for t in stored_turns(new_db)].count(QUEUED) == 1)
        write_as_before(new_db, old_db)

        async with bot_over(slack, openai, old_db, **one_slot) as h:
            await h.settle()
        assert len(answers(slack, "C1", first["ts"])) == 1
        assert len(answers(slack, "C2", other["ts"])) == 1
        assert len(creates(openai)) == 2
        assert [t.status for t in stored_turns(old_db)] == [DONE, DONE]
