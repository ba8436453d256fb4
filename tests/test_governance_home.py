"""Feedback buttons, the App Home (a person's and an admin's), the channel settings modal,
the settings cache, and the operators' `insightbot usage` / `insightbot channels`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.cli import main
from bot.governance import ChannelSettings
from storage import open_store
from tests.fakes.slack_blocks import blocks_text
from tests.fakes.slack_payloads import (
    app_home_opened,
    as_app_mention,
    feedback_click,
    view_block_actions,
    view_submission,
)
from tests.harness import Harness, harness

CSV = b"region,amount\nSeoul,100\nBusan,200\nDaegu,300\n"
ADMIN = "UADMIN"


async def ask(
    h: Harness, *, user: str = "U1", channel: str = "C1", text: str = "total?"
) -> dict[str, Any]:
    file = h.slack.add_file(name="sales.csv", content=CSV, user=user)
    event = h.slack.post_user_message(
        channel=channel, user=user, text=f"<@UBOT> {text}", files=[file]
    )
    assert await h.send_event(as_app_mention(event)) == 200
    await h.settle()
    return event


def feedback_block_of(h: Harness, channel: str, ts: str) -> dict[str, Any]:
    blocks = [b for m in h.slack.thread(channel, ts) if m.bot for b in m.blocks]
    [block] = [b for b in blocks if b.get("type") == "context_actions"]
    return block


async def interact(h: Harness, payload: dict[str, Any]) -> tuple[int, str]:
    """Post an interaction as Slack does; returns the status and the body Bolt answered."""
    body = urlencode({"payload": json.dumps(payload)})
    signed = h.slack.sign(body)
    headers = {"Content-Type": "application/x-www-form-urlencoded", **signed}
    async with h.http.post(h.events_url, data=body.encode(), headers=headers) as response:
        return response.status, await response.text()


# ---------------------------------------------------------------- feedback


async def test_every_answer_carries_feedback_buttons_and_a_click_is_stored_once_per_person(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        event = await ask(h)
        block = feedback_block_of(h, "C1", event["ts"])
        [buttons] = block["elements"]
        assert buttons["type"] == "feedback_buttons"
        up, down = buttons["positive_button"]["value"], buttons["negative_button"]["value"]
        answer = next(m for m in h.slack.thread("C1", event["ts"]) if m.bot and m.blocks)

        for value, user in ((up, "U1"), (down, "U1"), (up, "U2")):
            click = feedback_click(
                value=value, user=user, channel="C1", message_ts=answer.ts, thread_ts=event["ts"]
            )
            assert await h.click(click) == 200
            await h.settle()

        thanks = [m for m in h.slack.ephemeral_messages if "feedback" in str(m["text"]).lower()
                  or "telling me" in str(m["text"])]  # fmt: skip
        assert len(thanks) == 3 and {m["user"] for m in thanks} == {"U1", "U2"}
        rows = await h.bot.services.store.usage_report(since=0, by="channel")
        # U1's second click replaced the first: one 👍 (U2) and one 👎 (U1).
        assert [(r.key, r.thumbs_up, r.thumbs_down) for r in rows] == [("C1", 1, 1)]


async def test_a_feedback_click_from_another_thread_is_not_counted(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        event = await ask(h)
        value = feedback_block_of(h, "C1", event["ts"])["elements"][0]["positive_button"]["value"]
        click = feedback_click(value=value, user="U9", channel="C2", message_ts="1.000001")
        assert await h.click(click) == 200
        await h.settle()
        rows = await h.bot.services.store.usage_report(since=0, by="user")
        assert sum(r.thumbs_up for r in rows) == 0


# ---------------------------------------------------------------- the App Home


async def open_home(h: Harness, user: str) -> str:
    assert await h.send_event(app_home_opened(user=user, channel="D0HOME", tab="home")) == 200
    await h.settle()
    view = h.slack.home_views[user]
    assert view["type"] == "home"
    return blocks_text(view["blocks"])


async def test_a_person_sees_their_usage_budget_and_a_guide_in_their_language(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path, INSIGHTBOT_USER_DAILY_USD="5", INSIGHTBOT_ADMINS=ADMIN) as h:
        h.slack.add_user("U1", locale="ko-KR")
        await ask(h, user="U1")
        await ask(h, user="U2")
        [mine] = await h.bot.services.store.usage_report(since=0, by="user", user="U1")
        text = await open_home(h, "U1")
        assert "이번 달 내 사용량" in text and "질문 1건" in text
        assert f"${mine.cost_usd:,.2f}" in text
        left = 5 - mine.cost_usd
        assert f"${left:,.2f}" in text and "$5.00" in text
        assert "예시" in text  # the guide, with an example question
        assert "Top" not in text and "많이 쓴" not in text  # not an admin
        # Opening the Messages tab publishes nothing.
        before = len(h.slack.calls_to("views.publish"))
        assert await h.send_event(app_home_opened(user="U1", channel="D0HOME")) == 200
        await h.settle()
        assert len(h.slack.calls_to("views.publish")) == before


async def test_without_a_locale_the_home_speaks_both_languages(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        text = await open_home(h, "U7")  # users.info knows nobody: no locale
        assert "What I do" in text and "할 수 있는 일" in text
        assert "No daily budget" in text


async def test_an_admin_sees_top_people_and_channels_and_changes_a_channel(tmp_path: Path) -> None:
    async with harness(tmp_path, INSIGHTBOT_ADMINS=ADMIN) as h:
        h.slack.add_user(ADMIN, locale="en-US")
        await ask(h, user="U1", channel="C1")
        await ask(h, user="U2", channel="C2")
        await ask(h, user="U2", channel="C2", text="and the mean?")
        text = await open_home(h, ADMIN)
        assert "For admins" in text
        people = text.index("Top people")
        channels = text.index("Top channels")
        assert text.index("<@U2>") < text.index("<@U1>") < channels  # costliest first
        assert people < text.index("<#C2>") and channels < text.index("<#C2>") < text.index("<#C1>")
        assert "No channel has its own settings" in text

        # The admin opens the modal from the Home tab and switches C1 off.
        click = view_block_actions(action_id="home_edit_channel", value="", user=ADMIN)
        status, _ = await interact(h, click)
        assert status == 200
        [modal] = h.slack.views
        assert modal["type"] == "modal" and modal["callback_id"] == "channel_settings"
        values = {
            "channel": {"channel": {"type": "conversations_select", "selected_conversation": "C1"}},
            "enabled": {"enabled": {"type": "static_select", "selected_option": {"value": "off"}}},
            "model": {"model": {"type": "plain_text_input", "value": "gpt-5.4"}},
            "daily_usd": {"daily_usd": {"type": "number_input", "value": "2.5"}},
        }
        status, body = await interact(
            h, view_submission(user=ADMIN, callback_id="channel_settings", values=values)
        )
        assert status == 200 and "errors" not in body
        await h.settle()
        setting = await h.bot.services.governance.channels.get("C1")
        assert setting is not None and (setting.enabled, setting.model, setting.daily_usd) == (
            False,
            "gpt-5.4",
            2.5,
        )
        text = blocks_text(h.slack.home_views[ADMIN]["blocks"])  # published again
        assert "<#C1> — off, gpt-5.4, daily budget $2.50" in text
        # The running bot applies it at once.
        event = await ask(h, user="U3", channel="C1")
        assert [m["user"] for m in h.slack.ephemeral_messages if m["channel"] == "C1"] == ["U3"]
        assert not [m for m in h.slack.thread("C1", event["ts"]) if m.bot]


async def test_the_modal_refuses_a_bad_amount_and_people_who_are_not_admins(tmp_path: Path) -> None:
    async with harness(tmp_path, INSIGHTBOT_ADMINS=ADMIN) as h:
        values = {
            "channel": {"channel": {"type": "conversations_select", "selected_conversation": "C1"}},
            "enabled": {"enabled": {"type": "static_select", "selected_option": {"value": "on"}}},
            "model": {"model": {"type": "plain_text_input", "value": None}},
            "daily_usd": {"daily_usd": {"type": "number_input", "value": "-3"}},
        }
        status, body = await interact(
            h, view_submission(user=ADMIN, callback_id="channel_settings", values=values)
        )
        assert status == 200 and json.loads(body)["response_action"] == "errors"
        assert "daily_usd" in json.loads(body)["errors"]
        values["daily_usd"]["daily_usd"]["value"] = "3"
        status, body = await interact(
            h, view_submission(user="U1", callback_id="channel_settings", values=values)
        )
        assert "channel" in json.loads(body)["errors"]
        assert await h.bot.services.governance.channels.get("C1") is None
        # Nor does a non-admin's click open the modal.
        await interact(h, view_block_actions(action_id="home_edit_channel", value="C1", user="U1"))
        assert h.slack.views == []


async def test_settings_written_elsewhere_are_seen_within_the_refresh(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "db.sqlite")
    other = await open_store(tmp_path / "db.sqlite")  # `insightbot channels set`, say
    try:
        now = [0.0]
        cache = ChannelSettings(store, refresh_s=30.0, clock=lambda: now[0])
        assert await cache.get("C1") is None
        await other.set_channel_setting("C1", enabled=False, updated_by="cli")
        now[0] = 29.0
        assert await cache.get("C1") is None  # still the copy read a moment ago
        now[0] = 31.0
        setting = await cache.get("C1")
        assert setting is not None and setting.enabled is False
        # A later change of one field keeps the others.
        await other.set_channel_setting("C1", daily_usd=4.0)
        assert (await other.channel_settings())["C1"].enabled is False
    finally:
        await store.close()
        await other.close()


# ---------------------------------------------------------------- the operators' commands


def run_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db: Path, *args: str
) -> str:
    monkeypatch.setenv("INSIGHTBOT_DB", str(db))
    monkeypatch.chdir(db.parent)
    assert main(list(args)) == 0
    return capsys.readouterr().out


async def test_the_usage_report_adds_up_the_fakes_usage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async with harness(tmp_path) as h:
        h.openai.cached_tokens, h.openai.reasoning_tokens = 30, 12
        await ask(h, user="U1")
        await ask(h, user="U1", text="mean?")
        await ask(h, user="U2")
        runs = list(h.openai.responses.values())
        turns = await h.bot.services.store.usage_report(since=0, by="user")
    db = tmp_path / "insightbot.db"
    out = await _cli_async(monkeypatch, capsys, db, "usage", "--by", "user", "--json")
    rows = {r["key"]: r for r in json.loads(out)}
    assert set(rows) == {"U1", "U2"} and rows["U1"]["turns"] == 2
    total_in = sum(r.usage["input_tokens"] for r in runs if r.usage)
    total_out = sum(r.usage["output_tokens"] for r in runs if r.usage)
    assert sum(r["input_tokens"] for r in rows.values()) == total_in
    assert sum(r["output_tokens"] for r in rows.values()) == total_out
    assert sum(r["cached_input_tokens"] for r in rows.values()) == 90
    for row in rows.values():
        assert {"key", "turns", "failed", "input_tokens", "cached_input_tokens", "output_tokens",
                "cost_usd", "thumbs_up", "thumbs_down"} <= set(row)  # fmt: skip
        assert row["cost_usd"] > 0 and row["container_usd_estimate"] > 0
    assert sum(r["cost_usd"] for r in rows.values()) == pytest.approx(
        sum(t.cost_usd for t in turns)
    )
    table = await _cli_async(monkeypatch, capsys, db, "usage", "--by", "model")
    assert "gpt-5.5" in table and "estimate" in table
    days = json.loads(await _cli_async(monkeypatch, capsys, db, "usage", "--by", "day", "--json"))
    assert len(days) == 1 and days[0]["turns"] == 3


async def test_channels_set_and_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "insightbot.db"
    out = await _cli_async(
        monkeypatch, capsys, db, "channels", "set", "C0123", "--off", "--daily-usd", "3"
    )
    assert "C0123: off" in out
    await _cli_async(monkeypatch, capsys, db, "channels", "set", "C0123", "--model", "gpt-5.4")
    listed = json.loads(await _cli_async(monkeypatch, capsys, db, "channels", "--json"))
    assert [(c["channel"], c["enabled"], c["model"], c["daily_usd"]) for c in listed] == [
        ("C0123", False, "gpt-5.4", 3.0)
    ]
    await _cli_async(
        monkeypatch, capsys, db, "channels", "set", "C0123", "--default", "--model", "default"
    )
    assert "C0123" in await _cli_async(monkeypatch, capsys, db, "channels")
    [row] = json.loads(await _cli_async(monkeypatch, capsys, db, "channels", "--json"))
    assert (row["enabled"], row["model"], row["daily_usd"]) == (None, None, 3.0)


async def _cli_async(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db: Path, *args: str
) -> str:
    # The command runs its own event loop, so it goes to a thread of its own here.
    import asyncio

    return await asyncio.to_thread(run_cli, monkeypatch, capsys, db, *args)
