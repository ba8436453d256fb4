"""`insightbot doctor` says in plain words what is missing."""

from __future__ import annotations

import socket

from bot.config import load_settings
from bot.doctor import run_doctor
from bot.engines.openai import OpenAIEngine
from bot.slack.client import build_web_client
from bot.slack.gateway import SlackGateway
from handlers.manifest_facts import BOT_SCOPES
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_server import FakeSlack


async def _doctor(
    slack: FakeSlack, openai: FakeOpenAI, token: str, **overrides: str
) -> tuple[bool, str]:
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": token,
            "SLACK_APP_TOKEN": slack.app_token,
            "SLACK_API_URL": slack.api_url,
            "OPENAI_API_KEY": openai.api_key,
            "OPENAI_BASE_URL": openai.base_url,
            **overrides,
        },
        dotenv_path=None,
    )
    gateway = SlackGateway(
        client=build_web_client(token=token, base_url=settings.slack_api_url), bot_token=token
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


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_doctor_without_network_names_hosts_and_causes_and_blames_no_token() -> None:
    slack_port, openai_port = _closed_port(), _closed_port()
    async with FakeSlack() as slack, FakeOpenAI() as openai:
        healthy, report = await _doctor(
            slack,
            openai,
            slack.bot_token,
            SLACK_API_URL=f"http://127.0.0.1:{slack_port}/api/",
            OPENAI_BASE_URL=f"http://127.0.0.1:{openai_port}/v1",
        )
    assert not healthy
    slack_line = next(line for line in report.splitlines() if "Slack:" in line)
    openai_line = next(line for line in report.splitlines() if "OpenAI:" in line)
    assert f"127.0.0.1:{slack_port}" in slack_line and "refused" in slack_line
    assert "SLACK_BOT_TOKEN" not in slack_line
    assert f"127.0.0.1:{openai_port}" in openai_line and "refused" in openai_line
    assert "OPENAI_BASE_URL" in openai_line


async def test_doctor_names_the_model_and_url_the_engine_does_not_know() -> None:
    async with FakeSlack(scopes=sorted(BOT_SCOPES)) as slack, FakeOpenAI() as openai:
        healthy, report = await _doctor(
            slack, openai, slack.bot_token, INSIGHTBOT_MODEL="no-such-model"
        )
    assert not healthy
    openai_line = next(line for line in report.splitlines() if "OpenAI:" in line)
    assert "no-such-model" in openai_line and openai.base_url in openai_line
    assert "INSIGHTBOT_MODEL" in openai_line


async def test_doctor_shows_the_retention_setting() -> None:
    async with FakeSlack(scopes=sorted(BOT_SCOPES)) as slack, FakeOpenAI() as openai:
        _, default = await _doctor(slack, openai, slack.bot_token)
        _, off = await _doctor(slack, openai, slack.bot_token, INSIGHTBOT_RETENTION_DAYS="0")
    assert "INSIGHTBOT_RETENTION_DAYS=30: a thread idle for 30 days is purged" in default
    assert "INSIGHTBOT_RETENTION_DAYS=0: threads' data is kept" in off
