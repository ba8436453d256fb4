"""Settings: read once, validated, secrets hidden."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.config import SETTINGS, Secret, load_settings
from bot.errors import ConfigError


def test_defaults_apply_when_only_the_key_is_set() -> None:
    settings = load_settings({"OPENAI_API_KEY": "sk-abc"}, dotenv_path=None)
    assert settings.model == "gpt-5.5"
    assert settings.max_file_bytes == 512 * 1024 * 1024
    assert settings.db_path == Path("insightbot.db")
    assert settings.background is True


@pytest.mark.parametrize(
    ("env", "value", "fragment"),
    [
        ("INSIGHTBOT_MAX_FILE_MB", "lots", "INSIGHTBOT_MAX_FILE_MB must be a whole number"),
        ("INSIGHTBOT_MAX_CONCURRENT_RUNS", "0", "must be greater than 0"),
        ("INSIGHTBOT_CONTAINER_MEMORY_MAX", "2g", "one of 1g, 4g, 16g, 64g"),
        ("INSIGHTBOT_BACKGROUND", "maybe", "true or false"),
        ("SLACK_API_URL", "slack.com", "http(s) URL"),
        ("INSIGHTBOT_HEALTH_PORT", "70000", "port number"),
    ],
)
def test_invalid_values_name_the_variable(env: str, value: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({env: value}, dotenv_path=None)
    assert env in str(caught.value)
    assert fragment in str(caught.value)


def test_oauth_variables_are_refused_because_bolt_would_drop_the_bot_token() -> None:
    with pytest.raises(ConfigError, match="SLACK_CLIENT_ID and SLACK_CLIENT_SECRET"):
        load_settings({"SLACK_CLIENT_ID": "1", "SLACK_CLIENT_SECRET": "2"}, dotenv_path=None)


def test_missing_required_setting_says_what_to_set() -> None:
    settings = load_settings({}, dotenv_path=None)
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN is not set: create an app-level"):
        settings.require("slack_app_token")


def test_every_missing_setting_is_named_at_once_with_where_to_put_it() -> None:
    settings = load_settings({}, dotenv_path=None)
    with pytest.raises(ConfigError) as caught:
        settings.require("slack_bot_token", "slack_app_token", "openai_api_key")
    text = caught.value.user_message
    for env in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "OPENAI_API_KEY"):
        assert f"  {env}: " in text
    assert ".env" in text and "insightbot doctor" in text


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"SLACK_BOT_TOKEN": "xapp-1-A", "SLACK_APP_TOKEN": "xoxb-1-2"}, "are swapped"),
        ({"SLACK_BOT_TOKEN": "xapp-1-A"}, "SLACK_BOT_TOKEN holds an app-level token"),
        ({"SLACK_BOT_TOKEN": "xoxp-1-2"}, "SLACK_BOT_TOKEN holds a user token"),
        ({"SLACK_APP_TOKEN": "xoxb-1-2"}, "SLACK_APP_TOKEN holds a bot token"),
    ],
)
def test_tokens_of_the_wrong_kind_are_refused(env: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        load_settings(env, dotenv_path=None)


def test_tokens_of_an_unexpected_shape_only_warn() -> None:
    settings = load_settings(
        {"SLACK_BOT_TOKEN": "xoxe.xoxb-1-rotated", "SLACK_APP_TOKEN": "xapp-1-A"},
        dotenv_path=None,
    )
    (warning,) = settings.warnings()
    assert "SLACK_BOT_TOKEN does not start with xoxb-" in warning
    assert load_settings({"SLACK_BOT_TOKEN": "xoxb-1"}, dotenv_path=None).warnings() == []


def test_secrets_never_show_in_repr_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    settings = load_settings(
        {"OPENAI_API_KEY": "sk-very-secret", "SLACK_BOT_TOKEN": "xoxb-very-secret"},
        dotenv_path=None,
    )
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("settings: %s", settings)
    assert "very-secret" not in repr(settings)
    assert "very-secret" not in caplog.text
    assert isinstance(settings.openai_api_key, Secret)
    assert settings.openai_api_key.reveal() == "sk-very-secret"


def test_dotenv_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("INSIGHTBOT_MODEL=from-file\nINSIGHTBOT_DRAIN_S=12\n", encoding="utf-8")
    settings = load_settings({"INSIGHTBOT_MODEL": "from-env"}, dotenv_path=dotenv)
    assert settings.model == "from-env"
    assert settings.drain_s == 12.0


def test_readme_documents_every_setting() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    for spec in SETTINGS:
        assert f"`{spec.env}`" in readme, f"{spec.env} missing from the README settings table"
