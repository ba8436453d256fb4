"""The `insightbot` command refuses to start with one clear line when settings are missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


@pytest.mark.parametrize(
    ("command", "env", "fragment"),
    [
        (["run"], {}, "SLACK_BOT_TOKEN is not set"),
        (
            ["run"],
            {"SLACK_BOT_TOKEN": "xoxb-secret-1", "OPENAI_API_KEY": "sk-secret-1"},
            "SLACK_APP_TOKEN is not set",
        ),
        (
            ["serve", "--port", "0"],
            {"SLACK_BOT_TOKEN": "xoxb-secret-1"},
            "SLACK_SIGNING_SECRET is not set",
        ),
        (
            ["run"],
            {"SLACK_CLIENT_ID": "1", "SLACK_CLIENT_SECRET": "2"},
            "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET",
        ),
        (
            ["run"],
            {"INSIGHTBOT_MAX_FILE_MB": "many"},
            "INSIGHTBOT_MAX_FILE_MB must be a whole number",
        ),
    ],
)
def test_start_refuses_missing_or_invalid_settings_in_one_line(
    tmp_path: Path, command: list[str], env: dict[str, str], fragment: str
) -> None:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "SLACK", "INSIGHTBOT"))
    }
    clean.update(env, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", *command],
        capture_output=True,
        text=True,
        env=clean,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and fragment in lines[0], result.stderr
    assert "secret-1" not in result.stderr


def test_dotenv_in_the_working_folder_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("INSIGHTBOT_MAX_FILE_MB=lots\n", encoding="utf-8")
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "SLACK", "INSIGHTBOT"))
    }
    clean["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        capture_output=True,
        text=True,
        env=clean,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 2
    assert "INSIGHTBOT_MAX_FILE_MB" in result.stderr
