"""A recurring analysis checks its owner's access at every run, and pauses (telling the
channel, the owner and the admins once) when it is lost or after three failed runs in a row.
End to end: the real app over the fakes, with the clock of tests/test_schedules_e2e.py."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot import messages
from bot.governance import Refusal
from bot.schedules.access_rules import (
    PauseReason,
    governance_pause,
    run_result,
    shown_question,
)
from storage.records import (
    CANCELLED,
    DONE,
    FAILED,
    REFUSED,
    RUN_ANSWERED,
    RUN_FAILED,
    RUN_REFUSED,
    RUNNING,
    SCHEDULE_ACTIVE,
    SCHEDULE_PAUSED,
    SKIPPED,
    ScheduleRecord,
)
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

OWNER, ADMIN = "U0ANNA", "U0BOSS"
# A question that would ping the channel if any notice built markup from it.
QUESTION = "<!channel> @here Total amount?"


async def _set_up(
    h: Harness, clock: MovableClock, count: int
) -> tuple[ScheduleRecord, list[float]]:
    """Anna's daily schedule in C1 on its sales file (run even when unchanged), an admin, and
    the times of its next ``count`` occurrences."""
    now = clock.now()
    share(h.slack, channel="C1", name="sales_1101.csv", content=b"a,b\nx,600\n", created=now - 900)
    schedule = await h.bot.services.store.add_schedule(
        replace(daily(now, skip=False), question=QUESTION)
    )
    return schedule, occurrences(schedule, after=now, count=count)


def _people(h: Harness, *, locale: str = "en-US") -> None:
    h.slack.add_user(OWNER, name="anna", real_name="Anna Kim", locale=locale)
    h.slack.add_user(ADMIN, name="boss", real_name="The Boss")


def dms(h: Harness, user: str) -> list[str]:
    return [m.text for m in h.slack.channel_messages(h.slack.dm_channel_of(user)) if m.bot]


def runs(h: Harness) -> list[str]:
    """The scheduled runs' top-level messages in C1 (not the pause notices)."""
    return [t for t in scheduled_messages(h.slack, "C1") if "Scheduled by" in t]


def notices(h: Harness) -> list[str]:
    return [t for t in scheduled_messages(h.slack, "C1") if "Scheduled by" not in t]


def assert_no_ping(texts: list[str]) -> None:
    for text in texts:
        assert "<@" not in text and "<!" not in text, text


async def _state(h: Harness, schedule: ScheduleRecord) -> tuple[str, str | None]:
    stored = await h.bot.services.store.get_schedule(schedule.id)
    assert stored is not None
    return stored.state, stored.paused_reason


async def test_an_owner_who_left_the_channel_pauses_it_with_one_notice_to_each(
    tmp_path: Path,
) -> None:
    clock = MovableClock()
    async with harness(tmp_path, clock=clock, INSIGHTBOT_ADMINS=ADMIN) as h:
        _people(h)
        schedule, (first, second) = await _set_up(h, clock, 2)
        h.slack.channel_members["C1"] = {"U1", ADMIN}  # Anna left the channel

        await at(h, clock, first + 5)
        assert runs(h) == [] and h.openai.requests_to("POST", "/v1/responses") == []
        [notice] = notices(h)
        assert "Total amount?" in notice and "no longer a member of the channel" in notice
        assert "App Home" in notice
        [to_owner] = dms(h, OWNER)
        assert "Your scheduled analysis" in to_owner and "C1" in to_owner
        [to_admin] = dms(h, ADMIN)
        assert "anna" in to_admin and "no longer a member of the channel" in to_admin
        assert await _state(h, schedule) == (SCHEDULE_PAUSED, PauseReason.NOT_MEMBER)
        outcomes = await h.bot.services.store.occurrence_outcomes(schedule.id)
        assert [o for _, o in outcomes] == [SKIPPED]

        await at(h, clock, second + 5)  # paused: nothing runs, nobody is told again
        assert runs(h) == [] and len(notices(h)) == 1
        assert len(dms(h, OWNER)) == 1 and len(dms(h, ADMIN)) == 1
        assert_no_ping([notice, to_owner, to_admin])


