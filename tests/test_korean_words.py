"""A Korean asker reads Korean end to end: file refusals, a deleted file, engine failures,
the failure frame and a timeout, each seen in the fake Slack as a user would see it."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from storage.records import FAILED
from tests.harness import bot_over
from tests.reliability_harness import ANSWER, ask, fakes, stored_turns, thread_text, with_button

KOREAN_QUESTION = "<@UBOT> 지역별 합계를 알려 주세요"
HANGUL = re.compile("[\uac00-\ud7a3]")
FRAME = ":warning: 분석을 끝내지 못했어요."  # every failure told in a Korean thread starts so


def _english_sentences(text: str) -> list[str]:
    """Lines of the bot's words with no Hangul at all (file names and the server's own words
    are quoted inside Korean sentences, so a line without Hangul is an English sentence)."""
    return [line for line in text.splitlines() if line.strip() and not HANGUL.search(line)]


async def test_a_refused_file_type_is_explained_in_korean(tmp_path: Path) -> None:
    async with fakes() as (slack, openai), bot_over(slack, openai, tmp_path / "db") as h:
        exe = slack.add_file(
            name="setup.exe",
            content=b"MZ\x90\x00",
            mimetype="application/octet-stream",
            filetype="binary",
        )
        event = await ask(h, text=KOREAN_QUESTION, files=[exe])
        await h.settle()
        text = thread_text(slack, "C1", event["ts"])
        assert "사용할 수 없는 파일이 있어요" in text
        assert "*setup.exe* 파일은 읽을 수 없는 형식이에요" in text
        assert "이미지(PNG, JPG, GIF)" in text  # the supported types, in Korean too
        assert "I can't analyse" not in text and not _english_sentences(text)
        assert openai.requests_to("POST", "/v1/responses") == []


async def test_a_deleted_file_is_told_in_korean(tmp_path: Path) -> None:
    async with fakes() as (slack, openai), bot_over(slack, openai, tmp_path / "db") as h:
        gone = slack.add_file(name="old.csv", content=b"a,b\n1,2\n")
        slack.delete_file(gone["id"])
        event = await ask(h, text=KOREAN_QUESTION, files=[gone])
        await h.settle()
        text = thread_text(slack, "C1", event["ts"])
        assert "old.csv 파일이 삭제되었거나 더 이상 저에게 보이지 않아요" in text
        assert "was deleted" not in text and not _english_sentences(text)


async def test_a_failed_response_is_told_in_korean_with_the_servers_words(
    tmp_path: Path,
) -> None:
    async with fakes() as (slack, openai), bot_over(slack, openai, tmp_path / "db") as h:
        openai.fail_next_response(code="server_error", message="the GPU caught fire")
        event = await ask(h, text=KOREAN_QUESTION)
        await h.settle()
        text = thread_text(slack, "C1", event["ts"])
        assert FRAME in text
        assert "분석 엔진 내부 오류가 생겼어요: the GPU caught fire" in text
        assert "internal error" not in text
        (retry,) = with_button(slack, "C1", event["ts"], "retry_turn")
        assert "다시 시도" in str(retry.blocks)
        assert [t.error for t in stored_turns(tmp_path / "db")] == ["response_failed"]


async def test_an_exhausted_quota_is_told_in_korean(tmp_path: Path) -> None:
    async with fakes() as (slack, openai), bot_over(slack, openai, tmp_path / "db") as h:
        openai.fail_next("POST", "/v1/responses", status=429, code="insufficient_quota", times=5)
        event = await ask(h, text=KOREAN_QUESTION)
        await h.settle()
        text = thread_text(slack, "C1", event["ts"])
        assert FRAME in text and "분석 엔진의 사용 한도를 모두 써서" in text
        assert "quota" not in text


async def test_an_engine_error_outside_the_run_is_told_in_korean(tmp_path: Path) -> None:
    # The sandbox cannot be created: the error reaches the turn's own failure report, not a
    # run's Failed event.
    async with fakes() as (slack, openai), bot_over(slack, openai, tmp_path / "db") as h:
        openai.fail_next("POST", "/v1/containers", status=500, times=10)
        event = await ask(h, text=KOREAN_QUESTION)
        await h.settle()
        text = thread_text(slack, "C1", event["ts"])
        assert FRAME in text and "분석 엔진이 지금 응답하지 않아요" in text
        assert "not responding" not in text and ANSWER not in text
        assert [t.error for t in stored_turns(tmp_path / "db")] == ["unavailable"]


async def test_a_timeout_is_told_in_korean(tmp_path: Path) -> None:
    async with fakes() as (slack, openai):
        openai.run_delay_s = 5
        async with bot_over(slack, openai, tmp_path / "db", INSIGHTBOT_RUN_TIMEOUT_S="1") as h:
            event = await ask(h, text=KOREAN_QUESTION)
            await asyncio.wait_for(h.bot.runner.wait_idle(), 4)
        text = thread_text(slack, "C1", event["ts"])
        assert FRAME in text and "분석이 1분을 넘겨서 중지했어요" in text
        assert "took longer than" not in text
        (turn,) = stored_turns(tmp_path / "db")
        assert (turn.status, turn.error) == (FAILED, "timeout")


async def test_an_english_asker_still_reads_english(tmp_path: Path) -> None:
    async with fakes() as (slack, openai), bot_over(slack, openai, tmp_path / "db") as h:
        openai.fail_next_response(code="server_error", message="the GPU caught fire")
        event = await ask(h, text="<@UBOT> total by region?")
        await h.settle()
        text = thread_text(slack, "C1", event["ts"])
        assert "The analysis engine had an internal error: the GPU caught fire" in text
        assert not HANGUL.search(text)
