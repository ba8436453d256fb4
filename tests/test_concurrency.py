"""Engine concurrency adapts: INSIGHTBOT_MAX_CONCURRENT_RUNS is the ceiling; a rate-limit
answer halves the limit (once per cool-down), every accepted run grows it by 1/limit, and an
exhausted quota never lowers it. End to end, runs beyond the lowered limit wait in line."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.concurrency import AdaptiveLimit
from tests.harness import harness
from tests.reliability_harness import ask, thread_text


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("events", "limit"),
    [
        ([], 16),
        (["429"], 8),
        (["429", "429"], 8),  # one burst of refusals counts once
        (["429", "wait", "429"], 4),
        (["429", "wait", "429", "wait", "429", "wait", "429", "wait", "429"], 1),  # never below 1
        (["429", "ok"], 8),  # 8 + 1/8
        (["429", *["ok"] * 9], 9),  # about one more per round of runs
        (["ok"] * 50, 16),  # never above the ceiling
    ],
)
def test_the_limit_halves_on_rate_limits_and_grows_back_slowly(
    events: list[str], limit: int
) -> None:
    clock = Clock()
    adaptive = AdaptiveLimit(ceiling=16, cool_down_s=5, clock=clock)
    for event in events:
        if event == "429":
            adaptive.rate_limited()
        elif event == "ok":
            adaptive.accepted()
        else:
            clock.now += 6
    assert adaptive.limit == limit


def test_waiting_runs_are_told_when_the_limit_rises() -> None:
    adaptive = AdaptiveLimit(ceiling=4, clock=Clock())
    raised: list[int] = []
    adaptive.on_raise(lambda: raised.append(adaptive.limit))
    adaptive.rate_limited()  # 2
    for _ in range(3):
        adaptive.accepted()  # 2.5, 2.9, 3.24
    assert raised == [3]


async def test_rate_limit_answers_lower_the_limit_and_runs_beyond_it_wait(tmp_path: Path) -> None:
    async with harness(tmp_path, INSIGHTBOT_MAX_CONCURRENT_RUNS="8") as h:
        assert h.bot.runner.run_limit == 8
        h.openai.fail_next(
            "POST", "/v1/responses", status=429, code="rate_limit_exceeded", retry_after=0
        )
        await ask(h, channel="C0")
        await h.settle()
        lowered = h.bot.runner.run_limit
        assert lowered == 4, "one rate-limit answer halves the limit"

        h.openai.run_delay_s = 0.6
        questions = [await ask(h, channel=f"C{i}", user=f"U{i}") for i in range(1, 9)]
        most = 0
        for _ in range(60):
            running = [r for r in h.openai.responses.values() if r.status == "in_progress"]
            most = max(most, len(running))
            await asyncio.sleep(0.02)
        await h.settle()
        assert most <= lowered + 1, most  # accepted runs may raise it by one meanwhile
        # The "number N in line" notices are deleted when their turns start: look at the posts.
        posts = [str(c.args.get("text", "")) for c in h.slack.calls_to("chat.postMessage")]
        assert any("in line" in text for text in posts), "no turn was told it waits in line"
        assert all("total" in thread_text(h.slack, q["channel"], q["ts"]) for q in questions)
        assert h.bot.runner.run_limit > lowered, "accepted runs let the limit grow back"


async def test_an_exhausted_quota_does_not_lower_the_limit(tmp_path: Path) -> None:
    async with harness(tmp_path, INSIGHTBOT_MAX_CONCURRENT_RUNS="8") as h:
        h.openai.fail_next("POST", "/v1/responses", status=429, code="insufficient_quota")
        event = await ask(h)
        await h.settle()
        assert "quota" in thread_text(h.slack, "C1", event["ts"]).lower()
        assert h.bot.runner.run_limit == 8
