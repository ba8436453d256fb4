"""Stop and Retry buttons, and the global queue with its visible position."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from storage.records import CANCELLED, DONE
from tests.fakes.openai_model import ModelContext, ModelResult, default_model
from tests.harness import bot_over
from tests.reliability_harness import (
    ANSWER,
    answers,
    ask,
    click,
    creates,
    fakes,
    stored_turns,
    thread_text,
    wait_until,
    with_button,
)


async def test_every_run_shows_a_stop_button_that_is_gone_when_the_answer_is_there(
    tmp_path: Path,
) -> None:
    async with fakes() as (slack, openai), bot_over(slack, openai, tmp_path / "db") as h:
        event = await ask(h)
        await wait_until(lambda: bool(with_button(slack, "C1", event["ts"], "stop_turn")))
        await h.settle()
        assert answers(slack, "C1", event["ts"])
        assert with_button(slack, "C1", event["ts"], "stop_turn") == []
        working = [c.args["ts"] for c in slack.calls_to("chat.delete")]
        assert working, "the working message was not removed"


@pytest.mark.parametrize(
    ("clicker", "admins"),
    [("U1", ""), ("UADMIN", "UADMIN,UOTHER")],
    ids=["the asker", "an admin"],
)
async def test_stop_cancels_the_run_and_says_who_stopped_it(
    tmp_path: Path, clicker: str, admins: str
) -> None:
    async with fakes() as (slack, openai):
        openai.run_delay_s = 5
        async with bot_over(slack, openai, tmp_path / "db", INSIGHTBOT_ADMINS=admins) as h:
            event = await ask(h)
            await wait_until(lambda: bool(openai.responses))
            working = with_button(slack, "C1", event["ts"], "stop_turn")[0]
            await click(h, working, action_id="stop_turn", user=clicker)
            await asyncio.wait_for(h.settle(), 4)  # well before the run would have ended

            text = thread_text(slack, "C1", event["ts"])
            assert f"Stopped by <@{clicker}>" in text
            assert ANSWER not in text
            (response,) = openai.responses.values()
            assert response.status == "cancelled"
            assert with_button(slack, "C1", event["ts"], "stop_turn") == []
            assert [t.status for t in stored_turns(tmp_path / "db")] == [CANCELLED]
            assert h.slack.current_status("C1", event["ts"]) == ""


async def test_someone_else_cannot_stop_a_run_and_is_told_privately(tmp_path: Path) -> None:
    async with fakes() as (slack, openai):
        openai.run_delay_s = 0.5
        async with bot_over(slack, openai, tmp_path / "db") as h:
            event = await ask(h)
            await wait_until(lambda: bool(openai.responses))
            working = with_button(slack, "C1", event["ts"], "stop_turn")[0]
            await click(h, working, action_id="stop_turn", user="U2")
            await h.settle()

            assert answers(slack, "C1", event["ts"]), "the run was stopped by someone else"
            (note,) = slack.ephemeral_messages
            assert note["user"] == "U2" and "<@U1>" in note["text"]
            assert "Stopped" not in thread_text(slack, "C1", event["ts"])


async def test_retry_runs_the_question_again_with_the_stored_files(tmp_path: Path) -> None:
    async with fakes() as (slack, openai), bot_over(slack, openai, tmp_path / "db") as h:
        openai.fail_next_response(code="server_error", message="The model crashed.")
        event = await ask(h)
        await h.settle()
        text = thread_text(slack, "C1", event["ts"])
        assert "The model crashed." in text and ANSWER not in text
        (retry,) = with_button(slack, "C1", event["ts"], "retry_turn")
        downloads, uploads = len(slack.downloads), len(openai.requests_to("POST", "/v1/files"))

        await click(h, retry, action_id="retry_turn", user="U1")
        await click(h, retry, action_id="retry_turn", user="U1")  # a double click
        await h.settle()

        assert len(answers(slack, "C1", event["ts"])) == 1
        assert len(creates(openai)) == 2
        assert len(slack.downloads) == downloads, "a stored file was downloaded again"
        assert len(openai.requests_to("POST", "/v1/files")) == uploads
        assert with_button(slack, "C1", event["ts"], "retry_turn") == []
        assert "Trying again, as <@U1> asked" in thread_text(slack, "C1", event["ts"])
        turns = stored_turns(tmp_path / "db")
        assert [(t.attempt, t.message_ts) for t in turns] == [(1, event["ts"]), (2, event["ts"])]
        assert turns[-1].status == DONE


async def test_runs_beyond_the_limit_wait_in_order_with_their_position_shown(
    tmp_path: Path,
) -> None:
    running: list[int] = []

    def counting_model(context: ModelContext) -> ModelResult:
        running.append(
            sum(r.status in ("queued", "in_progress") for r in openai.responses.values())
        )
        return default_model(context)

    async with fakes() as (slack, openai):
        openai.model = counting_model
        openai.run_delay_s = 0.3
        async with bot_over(
            slack, openai, tmp_path / "db", INSIGHTBOT_MAX_CONCURRENT_RUNS="1"
        ) as h:
            first = await ask(h, channel="C1")
            await wait_until(lambda: bool(openai.responses))
            second = await ask(h, channel="C2")
            third = await ask(h, channel="C3")
            await wait_until(lambda: "number 2 in line" in thread_text(slack, "C3", third["ts"]))
            assert "number 1 in line" in thread_text(slack, "C2", second["ts"])
            await h.settle()

        for event, channel in ((first, "C1"), (second, "C2"), (third, "C3")):
            assert len(answers(slack, channel, event["ts"])) == 1
            assert "in line" not in thread_text(slack, channel, event["ts"]), "notice left"
        assert running == [1, 1, 1]
        # The third question's notice moved from 2 to 1 before its turn came, in order.
        moved = [c for c in slack.calls_to("chat.update") if "in line" in c.args.get("text", "")]
        assert [c.args["channel"] for c in moved] == ["C3"]
        assert "number 1 in line" in moved[0].args["text"]
        starts = [r.json["conversation"] for r in creates(openai)]
        assert len(set(starts)) == 3
