"""End-to-end harness: the real app (Bolt, slack_sdk, openai) against the fake Slack and fake
OpenAI servers on 127.0.0.1, driven by signed HTTP events or Socket Mode envelopes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bot.config import Settings, load_settings
from bot.lifecycle import Clock
from handlers.app import RunningBot, running_bot, start_site, web_application
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_payloads import event_callback
from tests.fakes.slack_server import FakeSlack


def settings_for(slack: FakeSlack, openai: FakeOpenAI, db: Path, **overrides: str) -> Settings:
    env = {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_APP_TOKEN": slack.app_token,
        "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url,
        "OPENAI_API_KEY": openai.api_key,
        "OPENAI_BASE_URL": openai.base_url,
        "INSIGHTBOT_DB": str(db),
        "INSIGHTBOT_STATUS_REFRESH_S": "30",
        "INSIGHTBOT_DRAIN_S": "5",
    }
    env.update(overrides)
    return load_settings(env, dotenv_path=None)


@dataclass
class Harness:
    slack: FakeSlack
    openai: FakeOpenAI
    settings: Settings
    bot: RunningBot
    events_url: str
    http: aiohttp.ClientSession

    async def post_signed(
        self,
        body: str,
        *,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        timestamp: int | None = None,
    ) -> aiohttp.ClientResponse:
        signed = self.slack.sign(body, timestamp=timestamp) if timestamp else self.slack.sign(body)
        all_headers = {"Content-Type": content_type, **signed, **(headers or {})}
        async with self.http.post(
            self.events_url, data=body.encode(), headers=all_headers
        ) as response:
            await response.read()
            return response

    async def send_event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry_num: int | None = None
    ) -> int:
        body = json.dumps(event_callback(event, event_id=event_id))
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        response = await self.post_signed(body, headers=headers)
        return response.status

    async def send_body(self, body: dict[str, Any]) -> int:
        response = await self.post_signed(json.dumps(body))
        return response.status

    async def click(self, payload: dict[str, Any]) -> int:
        from urllib.parse import urlencode

        body = urlencode({"payload": json.dumps(payload)})
        response = await self.post_signed(body, content_type="application/x-www-form-urlencoded")
        return response.status

    async def settle(self, wait_s: float = 20.0) -> None:
        """Wait until the bot has finished every turn it started."""
        await asyncio.wait_for(self.bot.runner.wait_idle(), wait_s)


@asynccontextmanager
async def bot_over(
    slack: FakeSlack, openai: FakeOpenAI, db: Path, *, clock: Clock | None = None, **overrides: str
) -> AsyncIterator[Harness]:
    """The real app in HTTP mode over existing fakes; leaving drains it like SIGTERM does.
    ``clock`` drives the retention sweep (the system clock by default)."""
    settings = settings_for(slack, openai, db, **overrides)
    async with running_bot(settings, http_mode=True, clock=clock) as bot:
        runner = await start_site(web_application(bot), "127.0.0.1", 0)
        port = runner.addresses[0][1]
        async with aiohttp.ClientSession() as http:
            try:
                yield Harness(
                    slack=slack,
                    openai=openai,
                    settings=settings,
                    bot=bot,
                    events_url=f"http://127.0.0.1:{port}/slack/events",
                    http=http,
                )
            finally:
                await runner.cleanup()


@asynccontextmanager
async def harness(
    tmp_path: Path, *, clock: Clock | None = None, **overrides: str
) -> AsyncIterator[Harness]:
    """Fresh fakes and the real app over them."""
    async with (
        FakeSlack() as slack,
        FakeOpenAI() as openai,
        bot_over(slack, openai, tmp_path / "insightbot.db", clock=clock, **overrides) as h,
    ):
        yield h
