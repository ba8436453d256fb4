"""The real command (`python -m bot.cli serve`) killed in the middle of a run.

SIGKILL: nothing runs at exit, so only what was stored before the kill survives; the next
start must follow the engine's run (which went on server-side) and answer exactly once.
SIGTERM: the process drains within INSIGHTBOT_DRAIN_S and exits; the next start finishes.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from storage.records import DONE, RUNNING
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_payloads import as_app_mention, event_callback
from tests.fakes.slack_server import FakeSlack
from tests.reliability_harness import CSV, answers, creates, fakes, stored_turns, wait_until

ROOT = Path(__file__).resolve().parents[1]


def _env(slack: FakeSlack, openai: FakeOpenAI, db: Path, drain_s: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(db.parent),
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url,
        "OPENAI_API_KEY": openai.api_key,
        "OPENAI_BASE_URL": openai.base_url,
        "INSIGHTBOT_DB": str(db),
        "INSIGHTBOT_DRAIN_S": drain_s,
        "INSIGHTBOT_LOG_LEVEL": "INFO",
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def _bot_process(
    env: dict[str, str], log: Path
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """``insightbot serve`` on a free port; yields (process, events URL) once it is healthy."""
    port = _free_port()
    with log.open("ab") as err:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            env=env,
            cwd=log.parent,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=err,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            deadline = time.monotonic() + 10
            while True:
                assert process.returncode is None, f"the bot exited; see {log}"
                try:
                    async with http.get(f"{base}/healthz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                assert time.monotonic() < deadline, "the bot did not start"
                await asyncio.sleep(0.05)
        yield process, f"{base}/slack/events"
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def _mention(slack: FakeSlack, url: str, *, channel: str) -> dict[str, str]:
    file = slack.add_file(name="sales.csv", content=CSV)
    event = slack.post_user_message(channel=channel, user="U1", text="<@UBOT> total?", files=[file])
    body = json.dumps(event_callback(as_app_mention(event)))
    headers = {"Content-Type": "application/json", **slack.sign(body)}
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as resp:
        assert resp.status == 200
    return event


async def test_a_killed_bot_answers_exactly_once_after_restart(tmp_path: Path) -> None:
    db, log = tmp_path / "bot.db", tmp_path / "bot.log"
    async with fakes() as (slack, openai):
        openai.run_delay_s = 2.0
        env = _env(slack, openai, db, drain_s="1")

        async with _bot_process(env, log) as (process, url):
            event = await _mention(slack, url, channel="C1")
            await wait_until(lambda: any(t.response_id for t in stored_turns(db)))
            process.send_signal(signal.SIGKILL)
            await process.wait()
        (turn,) = stored_turns(db)
        assert turn.status == RUNNING and answers(slack, "C1", event["ts"]) == []

        async with _bot_process(env, log) as (process, url):
            await wait_until(lambda: [t.status for t in stored_turns(db)] == [DONE])
            await asyncio.sleep(0.3)  # room for a second answer, if one were coming
            assert len(answers(slack, "C1", event["ts"])) == 1
            assert len(creates(openai)) == 1

            # SIGTERM: the running turn is stored for resumption within the drain time.
            second = await _mention(slack, url, channel="C2")
            await wait_until(lambda: sum(bool(t.response_id) for t in stored_turns(db)) == 2)
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 5) == 0
            assert time.monotonic() - started < 4
        assert answers(slack, "C2", second["ts"]) == []

        async with _bot_process(env, log):
            await wait_until(lambda: [t.status for t in stored_turns(db)] == [DONE, DONE])
        assert len(answers(slack, "C2", second["ts"])) == 1
        assert len(creates(openai)) == 2
