"""`insightbot doctor` says in plain words what is missing."""

from __future__ import annotations

from bot.config import load_settings
from bot.doctor import run_doctor
from bot.engines.openai_engine import OpenAIEngine
from bot.slack.client import build_web_client
from bot.slack.gateway import SlackGateway
from handlers.manifest_facts import BOT_SCOPES
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_server import FakeSlack


async def _doctor(slack: FakeSlack, openai: FakeOpenAI, token: str) -> tuple[bool, str]:
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": token,
            "SLACK_APP_TOKEN": slack.app_token,
            "SLACK_API_URL": slack.api_url,
            "OPENAI_API_KEY": openai.api_key,
            "OPENAI_BASE_URL": openai.base_url,
        },
        dotenv_path=None,
    )
    gateway = SlackGateway(
        client=build_web_client(token=token, base_url=slack.api_url), bot_token=token
    )
    engine = OpenAIEngine(settings=settings)
    lines: list[str] = []
    try:
        healthy = await run_doctor(
            settings=settings,
            gateway=gateway,
            engine=engine,
            required_scopes=frozenset(BOT_SCOPES),
            say=lines.append,
        )
    finally:
        await engine.aclose()
    return healthy, "\n".join(lines)


async def test_doctor_passes_with_every_scope_granted() -> None:
    async with FakeSlack(scopes=sorted(BOT_SCOPES)) as slack, FakeOpenAI() as openai:
        healthy, report = await _doctor(slack, openai, slack.bot_token)
    assert healthy, report
    assert "FAIL" not in report


async def test_doctor_names_missing_scopes_and_a_refused_token() -> None:
    granted = sorted(set(BOT_SCOPES) - {"files:write", "mpim:history"})
    async with FakeSlack(scopes=granted) as slack, FakeOpenAI() as openai:
        healthy, report = await _doctor(slack, openai, slack.bot_token)
        assert not healthy
        assert "files:write" in report and "mpim:history" in report and "reinstall" in report
        healthy, report = await _doctor(slack, openai, "xoxb-wrong-token")
    assert not healthy
    assert "SLACK_BOT_TOKEN" in report
    assert "xoxb-wrong-token" not in report
