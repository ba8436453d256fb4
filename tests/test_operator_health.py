"""For operators: /healthz and /readyz say what they check, Socket Mode without network backs off
with one clear line per attempt, and `insightbot backup` copies a live database."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.logs import ContextFilter
from handlers.app import connect_socket_mode, running_bot, start_site, web_application
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_payloads import as_app_mention
from tests.fakes.slack_server import FakeSlack
from tests.harness import harness, settings_for

ROOT = Path(__file__).parent.parent


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_healthz_checks_the_database_and_readyz_the_slack_connection(
    tmp_path: Path,
) -> None:
    async with FakeSlack() as slack, FakeOpenAI() as openai:
        settings = settings_for(slack, openai, tmp_path / "bot.db")
        async with running_bot(settings, http_mode=False) as bot:
            site = await start_site(web_application(bot, events=False), "127.0.0.1", 0)
            base = f"http://127.0.0.1:{site.addresses[0][1]}"
            import aiohttp

            async with aiohttp.ClientSession() as http:
                handler = await connect_socket_mode(bot, settings)
                await slack.wait_for_socket()
                async with http.get(f"{base}/readyz") as ready:
                    assert ready.status == 200
                    assert (await ready.json())["slack"] is True
                await handler.close_async()  # type: ignore[no-untyped-call]
                async with http.get(f"{base}/readyz") as ready:
                    assert ready.status == 503
                    assert (await ready.json())["slack"] is False
                async with http.get(f"{base}/healthz") as live:
                    assert live.status == 200, "a Slack outage must not fail liveness"
                await bot.services.store.close()
                async with http.get(f"{base}/healthz") as live:
                    assert live.status == 503
                    assert (await live.json())["database"] is False
            await site.cleanup()


async def test_socket_mode_without_slack_backs_off_one_line_per_attempt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = _closed_port()
    async with FakeSlack() as slack, FakeOpenAI() as openai:
        settings = settings_for(
            slack, openai, tmp_path / "bot.db", SLACK_API_URL=f"http://127.0.0.1:{port}/api/"
        )
        with caplog.at_level(logging.INFO):
            async with running_bot(settings, http_mode=False) as bot:
                attempt = asyncio.create_task(
                    connect_socket_mode(bot, settings, first_pause_s=0.05, longest_pause_s=0.2)
                )
                for _ in range(300):  # each attempt includes the SDK's own connection retry
                    if len(_backoff_lines(caplog)) >= 2:
                        break
                    await asyncio.sleep(0.1)
                attempt.cancel()
    lines = _backoff_lines(caplog)
    assert len(lines) >= 2
    assert all(f"127.0.0.1:{port}" in r.getMessage() for r in lines)
    assert all("refused" in r.getMessage() for r in lines)
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def _backoff_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "cannot reach Slack" in r.getMessage()]


async def test_backup_copies_a_live_database(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        file = h.slack.add_file(name="sales.csv", content=b"a,b\n1,2\n")
        event = h.slack.post_user_message(
            channel="C1", user="U1", text="<@UBOT> total", files=[file]
        )
        await h.send_event(as_app_mention(event))
        await h.settle()
        dest = tmp_path / "copy.db"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "INSIGHTBOT_DB": str(h.settings.db_path)}
        result = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "bot.cli", "backup", str(dest)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert "backed up" in result.stdout
    with sqlite3.connect(dest) as copy:
        (questions,) = copy.execute(
            "select count(*) from turns where question = 'total'"
        ).fetchone()
    assert questions == 1
    assert not (tmp_path / "copy.db.partial").exists()


async def test_an_unreachable_engine_names_host_and_cause_in_logs_but_not_in_the_channel(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = _closed_port()
    caplog.handler.addFilter(ContextFilter())
    with caplog.at_level(logging.INFO):
        async with harness(tmp_path, OPENAI_BASE_URL=f"http://127.0.0.1:{port}/v1") as h:
            file = h.slack.add_file(name="sales.csv", content=b"a,b\n1,2\n")
            event = h.slack.post_user_message(
                channel="C1", user="U1", text="<@UBOT> total", files=[file]
            )
            await h.send_event(as_app_mention(event))
            await h.settle(60)
            turns = await h.bot.services.store.thread_turns(f"T0FAKE:C1:{event['ts']}")
            said = "\n".join(m.text for m in h.slack.thread("C1", event["ts"]) if m.bot)
    (turn,) = turns
    assert f"reference: {turn.id}" in said, said
    assert f"127.0.0.1:{port}" not in said, "an internal host name reached the channel"
    logged = [r for r in caplog.records if f"127.0.0.1:{port}" in r.getMessage()]
    assert any("refused" in r.getMessage() for r in logged), "the operator is not told the cause"
    assert any(getattr(r, "turn_id", None) == turn.id for r in logged), "no reference in logs"
