"""Slack and engine faults, and stuck runs: one answer, nothing lost, and clear words."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from storage.records import DONE, FAILED
from tests.fakes.openai_model import default_model
from tests.harness import bot_over
from tests.reliability_harness import (
    ANSWER,
    answers,
    ask,
    bot_messages,
    creates,
    fakes,
    stored_turns,
    stream_reopens,
    thread_text,
    with_button,
)

CHART = "<@UBOT> total as a chart"


def _charts(slack: object, event: dict[str, str]) -> list[object]:
    return [f for m in bot_messages(slack, "C1", event["ts"]) for f in m.files]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("method", "status"),
    [
        ("chat.postMessage", 429),
        ("chat.startStream", 429),
        ("chat.stopStream", 429),
        ("upload", 429),
        ("chat.appendStream", 503),
        ("files.completeUploadExternal", 500),
    ],
)
async def test_slack_rate_limits_and_server_errors_lose_nothing(
    tmp_path: Path, method: str, status: int
) -> None:
    async with fakes() as (slack, openai), bot_over(slack, openai, tmp_path / "db") as h:
        slack.fail_next(
            method,
            status=status,
            error="ratelimited" if status == 429 else "fatal_error",
            retry_after=0,
        )
        event = await ask(h, text=CHART)
        await h.settle()
        assert len(answers(slack, "C1", event["ts"])) == 1
        assert len(_charts(slack, event)) == 1
        assert ":warning:" not in thread_text(slack, "C1", event["ts"])
        assert with_button(slack, "C1", event["ts"], "stop_turn") == []
        assert [t.status for t in stored_turns(tmp_path / "db")] == [DONE]


async def test_a_long_answer_arrives_whole_through_rate_limits(tmp_path: Path) -> None:
    async with fakes() as (slack, openai), bot_over(slack, openai, tmp_path / "db") as h:
        slack.fail_next("chat.postMessage", retry_after=0)
        event = await ask(h, text="<@UBOT> long answer please")
        await h.settle()
        expected = default_model(openai.model_calls[0]).text
        paragraphs = expected.count("Paragraph ")
        assert paragraphs > 20
        text = thread_text(slack, "C1", event["ts"])
        for n in range(1, paragraphs + 1):
            assert text.count(f"Paragraph {n}. ") == 1, n


async def test_an_expired_stream_falls_back_to_updating_its_message(tmp_path: Path) -> None:
    async with fakes() as (slack, openai), bot_over(slack, openai, tmp_path / "db") as h:
        slack.stream_expiry_s = 0.05
        openai.event_delay_s = 0.02
        event = await ask(h, text=CHART)
        await h.settle()
        (answer,) = [m for m in bot_messages(slack, "C1", event["ts"]) if ANSWER in m.text]
        # It began as a stream; once Slack refused the expired stream, updates took over.
        assert answer.stream_state == "updated"
        assert slack.calls_to("chat.appendStream") and not slack.calls_to("chat.stopStream")
        assert answer.ts in {c.args["ts"] for c in slack.calls_to("chat.update")}
        assert len(_charts(slack, event)) == 1


async def test_files_slack_keeps_refusing_are_named_in_the_thread(tmp_path: Path) -> None:
    async with fakes() as (slack, openai), bot_over(slack, openai, tmp_path / "db") as h:
        slack.fail_next("files.completeUploadExternal", status=200, error="internal_error", times=9)
        event = await ask(h, text=CHART)
        await h.settle()
        assert len(answers(slack, "C1", event["ts"])) == 1
        assert "chart.png" in thread_text(slack, "C1", event["ts"])
        assert [t.status for t in stored_turns(tmp_path / "db")] == [DONE]


@pytest.mark.parametrize("status", [429, 500])
async def test_an_engine_refusal_is_retried_into_one_answer(tmp_path: Path, status: int) -> None:
    async with fakes() as (slack, openai), bot_over(slack, openai, tmp_path / "db") as h:
        openai.fail_next("POST", "/v1/responses", status=status, retry_after=0.1)
        event = await ask(h)
        await h.settle()
        assert len(answers(slack, "C1", event["ts"])) == 1
        assert len(creates(openai)) == 2


async def test_an_exhausted_quota_is_told_plainly_and_logged_for_the_operator(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    async with fakes() as (slack, openai), bot_over(slack, openai, tmp_path / "db") as h:
        openai.fail_next("POST", "/v1/responses", status=429, code="insufficient_quota", times=5)
        event = await ask(h)
        await h.settle()
        text = thread_text(slack, "C1", event["ts"])
        assert "quota" in text and "billing" in text
        assert with_button(slack, "C1", event["ts"], "retry_turn") == []
        assert len(creates(openai)) == 1
        assert any(
            r.levelno == logging.ERROR and "insufficient_quota" in r.getMessage()
            for r in caplog.records
        )


@pytest.mark.parametrize(
    ("code", "reason", "retry"),
    [
        ("server_error", "The analysis engine had an internal error: the GPU caught fire", True),
        ("invalid_prompt", "The analysis engine refused the question: the GPU caught fire", False),
    ],
)
async def test_a_failed_response_is_reported_with_its_reason(
    tmp_path: Path, code: str, reason: str, retry: bool
) -> None:
    async with fakes() as (slack, openai), bot_over(slack, openai, tmp_path / "db") as h:
        openai.fail_next_response(code=code, message="the GPU caught fire")
        event = await ask(h)
        await h.settle()
        assert reason in thread_text(slack, "C1", event["ts"])
        assert bool(with_button(slack, "C1", event["ts"], "retry_turn")) is retry
        assert with_button(slack, "C1", event["ts"], "stop_turn") == []
        assert slack.current_status("C1", event["ts"]) == ""
        assert [t.status for t in stored_turns(tmp_path / "db")] == [FAILED]


async def test_a_cut_stream_and_an_expired_sandbox_still_give_one_answer_each(
    tmp_path: Path,
) -> None:
    async with fakes() as (slack, openai), bot_over(slack, openai, tmp_path / "db") as h:
        openai.cut_next_stream_after(6)
        event = await ask(h)
        await h.settle()
        for container in list(openai.containers):
            openai.expire_container(container)
        again = slack.post_user_message(
            channel="C1", user="U1", text="and the total again?", thread_ts=event["ts"]
        )
        assert await h.send_event(again) == 200
        await h.settle()
        assert len(answers(slack, "C1", event["ts"])) == 2
        # The follow-up's first create is refused (its conversation names the dead sandbox).
        assert [r.status for r in creates(openai)] == [200, 400, 200]
        assert ":warning:" not in thread_text(slack, "C1", event["ts"])


async def test_a_run_past_the_time_limit_is_cancelled_and_reported(tmp_path: Path) -> None:
    async with fakes() as (slack, openai):
        openai.run_delay_s = 5
        async with bot_over(slack, openai, tmp_path / "db", INSIGHTBOT_RUN_TIMEOUT_S="1") as h:
            event = await ask(h)
            await asyncio.wait_for(h.bot.runner.wait_idle(), 4)
        text = thread_text(slack, "C1", event["ts"])
        assert "took longer than" in text and ANSWER not in text
        assert with_button(slack, "C1", event["ts"], "retry_turn")
        assert [r.status for r in openai.responses.values()] == ["cancelled"]
        assert with_button(slack, "C1", event["ts"], "stop_turn") == []
        (turn,) = stored_turns(tmp_path / "db")
        assert (turn.status, turn.error) == (FAILED, "timeout")


async def test_a_silent_stream_is_reopened_and_the_answer_still_arrives(tmp_path: Path) -> None:
    async with fakes() as (slack, openai):
        openai.run_delay_s = 1.5
        # A 3 s limit means a stream quiet for 1 s is reopened.
        async with bot_over(slack, openai, tmp_path / "db", INSIGHTBOT_RUN_TIMEOUT_S="3") as h:
            event = await ask(h)
            await h.settle()
        assert len(answers(slack, "C1", event["ts"])) == 1
        assert stream_reopens(openai)
        assert len(creates(openai)) == 1