async def test_a_deactivated_owner_is_not_written_to_but_the_admins_are(tmp_path: Path) -> None:
    clock = MovableClock()
    async with harness(tmp_path, clock=clock, INSIGHTBOT_ADMINS=ADMIN) as h:
        _people(h)
        schedule, [first] = await _set_up(h, clock, 1)
        h.slack.deactivate_user(OWNER)

        await at(h, clock, first + 5)
        assert runs(h) == []
        assert await _state(h, schedule) == (SCHEDULE_PAUSED, PauseReason.OWNER_LEFT)
        [notice] = notices(h)
        assert "no longer an active member of this workspace" in notice
        assert dms(h, OWNER) == []
        [to_admin] = dms(h, ADMIN)
        assert "anna" in to_admin and "no longer an active member" in to_admin
        assert_no_ping([notice, to_admin])


async def test_an_archived_channel_is_left_alone_and_the_owner_told_in_their_language(
    tmp_path: Path,
) -> None:
    clock = MovableClock()
    async with harness(tmp_path, clock=clock, INSIGHTBOT_ADMINS=ADMIN) as h:
        _people(h, locale="ko-KR")  # Anna's Slack is in Korean; the question is English
        schedule, [first] = await _set_up(h, clock, 1)
        h.slack.archived.add("C1")

        await at(h, clock, first + 5)
        assert scheduled_messages(h.slack, "C1") == []  # neither a run nor a notice
        assert await _state(h, schedule) == (SCHEDULE_PAUSED, PauseReason.ARCHIVED)
        [to_owner] = dms(h, OWNER)
        assert "보관" in to_owner and "Total amount?" in to_owner
        [to_admin] = dms(h, ADMIN)
        assert "anna" in to_admin and "보관" in to_admin
        assert_no_ping([to_owner, to_admin])


async def test_a_channel_switched_off_by_an_admin_pauses_it_as_access_denied(
    tmp_path: Path,
) -> None:
    clock = MovableClock()
    async with harness(tmp_path, clock=clock, INSIGHTBOT_ADMINS=ADMIN) as h:
        _people(h)
        schedule, [first] = await _set_up(h, clock, 1)
        await h.bot.services.governance.channels.change("C1", by=ADMIN, enabled=False)

        await at(h, clock, first + 5)
        assert runs(h) == []
        assert await _state(h, schedule) == (SCHEDULE_PAUSED, PauseReason.ACCESS_DENIED)
        [notice] = notices(h)
        assert "access settings" in notice
        assert len(dms(h, OWNER)) == 1 and len(dms(h, ADMIN)) == 1


async def test_when_slack_cannot_say_the_run_is_skipped_and_the_schedule_stays_active(
    tmp_path: Path,
) -> None:
    clock = MovableClock()
    async with harness(tmp_path, clock=clock, INSIGHTBOT_ADMINS=ADMIN) as h:
        _people(h)
        schedule, (first, second) = await _set_up(h, clock, 2)
        # ok:false (not a 429 or 5xx, which the client retries by itself).
        h.slack.fail_next("conversations.members", error="internal_error", status=200)

        await at(h, clock, first + 5)
        assert runs(h) == [] and notices(h) == []
        assert dms(h, OWNER) == [] and dms(h, ADMIN) == []
        assert await _state(h, schedule) == (SCHEDULE_ACTIVE, None)

        await at(h, clock, second + 5)
        assert len(runs(h)) == 1 and "total 600" in answers(h.slack, "C1")[-1]
        outcomes = await h.bot.services.store.occurrence_outcomes(schedule.id)
        assert outcomes[0][1] == SKIPPED


