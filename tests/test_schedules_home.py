"""Managing recurring analyses: the App Home's schedules (Pause, Resume, Delete) and the list
a channel gets with "@bot schedules" / "@bot 예약 목록", through the real app over the fakes."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot import messages
from bot.cli import main
from bot.schedules import is_schedules_request
from bot.schedules_home import last_result
from storage.records import (
    CANCELLED,
    CLAIMED,
    DONE,
    FAILED,
    MISSED,
    POSTED,
    RUN_ANSWERED,
    RUN_FAILED,
    SCHEDULE_PAUSED,
    SKIPPED,
    OccurrenceRecord,
    ScheduleRecord,
)
from tests.fakes.slack_blocks import blocks_text
from tests.fakes.slack_payloads import app_home_opened, as_app_mention, view_block_actions
from tests.harness import Harness, harness
from tests.test_schedules_e2e import (
    MovableClock,
    answers,
    at,
    daily,
    occurrences,
    scheduled_messages,
    share,
)

OWNER, OTHER, ADMIN = "U0ANNA", "U0BORIS", "U0ADMIN"


async def home_of(h: Harness, user: str) -> list[dict[str, Any]]:
    """Open ``user``'s Home tab as Slack does and return the published blocks."""
    assert await h.send_event(app_home_opened(user=user, channel="D0HOME", tab="home")) == 200
    await h.settle()
    view = h.slack.home_views[user]
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    return list(view["blocks"])


def buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The schedule buttons of a Home, by action id."""
    found = {}
    for block in blocks:
        for element in block.get("elements") or []:
            if block["type"] == "actions" and element["action_id"].startswith("schedule_"):
                found[element["action_id"]] = element
    return found


def links(blocks: list[dict[str, Any]]) -> list[str]:
    return [
        leaf["url"]
        for block in blocks
        if block["type"] == "rich_text"
        for section in block["elements"]
        for leaf in section.get("elements") or []
        if leaf.get("type") == "link"
    ]


async def click(h: Harness, action_id: str, schedule_id: int, user: str) -> None:
    payload = view_block_actions(action_id=action_id, value=str(schedule_id), user=user)
    assert await h.click(payload) == 200
    await h.settle()


async def ran_once(h: Harness, clock: MovableClock) -> tuple[ScheduleRecord, list[float]]:
    """The owner's daily schedule on C1, run at its first occurrence."""
    h.slack.add_user(OWNER, name="anna", real_name="Anna Kim")
    now = clock.now()
    share(h.slack, channel="C1", name="sales_1102.csv", content=b"a,b\nx,10\ny,50\n", created=now)
    schedule = await h.bot.services.store.add_schedule(daily(now, skip=False))
    times = occurrences(schedule, after=now, count=3)
    await at(h, clock, times[0] + 5)
    assert "total 60" in answers(h.slack, "C1")[0]
    return schedule, times


# ---------------------------------------------------------------- the App Home


async def test_the_owner_sees_next_run_status_and_a_link_to_the_last_run_never_its_answer(
    tmp_path: Path,
) -> None:
    clock = MovableClock()
    async with harness(tmp_path, clock=clock) as h:
        schedule, (first, second, _) = await ran_once(h, clock)
        blocks = await home_of(h, OWNER)
        text = blocks_text(blocks)
        assert "Your recurring analyses" in text and "*Total amount?*" in text
        assert f"Every day at {schedule.at} (UTC)" in text and "sales_*.csv" in text
        assert "Status: active" in text
        assert f"Next run: <!date^{int(second)}^" in text  # each reader's own time zone
        assert f"Last run: <!date^{int(first)}^" in text and "answered" in text
        assert "<#C1>" in text
        # The link opens the run's message in the channel; the answer itself is not shown.
        [run] = h.slack.channel_messages("C1")[-1:]
        assert links(blocks) == [
            f"https://fake-workspace.slack.com/archives/C1/p{run.ts.replace('.', '')}"
        ]
        assert "total 60" not in text and "rows" not in text
        shown = buttons(blocks)
        assert set(shown) == {"schedule_pause", "schedule_edit", "schedule_delete"}
        assert {b["value"] for b in shown.values()} == {str(schedule.id)}
        assert shown["schedule_delete"]["confirm"]["confirm"]["text"] == "Delete"


