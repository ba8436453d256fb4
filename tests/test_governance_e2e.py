"""Governance through the fakes: who may ask where, external people, budgets, prices,
what each request carries, and what the turns record."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from storage.records import REFUSED, TurnRecord
from tests.fakes.slack_payloads import as_app_mention
from tests.harness import Harness, harness

CSV = b"region,amount\nSeoul,100\nBusan,200\nDaegu,300\n"
OTHER_ORG = "T0OTHERORG"
ADMIN = "UADMIN"


def bot_texts(h: Harness, channel: str, thread_ts: str) -> list[str]:
    return [m.text for m in h.slack.thread(channel, thread_ts) if m.bot]


def notes_to(h: Harness, user: str) -> list[str]:
    return [str(m["text"]) for m in h.slack.ephemeral_messages if m["user"] == user]


def engine_runs(h: Harness) -> list[dict[str, Any]]:
    return [r.json for r in h.openai.requests_to("POST", "/v1/responses") if r.json]


async def turns_of(h: Harness, channel: str, ts: str) -> list[TurnRecord]:
    return await h.bot.services.store.thread_turns(f"{h.slack.team_id}:{channel}:{ts}")


async def ask(
    h: Harness,
    *,
    channel: str = "C1",
    user: str = "U1",
    text: str = "<@UBOT> total amount",
    channel_type: str | None = None,
    user_team: str | None = None,
    with_file: bool = True,
) -> dict[str, Any]:
    """A person shares a CSV and asks; returns the event (settled)."""
    files = []
    if with_file:
        files = [h.slack.add_file(name="sales.csv", content=CSV, user=user, user_team=user_team)]
    event = h.slack.post_user_message(channel=channel, user=user, text=text, files=files)
    if channel_type is not None:
        event["channel_type"] = channel_type
    if user_team is not None:
        event["user_team"] = user_team
    direct = channel.startswith("D") or channel_type in ("im", "mpim")
    sent = event if direct and "<@UBOT>" not in text else as_app_mention(event)
    if channel_type is not None:
        sent["channel_type"] = channel_type
    assert await h.send_event(sent) == 200
    await h.settle()
    return event


async def assert_refused(h: Harness, event: dict[str, Any], *, code: str, note: str) -> None:
    channel, ts, user = event["channel"], event["ts"], event["user"]
    notes = notes_to(h, user)
    assert len(notes) == 1 and note in notes[0], notes
    assert engine_runs(h) == [] and h.slack.downloads == []
    [turn] = await turns_of(h, channel, ts)
    assert turn.status == REFUSED and turn.error == code


# ---------------------------------------------------------------- access


@pytest.mark.parametrize(
    ("overrides", "where", "code"),
    [
        ({"INSIGHTBOT_ALLOWED_CHANNELS": "C2"}, {"channel": "C1"}, "not_allowed"),
        ({"INSIGHTBOT_ALLOWED_CHANNELS": "C2"}, {"channel": "G1"}, "not_allowed"),  # private
        ({"INSIGHTBOT_ALLOWED_USERS": "U2"}, {"channel": "C1"}, "not_allowed"),
        ({"INSIGHTBOT_ALLOWED_USERS": "U2"}, {"channel": "D1", "text": "total?"}, "not_allowed"),
        ({"INSIGHTBOT_ALLOW_DMS": "false"}, {"channel": "D1", "text": "total?"}, "not_allowed"),
        ({"INSIGHTBOT_ALLOW_DMS": "false"}, {"channel": "G9", "channel_type": "mpim"}, "not_allowed"),
    ],
)  # fmt: skip
async def test_a_question_from_outside_the_access_lists_is_refused_privately_and_forgotten(
    tmp_path: Path, overrides: dict[str, str], where: dict[str, Any], code: str
) -> None:
    async with harness(tmp_path, INSIGHTBOT_ADMINS=ADMIN, **overrides) as h:
        event = await ask(h, **where)
        await assert_refused(h, event, code=code, note=f"<@{ADMIN}>")
        assert bot_texts(h, event["channel"], event["ts"]) == []
        thread_key = f"{h.slack.team_id}:{event['channel']}:{event['ts']}"
        assert await h.bot.services.store.thread_files(thread_key) == []  # files not remembered


@pytest.mark.parametrize(
    ("overrides", "where"),
    [
        ({"INSIGHTBOT_ALLOWED_CHANNELS": "C1"}, {"channel": "C1"}),
        ({"INSIGHTBOT_ALLOWED_CHANNELS": "C9"}, {"channel": "D1", "text": "total?"}),
        ({"INSIGHTBOT_ALLOWED_CHANNELS": "C9"}, {"channel": "G9", "channel_type": "mpim"}),
        ({"INSIGHTBOT_ALLOWED_USERS": "U1"}, {"channel": "G1"}),
    ],
)
async def test_a_question_inside_the_access_lists_is_answered(
    tmp_path: Path, overrides: dict[str, str], where: dict[str, Any]
) -> None:
    async with harness(tmp_path, **overrides) as h:
        event = await ask(h, **where)
        assert any("3 rows, total 600" in t for t in bot_texts(h, event["channel"], event["ts"]))
        assert notes_to(h, "U1") == []


async def test_files_shared_where_the_bot_is_not_enabled_are_not_remembered(tmp_path: Path) -> None:
    async with harness(tmp_path, INSIGHTBOT_ALLOWED_CHANNELS="C2") as h:
        file = h.slack.add_file(name="sales.csv", content=CSV)
        share = h.slack.post_user_message(channel="C1", user="U1", text="", files=[file])
        assert await h.send_event(share) == 200
        await h.settle()
        store = h.bot.services.store
        assert await store.recent_channel_files(team=h.slack.team_id, channel="C1", now=0) == []


# ---------------------------------------------------------------- external people


async def test_a_person_from_another_organisation_is_refused_by_default(tmp_path: Path) -> None:
    async with harness(tmp_path, INSIGHTBOT_ADMINS=ADMIN) as h:
        event = await ask(h, user="UEXT", user_team=OTHER_ORG)
        await assert_refused(h, event, code="external_user", note="organisation")


async def test_external_people_are_answered_when_allowed(tmp_path: Path) -> None:
    async with harness(tmp_path, INSIGHTBOT_EXTERNAL_USERS="allow") as h:
        event = await ask(h, user="UEXT", user_team=OTHER_ORG)
        assert any("3 rows, total 600" in t for t in bot_texts(h, "C1", event["ts"]))


async def test_a_file_an_external_person_shared_is_never_used_for_anyone(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        root = h.slack.post_user_message(channel="C1", user="U1", text="numbers, anyone?")
        theirs = h.slack.add_file(name="theirs.csv", content=CSV, user="UEXT", user_team=OTHER_ORG)
        share = h.slack.post_user_message(
            channel="C1", user="UEXT", text="", thread_ts=root["ts"], files=[theirs]
        )
        share["user_team"] = OTHER_ORG
        assert await h.send_event(share) == 200
        question = h.slack.post_user_message(
            channel="C1", user="U1", text="<@UBOT> total amount?", thread_ts=root["ts"]
        )
        assert await h.send_event(as_app_mention(question)) == 200
        await h.settle()
        assert h.slack.downloads == [] and engine_runs(h) == []
        assert not any("total 600" in t for t in bot_texts(h, "C1", root["ts"]))


# ---------------------------------------------------------------- budgets and prices


def price_file(tmp_path: Path, prices: dict[str, Any]) -> str:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(prices))
    return str(path)


# At these prices every answer of the fake model costs more than a dollar.
DEAR = {"gpt-5.5": {"input": 10_000.0, "output": 10_000.0}}


@pytest.mark.parametrize(
    ("budget", "second", "name"),
    [
        ({"INSIGHTBOT_USER_DAILY_USD": "1"}, {"channel": "C2"}, "your daily budget"),
        ({"INSIGHTBOT_CHANNEL_DAILY_USD": "1"}, {"user": "U2"}, "this channel's daily budget"),
        ({"INSIGHTBOT_MONTHLY_USD": "1"}, {"user": "U2", "channel": "C2"}, "monthly budget"),
    ],
)
async def test_a_used_up_budget_stops_the_next_run_before_the_engine(
    tmp_path: Path, budget: dict[str, str], second: dict[str, Any], name: str
) -> None:
    prices = price_file(tmp_path, DEAR)
    async with harness(tmp_path, INSIGHTBOT_PRICES=prices, **budget) as h:
        first = await ask(h)
        [answered] = await turns_of(h, "C1", first["ts"])
        assert answered.cost_usd is not None and answered.cost_usd > 1
        runs = len(engine_runs(h))
        event = await ask(h, **second)
        assert len(engine_runs(h)) == runs  # nothing more was sent to the engine
        [note] = notes_to(h, event["user"])
        assert name in note and "$1.00" in note and f"${answered.total_usd:,.2f}" in note
        # The thread is told in one line without amounts.
        [line] = bot_texts(h, event["channel"], event["ts"])
        assert "budget" in line and "$" not in line
        [refused] = await turns_of(h, event["channel"], event["ts"])
        assert refused.status == REFUSED and refused.error == "budget_exhausted"


async def test_a_channels_own_budget_overrides_the_default(tmp_path: Path) -> None:
    prices = price_file(tmp_path, DEAR)
    async with harness(tmp_path, INSIGHTBOT_PRICES=prices, INSIGHTBOT_CHANNEL_DAILY_USD="1") as h:
        await h.bot.services.governance.channels.change("C1", by="UADMIN", daily_usd=10_000.0)
        await ask(h)
        event = await ask(h, user="U2")
        assert any("total 600" in t for t in bot_texts(h, "C1", event["ts"]))


async def test_a_price_override_prices_the_fakes_usage_in_full(tmp_path: Path) -> None:
    prices = price_file(tmp_path, {"gpt-5.5": {"input": 2.0, "cached_input": 0.5, "output": 8.0}})
    async with harness(tmp_path, INSIGHTBOT_PRICES=prices) as h:
        h.openai.cached_tokens, h.openai.reasoning_tokens = 100, 40
        event = await ask(h)
        [turn] = await turns_of(h, "C1", event["ts"])
        [run] = h.openai.responses.values()
        usage = run.usage
        assert usage is not None
        assert (turn.input_tokens, turn.output_tokens) == (
            usage["input_tokens"],
            usage["output_tokens"],
        )
        assert (turn.cached_input_tokens, turn.reasoning_tokens) == (100, 40)
        expected = (
            (usage["input_tokens"] - 100) * 2.0 + 100 * 0.5 + usage["output_tokens"] * 8.0
        ) / 1e6
        assert turn.cost_usd == pytest.approx(expected)
        assert turn.model == "gpt-5.5"
        # The sandbox time is an estimate: the first use of a container pays its idle tail.
        assert turn.container_minutes is not None and turn.container_minutes >= 20
        thread = await h.bot.services.store.get_thread(turn.thread_key)
        assert thread is not None and turn.container_id == thread.container_id
        rate = {"1g": 0.0015, "4g": 0.006, "16g": 0.024, "64g": 0.096}[thread.memory_limit or "1g"]
        assert turn.container_usd == pytest.approx(turn.container_minutes * rate, rel=1e-3)
        assert turn.total_usd == pytest.approx(expected + turn.container_usd)


async def test_an_unknown_price_is_recorded_unknown_and_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with harness(tmp_path, INSIGHTBOT_MODEL="gpt-6.2-mini") as h:
        with caplog.at_level(logging.WARNING):
            first = await ask(h)
            await ask(h, user="U2")
        [turn] = await turns_of(h, "C1", first["ts"])
        assert turn.status == "done" and turn.cost_usd is None and turn.input_tokens > 0
        warned = [
            r for r in caplog.records if "no known price for model 'gpt-6.2-mini'" in r.getMessage()
        ]
        assert len(warned) == 1


async def test_with_a_budget_set_an_unpriced_model_is_refused_naming_it(tmp_path: Path) -> None:
    async with harness(
        tmp_path, INSIGHTBOT_MODEL="gpt-6.2-mini", INSIGHTBOT_MONTHLY_USD="100"
    ) as h:
        event = await ask(h)
        await assert_refused(h, event, code="unknown_price", note="gpt-6.2-mini")
        assert "INSIGHTBOT_PRICES" in notes_to(h, "U1")[0]


# ---------------------------------------------------------------- what each request carries


async def test_requests_carry_a_hashed_asker_and_the_team_and_channel(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await ask(h, channel="C7", user="U3")
        [run] = engine_runs(h)
        assert len(run["safety_identifier"]) == 64 and "U3" not in run["safety_identifier"]
        assert run["metadata"]["slack_team"] == h.slack.team_id
        assert run["metadata"]["slack_channel"] == "C7"
        assert run["metadata"]["insightbot_turn"]


async def test_a_channels_own_model_is_used_for_its_questions(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.bot.services.governance.channels.change("C1", by=ADMIN, model="gpt-5.4")
        first = await ask(h, channel="C1")
        await ask(h, channel="C2")
        assert [r["model"] for r in engine_runs(h)] == ["gpt-5.4", "gpt-5.5"]
        [turn] = await turns_of(h, "C1", first["ts"])
        assert turn.model == "gpt-5.4"


async def test_a_channel_switched_off_while_running_refuses_its_next_question(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path, INSIGHTBOT_ADMINS=ADMIN) as h:
        await ask(h)
        await h.bot.services.governance.channels.change("C1", by=ADMIN, enabled=False)
        event = await ask(h, user="U2")
        [note] = notes_to(h, "U2")
        assert "not enabled" in note
        [turn] = await turns_of(h, "C1", event["ts"])
        assert turn.error == "not_allowed"
        assert len(engine_runs(h)) == 1
