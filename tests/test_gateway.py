"""The Slack gateway through the real AsyncWebClient against the fake Slack server."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError

from bot.errors import SlackProblem
from bot.slack.client import build_web_client
from bot.slack.gateway import OutgoingFile, SlackGateway, translate_file
from bot.slack.progress import StatusKeeper
from bot.slack.render import slack_messages_for
from tests.fakes.slack_blocks import blocks_text
from tests.fakes.slack_server import FakeSlack

CHANNEL = "C0DATA"
DM = "D0USER"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass(frozen=True)
class Msg:
    text: str
    blocks: tuple[dict[str, Any], ...] = field(default_factory=tuple)


@pytest.fixture
def gateway(slack_fake: FakeSlack) -> SlackGateway:
    client = build_web_client(token=slack_fake.bot_token, base_url=slack_fake.api_url)
    # Tiny intervals: the tests look at what ends in the thread, not at the pacing.
    return SlackGateway(
        client=client, bot_token=slack_fake.bot_token, stream_interval_s=0.0, update_interval_s=0.0
    )


def ask(slack_fake: FakeSlack, text: str = "<@UBOT> 지역별 매출은?", channel: str = CHANNEL) -> str:
    """A user's question at the top of a channel; returns its ts (the thread)."""
    return str(slack_fake.post_user_message(channel=channel, user="U1", text=text)["ts"])


def bot_replies(slack_fake: FakeSlack, thread_ts: str, channel: str = CHANNEL) -> list[Any]:
    return [m for m in slack_fake.thread(channel, thread_ts) if m.bot]


# ---------------------------------------------------------------- pure translation


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {
                "id": "F1",
                "name": "매출.csv",
                "size": 120,
                "mimetype": "text/csv",
                "filetype": "csv",
                "url_private_download": "https://files.slack.com/F1/download/x.csv",
                "mode": "hosted",
                "user": "U1",
                "created": 1700000000,
            },
            {"name": "매출.csv", "size": 120, "needs_info": False, "user": "U1"},
        ),
        (
            {"id": "F2", "mode": "file_access", "file_access": "check_file_info", "created": 0},
            {"name": "F2", "size": None, "needs_info": True, "url_private_download": None},
        ),
        (
            {"id": "F3", "title": "Sheet", "url_private": "https://files.slack.com/F3/x"},
            {"name": "Sheet", "url_private_download": "https://files.slack.com/F3/x"},
        ),
    ],
    ids=["hosted", "connect-stub", "title-and-url-private"],
)
def test_translate_file(raw: dict[str, Any], expected: dict[str, Any]) -> None:
    file = translate_file(raw)
    for key, value in expected.items():
        assert getattr(file, key) == value


# ---------------------------------------------------------------- plain calls


async def test_auth_check_reports_identity_and_scopes(
    slack_fake: FakeSlack, gateway: SlackGateway
) -> None:
    info = await gateway.auth_check()

    assert (info.team_id, info.bot_user_id, info.bot_id) == ("T0FAKE", "UBOT", "BBOT")
    assert {"chat:write", "files:read", "files:write"} <= info.scopes


async def test_post_then_update_shows_one_reply(
    slack_fake: FakeSlack, gateway: SlackGateway
) -> None:
    thread = ask(slack_fake)

    ts = await gateway.post_message(channel=CHANNEL, thread_ts=thread, text="working on it")
    await gateway.update_message(channel=CHANNEL, ts=ts, text="서울이 가장 높습니다.")

    replies = bot_replies(slack_fake, thread)
    assert [(m.ts, m.text) for m in replies] == [(ts, "서울이 가장 높습니다.")]


async def test_rate_limited_post_is_waited_out_and_appears_once(
    slack_fake: FakeSlack, gateway: SlackGateway
) -> None:
    thread = ask(slack_fake)
    slack_fake.fail_next("chat.postMessage", error="ratelimited", status=429, retry_after=1)

    started = time.monotonic()
    await gateway.post_message(channel=CHANNEL, thread_ts=thread, text="hello")

    assert time.monotonic() - started >= 1.0
    assert len(slack_fake.calls_to("chat.postMessage")) == 2
    assert [m.text for m in bot_replies(slack_fake, thread)] == ["hello"]


