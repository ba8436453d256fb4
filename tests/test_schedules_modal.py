"""The "Repeat…" button and the schedule modal end to end: the real app over the fakes, signed
block_actions and view_submission payloads, and a clock the test moves for the runs."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.schedule_modal import SCHEDULE_EDIT_ACTION, SCHEDULE_MODAL_CALLBACK
from bot.slack.blocks import REPEAT_ACTION
from storage.records import ScheduleRecord
from tests.fakes.slack_payloads import (
    as_app_mention,
    block_actions,
    view_block_actions,
    view_submission,
)
from tests.harness import Harness, harness
from tests.test_governance_home import interact
from tests.test_schedules_e2e import MovableClock, answers, at, occurrences, share

CSV = b"region,amount\nSeoul,100\nBusan,200\nDaegu,300\n"
OWNER, OTHER, ADMIN = "U0ANNA", "U0BEN", "U0ADMIN"


async def ask(
    h: Harness, *, channel: str = "C1", user: str = OWNER, name: str = "sales_2026-11-30.csv"
) -> tuple[str, Any]:
    """A question with a file; returns the thread ts and the bot's answer message."""
    file = h.slack.add_file(name=name, content=CSV, user=user)
    event = h.slack.post_user_message(
        channel=channel, user=user, text="<@UBOT> What is the total?", files=[file]
    )
    sent = event if channel.startswith("D") else as_app_mention(event)
    assert await h.send_event(sent) == 200
    await h.settle()
    answer = next(m for m in h.slack.thread(channel, event["ts"]) if m.bot and m.blocks)
    return event["ts"], answer


def buttons(message: Any) -> dict[str, str]:
    return {
        element["action_id"]: element.get("value", "")
        for block in message.blocks
        if block.get("type") == "actions"
        for element in block["elements"]
    }


async def click_repeat(
    h: Harness, *, user: str, thread_ts: str, answer: Any, channel: str = "C1"
) -> None:
    payload = block_actions(
        action_id=REPEAT_ACTION,
        value=buttons(answer)[REPEAT_ACTION],
        user=user,
        channel=channel,
        message_ts=answer.ts,
        thread_ts=thread_ts,
    )
    assert await h.click(payload) == 200
    await h.settle()  # the modal opens in a tracked task


def values(**changes: Any) -> dict[str, Any]:
    """view.state.values of a filled-in modal: weekly on Monday at 09:00 Seoul time on the
    newest sales file, skipping unchanged runs; ``changes`` replace single fields."""
    fields: dict[str, Any] = {
        "question": "What is the total?",
        "every": "weekly",
        "weekday": "mon",
        "day": None,
        "at": "09:00",
        "tz": "Asia/Seoul",
        "source": "newest",
        "pattern": "sales_*.csv",
        "options": ["skip_unchanged"],
        **changes,
    }

    def select(value: str | None) -> dict[str, Any]:
        return {"type": "static_select", "selected_option": {"value": value} if value else None}

    return {
        "question": {"question": {"type": "plain_text_input", "value": fields["question"]}},
        "every": {"every": select(fields["every"])},
        "weekday": {"weekday": select(fields["weekday"])},
        "day": {"day": {"type": "number_input", "value": fields["day"]}},
        "at": {"at": {"type": "timepicker", "selected_time": fields["at"]}},
        "tz": {"tz": {"type": "plain_text_input", "value": fields["tz"]}},
        "source": {
            "source": {"type": "radio_buttons", "selected_option": {"value": fields["source"]}}
        },
        "pattern": {"pattern": {"type": "plain_text_input", "value": fields["pattern"]}},
        "options": {
            "options": {
                "type": "checkboxes",
                "selected_options": [{"value": v} for v in fields["options"]],
            }
        },
    }


async def submit(h: Harness, *, user: str, metadata: str, **changes: Any) -> dict[str, Any]:
    payload = view_submission(
        user=user,
        callback_id=SCHEDULE_MODAL_CALLBACK,
        values=values(**changes),
        private_metadata=metadata,
    )
    status, body = await interact(h, payload)
    assert status == 200
    await h.settle()
    return json.loads(body) if body else {}


def block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