async def test_another_person_does_not_see_it_and_an_admin_sees_everyones(tmp_path: Path) -> None:
    async with harness(tmp_path, INSIGHTBOT_ADMINS=ADMIN) as h:
        h.slack.add_user(OTHER, locale="ko-KR")
        store = h.bot.services.store
        await store.add_schedule(daily(0.0, files="same"))
        theirs = ScheduleRecord(
            channel="C2", user=OTHER, question="지역별 매출은?", every="weekly:mon", at="09:00",
            tz="Asia/Seoul",
        )  # fmt: skip
        await store.add_schedule(theirs)

        text = blocks_text(await home_of(h, OTHER))
        assert "내 반복 분석" in text and "지역별 매출은?" in text and "매주 월요일 09:00" in text
        assert "Total amount?" not in text and "<#C1>" not in text

        text = blocks_text(await home_of(h, ADMIN))
        assert "everyone's" in text and "Total amount?" in text and "지역별 매출은?" in text
        # The admin sees whose each one is (a user element: a view pings nobody).
        assert text.index("<@U0ANNA>") < text.index("<@U0BORIS>")


async def test_the_home_shows_the_first_ten_and_points_to_the_command_for_the_rest(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path, INSIGHTBOT_ADMINS=ADMIN) as h:
        for n in range(13):
            record = replace(daily(0.0, files="same"), question=f"Question {n}?")
            await h.bot.services.store.add_schedule(record)
        text = blocks_text(await home_of(h, ADMIN))
        assert "Question 9?" in text and "Question 10?" not in text
        assert "and 3 more" in text and "insightbot schedules" in text


# ---------------------------------------------------------------- the buttons


async def test_pause_stops_the_next_run_and_resume_runs_the_one_after(tmp_path: Path) -> None:
    clock = MovableClock()
    async with harness(tmp_path, clock=clock) as h:
        schedule, (_, second, third) = await ran_once(h, clock)
        await click(h, "schedule_pause", schedule.id, OWNER)
        text = blocks_text(h.slack.home_views[OWNER]["blocks"])  # published again
        assert "Status: paused. Someone paused it." in text and "Next run" not in text
        assert set(buttons(h.slack.home_views[OWNER]["blocks"])) == {
            "schedule_resume",
            "schedule_edit",
            "schedule_delete",
        }

        await at(h, clock, second + 5)
        assert len(scheduled_messages(h.slack, "C1")) == 1  # the paused run did not happen

        await click(h, "schedule_resume", schedule.id, OWNER)
        assert "Status: active" in blocks_text(h.slack.home_views[OWNER]["blocks"])
        await at(h, clock, third + 5)
        texts = scheduled_messages(h.slack, "C1")
        assert len(texts) == 2 and "total 60" in answers(h.slack, "C1")[-1]
        # What fell while it was paused is not reported as missed downtime.
        assert "did not happen" not in texts[-1]


async def test_an_admin_pausing_someones_schedule_updates_the_owners_home(
    tmp_path: Path,
) -> None:
    clock = MovableClock()
    async with harness(tmp_path, clock=clock, INSIGHTBOT_ADMINS=ADMIN) as h:
        schedule, _ = await ran_once(h, clock)
        assert "Status: active" in blocks_text(await home_of(h, OWNER))
        await click(h, "schedule_pause", schedule.id, ADMIN)
        # The owner's Home is published again without them opening it.
        assert "Status: paused" in blocks_text(h.slack.home_views[OWNER]["blocks"])


async def test_delete_removes_it_from_the_home_and_the_command_and_it_never_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = MovableClock()
    async with harness(tmp_path, clock=clock) as h:
        schedule, (_, second, _) = await ran_once(h, clock)
        await click(h, "schedule_delete", schedule.id, OWNER)
        text = blocks_text(h.slack.home_views[OWNER]["blocks"])
        assert "Total amount?" not in text and "None yet" in text
        await at(h, clock, second + 5)
        assert len(scheduled_messages(h.slack, "C1")) == 1
        listed = await asyncio.to_thread(cli_json, monkeypatch, capsys, tmp_path)
        assert listed == []


