"""`insightbot doctor`: checks settings, Slack tokens and scopes, and the engine, in plain words."""

from __future__ import annotations

from collections.abc import Callable

from bot.config import Settings
from bot.engines.base import Engine
from bot.errors import EngineAuthError, EngineBadRequest, EngineUnavailable, InsightbotError
from bot.slack.gateway import SlackGateway


async def run_doctor(
    *,
    settings: Settings,
    gateway: SlackGateway | None,
    engine: Engine | None,
    required_scopes: frozenset[str],
    say: Callable[[str], None],
) -> bool:
    """Print one line per check; True when everything needed to run is in place."""
    healthy = True
    local = settings.engine == "local"
    for name, env in (
        ("slack_bot_token", "SLACK_BOT_TOKEN"),
        *(() if local else (("openai_api_key", "OPENAI_API_KEY"),)),
    ):
        if getattr(settings, name):
            say(f"ok    {env} is set")
        else:
            say(f"FAIL  {env} is not set")
            healthy = False
    if settings.slack_app_token:
        say("ok    SLACK_APP_TOKEN is set (Socket Mode: `insightbot run`)")
    elif settings.slack_signing_secret:
        say("ok    SLACK_SIGNING_SECRET is set (HTTP mode: `insightbot serve`)")
    else:
        say("FAIL  neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET (HTTP) is set")
        healthy = False
    say(_retention_line(settings))
    if gateway is not None:
        healthy = await _check_slack(gateway, required_scopes, say) and healthy
    if local:
        healthy = await _check_local(settings, say) and healthy
    elif engine is not None:
        try:
            say(f"ok    OpenAI: {await engine.check()}")
        except InsightbotError as error:
            say(f"FAIL  OpenAI: {_engine_hint(settings, error)}")
            healthy = False
    return healthy


def _retention_line(settings: Settings) -> str:
    days = settings.retention_days
    if not days:
        return (
            "note  INSIGHTBOT_RETENTION_DAYS=0: threads' data is kept until someone asks to "
            "forget it or `insightbot cleanup` runs"
        )
    return (
        f"ok    INSIGHTBOT_RETENTION_DAYS={days}: a thread idle for {days} days is purged at "
        "the engine and here (swept at start and hourly)"
    )


async def _check_local(settings: Settings, say: Callable[[str], None]) -> bool:
    try:
        from bot.engines.local import check_local_engine
    except ImportError as error:
        say(
            f"FAIL  INSIGHTBOT_ENGINE=local needs the local extra ({error.name} is missing): "
            "pip install 'insightbot[local]'"
        )
        return False
    return await check_local_engine(settings, say)


def _engine_hint(settings: Settings, error: InsightbotError) -> str:
    where = f"model {settings.model} at {settings.openai_base_url or 'https://api.openai.com/v1'}"
    if isinstance(error, EngineUnavailable) and error.detail:
        return f"cannot reach {error.detail}. Check OPENAI_BASE_URL and the network."
    if isinstance(error, EngineAuthError):
        return f"the API key was refused ({where}). Check OPENAI_API_KEY."
    if isinstance(error, EngineBadRequest):
        return (
            f"{where}: {error.detail or error.user_message}. Check INSIGHTBOT_MODEL (a model "
            "this project may use) and OPENAI_BASE_URL."
        )
    return f"{where}: {error.detail or error.user_message}"


def _slack_hint(error: InsightbotError) -> str:
    detail = error.detail or ""
    if "invalid_auth" in detail or "not_authed" in detail or "token" in detail:
        return f"the bot token was refused ({detail}). Check SLACK_BOT_TOKEN (xoxb-…)."
    return f"{error.user_message} ({detail}). Check SLACK_API_URL and the network."


async def _check_slack(
    gateway: SlackGateway, required_scopes: frozenset[str], say: Callable[[str], None]
) -> bool:
    try:
        auth = await gateway.auth_check()
    except InsightbotError as error:
        say(f"FAIL  Slack: {_slack_hint(error)}")
        return False
    say(f"ok    Slack: connected to team {auth.team_id} as bot user {auth.bot_user_id}")
    missing = sorted(required_scopes - set(auth.scopes))
    if missing:
        say(
            "FAIL  Slack: the bot token lacks scopes "
            + ", ".join(missing)
            + ". Add them under OAuth & Permissions (or recreate the app from manifest.yml) "
            "and reinstall the app."
        )
        return False
    say("ok    Slack: every scope insightbot needs is granted")
    return True
