"""The schedule modal's view and the check of its submission: pure, no Slack."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bot.schedules.modal_view import (
    SCHEDULE_MODAL_CALLBACK,
    ModalPrefill,
    ModalTarget,
    ScheduleForm,
    check_form,
    form_of,
    schedule_modal,
    target_of,
)
from handlers.parse import schedule_submission_for
from tests.fakes.slack_payloads import view_submission

PREFILL = ModalPrefill(
    question="What is the total?",
    tz="Asia/Seoul",
    source="newest",
    pattern="sales_*.csv",
    skip_unchanged=True,
)
GOOD = ScheduleForm(
    question="What is the total?",
    frequency="weekly",
    weekday="mon",
    day="",
    at="09:00",
    tz="Asia/Seoul",
    source="newest",
    pattern="sales_*.csv",
    skip_unchanged=True,
)


def block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


def test_the_modal_is_prefilled_and_names_the_turn_it_repeats() -> None:
    view = schedule_modal("en", PREFILL, target=ModalTarget(turn_id="t1"), max_question_chars=20000)
    assert view["callback_id"] == SCHEDULE_MODAL_CALLBACK
    assert target_of(view["private_metadata"]) == ModalTarget(turn_id="t1")
    assert block(view, "question")["element"]["initial_value"] == "What is the total?"
    assert block(view, "question")["element"]["max_length"] == 3000  # Slack's most
    assert block(view, "tz")["element"]["initial_value"] == "Asia/Seoul"
    assert block(view, "pattern")["element"]["initial_value"] == "sales_*.csv"
    source = block(view, "source")["element"]
    assert source["initial_option"]["value"] == "newest"
    options = block(view, "options")["element"]
    assert [o["value"] for o in options["initial_options"]] == ["skip_unchanged"]
    assert len(view["title"]["text"]) <= 24
    # The weekday and the day are always there, optional, with a hint saying when they count.
    for optional in ("weekday", "day"):
        assert block(view, optional)["optional"] and block(view, optional)["hint"]


def test_the_labels_follow_the_language() -> None:
    korean = schedule_modal("ko", PREFILL, target=ModalTarget(turn_id="t1"), max_question_chars=9)
    assert block(korean, "every")["label"]["text"] == "반복 주기"
    assert block(korean, "question")["element"]["initial_value"] == "What is t"  # bounded


def test_editing_shows_the_data_source_as_fixed_text() -> None:
    prefill = replace(PREFILL, fixed_source="on the newest file named like sales_*.csv")
    view = schedule_modal("en", prefill, target=ModalTarget(schedule_id=7), max_question_chars=100)
    assert target_of(view["private_metadata"]) == ModalTarget(schedule_id=7)
    ids = {b.get("block_id") for b in view["blocks"]}
    assert "source" not in ids and "pattern" not in ids
    [context] = [b for b in view["blocks"] if b["type"] == "context"]
    assert "fixed when the schedule is made" in context["elements"][0]["text"]


@pytest.mark.parametrize("metadata", ["", "turn:", "schedule:x", "other:1", "schedule"])
def test_metadata_that_names_nothing_is_no_target(metadata: str) -> None:
    assert target_of(metadata) is None


def test_a_submission_is_read_from_the_views_state() -> None:
    values = {
        "question": {"question": {"type": "plain_text_input", "value": "Total?"}},
        "every": {"every": {"type": "static_select", "selected_option": {"value": "monthly"}}},
        "weekday": {"weekday": {"type": "static_select", "selected_option": None}},
        "day": {"day": {"type": "number_input", "value": "15"}},
        "at": {"at": {"type": "timepicker", "selected_time": "08:30"}},
        "tz": {"tz": {"type": "plain_text_input", "value": "UTC"}},
        "source": {"source": {"type": "radio_buttons", "selected_option": {"value": "same"}}},
        "pattern": {"pattern": {"type": "plain_text_input", "value": None}},
        "options": {
            "options": {"type": "checkboxes", "selected_options": [{"value": "post_skipped"}]}
        },
    }
    form = form_of(values)
    assert form == ScheduleForm(
        question="Total?",
        frequency="monthly",
        day="15",
        at="08:30",
        tz="UTC",
        source="same",
        post_skipped=True,
    )
    assert form_of({}) == ScheduleForm()


@pytest.mark.parametrize(
    ("changes", "every", "files"),
    [
        ({}, "weekly:mon", "newest:sales_*.csv"),
        ({"frequency": "daily", "weekday": ""}, "daily", "newest:sales_*.csv"),
        ({"frequency": "weekdays"}, "weekdays", "newest:sales_*.csv"),
        ({"frequency": "monthly", "day": "31"}, "monthly:31", "newest:sales_*.csv"),
        ({"source": "same", "pattern": ""}, "weekly:mon", "same"),
    ],
)
def test_a_good_form_gives_the_schedule_as_stored(
    changes: dict[str, str], every: str, files: str
) -> None:
    check = check_form(replace(GOOD, **changes), lang="en", max_question_chars=100, editing=False)
    assert check.errors == {} and check.schedule is not None
    assert (check.schedule.every, check.schedule.at, check.schedule.tz) == (
        every,
        "09:00",
        "Asia/Seoul",
    )
    assert check.schedule.files == files and check.schedule.skip_unchanged


@pytest.mark.parametrize(
    ("changes", "block_id"),
    [
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"tz": ""}, "tz"),
        ({"weekday": ""}, "weekday"),
        ({"frequency": "monthly", "day": ""}, "day"),
        ({"frequency": "monthly", "day": "32"}, "day"),
        ({"pattern": ""}, "pattern"),
        ({"pattern": "reports/sales_*.csv"}, "pattern"),
        ({"pattern": "x" * 101}, "pattern"),
        ({"question": "   "}, "question"),
        ({"question": "x" * 101}, "question"),
        ({"at": ""}, "at"),
    ],
)
def test_each_mistake_is_named_on_its_field(changes: dict[str, str], block_id: str) -> None:
    check = check_form(replace(GOOD, **changes), lang="en", max_question_chars=100, editing=False)
    assert check.schedule is None and list(check.errors) == [block_id]


def test_errors_speak_the_persons_language() -> None:
    form = replace(GOOD, tz="Mars/Olympus", frequency="monthly", day="")
    check = check_form(form, lang="ko", max_question_chars=100, editing=False)
    assert set(check.errors) == {"tz", "day"}
    assert "시간대" in check.errors["tz"] and "Mars/Olympus" in check.errors["tz"]
    assert "날짜" in check.errors["day"]


def test_editing_ignores_the_source_fields() -> None:
    form = replace(GOOD, source="", pattern="")
    check = check_form(form, lang="en", max_question_chars=100, editing=True)
    assert check.errors == {} and check.schedule is not None and check.schedule.files is None


def test_only_the_schedule_modals_submission_is_read_as_one() -> None:
    values = {"tz": {"tz": {"type": "plain_text_input", "value": "UTC"}}}
    body = view_submission(
        user="U1", callback_id=SCHEDULE_MODAL_CALLBACK, values=values, private_metadata="turn:t1"
    )
    submission = schedule_submission_for(body=body)
    assert submission is not None
    assert (submission.user, submission.metadata, submission.form.tz) == ("U1", "turn:t1", "UTC")
    other = view_submission(user="U1", callback_id="channel_settings", values=values)
    assert schedule_submission_for(body=other) is None
