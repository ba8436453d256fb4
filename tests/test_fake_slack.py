"""The fake Slack answers the real slack_sdk, Bolt and Socket Mode clients as Slack does."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes import slack_payloads as payloads
from tests.fakes.slack_server import FakeSlack

CHANNEL = "C0DATA"


def _question(slack_fake: FakeSlack, text: str = "<@UBOT> what sold best?") -> str:
    return str(slack_fake.post_user_message(channel=CHANNEL, user="U1", text=text)["ts"])


async def _error_of(call: Any) -> str:
    with pytest.raises(SlackApiError) as caught:
        await call
    return str(caught.value.response["error"])


# ------------------------------------------------------------------ messages


async def test_reply_and_edit_show_in_the_thread(
    slack_fake: FakeSlack, slack_client: AsyncWebClient
) -> None:
    root = _question(slack_fake)
    posted = await slack_client.chat_postMessage(
        channel=CHANNEL, thread_ts=root, text="Working on it"
    )
    await slack_client.chat_update(channel=CHANNEL, ts=posted["ts"], text="Shoes sold best.")

    seen = slack_fake.thread(CHANNEL, root)
    assert [(m.bot, m.text) for m in seen] == [
        (False, "<@UBOT> what sold best?"),
        (True, "Shoes sold best."),
    ]
    assert seen[1].edited and seen[1].thread_ts == root
    assert posted["message"]["bot_id"] == slack_fake.bot_id
    assert slack_fake.channel_messages(CHANNEL)[0].ts == root


async def test_blocks_are_what_the_reader_sees(
    slack_fake: FakeSlack, slack_client: AsyncWebClient
) -> None:
    root = _question(slack_fake)
    blocks: list[dict[str, Any]] = [
        {"type": "markdown", "text": "**Total**: 42"},
        {
            "type": "table",
            "rows": [[{"type": "raw_text", "text": "a"}, {"type": "raw_text", "text": "1"}]],
        },
    ]
    await slack_client.chat_postMessage(
        channel=CHANNEL, thread_ts=root, text="fallback", blocks=blocks
    )

    reply = slack_fake.thread(CHANNEL, root)[1]
    assert reply.text == "**Total**: 42\na | 1"
    assert reply.blocks == blocks


def _section(i: int) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": f"part {i}"}}


TABLE = {"type": "table", "rows": [[{"type": "raw_text", "text": "x"}]]}


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"text": "t", "blocks": [_section(i) for i in range(51)]}, "invalid_blocks"),
        (
            {"text": "t", "blocks": [{"type": "markdown", "text": "x" * 6001}] * 2},
            "msg_blocks_too_long",
        ),
        ({"text": "t", "blocks": [TABLE, TABLE]}, "invalid_blocks"),
        (
            {
                "text": "t",
                "blocks": [_section(0) | {"text": {"type": "mrkdwn", "text": "x" * 3001}}],
            },
            "invalid_blocks",
        ),
        ({"text": "x" * 40_001}, "msg_too_long"),
        ({"text": "hi", "markdown_text": "**hi**"}, "markdown_text_conflict"),
        ({}, "no_text"),
    ],
)
async def test_post_message_limits_are_enforced(
    slack_fake: FakeSlack, slack_client: AsyncWebClient, kwargs: dict[str, Any], error: str
) -> None:
    assert await _error_of(slack_client.chat_postMessage(channel=CHANNEL, **kwargs)) == error
    assert slack_fake.channel_messages(CHANNEL) == []


async def test_fifty_blocks_pass_and_the_error_names_the_limit(
    slack_client: AsyncWebClient,
) -> None:
    await slack_client.chat_postMessage(
        channel=CHANNEL, blocks=[_section(i) for i in range(50)], text="t"
    )
    with pytest.raises(SlackApiError) as caught:
        await slack_client.chat_postMessage(
            channel=CHANNEL, blocks=[_section(i) for i in range(51)], text="t"
        )
    assert caught.value.response["errors"] == [
        "no more than 50 items allowed [json-pointer:/blocks]"
    ]


# ------------------------------------------------------------------- tokens


@pytest.mark.parametrize(
    ("token", "error"),
    [("xoxb-someone-else", "invalid_auth"), ("xapp-fake-app-token", "not_allowed_token_type")],
)
async def test_other_tokens_are_refused(slack_fake: FakeSlack, token: str, error: str) -> None:
    stranger = AsyncWebClient(token=token, base_url=slack_fake.api_url)
    assert await _error_of(stranger.chat_postMessage(channel=CHANNEL, text="hi")) == error


async def test_auth_test_reports_the_bot_and_its_scopes(
    slack_fake: FakeSlack, slack_client: AsyncWebClient
) -> None:
    slack_fake.scopes = ["chat:write", "files:read"]
    response = await slack_client.auth_test()
    assert (response["user_id"], response["bot_id"], response["team_id"]) == (
        "UBOT",
        "BBOT",
        "T0FAKE",
    )
    assert response.headers["x-oauth-scopes"] == "chat:write,files:read"
    with pytest.raises(SlackApiError) as caught:
        await slack_client.files_getUploadURLExternal(filename="a.png", length=3)
    assert caught.value.response["error"] == "missing_scope"
    assert caught.value.response["needed"] == "files:write"


async def test_unknown_method_is_a_404(slack_client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as caught:
        await slack_client.api_call("chat.postMessages", json={"channel": CHANNEL, "text": "hi"})
    assert caught.value.response.status_code == 404
    assert caught.value.response["error"] == "unknown_method"


# ---------------------------------------------------------------- uploads


async def test_two_uploads_share_one_thread_message(
    slack_fake: FakeSlack, slack_client: AsyncWebClient
) -> None:
    root = _question(slack_fake)
    png = b"\x89PNG\r\n\x1a\nchart"
    await slack_client.files_upload_v2(
        channel=CHANNEL,
        thread_ts=root,
        initial_comment="Here are the results",
        file_uploads=[
            {
                "content": png,
                "filename": "chart.png",
                "title": "Sales by month",
                "alt_txt": "bar chart",
            },
            {"content": b"month,total\n1,5\n", "filename": "result.csv", "title": "Result table"},
        ],
    )

    share = slack_fake.thread(CHANNEL, root)[1]
    assert share.bot and share.text == "Here are the results"
    assert [(f.name, f.title, f.alt_txt, f.content) for f in share.files] == [
        ("chart.png", "Sales by month", "bar chart", png),
        ("result.csv", "Result table", None, b"month,total\n1,5\n"),
    ]
    assert len(slack_fake.calls_to("files.getUploadURLExternal")) == 2
    assert len(slack_fake.calls_to("files.completeUploadExternal")) == 1
    assert slack_fake.calls_to("files.getUploadURLExternal")[0].args["alt_txt"] == "bar chart"


async def test_uploaded_file_is_in_conversations_replies(
    slack_fake: FakeSlack, slack_client: AsyncWebClient
) -> None:
    root = _question(slack_fake)
    await slack_client.files_upload_v2(
        channel=CHANNEL, thread_ts=root, content=b"x", filename="a.txt"
    )
    replies = await slack_client.conversations_replies(channel=CHANNEL, ts=root)
    files = replies["messages"][1]["files"]
    assert [f["name"] for f in files] == ["a.txt"]
    assert files[0]["url_private_download"].startswith(slack_fake.base_url)


async def test_completing_an_upload_that_never_arrived_fails(slack_client: AsyncWebClient) -> None:
    url = await slack_client.files_getUploadURLExternal(filename="a.png", length=3)
    error = await _error_of(
        slack_client.files_completeUploadExternal(
            files=[{"id": url["file_id"]}], channel_id=CHANNEL
        )
    )
    assert error == "file_not_found"


async def test_an_upload_url_takes_exactly_the_reserved_length_and_no_token(
    slack_fake: FakeSlack, slack_client: AsyncWebClient
) -> None:
    short = await slack_client.files_getUploadURLExternal(filename="a.csv", length=10)
    exact = await slack_client.files_getUploadURLExternal(filename="b.csv", length=3)
    async with aiohttp.ClientSession() as session:
        async with session.post(short["upload_url"], data=b"abc") as resp:
            assert resp.status == 400  # 3 bytes for a reserved length of 10
        async with session.post(exact["upload_url"], data=b"abc") as resp:
            assert resp.status == 200
        async with session.post(f"{slack_fake.base_url}/upload/v1/unknown", data=b"abc") as resp:
            assert resp.status == 404
    assert [(p.received, p.status) for p in slack_fake.upload_posts] == [
        (3, 400),
        (3, 200),
        (0, 404),
    ]
    assert slack_fake.upload_posts[1].sha256 == hashlib.sha256(b"abc").hexdigest()
    assert "authorization" not in slack_fake.upload_posts[1].headers

    for file_id, error in ((short["file_id"], "file_not_found"), ("F0NOTREAL", "file_not_found")):
        call = slack_client.files_completeUploadExternal(
            files=[{"id": file_id}], channel_id=CHANNEL
        )
        assert await _error_of(call) == error
    done = await slack_client.files_completeUploadExternal(
        files=[{"id": exact["file_id"], "title": "B"}], channel_id=CHANNEL
    )
    assert [f["title"] for f in done["files"]] == ["B"]
    assert slack_fake.files[exact["file_id"]].content == b"abc"


# --------------------------------------------------------------- streaming


async def test_stream_shows_its_final_text(
    slack_fake: FakeSlack, slack_client: AsyncWebClient
) -> None:
    root = _question(slack_fake)
    stream = await slack_client.chat_stream(
        channel=CHANNEL,
        thread_ts=root,
        recipient_team_id="T0FAKE",
        recipient_user_id="U1",
        buffer_size=8,
    )
    await stream.append(markdown_text="Shoes sold ")
    assert slack_fake.thread(CHANNEL, root)[1].streaming
    await stream.append(
        chunks=[{"type": "task_update", "id": "t1", "title": "Running code", "status": "complete"}]
    )
    await stream.append(markdown_text="best.")
    await stream.stop(blocks=[{"type": "context", "elements": [{"type": "mrkdwn", "text": "gpt"}]}])

    reply = slack_fake.thread(CHANNEL, root)[1]
    assert reply.text == "Shoes sold best.\ngpt"
    assert not reply.streaming and reply.stream_state == "stopped"
    assert reply.tasks == [
        {"type": "task_update", "id": "t1", "title": "Running code", "status": "complete"}
    ]


async def test_append_after_stop_is_refused(
    slack_fake: FakeSlack, slack_client: AsyncWebClient
) -> None:
    root = _question(slack_fake)
    started = await slack_client.chat_startStream(channel="D0DM", thread_ts=root, markdown_text="a")
    await slack_client.chat_stopStream(channel="D0DM", ts=started["ts"])
    error = await _error_of(
        slack_client.chat_appendStream(channel="D0DM", ts=started["ts"], markdown_text="b")
    )
    assert error == "message_not_in_streaming_state"


async def test_stream_expires(slack_fake: FakeSlack, slack_client: AsyncWebClient) -> None:
    slack_fake.stream_expiry_s = 0.05
    root = _question(slack_fake)
    started = await slack_client.chat_startStream(
        channel="D0DM", thread_ts=root, markdown_text="partial"
    )
    await asyncio.sleep(0.1)
    error = await _error_of(
        slack_client.chat_stopStream(channel="D0DM", ts=started["ts"], markdown_text="!")
    )
    assert error == "message_not_in_streaming_state"
    assert [m.text for m in slack_fake.thread("D0DM", root) if m.bot] == ["partial"]


async def test_streams_need_recipients_in_channels_and_can_be_unavailable(
    slack_fake: FakeSlack, slack_client: AsyncWebClient
) -> None:
    root = _question(slack_fake)
    assert await _error_of(slack_client.chat_startStream(channel=CHANNEL, thread_ts=root)) == (
        "missing_recipient_team_id"
    )
    slack_fake.streaming_enabled = False
    error = await _error_of(slack_client.chat_startStream(channel="D0DM", thread_ts=root))
    assert error == slack_fake.streaming_disabled_error


async def test_a_streaming_message_cannot_be_edited(
    slack_fake: FakeSlack, slack_client: AsyncWebClient
) -> None:
    root = _question(slack_fake)
    started = await slack_client.chat_startStream(channel="D0DM", thread_ts=root, markdown_text="a")
    error = await _error_of(slack_client.chat_update(channel="D0DM", ts=started["ts"], text="b"))
    assert error == "streaming_state_conflict"


# --------------------------------------------------------- status, reactions


async def test_status_history_and_clearing(
    slack_fake: FakeSlack, slack_client: AsyncWebClient
) -> None:
    root = _question(slack_fake)
    await slack_client.assistant_threads_setStatus(
        channel_id=CHANNEL, thread_ts=root, status="is analyzing…", loading_messages=["Reading CSV"]
    )
    assert slack_fake.current_status(CHANNEL, root) == "is analyzing…"
    await slack_client.chat_postMessage(channel=CHANNEL, thread_ts=root, text="Done")
    assert slack_fake.current_status(CHANNEL, root) == ""  # a reply clears it, as in Slack
    await slack_client.assistant_threads_setStatus(channel_id=CHANNEL, thread_ts=root, status="")
    assert slack_fake.statuses(CHANNEL, root) == ["is analyzing…", ""]
    assert slack_fake.loading_messages(CHANNEL, root)[0] == ["Reading CSV"]


async def test_suggested_prompts_are_checked_as_slack_documents_them(
    slack_fake: FakeSlack, slack_client: AsyncWebClient
) -> None:
    prompt = {"title": "Summarise", "message": "Summarise my file."}
    await slack_client.assistant_threads_setSuggestedPrompts(
        channel_id="D0ME", prompts=[prompt] * 4, title="Try asking"
    )
    assert slack_fake.suggested_prompts["D0ME"] == {"title": "Try asking", "prompts": [prompt] * 4}
    for bad in ([prompt] * 5, [], [{"title": "Summarise"}], [{"title": " ", "message": "x"}]):
        call = slack_client.assistant_threads_setSuggestedPrompts(channel_id="D0ME", prompts=bad)
        assert await _error_of(call) == "invalid_arguments"
    call = slack_client.assistant_threads_setSuggestedPrompts(channel_id="", prompts=[prompt])
    assert await _error_of(call) == "channel_not_found"
    # With agent_view a call naming a thread silently does nothing.
    other = {"title": "Other", "message": "Something else."}
    await slack_client.assistant_threads_setSuggestedPrompts(
        channel_id="D0ME", thread_ts="1.000001", prompts=[other]
    )
    assert slack_fake.suggested_prompts["D0ME"]["prompts"] == [prompt] * 4


async def test_suggested_prompts_need_assistant_write() -> None:
    async with FakeSlack(scopes=["chat:write"]) as fake:
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
        call = client.assistant_threads_setSuggestedPrompts(
            channel_id="D0ME", prompts=[{"title": "a", "message": "b"}]
        )
        assert await _error_of(call) == "missing_scope"


async def test_reactions(slack_fake: FakeSlack, slack_client: AsyncWebClient) -> None:
    root = _question(slack_fake)
    await slack_client.reactions_add(channel=CHANNEL, timestamp=root, name="eyes")
    assert await _error_of(
        slack_client.reactions_add(channel=CHANNEL, timestamp=root, name="eyes")
    ) == ("already_reacted")
    assert slack_fake.reactions(CHANNEL, root) == {"eyes"}
    await slack_client.reactions_remove(channel=CHANNEL, timestamp=root, name="eyes")
    assert await _error_of(
        slack_client.reactions_remove(channel=CHANNEL, timestamp=root, name="eyes")
    ) == ("no_reaction")
    assert slack_fake.reactions(CHANNEL, root) == set()


# ------------------------------------------------------------- rate limits


async def test_rate_limit_is_retried_by_the_sdk_handler(slack_fake: FakeSlack) -> None:
    slack_client = AsyncWebClient(
        token=slack_fake.bot_token,
        base_url=slack_fake.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    slack_fake.fail_next("chat.postMessage", retry_after=0)
    await slack_client.chat_postMessage(channel=CHANNEL, text="hello")
    assert len(slack_fake.calls_to("chat.postMessage")) == 2
    assert [m.text for m in slack_fake.channel_messages(CHANNEL)] == ["hello"]


@pytest.mark.parametrize(
    ("status", "error"), [(429, "ratelimited"), (500, "internal_error"), (200, "fatal_error")]
)
async def test_injected_failures_reach_the_caller(
    slack_fake: FakeSlack, slack_client: AsyncWebClient, status: int, error: str
) -> None:
    slack_fake.fail_next("reactions.add", status=status, error=error, retry_after=7)
    root = _question(slack_fake)
    with pytest.raises(SlackApiError) as caught:
        await slack_client.reactions_add(channel=CHANNEL, timestamp=root, name="eyes")
    assert (caught.value.response.status_code, caught.value.response["error"]) == (status, error)
    if status == 429:
        assert caught.value.response.headers["Retry-After"] == "7"
    await slack_client.reactions_add(channel=CHANNEL, timestamp=root, name="eyes")  # only once


# ------------------------------------------------------------------- files


async def _get(url: str, *, token: str | None, redirects: bool = True) -> tuple[int, str, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, headers=headers, allow_redirects=redirects) as response,
    ):
        return response.status, response.content_type, await response.read()


async def test_download_needs_the_bot_token(slack_fake: FakeSlack) -> None:
    file = slack_fake.add_file(name="매출.csv", content="지역,매출\n서울,10\n".encode("cp949"))
    url = file["url_private_download"]

    assert await _get(url, token=slack_fake.bot_token) == (
        200,
        "text/csv",
        "지역,매출\n서울,10\n".encode("cp949"),
    )
    status, content_type, body = await _get(url, token="xoxb-wrong")
    assert (status, content_type) == (200, "text/html")  # the login page, after a redirect
    assert body.startswith(b"<!DOCTYPE html>")
    assert (await _get(url, token="xoxb-wrong", redirects=False))[0] == 302


async def test_deleted_file_is_gone(slack_fake: FakeSlack, slack_client: AsyncWebClient) -> None:
    file = slack_fake.add_file(name="a.csv", content=b"a\n1\n")
    slack_fake.delete_file(file["id"])
    assert (await _get(file["url_private_download"], token=slack_fake.bot_token))[0] == 404
    assert await _error_of(slack_client.files_info(file=file["id"])) == "file_not_found"


async def test_slack_connect_stub_resolves_through_files_info(
    slack_fake: FakeSlack, slack_client: AsyncWebClient
) -> None:
    stub = slack_fake.add_file(name="q3.xlsx", content=b"PK\x03\x04x", connect_stub=True)
    assert stub["file_access"] == "check_file_info" and "url_private_download" not in stub
    info = await slack_client.files_info(file=stub["id"])
    assert info["file"]["name"] == "q3.xlsx"
    assert (await _get(info["file"]["url_private_download"], token=slack_fake.bot_token))[
        2
    ] == b"PK\x03\x04x"


async def test_large_file_served_from_disk_with_declared_size(
    slack_fake: FakeSlack, tmp_path: Path
) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(b"x" * (3 << 20))
    file = slack_fake.add_file(name="big.csv", path=path, size=1 << 30)
    assert file["size"] == 1 << 30
    status, _, body = await _get(file["url_private_download"], token=slack_fake.bot_token)
    assert (status, len(body)) == (200, 3 << 20)


async def test_user_file_share_event_and_replies(
    slack_fake: FakeSlack, slack_client: AsyncWebClient
) -> None:
    file = slack_fake.add_file(name="a.csv", content=b"a\n1\n")
    event = slack_fake.post_user_message(
        channel=CHANNEL, user="U1", text="<@UBOT> look", files=[file]
    )
    assert event["subtype"] == "file_share" and "team" not in event
    assert event["files"][0]["url_private_download"] == file["url_private_download"]
    body = payloads.event_callback(payloads.as_app_mention(event))
    assert body["event"]["type"] == "app_mention" and body["event"]["files"] == [file]
    replies = await slack_client.conversations_replies(channel=CHANNEL, ts=event["ts"])
    assert replies["messages"][0]["files"][0]["id"] == file["id"]


async def test_replies_paginate_with_a_cursor(
    slack_fake: FakeSlack, slack_client: AsyncWebClient
) -> None:
    root = _question(slack_fake)
    for i in range(5):
        slack_fake.post_user_message(channel=CHANNEL, user="U1", text=f"more {i}", thread_ts=root)
    texts: list[str] = []
    async for page in await slack_client.conversations_replies(channel=CHANNEL, ts=root, limit=2):
        texts += [m["text"] for m in page["messages"] if m["ts"] != root]
    assert texts == [f"more {i}" for i in range(5)]


# -------------------------------------------------------------- event delivery


def test_signature_verifies_with_the_sdk(slack_fake: FakeSlack) -> None:
    body = json.dumps(
        payloads.event_callback(payloads.app_mention(channel=CHANNEL, user="U1", text="hi"))
    )
    headers = slack_fake.sign(body)
    verifier = SignatureVerifier(slack_fake.signing_secret)
    assert verifier.is_valid_request(body, headers)
    assert not verifier.is_valid_request(body + " ", headers)
    assert not verifier.is_valid_request(body, slack_fake.sign(body, timestamp=1))  # too old


async def test_socket_mode_client_connects_and_acks(slack_fake: FakeSlack) -> None:
    web = AsyncWebClient(token=slack_fake.bot_token, base_url=slack_fake.api_url)
    socket = SocketModeClient(app_token=slack_fake.app_token, web_client=web)
    received: list[SocketModeRequest] = []

    async def on_request(
        slack_client: AsyncBaseSocketModeClient, request: SocketModeRequest
    ) -> None:
        received.append(request)
        await slack_client.send_socket_mode_response(
            SocketModeResponse(envelope_id=request.envelope_id)
        )

    socket.socket_mode_request_listeners.append(on_request)
    await socket.connect()
    try:
        event = payloads.event_callback(payloads.app_mention(channel=CHANNEL, user="U1", text="hi"))
        ack = await slack_fake.send_socket_event(event, retry_attempt=1, retry_reason="timeout")
        assert ack == {"envelope_id": received[0].envelope_id}
        assert (received[0].type, received[0].retry_attempt, received[0].payload) == (
            "events_api",
            1,
            event,
        )
        assert slack_fake.calls_to("apps.connections.open")[0].token == slack_fake.app_token
    finally:
        await socket.close()


async def test_apps_connections_open_needs_the_app_token(
    slack_fake: FakeSlack, slack_client: AsyncWebClient
) -> None:
    assert await _error_of(slack_client.apps_connections_open(app_token=slack_fake.bot_token)) == (
        "not_allowed_token_type"
    )


async def test_bolt_app_over_socket_mode_replies_in_the_thread(slack_fake: FakeSlack) -> None:
    app = AsyncApp(client=AsyncWebClient(token=slack_fake.bot_token, base_url=slack_fake.api_url))

    @app.event("app_mention")
    async def answer(event: dict[str, Any], say: Any) -> None:
        await say(text="on it", thread_ts=event["ts"])

    @app.action("stop")
    async def stop(ack: Any) -> None:
        await ack()

    handler = AsyncSocketModeHandler(app, slack_fake.app_token)
    await handler.connect_async()
    try:
        message = slack_fake.post_user_message(channel=CHANNEL, user="U1", text="<@UBOT> hi")
        ack = await slack_fake.send_socket_event(
            payloads.event_callback(payloads.as_app_mention(message))
        )
        assert ack is not None
        click = payloads.block_actions(
            action_id="stop", value="job-1", user="U1", channel=CHANNEL, message_ts=message["ts"]
        )
        assert await slack_fake.send_socket_event(click, envelope_type="interactive") is not None
        for _ in range(100):
            if len(slack_fake.thread(CHANNEL, message["ts"])) == 2:
                break
            await asyncio.sleep(0.02)
        assert [m.text for m in slack_fake.thread(CHANNEL, message["ts"])] == [
            "<@UBOT> hi",
            "on it",
        ]
    finally:
        await handler.close_async()


async def test_signed_http_delivery_is_accepted_by_bolt(slack_fake: FakeSlack) -> None:
    app = AsyncApp(
        client=AsyncWebClient(token=slack_fake.bot_token, base_url=slack_fake.api_url),
        signing_secret=slack_fake.signing_secret,
    )
    seen: list[str] = []

    @app.event("app_mention")
    async def answer(event: dict[str, Any]) -> None:
        seen.append(event["text"])

    runner = aiohttp.web.AppRunner(app.web_app(path="/slack/events"))
    await runner.setup()
    site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    try:
        event = payloads.event_callback(payloads.app_mention(channel=CHANNEL, user="U1", text="hi"))
        assert (await slack_fake.deliver_http(url, event))[0] == 200
        assert (await slack_fake.deliver_http(url, event, timestamp=1))[0] == 401
        await asyncio.sleep(0.05)
        assert seen == ["hi"]
    finally:
        await runner.cleanup()


async def test_files_list_filters_by_channel_and_time_newest_first_in_pages(
    slack_fake: FakeSlack, slack_client: AsyncWebClient
) -> None:
    for n, channel in enumerate(("C1", "C1", "C2", "C1")):
        file = slack_fake.add_file(name=f"f{n}.csv", content=b"a\n1\n")
        slack_fake.post_user_message(channel=channel, user="U1", text="", files=[file])
        slack_fake.files[file["id"]].created = 1000 + n
    listed = await slack_client.files_list(channel="C1", ts_from="1001", count=1)
    assert [f["name"] for f in listed["files"]] == ["f3.csv"]
    assert listed["paging"] == {"count": 1, "total": 2, "page": 1, "pages": 2}
    second = await slack_client.files_list(channel="C1", ts_from="1001", count=1, page=2)
    assert [f["name"] for f in second["files"]] == ["f1.csv"]
    everything = await slack_client.files_list()
    assert [f["name"] for f in everything["files"]] == ["f3.csv", "f2.csv", "f1.csv", "f0.csv"]
    assert everything["files"][0]["channels"] == ["C1"]
