"""Logs carry the Slack event, thread, turn and engine request ids — and never a secret."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.logs import ContextFilter, JsonFormatter
from tests.fakes.slack_payloads import as_app_mention
from tests.harness import harness


async def test_turn_logs_carry_context_and_no_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.addFilter(ContextFilter())
    with caplog.at_level(logging.DEBUG, logger="bot"):
        async with harness(tmp_path) as h:
            file = h.slack.add_file(name="sales.csv", content=b"a,b\n1,2\n")
            event = h.slack.post_user_message(
                channel="C1", user="U1", text="<@UBOT> total", files=[file]
            )
            await h.send_event(as_app_mention(event), event_id="EvLOG1")
            await h.settle()
    turn_lines = [r for r in caplog.records if getattr(r, "turn_id", None)]
    assert turn_lines, "no log line carried the turn id"
    assert all(r.slack_thread == f"T0FAKE:C1:{event['ts']}" for r in turn_lines)  # type: ignore[attr-defined]
    assert any(getattr(r, "event_id", None) == "EvLOG1" for r in caplog.records)
    assert any(getattr(r, "request_id", None) for r in caplog.records), (
        "no engine request id logged"
    )
    formatted = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    for secret in (h.slack.bot_token, h.slack.app_token, h.openai.api_key, h.slack.signing_secret):
        assert secret not in formatted


def _record(message: str) -> logging.LogRecord:
    record = logging.LogRecord("bot.turn", logging.INFO, __file__, 1, message, None, None)
    record.turn_id = "t1"  # type: ignore[attr-defined]
    return record


def test_a_terminal_gets_plain_lines_and_a_collector_json() -> None:
    import json

    from bot.logs import formatter_for

    plain = formatter_for("auto", stream_is_terminal=True).format(_record("turn started"))
    assert "INFO" in plain and "turn started" in plain and "turn_id=t1" in plain
    assert not plain.lstrip().startswith("{")
    collected = formatter_for("auto", stream_is_terminal=False).format(_record("turn started"))
    assert json.loads(collected)["message"] == "turn started"
    forced = formatter_for("json", stream_is_terminal=True).format(_record("x"))
    assert json.loads(forced)["turn_id"] == "t1"
    assert "{" not in formatter_for("plain", stream_is_terminal=False).format(_record("x"))
