"""No message can stall the event loop: every parse of user text is linear in its length.

These run before Slack's event is acknowledged, on the event loop. A backtracking pattern once
took 17 s over one 20,000-character mention of ``a.a.a.…``, and every other ack timed out
meanwhile. Timing asserts are the point here: a quadratic scan cannot keep the time for 4n
characters under 6 times the time for n.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from handlers.parse import (
    MARKUP_ALLOWANCE,
    file_mention_names,
    incoming_message_for,
    readable_text,
)
from tests.fakes.slack_payloads import as_app_mention, event_callback
from tests.harness import harness

BOT = "U0LAN0Z89"
N = 10_000
BIG = 4 * N
LIMIT_S = 0.050
MAX_GROWTH = 6.0
# Repeating units of adversarial messages: each is a worst case for some pattern we had or
# could easily write (runs without spaces, unclosed quotes, entities without ">", spaces and
# tabs around the bot's mention, quoted names without end).
SHAPES = {
    "a.": "a.",
    "spaces": " ",
    "tabs": "\t",
    "backticks": "`",
    "lt": "<",
    "stars": "*",
    "underscores": "_",
    "double quotes": '"',
    "single quotes": "'",
    "curly quotes": "“",
    "corner brackets": "「",
    "unclosed mentions": f"<@{BOT}|",
    "quoted names": 'a.csv"',
    "open quote then dots": "“a.",
    "spaced mentions": f" \t<@{BOT}> ",
    "escaped lt": "&lt;",
    "words": "a ",
}


def shaped(unit: str, length: int) -> str:
    return (unit * (length // len(unit) + 1))[:length]


def mention_body(text: str) -> dict[str, Any]:
    event = {
        "type": "app_mention",
        "user": "U061F7AUR",
        "text": text,
        "ts": "1715000000.000100",
        "channel": "C0CHAN0001",
        "event_ts": "1715000000.000100",
    }
    return {"team_id": "T123ABC456", "type": "event_callback", "event": event}


def _incoming(text: str) -> object:
    # max_chars far above the length: the truncation must not hide the cost being measured.
    return incoming_message_for(body=mention_body(text), bot_user_id=BOT, max_chars=10 * BIG)


PARSERS: dict[str, Callable[[str], object]] = {
    "incoming_message_for": _incoming,
    "readable_text": lambda text: readable_text(text, bot_user_id=BOT),
    "file_mention_names": file_mention_names,
}


def median_s(parse: Callable[[str], object], text: str, runs: int = 5) -> float:
    """Median CPU time of this thread: the machine is shared, and wall-clock time would also
    count the moments another process had the CPU."""
    times = []
    for _ in range(runs):
        started = time.thread_time()
        parse(text)
        times.append(time.thread_time() - started)
    return statistics.median(times)


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize("shape", SHAPES)
def test_adversarial_text_parses_fast_and_in_linear_time(shape: str, parser: str) -> None:
    parse, unit = PARSERS[parser], SHAPES[shape]
    small, big = shaped(unit, N), shaped(unit, BIG)
    parse(big)  # warm up (first-call costs are not what we measure)

    assert median_s(parse, big) < LIMIT_S
    # Caches and frequency scaling can still disturb one measurement, not three in a row.
    growths = []
    for _ in range(3):
        growths.append(median_s(parse, big) / max(median_s(parse, small), 1e-6))
        if growths[-1] < MAX_GROWTH:
            break
    assert min(growths) < MAX_GROWTH, f"4x the text took {growths} times as long"


def test_the_question_is_read_up_to_the_limit_plus_room_for_markup() -> None:
    limit, keep = 100, 101 + MARKUP_ALLOWANCE
    body = mention_body(f"<@{BOT}> " + "x" * 5000)

    message = incoming_message_for(body=body, bot_user_id=BOT, max_chars=limit)

    # The mention and its space (13 characters) fall away; the rest past ``keep`` is never read.
    assert message is not None and message.text == "x" * (keep - 13)
    assert message.cut_short


def test_markup_that_reading_removes_does_not_make_a_question_too_long() -> None:
    body = mention_body(f"<@{BOT}> " + "x" * 100)

    message = incoming_message_for(body=body, bot_user_id=BOT, max_chars=100)

    assert message is not None and message.text == "x" * 100 and not message.cut_short


def test_file_names_are_looked_for_in_the_first_4000_characters() -> None:
    early = mention_body("use sales.csv " + "x " * 3000 + "and costs.csv")

    message = incoming_message_for(body=early, bot_user_id=BOT, max_chars=20_000)

    assert message is not None and message.named_files == ("sales.csv",)


def test_a_mention_after_the_limit_still_counts() -> None:
    event = {
        "type": "message",
        "user": "U061F7AUR",
        "text": "y" * (300 + MARKUP_ALLOWANCE) + f" <@{BOT}>",
        "ts": "1715000000.000100",
        "channel": "C0CHAN0001",
        "channel_type": "channel",
    }
    body = {"team_id": "T123ABC456", "type": "event_callback", "event": event}

    message = incoming_message_for(body=body, bot_user_id=BOT, max_chars=100)

    assert message is not None and message.is_mention
    assert message.text == "y" * (101 + MARKUP_ALLOWANCE) and message.cut_short


def _post_timed(url: str, body: str, headers: dict[str, str], *, after_s: float) -> float:
    """POST from a thread of its own, as Slack would: the wait counts even while the bot's
    event loop is blocked (a client on that loop could not even start its clock)."""
    time.sleep(after_s)
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        assert response.status == 200
    return time.perf_counter() - started


async def test_a_huge_mention_does_not_hold_up_the_next_ones_ack(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        huge = h.slack.post_user_message(
            channel="C1", user="U1", text="<@UBOT> " + shaped("a.", BIG)
        )
        file = h.slack.add_file(name="sales.csv", content=b"region,amount\nSeoul,100\n")
        ordinary = h.slack.post_user_message(
            channel="C2", user="U2", text="<@UBOT> total?", files=[file]
        )
        body = json.dumps(event_callback(as_app_mention(ordinary)))
        headers = {"Content-Type": "application/json", **h.slack.sign(body)}

        first = asyncio.create_task(h.send_event(as_app_mention(huge)))
        waited = await asyncio.to_thread(_post_timed, h.events_url, body, headers, after_s=0.05)

        assert await first == 200
        assert waited < 1.5  # Slack gives up on an ack after 3 s and retries
        await h.settle()
        answers = [m.text for m in h.slack.thread("C2", ordinary["ts"]) if m.bot]
        assert any("1 rows, total 100" in text for text in answers), answers
