"""The `insightbot` command refuses to start with clear words when settings are missing: every
missing one at once, where to put them, and what to run next."""

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
        (["run"], {}, "SLACK_BOT_TOKEN, SLACK_APP_TOKEN, OPENAI_API_KEY"),
        (
            ["run"],
            {"SLACK_BOT_TOKEN": "xoxb-secret-1", "OPENAI_API_KEY": "sk-secret-1"},
            "SLACK_APP_TOKEN",
        ),
        (
            ["serve", "--port", "0"],
            {"SLACK_BOT_TOKEN": "xoxb-secret-1"},
            "SLACK_SIGNING_SECRET, OPENAI_API_KEY",
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
def test_start_refuses_missing_or_invalid_settings_naming_each(
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
    assert "Traceback" not in result.stderr
    named = [line.split(":")[0].strip() for line in result.stderr.splitlines()[1:]]
    for expected in fragment.split(", "):
        assert expected in result.stderr, result.stderr
        if expected.isupper():  # a missing setting: named on a line of its own
            assert expected in named or f"{expected} is not set" in result.stderr, result.stderr
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


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )


def test_version_is_printed() -> None:
    import importlib.metadata

    result = _cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"insightbot {importlib.metadata.version('insightbot')}"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("run", ["Socket Mode"]),
        ("serve", ["(default: 127.0.0.1)", "(default: 3000)", "reverse proxy"]),
        ("ask", ["(default: insightbot-output)", "--thread", "stderr"]),
        ("doctor", ["scopes"]),
    ],
)
def test_every_command_explains_itself_with_its_defaults(command: str, expected: list[str]) -> None:
    result = _cli(command, "--help")
    assert result.returncode == 0
    text = "".join(result.stdout.split())  # help text wraps anywhere, hyphens included
    for fragment in expected:
        assert "".join(fragment.split()) in text, result.stdout
    assert "(default: None)" not in result.stdout


def test_the_license_matches_the_package_metadata() -> None:
    import tomllib

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["license"]["text"] == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
