"""Nothing acknowledged is lost, and a restart answers every question exactly once.

The bot is stopped the way SIGTERM stops it (a drain with a tiny INSIGHTBOT_DRAIN_S cancels
what runs) and started again on the same database; the fakes live on, so the engine's
background run continues meanwhile. The SIGKILL case is in test_reliability_subprocess.py.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

from storage.records import DONE, FAILED, QUEUED, RUNNING
from tests.fakes.slack_payloads import as_app_mention
from tests.harness import bot_over
from tests.reliability_harness import (
    ANSWER,
    answers,
    ask,
    bot_messages,
    click,
    creates,
    fakes,
    stored_turns,
    stream_reopens,
    thread_text,
    wait_until,
    with_button,
)

CRASH = {"INSIGHTBOT_DRAIN_S": "0.05"}


def _sql(db: Path, statement: str) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute(statement)


def _started(db: Path) -> bool:
    return any(t.response_id for t in stored_turns(db))


async def test_a_message_that_could_not_be_stored_is_not_acknowledged(tmp_path: Path) -> None:
    db = tmp_path / "db"
    async with fakes() as (slack, openai), bot_over(slack, openai, db) as h:
        _sql(
            db,
            "CREATE TRIGGER refuse BEFORE INSERT ON turns BEGIN SELECT RAISE(ABORT, 'disk full'); END",
        )
        file = slack.add_file(name="sales.csv", content=b"a,b\n1,2\n")
        event = slack.post_user_message(
            channel="C1", user="U1", text="<@UBOT> total?", files=[file]
        )
        # Not acknowledged: Slack delivers it again.
        assert await h.send_event(event, event_id="Ev1") != 200
        await h.settle()
        assert bot_messages(slack, "C1", event["ts"]) == [] and creates(openai) == []

        _sql(db, "DROP TRIGGER refuse")
        assert await h.send_event(event, event_id="Ev1", retry_num=1) == 200
        assert await h.send_event(event, event_id="Ev1", retry_num=2) == 200
        await h.settle()
        assert len(answers(slack, "C1", event["ts"], "1 rows, total 2")) == 1
        assert len(creates(openai)) == 1


async def test_a_run_cut_by_shutdown_is_resumed_into_the_same_message(tmp_path: Path) -> None:
    db = tmp_path / "db"
    async with fakes() as (slack, openai):
        openai.run_delay_s = 0.6
        async with bot_over(slack, openai, db, **CRASH) as h:
            event = await ask(h)
            await wait_until(lambda: _started(db))
        (turn,) = stored_turns(db)
        assert turn.status == RUNNING and turn.answer_ts and turn.status_ts
        assert answers(slack, "C1", event["ts"]) == []

        async with bot_over(slack, openai, db) as h:
            await h.settle()
        (done,) = stored_turns(db)
        assert done.status == DONE
        (answer,) = [m for m in bot_messages(slack, "C1", event["ts"]) if ANSWER in m.text]
        assert answer.ts == turn.answer_ts, "the answer did not go into the message made first"
        assert len(creates(openai)) == 1
        assert stream_reopens(openai), "the run was not followed from its cursor"
        assert with_button(slack, "C1", event["ts"], "stop_turn") == []
        assert "eyes" not in slack.reactions("C1", event["ts"])


async def test_a_run_that_ended_while_the_bot_was_down_is_posted_on_start(tmp_path: Path) -> None:
    db = tmp_path / "db"
    async with fakes() as (slack, openai):
        openai.run_delay_s = 0.3
        async with bot_over(slack, openai, db, **CRASH) as h:
            event = await ask(h, text="<@UBOT> total as a chart")
            await wait_until(lambda: _started(db))
        await wait_until(lambda: all(r.status == "completed" for r in openai.responses.values()))

        async with bot_over(slack, openai, db) as h:
            await h.settle()
        assert len(answers(slack, "C1", event["ts"])) == 1
        charts = [f for m in bot_messages(slack, "C1", event["ts"]) for f in m.files]
        assert len(charts) == 1 and charts[0].content.startswith(b"\x89PNG")
        assert len(creates(openai)) == 1


async def test_a_restart_after_everything_was_posted_posts_nothing_again(tmp_path: Path) -> None:
    """The worst moment: answer, continuations and charts are out, but DONE was not stored."""
    db = tmp_path / "db"
    async with fakes() as (slack, openai):
        async with bot_over(slack, openai, db) as h:
            event = await ask(h, text="<@UBOT> long answer with a chart please")
            await h.settle()
        before = [(m.ts, m.text, len(m.files)) for m in bot_messages(slack, "C1", event["ts"])]
        assert sum(n for _ts, _text, n in before) == 1 and len(before) > 2
        _sql(db, "UPDATE turns SET status = 'running'")

        async with bot_over(slack, openai, db) as h:
            await h.settle()
        after = [(m.ts, m.text, len(m.files)) for m in bot_messages(slack, "C1", event["ts"])]
        assert after == before
        assert [t.status for t in stored_turns(db)] == [DONE]
        assert len(creates(openai)) == 1


async def test_a_run_the_engine_no_longer_has_gets_an_apology_with_retry(tmp_path: Path) -> None:
    db = tmp_path / "db"
    async with fakes() as (slack, openai):
        openai.run_delay_s = 0.5
        async with bot_over(slack, openai, db, **CRASH) as h:
            event = await ask(h)
            await wait_until(lambda: _started(db))
        for run in openai.responses.values():
            assert run.task is not None
            run.task.cancel()
        openai.responses.clear()
        openai.run_delay_s = 0

        async with bot_over(slack, openai, db) as h:
            await h.settle()
            assert "could not pick the analysis up again" in thread_text(slack, "C1", event["ts"])
            (retry,) = with_button(slack, "C1", event["ts"], "retry_turn")
            await click(h, retry, action_id="retry_turn", user="U1")
            await h.settle()
        assert len(answers(slack, "C1", event["ts"])) == 1
        assert [t.status for t in stored_turns(db)] == [FAILED, DONE]


async def test_a_run_whose_id_was_never_stored_is_not_started_again(tmp_path: Path) -> None:
    db = tmp_path / "db"
    async with fakes() as (slack, openai):
        openai.run_delay_s = 0.3
        async with bot_over(slack, openai, db, **CRASH) as h:
            event = await ask(h)
            await wait_until(lambda: _started(db))
        # As if the process had died after asking for the run but before storing its id.
        _sql(db, "UPDATE turns SET response_id = NULL, last_sequence = NULL, run_requested = 1")

        async with bot_over(slack, openai, db) as h:
            await h.settle()
        text = thread_text(slack, "C1", event["ts"])
        assert "cannot tell whether it ran" in text and ANSWER not in text
        assert with_button(slack, "C1", event["ts"], "retry_turn")
        assert len(creates(openai)) == 1
        assert [t.status for t in stored_turns(db)] == [FAILED]


async def test_queued_turns_are_picked_up_after_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "db"
    one_slot = {"INSIGHTBOT_MAX_CONCURRENT_RUNS": "1"}
    async with fakes() as (slack, openai):
        openai.run_delay_s = 0.5
        async with bot_over(slack, openai, db, **CRASH, **one_slot) as h:
            first = await ask(h, channel="C1")
            await wait_until(lambda: _started(db))
            other = await ask(h, channel="C2")
            same = h.slack.post_user_message(
                channel="C1", user="U1", text="<@UBOT> and again?", thread_ts=first["ts"]
            )
            assert await h.send_event(as_app_mention(same)) == 200
            await wait_until(lambda: [t.status for t in stored_turns(db)].count(QUEUED) == 2)
        assert answers(slack, "C1", first["ts"]) == []

        async with bot_over(slack, openai, db, **one_slot) as h:
            await h.settle()
        assert len(answers(slack, "C1", first["ts"])) == 2
        assert len(answers(slack, "C2", other["ts"])) == 1
        assert len(creates(openai)) == 3
        assert [t.status for t in stored_turns(db)] == [DONE, DONE, DONE]


async def test_shutdown_lets_a_running_turn_finish_and_starts_no_new_one(tmp_path: Path) -> None:
    db = tmp_path / "db"
    async with fakes() as (slack, openai):
        openai.run_delay_s = 0.3
        async with bot_over(slack, openai, db, INSIGHTBOT_MAX_CONCURRENT_RUNS="1") as h:
            first = await ask(h, channel="C1")
            await wait_until(lambda: _started(db))
            waiting = await ask(h, channel="C2")
            await wait_until(lambda: "in line" in thread_text(slack, "C2", waiting["ts"]))
        assert len(answers(slack, "C1", first["ts"])) == 1
        assert len(creates(openai)) == 1
        assert [t.status for t in stored_turns(db)] == [DONE, QUEUED]
        assert "in line" not in thread_text(slack, "C2", waiting["ts"])

        async with bot_over(slack, openai, db) as h:
            await h.settle()
        assert len(answers(slack, "C2", waiting["ts"])) == 1


async def test_shutdown_is_bounded_by_the_drain_time(tmp_path: Path) -> None:
    db = tmp_path / "db"
    async with fakes() as (slack, openai):
        openai.run_delay_s = 10
        async with bot_over(slack, openai, db, INSIGHTBOT_DRAIN_S="0.3") as h:
            await ask(h)
            await wait_until(lambda: _started(db))
            started = time.monotonic()
            await asyncio.wait_for(h.bot.runner.drain(h.settings.drain_s), 3)
            assert time.monotonic() - started < 1.5
            assert h.bot.runner.closing
        (turn,) = stored_turns(db)
        assert turn.status == RUNNING and turn.response_id and turn.last_sequence is not None