def cli_json(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> Any:
    monkeypatch.setenv("INSIGHTBOT_DB", str(tmp_path / "insightbot.db"))
    monkeypatch.chdir(tmp_path)
    assert main(["schedules", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


async def test_someone_elses_pause_or_delete_does_nothing(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        schedule = await h.bot.services.store.add_schedule(daily(0.0, files="same"))
        for action in ("schedule_pause", "schedule_delete"):
            await click(h, action, schedule.id, OTHER)
        kept = await h.bot.services.store.get_schedule(schedule.id)
        assert kept is not None and kept.state != SCHEDULE_PAUSED
        # The clicker's Home is published again, still without someone else's schedule.
        text = blocks_text(h.slack.home_views[OTHER]["blocks"])
        assert "None yet" in text and "Total amount?" not in text
        # A value that is no schedule id changes nothing either.
        await click(h, "schedule_pause", 0, OWNER)
        payload = view_block_actions(action_id="schedule_delete", value="all", user=OWNER)
        assert await h.click(payload) == 200
        await h.settle()
        assert await h.bot.services.store.get_schedule(schedule.id) is not None


# ---------------------------------------------------------------- "@bot schedules"


async def mention(h: Harness, *, channel: str, text: str) -> list[str]:
    """Mention the bot (Slack sends both events) and return the bot's replies in the thread."""
    event = h.slack.post_user_message(channel=channel, user=OTHER, text=f"<@UBOT> {text}")
    assert await h.send_event({**event, "type": "message"}) == 200
    assert await h.send_event(as_app_mention(event)) == 200
    await h.settle()
    return [m.text for m in h.slack.thread(channel, event["ts"]) if m.bot]


async def test_mentioning_schedules_lists_only_that_channels_and_starts_no_turn(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        h.slack.add_user(OWNER, name="anna", real_name="Anna Kim")
        store = h.bot.services.store
        ours = await store.add_schedule(daily(0.0, files="same"))
        await store.pause_schedule(ours.id, reason="not_member", now=1.0)
        theirs = ScheduleRecord(
            channel="C2", user=OWNER, question="Churn in C2?", every="monthly:31", at="07:30",
            tz="Europe/Paris",
        )  # fmt: skip
        await store.add_schedule(theirs)
        requests_before = len(h.openai.requests)

        [reply] = await mention(h, channel="C1", text="Schedules?")
        assert "Recurring analyses in this channel (1)" in reply
        assert "Total amount?" in reply and "by anna" in reply
        assert "no longer a member of the channel" in reply
        assert "Churn in C2?" not in reply
        assert "<@" not in reply and "<!" not in reply  # nobody is pinged

        [reply] = await mention(h, channel="C2", text="예약 목록")
        assert "이 채널의 반복 분석 (1개)" in reply and "Churn in C2?" in reply
        assert "매월 31일 07:30" in reply and "anna 님" in reply and "다음 실행: <!date^" in reply
        assert "Total amount?" not in reply and "<@" not in reply

        [reply] = await mention(h, channel="C3", text="예약목록!")
        assert "반복 분석이 없어요" in reply and "반복…" in reply
        assert len(h.openai.requests) == requests_before  # no analysis turn started
        assert await store.thread_turns(f"T0FAKE:C1:{h.slack.channel_messages('C1')[0].ts}") == []


# ---------------------------------------------------------------- the pure pieces


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("schedules", True),
        ("Schedules?", True),
        (" `SCHEDULES` ", True),
        ("예약 목록", True),
        ("예약목록!", True),
        ("schedules by region over time", False),
        ("예약 목록 만들어줘", False),
        ("schedule", False),
        ("", False),
    ],
)
def test_what_counts_as_asking_for_the_schedules(text: str, asks: bool) -> None:
    assert is_schedules_request(text) is asks


@pytest.mark.parametrize(
    ("outcome", "turn_status", "result"),
    [
        (POSTED, DONE, "answered"),
        (POSTED, FAILED, "failed"),
        (POSTED, CANCELLED, "stopped"),
        (POSTED, "running", "running"),
        # Once counted toward failures in a row, the outcome says so; the result is the same.
        (RUN_ANSWERED, DONE, "answered"),
        (RUN_FAILED, FAILED, "failed"),
        (RUN_FAILED, CANCELLED, "stopped"),
        (CLAIMED, None, "running"),
        (SKIPPED, None, "skipped"),
        (MISSED, None, "missed"),
        ("interrupted", None, "interrupted"),
    ],
)
def test_the_last_runs_result(outcome: str, turn_status: str | None, result: str) -> None:
    occurrence = OccurrenceRecord(
        schedule_id=1, occurrence_at=0.0, outcome=outcome, claimed_at=0.0, turn_status=turn_status
    )
    assert last_result(occurrence) == result


@pytest.mark.parametrize(
    "reason", ["owner_left", "not_member", "archived", "access_denied", "failures", "by_person"]
)
def test_every_pause_reason_has_its_own_sentence(reason: str) -> None:
    for lang in ("en", "ko"):
        said = messages.schedule_pause_reason(lang, reason)
        assert said != messages.schedule_pause_reason(lang, None)