async def test_a_channel_answer_has_repeat_and_a_dm_answer_does_not(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        _, answer = await ask(h, channel="C1")
        [turn] = await h.bot.services.store.thread_turns(f"T0FAKE:C1:{answer.thread_ts}")
        assert buttons(answer)[REPEAT_ACTION] == turn.id
        assert list(buttons(answer)) == ["show_code", REPEAT_ACTION]  # after Show code
        _, dm_answer = await ask(h, channel="D1")
        assert REPEAT_ACTION not in buttons(dm_answer)


async def test_clicking_repeat_opens_the_modal_with_the_persons_zone_and_a_pattern(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        h.slack.add_user(OWNER, tz="America/New_York", locale="en-US")
        thread_ts, answer = await ask(h)
        await click_repeat(h, user=OWNER, thread_ts=thread_ts, answer=answer)
        [modal] = h.slack.views
        assert modal["callback_id"] == SCHEDULE_MODAL_CALLBACK
        assert modal["private_metadata"] == f"turn:{buttons(answer)[REPEAT_ACTION]}"
        assert block(modal, "tz")["element"]["initial_value"] == "America/New_York"
        assert block(modal, "pattern")["element"]["initial_value"] == "sales_*.csv"
        assert block(modal, "question")["element"]["initial_value"] == "What is the total?"
        assert block(modal, "source")["element"]["initial_option"]["value"] == "newest"
        assert block(modal, "every")["label"]["text"] == "How often"


async def test_a_click_from_another_thread_opens_nothing(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        _, answer = await ask(h)
        other_ts, _ = await ask(h, name="costs.csv")
        await click_repeat(h, user=OWNER, thread_ts=other_ts, answer=answer)
        assert h.slack.views == []


async def test_a_submission_stores_the_schedule_confirms_it_and_it_runs_on_the_newest_file(
    tmp_path: Path,
) -> None:
    clock = MovableClock()
    async with harness(tmp_path, clock=clock) as h:
        h.slack.add_user(OWNER, name="anna", locale="en-US")
        thread_ts, answer = await ask(h)
        turn_id = buttons(answer)[REPEAT_ACTION]
        now = clock.now()
        first_at = datetime.fromtimestamp(now + 180, UTC).strftime("%H:%M")
        reply = await submit(
            h, user=OWNER, metadata=f"turn:{turn_id}", every="daily", at=first_at, tz="UTC"
        )
        assert "errors" not in reply
        [stored] = await h.bot.services.store.schedules()
        assert (stored.channel, stored.user, stored.team) == ("C1", OWNER, "T0FAKE")
        assert (stored.every, stored.at, stored.tz) == ("daily", first_at, "UTC")
        assert stored.files == "newest:sales_*.csv" and stored.skip_unchanged
        assert stored.source_thread_ts == thread_ts and stored.created_by == OWNER
        [first] = occurrences(stored, after=now, count=1)
        confirmation = h.slack.thread("C1", thread_ts)[-1]
        assert confirmation.bot and "Scheduled" in confirmation.text
        assert "Next run" in confirmation.text and "App Home" in confirmation.text
        local = datetime.fromtimestamp(first, UTC).strftime("%Y-%m-%d %H:%M")
        assert f"{local} UTC" in confirmation.text

        # A newer file of the series arrives; the run uses it.
        share(
            h.slack, channel="C1", name="sales_2026-12-01.csv", content=b"a,b\nx,7\n", created=now
        )
        await at(h, clock, first + 5)
        [posted] = [m.text for m in h.slack.channel_messages("C1") if m.bot]
        assert posted.startswith("Scheduled by anna: What is the total?")
        assert "sales_2026-12-01.csv" in posted
        assert "sales_2026-12-01.csv: 1 rows, total 7" in answers(h.slack, "C1")[-1]
        # The run's own answer offers no Repeat: it would only copy this schedule.
        run_ts = h.slack.channel_messages("C1")[-1].ts
        run_answer = next(m for m in h.slack.thread("C1", run_ts)[1:] if m.bot and m.blocks)
        assert "show_code" in buttons(run_answer) and REPEAT_ACTION not in buttons(run_answer)


async def test_validation_errors_come_back_on_their_fields_in_korean(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        h.slack.add_user(OTHER, locale="ko-KR")
        _, answer = await ask(h)
        reply = await submit(
            h,
            user=OTHER,
            metadata=f"turn:{buttons(answer)[REPEAT_ACTION]}",
            tz="Mars/Olympus",
            every="monthly",
            day=None,
            pattern="",
        )
        assert reply["response_action"] == "errors"
        errors = reply["errors"]
        assert set(errors) == {"tz", "day", "pattern"}
        assert "시간대" in errors["tz"] and "날짜" in errors["day"] and "패턴" in errors["pattern"]
        assert await h.bot.services.store.schedules() == []


async def test_a_person_outside_the_channel_cannot_schedule_in_it(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        h.slack.add_user(OTHER, locale="en-US")
        _, answer = await ask(h)
        h.slack.channel_members["C1"] = {OWNER}
        reply = await submit(h, user=OTHER, metadata=f"turn:{buttons(answer)[REPEAT_ACTION]}")
        assert reply["response_action"] == "errors"
        assert "members of the channel" in reply["errors"]["question"]
        assert await h.bot.services.store.schedules() == []


async def test_metadata_naming_no_turn_stores_nothing(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        reply = await submit(h, user=OWNER, metadata="turn:made-up")
        assert reply["response_action"] == "errors"
        assert await h.bot.services.store.schedules() == []


async def test_a_membership_check_too_slow_for_the_ack_asks_to_try_again(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        h.slack.add_user(OTHER, locale="ko-KR")
        _, answer = await ask(h)
        # A channel of many thousands: Slack would give up on the acknowledgement at 3 s.
        h.slack.slow_next("conversations.members", seconds=5)
        reply = await submit(h, user=OTHER, metadata=f"turn:{buttons(answer)[REPEAT_ACTION]}")
        assert reply["response_action"] == "errors"
        assert "다시" in reply["errors"]["question"]
        assert await h.bot.services.store.schedules() == []


async def test_a_form_for_a_turn_that_is_gone_says_so_in_the_persons_language(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        h.slack.add_user(OTHER, locale="ko-KR")
        reply = await submit(h, user=OTHER, metadata="turn:made-up")
        assert reply["response_action"] == "errors"
        assert re.search("[가-힣]", reply["errors"]["question"])


async def test_the_owner_edits_the_time_and_the_next_run_follows_but_others_cannot(
    tmp_path: Path,
) -> None:
    clock = MovableClock()
    async with harness(tmp_path, clock=clock, INSIGHTBOT_ADMINS=ADMIN) as h:
        h.slack.add_user(OWNER, name="anna", locale="en-US")
        h.slack.add_user(OTHER, locale="en-US")
        thread_ts, _ = await ask(h)
        now = clock.now()
        old_at = datetime.fromtimestamp(now + 120, UTC).strftime("%H:%M")
        new_at = datetime.fromtimestamp(now + 600, UTC).strftime("%H:%M")
        schedule = await h.bot.services.store.add_schedule(
            ScheduleRecord(
                channel="C1",
                user=OWNER,
                question="What is the total?",
                every="daily",
                at=old_at,
                tz="UTC",
                files="newest:sales_*.csv",
                team="T0FAKE",
                source_thread_ts=thread_ts,
                created_at=now,
            )
        )
        metadata = f"schedule:{schedule.id}"

        # Someone else's click opens nothing; their submission is refused.
        edit = view_block_actions(
            action_id=SCHEDULE_EDIT_ACTION, value=str(schedule.id), user=OTHER
        )
        assert (await interact(h, edit))[0] == 200
        await h.settle()
        assert h.slack.views == []
        reply = await submit(h, user=OTHER, metadata=metadata, every="daily", at=new_at, tz="UTC")
        assert "made this schedule" in reply["errors"]["question"]

        # The owner's click opens the modal, the data source shown as fixed.
        edit = view_block_actions(
            action_id=SCHEDULE_EDIT_ACTION, value=str(schedule.id), user=OWNER
        )
        assert (await interact(h, edit))[0] == 200
        await h.settle()
        [modal] = h.slack.views
        assert block(modal, "at")["element"]["initial_time"] == old_at
        assert "source" not in {b.get("block_id") for b in modal["blocks"]}
        assert "sales_*.csv" in json.dumps(modal["blocks"])
        reply = await submit(
            h, user=OWNER, metadata=metadata, every="daily", at=new_at, tz="UTC", source=None
        )
        assert "errors" not in reply
        edited = await h.bot.services.store.get_schedule(schedule.id)
        assert edited is not None and edited.at == new_at
        assert edited.files == "newest:sales_*.csv"  # the source stays as made
        assert "changed" in h.slack.thread("C1", thread_ts)[-1].text

        [old_first] = occurrences(schedule, after=now, count=1)
        [new_first] = occurrences(edited, after=now, count=1)
        await at(h, clock, old_first + 5)
        assert [m for m in h.slack.channel_messages("C1") if m.bot] == []
        await at(h, clock, new_first + 5)
        [posted] = [m.text for m in h.slack.channel_messages("C1") if m.bot]
        assert posted.startswith("Scheduled by anna")
