"""Helpers for the reliability tests: the real app over fakes that outlive it (so a test can
stop the bot and start it again on the same database), and views of what a user sees."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from storage.records import TurnRecord
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_payloads import as_app_mention, block_actions
from tests.fakes.slack_server import FakeSlack, SeenMessage
from tests.harness import Harness
from tests.samples import SALES_CSV

CSV = SALES_CSV
ANSWER = "3 rows, total 600"  # what the fake model says about CSV


@asynccontextmanager
async def fakes() -> AsyncIterator[tuple[FakeSlack, FakeOpenAI]]:
    async with FakeSlack() as slack, FakeOpenAI() as openai:
        yield slack, openai


async def ask(
    h: Harness,
    *,
    text: str = "<@UBOT> total?",
    channel: str = "C1",
    user: str = "U1",
    files: list[dict[str, Any]] | None = None,
    content: bytes = CSV,
    name: str = "sales.csv",
) -> dict[str, Any]:
    """A user mentions the bot with a file (a fresh CSV unless ``files`` is given)."""
    if files is None:
        files = [h.slack.add_file(name=name, content=content)]
    event = h.slack.post_user_message(channel=channel, user=user, text=text, files=files)
    assert await h.send_event(as_app_mention(event)) == 200
    return event


def bot_messages(slack: FakeSlack, channel: str, thread_ts: str) -> list[SeenMessage]:
    return [m for m in slack.thread(channel, thread_ts) if m.bot]


def answers(slack: FakeSlack, channel: str, thread_ts: str, needle: str = ANSWER) -> list[str]:
    """The bot's messages in the thread that carry ``needle``."""
    return [m.text for m in bot_messages(slack, channel, thread_ts) if needle in m.text]


def thread_text(slack: FakeSlack, channel: str, thread_ts: str) -> str:
    return "\n".join(m.text for m in bot_messages(slack, channel, thread_ts))


def buttons(message: SeenMessage) -> list[tuple[str, str]]:
    """(action_id, value) of every button on a message."""
    return [
        (element["action_id"], element.get("value", ""))
        for block in message.blocks
        if block.get("type") == "actions"
        for element in block.get("elements", [])
        if element.get("type") == "button"
    ]


def with_button(
    slack: FakeSlack, channel: str, thread_ts: str, action_id: str
) -> list[SeenMessage]:
    return [
        m
        for m in bot_messages(slack, channel, thread_ts)
        if any(a == action_id for a, _ in buttons(m))
    ]


async def click(
    h: Harness, message: SeenMessage, *, action_id: str, user: str, channel: str = "C1"
) -> None:
    value = next(v for a, v in buttons(message) if a == action_id)
    payload = block_actions(
        action_id=action_id,
        value=value,
        user=user,
        channel=channel,
        message_ts=message.ts,
        thread_ts=message.thread_ts,
    )
    assert await h.click(payload) == 200


def creates(openai: FakeOpenAI) -> list[Any]:
    """Every POST /v1/responses (response creations; not cancels)."""
    return [r for r in openai.requests if r.method == "POST" and r.path == "/v1/responses"]


def stream_reopens(openai: FakeOpenAI) -> list[Any]:
    return [
        r
        for r in openai.requests
        if r.method == "GET" and r.path.startswith("/v1/responses/") and r.query.get("stream")
    ]


async def wait_until(condition: Callable[[], bool], *, within_s: float = 10.0) -> None:
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def stored_turns(db: Path) -> list[TurnRecord]:
    """Every turn in the database, read with a connection of our own (as an operator would)."""
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute(
            "SELECT id, thread_key, message_ts, user, question, attempt, status, response_id, "
            "last_sequence, answer_ts, status_ts, error FROM turns ORDER BY created_at"
        ).fetchall()
    return [TurnRecord(**dict(row)) for row in rows]