async def test_three_failed_runs_in_a_row_pause_it_and_a_success_starts_the_count_again(
    tmp_path: Path,
) -> None:
    clock = MovableClock()
    async with harness(tmp_path, clock=clock, INSIGHTBOT_ADMINS=ADMIN) as h:
        _people(h)
        schedule, times = await _set_up(h, clock, 7)
        for failing, when in zip((True, True, False, True, True), times, strict=False):
            if failing:
                h.openai.fail_next_response()
            await at(h, clock, when + 5)
        await at(h, clock, times[4] + 60)  # the fifth run's end is counted at the next tick
        assert len(runs(h)) == 5 and notices(h) == []
        assert await _state(h, schedule) == (SCHEDULE_ACTIVE, None)
        stored = await h.bot.services.store.get_schedule(schedule.id)
        assert stored is not None and stored.failures == 2

        h.openai.fail_next_response()
        await at(h, clock, times[5] + 5)
        await at(h, clock, times[5] + 60)
        assert await _state(h, schedule) == (SCHEDULE_PAUSED, PauseReason.FAILURES)
        [notice] = notices(h)
        assert "its last three runs failed" in notice and "Total amount?" in notice
        [to_owner] = dms(h, OWNER)
        [to_admin] = dms(h, ADMIN)
        assert "its last three runs failed" in to_owner and "anna" in to_admin
        assert_no_ping([notice, to_owner, to_admin])
        outcomes = await h.bot.services.store.occurrence_outcomes(schedule.id)
        assert [o for _, o in outcomes] == [RUN_FAILED, RUN_FAILED, RUN_ANSWERED] + [RUN_FAILED] * 3

        await at(h, clock, times[6] + 5)  # paused: the seventh does not run
        assert len(runs(h)) == 6


async def test_a_resumed_schedule_runs_at_its_next_occurrence(tmp_path: Path) -> None:
    clock = MovableClock()
    async with harness(tmp_path, clock=clock, INSIGHTBOT_ADMINS=ADMIN) as h:
        _people(h)
        schedule, (first, second) = await _set_up(h, clock, 2)
        h.slack.channel_members["C1"] = {"U1"}
        await at(h, clock, first + 5)
        assert await _state(h, schedule) == (SCHEDULE_PAUSED, PauseReason.NOT_MEMBER)

        h.slack.channel_members["C1"] = {"U1", OWNER}  # Anna is back
        assert await h.bot.services.store.resume_schedule(schedule.id, now=clock.now())
        await at(h, clock, second + 5)
        assert len(runs(h)) == 1 and "total 600" in answers(h.slack, "C1")[-1]
        assert await _state(h, schedule) == (SCHEDULE_ACTIVE, None)


# ---------------------------------------------------------------- the pure rules


@pytest.mark.parametrize(
    ("status", "result"),
    [
        (DONE, RUN_ANSWERED),
        (FAILED, RUN_FAILED),
        (CANCELLED, RUN_FAILED),
        # A used-up budget refused it before it ran: not the schedule's fault.
        (REFUSED, RUN_REFUSED),
        (RUNNING, None),
        (None, None),
    ],
)
def test_a_runs_end_counts_as_answered_failed_or_neither(
    status: str | None, result: str | None
) -> None:
    assert run_result(status) == result


@pytest.mark.parametrize(
    ("refusal", "reason"),
    [
        (None, None),
        (Refusal.EXTERNAL, PauseReason.OWNER_LEFT),
        (Refusal.USER, PauseReason.ACCESS_DENIED),
        (Refusal.CHANNEL, PauseReason.ACCESS_DENIED),
        (Refusal.CHANNEL_OFF, PauseReason.ACCESS_DENIED),
    ],
)
def test_the_governance_refusal_names_the_pause(
    refusal: Refusal | None, reason: PauseReason | None
) -> None:
    assert governance_pause(refusal) == reason


def test_a_notice_shows_a_long_question_on_one_bounded_line() -> None:
    shown = shown_question("Total\namount " + "x" * 500)
    assert len(shown) == 150 and shown.startswith("Total amount x") and shown.endswith("…")


@pytest.mark.parametrize("reason", list(PauseReason))
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_pause_reason_has_its_own_words(reason: PauseReason, lang: str) -> None:
    unknown = messages.schedule_pause_cause(lang, "something else")
    assert messages.schedule_pause_cause(lang, reason.value) != unknown
