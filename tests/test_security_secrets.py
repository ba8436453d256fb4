"""Secrets are masked by value: a key of any shape, echoed by an upstream error, never shows in
a log line, a Slack message or a stored error."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.errors import EngineAuthError
from bot.logs import JsonFormatter, install_redacting_records
from bot.redact import redact, register_secrets
from tests.fakes.slack_payloads import as_app_mention
from tests.harness import harness

# Not shaped like any token the patterns know: only masking by value can catch it.
ODD_KEY = "proj_live_7f3a9c2e5b1d4a6f8e0c"


@pytest.fixture
def redacting_records() -> Iterator[None]:
    factory = logging.getLogRecordFactory()
    install_redacting_records()
    yield
    logging.setLogRecordFactory(factory)


def test_a_registered_value_is_masked_whatever_its_shape() -> None:
    register_secrets(["plain-words-signing-9a8b7c", "abc"])  # too short to mask: ignored
    text = "upstream said: key plain-words-signing-9a8b7c is wrong (abc)"
    assert redact(text) == "upstream said: key [redacted] is wrong (abc)"


def test_errors_carry_no_secret_in_message_or_detail() -> None:
    register_secrets([ODD_KEY])
    error = EngineAuthError(f"bad key {ODD_KEY}", detail=f"401: Incorrect key {ODD_KEY}")
    assert ODD_KEY not in error.user_message
    assert ODD_KEY not in (error.detail or "")
    assert ODD_KEY not in str(error)


async def test_a_key_echoed_by_the_engine_is_logged_posted_and_stored_masked(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, redacting_records: None
) -> None:
    with caplog.at_level(logging.DEBUG):
        async with harness(tmp_path, OPENAI_API_KEY=ODD_KEY) as h:
            h.openai.echo_key_in_errors = True
            file = h.slack.add_file(name="sales.csv", content=b"a,b\n1,2\n")
            event = h.slack.post_user_message(
                channel="C1", user="U1", text="<@UBOT> total", files=[file]
            )
            await h.send_event(as_app_mention(event))
            await h.settle()
            refusals = [r for r in h.openai.requests if r.path.startswith("/v1/")]
            assert refusals, "the bot never reached the engine"
            turns = await h.bot.services.store.thread_turns(f"T0FAKE:C1:{event['ts']}")
            thread_texts = [m.text for m in h.slack.thread("C1", event["ts"]) if m.bot]
            slack_bodies = json.dumps([c.args for c in h.slack.calls], ensure_ascii=False)

    assert thread_texts, "the user was told nothing"
    assert turns and all(ODD_KEY not in (t.error or "") for t in turns)
    assert ODD_KEY not in slack_bodies
    logged = [r.getMessage() for r in caplog.records]
    formatted = [JsonFormatter().format(r) for r in caplog.records]
    assert any("Incorrect API key" in line for line in logged), "the upstream error was not logged"
    assert not [line for line in logged + formatted if ODD_KEY in line]
