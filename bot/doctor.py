"""`insightbot doctor`: checks settings, Slack tokens and scopes, and the engine, in plain words."""

from __future__ import annotations

from collections.abc import Callable

from bot.config import Settings
from bot.engines.base import Engine
from bot.errors import InsightbotError
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
    for name, env in (
        ("slack_bot_token", "SLACK_BOT_TOKEN"),
        ("openai_api_key", "OPENAI_API_KEY"),
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
    if gateway is not None:
        healthy = await _check_slack(gateway, required_scopes, say) and healthy
    if engine is not None:
        try:
            say(f"ok    OpenAI: {await engine.check()}")
        except InsightbotError as error:
            say(f"FAIL  OpenAI: {error.user_message}")
            healthy = False
    return healthy


async def _check_slack(
    gateway: SlackGateway, required_scopes: frozenset[str], say: Callable[[str], None]
) -> bool:
    try:
        auth = await gateway.auth_check()
    except InsightbotError as error:
        say(f"FAIL  Slack: {error.user_message} Check SLACK_BOT_TOKEN and SLACK_API_URL.")
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
