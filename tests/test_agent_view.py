"""Slack's agent surface (agent_view): the Messages tab's suggested prompts in each person's
language, and direct messages that each start a thread of their own."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_payloads import app_home_opened
from tests.fakes.slack_server import FakeSlack
from tests.fakes.slack_world import DEFAULT_SCOPES
from tests.harness import Harness, bot_over, harness

CSV = b"region,amount\nSeoul,100\nBusan,200\nDaegu,300\n"
HANGUL = re.compile("[\uac00-\ud7a3]")


async def open_messages_tab(h: Harness, user: str, channel: str = "D0ME") -> None:
    assert await h.send_event(app_home_opened(user=user, channel=channel, tab="messages")) == 200
    await h.settle()


def titles(h: Harness, channel: str = "D0ME") -> list[str]:
    return [p["title"] for p in h.slack.suggested_prompts[channel]["prompts"]]


@pytest.mark.parametrize(
    ("locale", "korean", "english"),
    [("ko-KR", 3, 0), ("en-US", 0, 3), (None, 2, 2)],
)
async def test_opening_the_messages_tab_sets_prompts_in_the_persons_language(
    tmp_path: Path, locale: str | None, korean: int, english: int
) -> None:
    async with harness(tmp_path) as h:
        if locale:
            h.slack.add_user("U1", locale=locale)
        await open_messages_tab(h, "U1")
        shown = titles(h)
        assert sum(bool(HANGUL.search(t)) for t in shown) == korean
        assert sum(t.isascii() for t in shown) == english
        [call] = h.slack.calls_to("assistant.threads.setSuggestedPrompts")
        assert "thread_ts" not in call.args  # agent_view: a named thread makes it a no-op
        heading = h.slack.suggested_prompts["D0ME"]["title"]
        assert ("물어보세요" in heading) == bool(korean) and ("Try" in heading) == bool(english)
        assert h.slack.calls_to("views.publish") == []  # the Home tab is not built for it


async def test_each_person_gets_their_own_prompts_in_their_own_dm(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        h.slack.add_user("U1", locale="ko-KR")
        h.slack.add_user("U2", locale="en-GB")
        await open_messages_tab(h, "U1", channel="D0KO")
        await open_messages_tab(h, "U2", channel="D0EN")
        assert "데이터 요약" in titles(h, "D0KO")
        assert "Summarise my data" in titles(h, "D0EN")


async def test_without_assistant_write_the_tab_opens_and_the_failure_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # An install from before agent_view: the scope is missing until the app is reinstalled.
    scopes = [s for s in DEFAULT_SCOPES if s != "assistant:write"]
    async with (
        FakeSlack(scopes=scopes) as slack,
        FakeOpenAI() as openai,
        bot_over(slack, openai, tmp_path / "insightbot.db") as h,
    ):
        with caplog.at_level(logging.WARNING, logger="bot.home"):
            await open_messages_tab(h, "U1")
        assert h.slack.suggested_prompts == {}
        assert "could not set the suggested prompts of U1" in caplog.text
        assert "missing_scope" in caplog.text


async def test_two_top_level_dms_start_two_threads_and_two_conversations(
    tmp_path: Path,
) -> None:
    # Under agent_view a DM's root message is the person's own (no assistant_app_thread
    # subtype): each top-level message starts a thread, whatever came before it.
    async with harness(tmp_path) as h:
        roots = []
        for text in ("total amount?", "지역별 합계는?"):
            file = h.slack.add_file(name="sales.csv", content=CSV)
            event = h.slack.post_user_message(channel="D1", user="U1", text=text, files=[file])
            assert "thread_ts" not in event and event["subtype"] == "file_share"
            assert await h.send_event(event) == 200
            await h.settle()
            roots.append(event["ts"])

        for ts in roots:
            answers = [m.text for m in h.slack.thread("D1", ts) if m.bot]
            assert sum("3 rows, total 600" in text for text in answers) == 1, answers
        assert len(h.openai.requests_to("POST", "/v1/conversations")) == 2
        conversations = [
            r.json["conversation"] for r in h.openai.requests_to("POST", "/v1/responses") if r.json
        ]
        assert len(conversations) == 2 and len(set(conversations)) == 2
        # Nothing was posted at the top level of the DM.
        assert [m.ts for m in h.slack.channel_messages("D1") if m.bot] == []
