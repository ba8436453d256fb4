"""Buttons check who and where: Retry only by the asker or an admin and only in the turn's own
thread; Show code posts a turn's code once, then points to it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from storage import open_store
from storage.migrations import migrations
from storage.records import DONE, FAILED
from tests.fakes.slack_payloads import block_actions
from tests.harness import Harness, bot_over
from tests.reliability_harness import (
    ANSWER,
    answers,
    ask,
    bot_messages,
    buttons,
    click,
    creates,
    fakes,
    stored_turns,
    thread_text,
    wait_until,
    with_button,
)


async def _failed_turn(h: Harness) -> tuple[dict[str, object], str]:
    """U1 asks in C1 and the run fails: the question's event and its Retry button's value."""
    h.openai.fail_next_response(code="server_error", message="The model crashed.")
    event = await ask(h)
    await h.settle()
    (retry,) = with_button(h.slack, "C1", str(event["ts"]), "retry_turn")
    return event, next(v for a, v in buttons(retry) if a == "retry_turn")


@pytest.mark.parametrize(
    ("clicker", "admins", "retried"),
    [("U2", "", False), ("UADMIN", "UADMIN", True), ("U1", "", True)],
    ids=["a stranger", "an admin", "the asker"],
)
async def test_retry_is_for_the_asker_and_admins_only(
    tmp_path: Path, clicker: str, admins: str, retried: bool
) -> None:
    async with (
        fakes() as (slack, openai),
        bot_over(slack, openai, tmp_path / "db", INSIGHTBOT_ADMINS=admins) as h,
    ):
        event, _ = await _failed_turn(h)
        (retry,) = with_button(slack, "C1", event["ts"], "retry_turn")
        await click(h, retry, action_id="retry_turn", user=clicker)
        await h.settle()

        assert len(creates(openai)) == (2 if retried else 1)
        assert [t.status for t in stored_turns(tmp_path / "db")] == (
            [FAILED, DONE] if retried else [FAILED]
        )
        if retried:
            assert slack.ephemeral_messages == []
            assert len(answers(slack, "C1", event["ts"])) == 1
        else:
            (note,) = slack.ephemeral_messages
            assert note["user"] == "U2" and note["thread_ts"] == event["ts"]
            assert "Only <@U1>" in note["text"] and "retry" in note["text"]
            assert with_button(slack, "C1", event["ts"], "retry_turn") == [retry], "edited"


@pytest.mark.parametrize("elsewhere", ["another channel", "another thread"])
async def test_retry_from_a_message_outside_the_turns_thread_does_nothing(
    tmp_path: Path, elsewhere: str
) -> None:
    async with fakes() as (slack, openai), bot_over(slack, openai, tmp_path / "db") as h:
        event, turn_id = await _failed_turn(h)
        channel = "C2" if elsewhere == "another channel" else "C1"
        other = await ask(h, channel=channel)  # answered: a bot message that is not the turn's
        await h.settle()
        (target,) = answers(slack, channel, other["ts"])
        message = next(m for m in bot_messages(slack, channel, other["ts"]) if m.text == target)
        stored = slack.find_message(channel, message.ts)
        assert stored is not None
        untouched = (stored.text, repr(stored.blocks), stored.edited_ts)
        updates = len(slack.calls_to("chat.update"))

        payload = block_actions(
            action_id="retry_turn",
            value=turn_id,
            user="U1",  # the asker: only "where" is wrong
            channel=channel,
            message_ts=message.ts,
            thread_ts=other["ts"],
        )
        assert await h.click(payload) == 200
        await h.settle()

        assert len(creates(openai)) == 2  # the failed run and the other question: no retry
        assert len(slack.calls_to("chat.update")) == updates
        assert (stored.text, repr(stored.blocks), stored.edited_ts) == untouched
        assert [t.attempt for t in stored_turns(tmp_path / "db")] == [1, 1]
        (note,) = slack.ephemeral_messages
        assert note["user"] == "U1" and note["channel"] == channel
        assert "does not belong" in note["text"]
        assert with_button(slack, "C1", str(event["ts"]), "retry_turn"), "the Retry button went"


async def test_show_code_posts_the_code_once_then_points_to_it(tmp_path: Path) -> None:
    async with fakes() as (slack, openai), bot_over(slack, openai, tmp_path / "db") as h:
        event = await ask(h)
        await h.settle()
        (answer,) = with_button(slack, "C1", event["ts"], "show_code")
        before = len(bot_messages(slack, "C1", event["ts"]))

        await click(h, answer, action_id="show_code", user="U2")
        await h.settle()
        await click(h, answer, action_id="show_code", user="U3")
        await h.settle()

        posted = bot_messages(slack, "C1", event["ts"])[before:]
        assert len(posted) == 1 and "import" in posted[0].text
        (note,) = slack.ephemeral_messages
        assert note["user"] == "U3" and note["thread_ts"] == event["ts"]
        assert "already posted" in note["text"]
        assert f"/archives/C1/p{posted[0].ts.replace('.', '')}" in note["text"]
        assert ANSWER in thread_text(slack, "C1", event["ts"])
        with sqlite3.connect(tmp_path / "db") as conn:
            (stored,) = conn.execute("SELECT code_posted_ts FROM turns").fetchone()
        assert stored == posted[0].ts


async def test_a_double_click_on_show_code_posts_once(tmp_path: Path) -> None:
    async with fakes() as (slack, openai), bot_over(slack, openai, tmp_path / "db") as h:
        event = await ask(h)
        await h.settle()
        (answer,) = with_button(slack, "C1", event["ts"], "show_code")
        before = len(bot_messages(slack, "C1", event["ts"]))
        slack.latency_s = 0.2  # the first post is still on its way when the second click lands
        await click(h, answer, action_id="show_code", user="U1")
        await click(h, answer, action_id="show_code", user="U1")
        await wait_until(lambda: bool(slack.ephemeral_messages))
        await h.settle()
        assert len(bot_messages(slack, "C1", event["ts"])) == before + 1


async def test_a_database_from_before_the_code_field_gains_it(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    old = Database(db)  # the first schema only, as an older release left it
    migrations.apply(old, stop_before="m002_code_posted_ts")
    old.close()
    store = await open_store(db)
    await store.close()
    with sqlite3.connect(db) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(turns)")}
    assert "code_posted_ts" in columns