async def test_refused_post_is_a_slack_problem_without_the_token(
    slack_fake: FakeSlack, gateway: SlackGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    thread = ask(slack_fake)
    slack_fake.fail_next("chat.postMessage", error="not_in_channel", status=200)

    with pytest.raises(SlackProblem) as caught:
        await gateway.post_message(channel=CHANNEL, thread_ts=thread, text="hi")

    assert isinstance(caught.value.__cause__, SlackApiError)
    assert "invite" in caught.value.user_message
    assert slack_fake.bot_token not in str(caught.value)
    assert slack_fake.bot_token not in caplog.text


async def test_reactions_tolerate_repeats(slack_fake: FakeSlack, gateway: SlackGateway) -> None:
    ts = ask(slack_fake)

    await gateway.add_reaction(channel=CHANNEL, ts=ts, name="eyes")
    await gateway.add_reaction(channel=CHANNEL, ts=ts, name="eyes")
    assert slack_fake.reactions(CHANNEL, ts) == {"eyes"}

    await gateway.remove_reaction(channel=CHANNEL, ts=ts, name="eyes")
    await gateway.remove_reaction(channel=CHANNEL, ts=ts, name="eyes")
    assert slack_fake.reactions(CHANNEL, ts) == set()


async def test_reaction_failures_never_reach_the_caller() -> None:
    async with FakeSlack(scopes=["chat:write"]) as slack_fake:
        client = build_web_client(token=slack_fake.bot_token, base_url=slack_fake.api_url)
        gateway = SlackGateway(client=client, bot_token=slack_fake.bot_token)
        ts = ask(slack_fake)

        await gateway.add_reaction(channel=CHANNEL, ts=ts, name="eyes")
        await gateway.remove_reaction(channel=CHANNEL, ts=ts, name="eyes")

        assert slack_fake.reactions(CHANNEL, ts) == set()
        assert len(slack_fake.calls_to("reactions.add")) == 1


async def test_upload_two_charts_as_one_message(
    slack_fake: FakeSlack, gateway: SlackGateway, tmp_path: Path
) -> None:
    thread = ask(slack_fake)
    png = tmp_path / "chart.png"
    png.write_bytes(PNG)
    charts = [
        OutgoingFile(
            name="sales.png", path=png, size=len(PNG), title="Sales", alt_text="bar chart of sales"
        ),
        OutgoingFile(
            name="trend.png", path=png, size=len(PNG), title="Trend", alt_text="line chart of trend"
        ),
    ]

    ids = await gateway.upload_files(
        channel=CHANNEL, thread_ts=thread, files=charts, initial_comment="Charts"
    )

    assert len(ids) == 2
    assert len(slack_fake.calls_to("files.completeUploadExternal")) == 1
    with_files = [m for m in bot_replies(slack_fake, thread) if m.files]
    assert len(with_files) == 1
    shared = with_files[0].files
    assert [f.id for f in shared] == ids
    assert [f.alt_txt for f in shared] == ["bar chart of sales", "line chart of trend"]
    assert [f.content for f in shared] == [PNG, PNG]
    # The bytes went to the upload URLs Slack returned, without the token.
    returned = [c.args for c in slack_fake.calls_to("files.getUploadURLExternal")]
    assert [c["length"] for c in returned] == [str(len(PNG))] * 2
    assert [p.status for p in slack_fake.upload_posts] == [200, 200]
    assert not any("authorization" in p.headers for p in slack_fake.upload_posts)


async def test_file_info_fills_in_a_connect_stub(
    slack_fake: FakeSlack, gateway: SlackGateway
) -> None:
    stub = translate_file(
        slack_fake.add_file(name="고객.xlsx", content=b"PK\x03\x04", connect_stub=True)
    )
    assert stub.needs_info and stub.url_private_download is None

    full = await gateway.file_info(stub.id)

    assert full is not None
    assert full.name == "고객.xlsx" and not full.needs_info
    assert full.url_private_download


async def test_file_info_of_a_deleted_file_is_none(
    slack_fake: FakeSlack, gateway: SlackGateway
) -> None:
    raw = slack_fake.add_file(name="gone.csv", content=b"a\n1\n")
    slack_fake.delete_file(raw["id"])

    assert await gateway.file_info(raw["id"]) is None


async def test_thread_files_reads_every_page_oldest_first(
    slack_fake: FakeSlack, gateway: SlackGateway
) -> None:
    slack_fake.history_limit_cap = 2  # forces several pages
    first = slack_fake.add_file(name="a.csv", content=b"a\n1\n")
    thread = str(
        slack_fake.post_user_message(channel=CHANNEL, user="U1", text="<@UBOT> hi", files=[first])[
            "ts"
        ]
    )
    names = ["a.csv"]
    for i in range(5):
        raw = slack_fake.add_file(name=f"r{i}.csv", content=b"x\n1\n", user=f"U{i + 2}")
        slack_fake.post_user_message(
            channel=CHANNEL, user=f"U{i + 2}", text="more", thread_ts=thread, files=[raw]
        )
        slack_fake.post_user_message(channel=CHANNEL, user="U1", text="no file", thread_ts=thread)
        names.append(f"r{i}.csv")

    found = await gateway.thread_files(channel=CHANNEL, thread_ts=thread)

    assert [f.name for _, _, f in found] == names
    assert [user for _, user, _ in found] == ["U1", "U2", "U3", "U4", "U5", "U6"]
    assert len(slack_fake.calls_to("conversations.replies")) > 1


# ---------------------------------------------------------------- streamed answers

ANSWER = "## 지역별 매출\n\n| 지역 | 매출 |\n|---|---|\n| 서울 | 100 |\n| 부산 | 80 |\n\n서울이 가장 높습니다."


async def test_streamed_answer_ends_as_the_rendered_answer_once(
    slack_fake: FakeSlack, gateway: SlackGateway
) -> None:
    thread = ask(slack_fake)
    stream = await gateway.start_answer(
        channel=CHANNEL,
        thread_ts=thread,
        recipient_user_id="U1",
        recipient_team_id="T0FAKE",
        is_dm=False,
    )

    await stream.task(id="files", title="Reading files", status="in_progress")
    await stream.task(id="files", title="Reading files", status="complete")
    for piece in ("## 지역별 ", "매출\n\n", "서울이 가장 높습니다."):
        await stream.append_text(piece)
    final = slack_messages_for(ANSWER)
    ts_list = await stream.finish(final_messages=final)

    replies = bot_replies(slack_fake, thread)
    assert [m.ts for m in replies] == ts_list == [stream.ts]
    # The streamed message became the rendered answer (its blocks are what Slack shows).
    assert replies[0].blocks == list(final[0].blocks)
    assert blocks_text(replies[0].blocks).count("서울이 가장 높습니다") == 1
    assert not replies[0].streaming
    sent_chunks = [
        chunk
        for call in slack_fake.calls_to("chat.startStream")
        + slack_fake.calls_to("chat.appendStream")
        for chunk in call.args.get("chunks") or []
    ]
    assert {
        "type": "task_update",
        "id": "files",
        "title": "Reading files",
        "status": "in_progress",
    } in sent_chunks
    assert any(c["type"] == "markdown_text" for c in sent_chunks)
    assert slack_fake.calls_to("chat.startStream")[0].args["recipient_user_id"] == "U1"


async def test_long_answer_continues_in_further_replies(
    slack_fake: FakeSlack, gateway: SlackGateway
) -> None:
    thread = ask(slack_fake, channel=DM)
    stream = await gateway.start_answer(
        channel=DM, thread_ts=thread, recipient_user_id=None, recipient_team_id=None, is_dm=True
    )
    await stream.append_text("Part one")
    final = [Msg("Part one"), Msg("Part two"), Msg("Part three")]

    ts_list = await stream.finish(final_messages=final)

    replies = bot_replies(slack_fake, thread, channel=DM)
    assert [m.ts for m in replies] == ts_list
    assert [m.text for m in replies] == ["Part one", "Part two", "Part three"]


async def test_without_streaming_the_answer_is_posted_and_updated(
    slack_fake: FakeSlack, gateway: SlackGateway
) -> None:
    slack_fake.streaming_enabled = False
    thread = ask(slack_fake)
    stream = await gateway.start_answer(
        channel=CHANNEL,
        thread_ts=thread,
        recipient_user_id="U1",
        recipient_team_id="T0FAKE",
        is_dm=False,
    )

    await stream.task(id="code", title="Running Python", status="in_progress")
    words = [f"word{i} " for i in range(50)]
    for word in words:
        await stream.append_text(word)
    assert "word49" in bot_replies(slack_fake, thread)[0].text  # progress was visible
    ts_list = await stream.finish(final_messages=[Msg("".join(words))])

    replies = bot_replies(slack_fake, thread)
    assert [m.text for m in replies] == ["".join(words)]
    assert ts_list == [replies[0].ts]
    assert slack_fake.calls_to("chat.update")
    assert not slack_fake.calls_to("chat.appendStream")


async def test_progress_edits_are_throttled(slack_fake: FakeSlack) -> None:
    slack_fake.streaming_enabled = False
    client = build_web_client(token=slack_fake.bot_token, base_url=slack_fake.api_url)
    gateway = SlackGateway(client=client, bot_token=slack_fake.bot_token)  # default pacing
    thread = ask(slack_fake)
    stream = await gateway.start_answer(
        channel=CHANNEL,
        thread_ts=thread,
        recipient_user_id="U1",
        recipient_team_id="T0FAKE",
        is_dm=False,
    )

    words = [f"word{i} " for i in range(200)]
    for word in words:
        await stream.append_text(word)
    await stream.finish(final_messages=[Msg("".join(words))])

    assert len(slack_fake.calls_to("chat.postMessage")) == 1
    assert len(slack_fake.calls_to("chat.update")) == 1  # only the final answer
    assert [m.text for m in bot_replies(slack_fake, thread)] == ["".join(words)]


async def test_stream_expiring_midway_keeps_the_whole_text_once(
    slack_fake: FakeSlack, gateway: SlackGateway
) -> None:
    slack_fake.stream_expiry_s = 0.2
    thread = ask(slack_fake)
    stream = await gateway.start_answer(
        channel=CHANNEL,
        thread_ts=thread,
        recipient_user_id="U1",
        recipient_team_id="T0FAKE",
        is_dm=False,
    )

    await stream.append_text("First half. ")
    await asyncio.sleep(0.3)
    await stream.append_text("Second half.")
    assert "Second half." in bot_replies(slack_fake, thread)[0].text
    ts_list = await stream.finish(final_messages=[Msg("First half. Second half.")])

    replies = bot_replies(slack_fake, thread)
    assert len(replies) == 1 and ts_list == [replies[0].ts]
    assert replies[0].text.count("First half.") == 1
    assert "Second half." in replies[0].text


async def test_refused_replacement_becomes_a_new_reply(
    slack_fake: FakeSlack, gateway: SlackGateway
) -> None:
    thread = ask(slack_fake)
    stream = await gateway.start_answer(
        channel=CHANNEL,
        thread_ts=thread,
        recipient_user_id="U1",
        recipient_team_id="T0FAKE",
        is_dm=False,
    )
    await stream.append_text("Draft")
    slack_fake.fail_next("chat.update", error="cant_update_message", status=200)

    final = [Msg("Final answer", ({"type": "markdown", "text": "**Final answer**"},))]
    ts_list = await stream.finish(final_messages=final)

    replies = bot_replies(slack_fake, thread)
    assert [m.ts for m in replies] == ts_list
    assert [m.blocks for m in replies] == [[{"type": "markdown", "text": "**Final answer**"}]]


async def test_refused_blocks_fall_back_to_the_text(
    slack_fake: FakeSlack, gateway: SlackGateway
) -> None:
    thread = ask(slack_fake)
    stream = await gateway.start_answer(
        channel=CHANNEL,
        thread_ts=thread,
        recipient_user_id="U1",
        recipient_team_id="T0FAKE",
        is_dm=False,
    )
    slack_fake.fail_next("chat.postMessage", error="invalid_blocks", status=200)

    table = {"type": "table", "rows": [[{"type": "raw_text", "text": "서울"}]]}
    await stream.finish(final_messages=[Msg("서울 100", (table,))])

    assert [m.text for m in bot_replies(slack_fake, thread)] == ["서울 100"]


async def test_failure_after_a_failed_finish_is_still_told(
    slack_fake: FakeSlack, gateway: SlackGateway
) -> None:
    thread = ask(slack_fake)
    stream = await gateway.start_answer(
        channel=CHANNEL,
        thread_ts=thread,
        recipient_user_id="U1",
        recipient_team_id="T0FAKE",
        is_dm=False,
    )
    slack_fake.fail_next("chat.postMessage", error="internal_error", status=200)

    with pytest.raises(SlackProblem):
        await stream.finish(final_messages=[Msg("answer")])
    await stream.fail(text="Slack did not accept my reply.")

    assert [m.text for m in bot_replies(slack_fake, thread)] == ["Slack did not accept my reply."]


async def test_failure_keeps_the_partial_answer_and_says_why(
    slack_fake: FakeSlack, gateway: SlackGateway
) -> None:
    thread = ask(slack_fake)
    stream = await gateway.start_answer(
        channel=CHANNEL,
        thread_ts=thread,
        recipient_user_id="U1",
        recipient_team_id="T0FAKE",
        is_dm=False,
    )

    await stream.task(id="code", title="Running Python", status="in_progress")
    await stream.append_text("Partial analysis")
    await stream.fail(text="The analysis engine is not responding right now.")

    replies = bot_replies(slack_fake, thread)
    assert len(replies) == 1
    assert "Partial analysis" in replies[0].text
    assert "not responding" in replies[0].text


async def test_failure_before_any_text_is_posted(
    slack_fake: FakeSlack, gateway: SlackGateway
) -> None:
    thread = ask(slack_fake)
    stream = await gateway.start_answer(
        channel=CHANNEL,
        thread_ts=thread,
        recipient_user_id="U1",
        recipient_team_id="T0FAKE",
        is_dm=False,
    )

    await stream.fail(text="I could not read sales.csv.")

    assert [m.text for m in bot_replies(slack_fake, thread)] == ["I could not read sales.csv."]


# ---------------------------------------------------------------- status line


async def test_status_keeper_refreshes_and_clears(
    slack_fake: FakeSlack, gateway: SlackGateway
) -> None:
    thread = ask(slack_fake)

    async with StatusKeeper(
        gateway=gateway, channel=CHANNEL, thread_ts=thread, status="is analyzing…", refresh_s=0.05
    ):
        await asyncio.sleep(0.22)

    statuses = slack_fake.statuses(CHANNEL, thread)
    assert statuses[-1] == ""
    assert statuses[:-1].count("is analyzing…") >= 3
    assert set(statuses[:-1]) == {"is analyzing…"}


async def test_status_keeper_clears_when_the_body_fails(
    slack_fake: FakeSlack, gateway: SlackGateway
) -> None:
    thread = ask(slack_fake)

    with pytest.raises(ZeroDivisionError):
        async with StatusKeeper(
            gateway=gateway,
            channel=CHANNEL,
            thread_ts=thread,
            status="is analyzing…",
            refresh_s=0.05,
        ):
            _ = 1 / 0

    assert slack_fake.statuses(CHANNEL, thread) == ["is analyzing…", ""]


async def test_status_failures_never_reach_the_caller(
    slack_fake: FakeSlack, gateway: SlackGateway
) -> None:
    thread = ask(slack_fake)
    slack_fake.fail_next("assistant.threads.setStatus", error="missing_scope", status=200)

    await gateway.set_status(channel=CHANNEL, thread_ts=thread, status="is analyzing…")
    await gateway.set_status(channel=CHANNEL, thread_ts=thread, status="still going")

    assert slack_fake.statuses(CHANNEL, thread) == ["still going"]
