"""The service files in deploy/ agree with the code: the commands, settings, paths and health
route they use exist. (No Docker daemon or systemd runs here; these are checked statically.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import SETTINGS

ROOT = Path(__file__).parent.parent
DOCKERFILE = (ROOT / "deploy" / "Dockerfile").read_text()
UNIT = (ROOT / "deploy" / "insightbot.service").read_text()
SETTING_NAMES = {spec.env for spec in SETTINGS}


def _runs(command: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0, command


def test_the_dockerfile_runs_an_existing_command_as_a_non_root_user() -> None:
    (base,) = re.findall(r"^FROM (\S+)", DOCKERFILE, re.MULTILINE)
    assert re.fullmatch(r"python:3\.1[1-9][.\d]*-slim[\w.-]*", base), "base image pinned by tag"
    (cmd,) = re.findall(r'^CMD \["insightbot", "(\w+)"\]', DOCKERFILE, re.MULTILINE)
    _runs(cmd)
    (user,) = re.findall(r"^USER (\S+)", DOCKERFILE, re.MULTILINE)
    assert user not in ("root", "0")
    for source in re.findall(r"^COPY (.+) \S+$", DOCKERFILE, re.MULTILINE):
        for name in source.split():
            assert (ROOT / name).exists(), name


def test_the_dockerfile_keeps_the_database_on_the_volume_and_checks_health() -> None:
    env = dict(re.findall(r"(INSIGHTBOT_\w+)=(\S+)", DOCKERFILE))
    assert set(env) <= SETTING_NAMES
    (volume,) = re.findall(r'^VOLUME \["(\S+)"\]', DOCKERFILE, re.MULTILINE)
    assert env["INSIGHTBOT_DB"].startswith(volume + "/")
    assert "/healthz" in DOCKERFILE and "INSIGHTBOT_HEALTH_PORT" in env


def test_the_systemd_unit_runs_an_existing_command_with_known_settings() -> None:
    (exec_start,) = re.findall(r"^ExecStart=(.+)$", UNIT, re.MULTILINE)
    program, command = exec_start.split()
    assert program.endswith("/bin/insightbot")
    _runs(command)
    env = dict(re.findall(r"^Environment=(INSIGHTBOT_\w+)=(\S+)$", UNIT, re.MULTILINE))
    assert set(env) <= SETTING_NAMES
    (state,) = re.findall(r"^StateDirectory=(\S+)$", UNIT, re.MULTILINE)
    assert env["INSIGHTBOT_DB"].startswith(f"/var/lib/{state}/")
    assert f"ReadWritePaths=/var/lib/{state}" in UNIT
    assert re.search(r"^User=(?!root$)\w+$", UNIT, re.MULTILINE)
