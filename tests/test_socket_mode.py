"""Socket Mode end to end: apps.connections.open on SLACK_API_URL, envelopes over the websocket."""

from __future__ import annotations

from pathlib import Path

from handlers.app import connect_socket_mode, running_bot
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_payloads import as_app_mention, event_callback, message_changed
from tests.fakes.slack_server import FakeSlack
from tests.harness import settings_for

CSV = b"region,amount\nSeoul,100\nBusan,200\n"


async def test_socket_mode_mention_is_acked_and_answered_in_the_thread(tmp_path: Path) -> None:
    async with FakeSlack() as slack, FakeOpenAI() as openai:
        settings = settings_for(slack, openai, tmp_path / "bot.db")
        async with running_bot(settings, http_mode=False) as bot:
            handler = await connect_socket_mode(bot, settings)
            try:
                await slack.wait_for_socket()
                assert slack.calls_to("apps.connections.open"), "SLACK_API_URL was not used"
                file = slack.add_file(name="sales.csv", content=CSV)
                event = slack.post_user_message(
                    channel="C1", user="U1", text="<@UBOT> total?", files=[file]
                )
                ack = await slack.send_socket_event(event_callback(as_app_mention(event)))
                assert ack is not None and ack.get("envelope_id")
                # An edit is acknowledged too (otherwise Slack would redeliver it).
                edited = {**event, "text": "<@UBOT> edited"}
                edit = message_changed(channel="C1", new_message=edited, previous_message=event)
                assert await slack.send_socket_event(event_callback(edit)) is not None
                await bot.runner.wait_idle()
                answers = [m.text for m in slack.thread("C1", event["ts"]) if m.bot]
                assert any("2 rows, total 300" in text for text in answers), answers
                assert len(openai.requests_to("POST", "/v1/responses")) == 1
            finally:
                await handler.close_async()  # type: ignore[no-untyped-call]
